-- Consumer price index per country and year.
with source as (
    select * from valid_cpi
)

select country, year, index_value, base_year, source as citation, note
from source
