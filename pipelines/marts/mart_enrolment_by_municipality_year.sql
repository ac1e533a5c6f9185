-- Participants enrolled, housed and stably housed at extraction, by municipality, cohort
-- year and arm. Publishable after disclosure control (counts of people).
with participants as (
    select * from mart_participants
)

select
    country,
    municipality_code,
    municipality_name,
    cohort_year,
    arm,
    count(*) as n_participants,
    count(*) filter (where ever_housed) as n_housed,
    count(*) filter (where stably_housed_at_extraction) as n_stably_housed_at_extraction,
    median(days_to_housing) as median_days_to_housing
from participants
group by all
order by country, municipality_code, cohort_year, arm
