-- Housing First participants housed (first move-in) per calendar year against the
-- municipality's yearly target. Publishable after disclosure control.
with participants as (
    select * from mart_participants
),

municipalities as (
    select * from stg_municipalities
),

housed as (
    select municipality_code, year(first_move_in_date) as year, count(*) as n_housed
    from participants
    where arm = 'housing_first' and ever_housed
    group by all
)

select
    m.country,
    h.municipality_code,
    m.municipality_name,
    h.year,
    h.n_housed,
    m.target_housed_per_year
from housed as h
inner join municipalities as m using (municipality_code)
order by m.country, h.municipality_code, h.year
