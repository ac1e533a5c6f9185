-- Headline numbers per municipality and arm: enrolled, housed, stably housed at extraction.
-- Publishable after disclosure control, which recomputes the share from the rounded counts.
with participants as (
    select * from mart_participants
)

select
    country,
    municipality_code,
    municipality_name,
    arm,
    min(cohort_year) as first_cohort_year,
    max(cohort_year) as last_cohort_year,
    count(*) as n_participants,
    count(*) filter (where ever_housed) as n_housed,
    count(*) filter (where stably_housed_at_extraction) as n_stably_housed_at_extraction,
    count(*) filter (where stably_housed_at_extraction) / count(*) filter (where ever_housed)
        as share_of_housed_stably_housed_at_extraction,
    median(days_to_housing) as median_days_to_housing
from participants
group by all
order by country, municipality_code, arm
