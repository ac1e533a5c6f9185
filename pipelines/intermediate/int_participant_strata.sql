-- One row per participant and stratum: the single place where a participant is put in the
-- strata the publishable marts report by (all, country, publication unit, cohort year, support
-- model, sex, age band). The municipality stratum is the participant's publication unit
-- (int_publication_units): the municipality itself, or the aggregate of small municipalities
-- it is published in. stratum_country is the country of a country or unit stratum (secondary
-- suppression groups a country's units by it). Person-level.
with participants as (
    select * from stg_participants
),

units as (
    select * from int_publication_units
),

located as (
    select
        p.participant_id,
        p.country,
        p.cohort_year,
        p.support_model,
        p.sex,
        p.age_band,
        coalesce(u.unit_code, p.municipality_code) as unit_code,
        coalesce(u.unit_name, p.municipality_name) as unit_name
    from participants as p
    left join units as u using (municipality_code)
),

variables as (
    select * from (
        values ('all'), ('country'), ('municipality'), ('cohort_year'), ('support_model'),
            ('sex'), ('age_band')
    ) as v (stratum_variable)
)

select
    l.participant_id,
    v.stratum_variable,
    case v.stratum_variable
        when 'all' then 'all'
        when 'country' then l.country
        when 'municipality' then l.unit_name
        when 'cohort_year' then cast(l.cohort_year as varchar)
        when 'support_model' then l.support_model
        when 'sex' then coalesce(l.sex, 'unknown')
        else coalesce(l.age_band, 'unknown')
    end as stratum_value,
    case when v.stratum_variable in ('country', 'municipality') then l.country end
        as stratum_country,
    l.unit_code,
    l.unit_name
from located as l
cross join variables as v
order by l.participant_id, v.stratum_variable
