-- Programme costs per municipality, year and item (nominal, own currency).
with costs as (
    select * from valid_programme_costs
),

municipalities as (
    select * from stg_municipalities
)

select
    c.municipality_code,
    m.country,
    c.year,
    c.cost_item,
    c.amount as amount_nominal,
    c.currency,
    c.fte,
    -- `note` is free text and could name a person: it stays in valid_programme_costs
    -- (person-level) and is never published.
    c._source_id as source_id
from costs as c
left join municipalities as m using (municipality_code)
