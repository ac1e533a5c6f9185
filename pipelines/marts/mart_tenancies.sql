-- One row per participant and tenancy, with the characteristics retention is stratified and
-- modelled by. Person-level: the input of every survival estimate (hfeval.retention.survival).
-- tenancy_seq = 1 is the tenancy from the first move-in.
with tenancies as (
    select * from int_tenancies
),

participants as (
    select * from stg_participants
)

select
    t.participant_id,
    t.tenancy_seq,
    t.definition_name,
    t.start_date,
    t.event_date,
    t.duration_days,
    t.event_type,
    t.event_code,
    t.n_flats,
    t.first_housing_type,
    t.first_lease_type,
    t.enrolment_date,
    t.extraction_date,
    t.days_from_enrolment,
    year(t.start_date) as move_in_year,
    p.arm,
    p.country,
    p.municipality_code,
    p.municipality_name,
    p.region,
    p.cohort_year,
    p.support_model,
    p.sex,
    p.age_band,
    p.age_at_enrolment_years,
    p.substance_use,
    p.mental_illness_severity,
    p.needs_level
from tenancies as t
inner join participants as p using (participant_id)
order by t.participant_id, t.tenancy_seq
