-- Which publication unit each municipality's numbers are published in: the municipality
-- itself, or an aggregate of municipalities too small to publish alone (the small ones of a
-- region, or of a country; hfeval.disclosure.publication_units, parameter
-- disclosure.min_unit_participants). The dashboard and reports resolve a municipality through
-- it. Publishable: it holds no count of people (only how many municipalities share a unit).
with units as (
    select * from int_publication_units
)

select
    country,
    region,
    municipality_code,
    municipality_name,
    unit_code,
    unit_name,
    unit_kind,
    unit_region,
    n_municipalities_in_unit
from units
order by country, region, municipality_code
