-- Service use the unit-cost catalogue cannot price, by country, service and unit: how many
-- rows, how much, and for how many people. Costing leaves these out of every cost estimate
-- (never counts them as zero); add a row to DATA/reference/unit_costs.csv to price them.
with priced as (
    select * from int_service_use_priced
)

select
    country,
    service,
    unit,
    count(*) as n_events,
    sum(quantity) as total_quantity,
    count(distinct participant_id) as n_participants
from priced
where not is_priced
group by all
order by country, service, unit
