-- Participants with their municipality's country and region, and derived age and cohort.
with participants as (
    select * from valid_participants
),

municipalities as (
    select * from stg_municipalities
)

select
    p.participant_id,
    p.municipality_code,
    m.municipality_name,
    m.country,
    m.region,
    p.birth_year,
    p.sex,
    p.enrolment_date,
    year(p.enrolment_date) as cohort_year,
    year(p.enrolment_date) - p.birth_year as age_at_enrolment_years,
    case
        when year(p.enrolment_date) - p.birth_year < 25 then '18-24'
        when year(p.enrolment_date) - p.birth_year < 35 then '25-34'
        when year(p.enrolment_date) - p.birth_year < 45 then '35-44'
        when year(p.enrolment_date) - p.birth_year < 55 then '45-54'
        else '55+'
    end as age_band,
    p.arm,
    -- The comparison arm receives treatment as usual unless the export says otherwise.
    coalesce(p.support_model, case when p.arm = 'comparison' then 'TAU' end, 'unknown')
        as support_model,
    coalesce(p.substance_use, 'unknown') as substance_use,
    coalesce(p.mental_illness_severity, 'unknown') as mental_illness_severity,
    p.needs_level,
    p.months_homeless_before,
    coalesce(p.referral_source, 'unknown') as referral_source,
    p._extraction_date as extraction_date,
    p._source_id as source_id
from participants as p
left join municipalities as m using (municipality_code)
