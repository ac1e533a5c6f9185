-- Headline numbers per publication unit (a municipality, or an aggregate of small ones:
-- int_publication_units) and arm: enrolled, housed, stably housed at extraction. Publishable
-- after disclosure control, which recomputes the share from the rounded counts.
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
    p.arm,
    min(p.cohort_year) as first_cohort_year,
    max(p.cohort_year) as last_cohort_year,
    count(*) as n_participants,
    count(*) filter (where p.ever_housed) as n_housed,
    count(*) filter (where p.stably_housed_at_extraction) as n_stably_housed_at_extraction,
    count(*) filter (where p.stably_housed_at_extraction)
        / count(*) filter (where p.ever_housed) as share_of_housed_stably_housed_at_extraction,
    median(p.days_to_housing) as median_days_to_housing
from participants as p
left join units as u using (municipality_code)
group by all
order by 1, 2, 4
