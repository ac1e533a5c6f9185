-- First move-in to stable housing (own lease, municipal flat, supported housing) on or after
-- enrolment, per participant. People never housed have no row.
with participants as (
    select * from stg_participants
),

spells as (
    select * from stg_housing_spells
)

select
    p.participant_id,
    min(s.start_date) as first_move_in_date,
    arg_min(s.housing_type, s.start_date) as first_housing_type,
    arg_min(s.lease_type, s.start_date) as first_lease_type
from participants as p
inner join spells as s
    on s.participant_id = p.participant_id
    and s.is_stable_housing
    and s.start_date >= p.enrolment_date
group by p.participant_id
