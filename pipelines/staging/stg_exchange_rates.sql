-- Annual mean exchange rates, units of currency per EUR.
with source as (
    select * from valid_exchange_rates
)

select year, currency, per_eur, source as citation
from source
