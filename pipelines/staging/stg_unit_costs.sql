-- Unit-cost catalogue: one cost per country, service and unit, with price year and payer.
with source as (
    select * from valid_unit_costs
)

select
    country,
    service,
    unit,
    amount as amount_per_unit,
    currency,
    price_year,
    payer_sector,
    source as citation,
    note,
    _source_id as catalogue_source
from source
