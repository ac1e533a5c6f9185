-- One row per participant: who they are, when they were housed, where they are now.
-- Person-level: for analysis inside the secure zone only.
with participants as (
    select * from stg_participants
),

first_move_in as (
    select * from int_first_move_in
),

status as (
    select * from int_housing_status_at_extraction
)

select
    p.*,
    f.first_move_in_date,
    f.first_housing_type,
    f.first_lease_type,
    f.first_move_in_date is not null as ever_housed,
    date_diff('day', p.enrolment_date, f.first_move_in_date) as days_to_housing,
    date_diff('day', p.enrolment_date, p.extraction_date) as days_followed_up,
    s.last_housing_type,
    s.stably_housed_at_extraction,
    s.died
from participants as p
left join first_move_in as f using (participant_id)
left join status as s using (participant_id)
