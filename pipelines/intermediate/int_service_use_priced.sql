-- Service use with its catalogue unit cost (unit_costs), one row per service_use row.
-- Matched on the participant's country, the service and the unit; a stay recorded in `day`
-- matches a catalogue row in `night` and the other way round (one night = one day of stay),
-- the exact unit first. Rows the catalogue cannot price keep is_priced = false and a NULL
-- cost: they are reported (mart_unpriced_service_use), never counted as zero.
-- cost_catalogue is quantity x unit cost in the catalogue row's currency and price year;
-- hfeval.costs moves it to one price year and currency.
with events as (
    select * from stg_service_use
),

people as (
    select * from int_cost_observation
),

catalogue as (
    select * from stg_unit_costs
),

matched as (
    select
        e.participant_id,
        p.country,
        p.municipality_code,
        p.arm,
        e.service,
        e.unit,
        e.start_date,
        e.end_date,
        e.quantity,
        e.source_system,
        date_diff('day', p.anchor_date, e.start_date) as start_days_from_anchor,
        coalesce(exact.unit, equivalent.unit) as catalogue_unit,
        coalesce(exact.amount_per_unit, equivalent.amount_per_unit) as unit_cost,
        coalesce(exact.currency, equivalent.currency) as unit_cost_currency,
        coalesce(exact.price_year, equivalent.price_year) as unit_cost_price_year,
        coalesce(exact.payer_sector, equivalent.payer_sector) as payer_sector,
        coalesce(exact.catalogue_source, equivalent.catalogue_source) as catalogue_source
    from events as e
    inner join people as p using (participant_id)
    left join catalogue as exact
        on exact.country = p.country
        and exact.service = e.service
        and exact.unit = e.unit
    left join catalogue as equivalent
        on equivalent.country = p.country
        and equivalent.service = e.service
        and e.unit in ('day', 'night')
        and equivalent.unit = case e.unit when 'day' then 'night' else 'day' end
)

select
    *,
    unit_cost is not null as is_priced,
    quantity * unit_cost as cost_catalogue
from matched
