-- Participants enrolled, housed and stably housed at extraction, by publication unit (a
-- municipality, or an aggregate of small ones: int_publication_units), cohort year and arm.
-- Publishable after disclosure control (counts of people).
with participants as (
    select * from mart_participants
),

units as (
    select * from int_publication_units
)

select
    p.country,
    coalesce(u.unit_code, p.municipality_code) as municipality_code,
    coalesce(u.unit_name, p.municipality_name) as municipality_name,
    p.cohort_year,
    p.arm,
    count(*) as n_participants,
    count(*) filter (where p.ever_housed) as n_housed,
    count(*) filter (where p.stably_housed_at_extraction) as n_stably_housed_at_extraction,
    median(p.days_to_housing) as median_days_to_housing
from participants as p
left join units as u using (municipality_code)
group by all
order by 1, 2, 4, 5
