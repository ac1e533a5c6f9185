-- Municipalities with country, region and Housing First targets (reference data).
with source as (
    select * from valid_municipalities
)

select
    municipality_code,
    name as municipality_name,
    country,
    coalesce(region, country) as region,
    population,
    hf_start_year,
    target_housed_per_year,
    target_housed_total,
    former_codes
from source
