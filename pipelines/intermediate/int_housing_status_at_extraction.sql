-- Where each participant lived on the extraction date: the spell that was open then.
with participants as (
    select * from stg_participants
),

spells as (
    select * from stg_housing_spells
),

last_spell as (
    select
        participant_id,
        arg_max(housing_type, start_date) as housing_type,
        arg_max(is_open, start_date) as is_open,
        arg_max(is_stable_housing, start_date) as is_stable_housing,
        arg_max(end_reason, start_date) as end_reason
    from spells
    group by participant_id
)

select
    p.participant_id,
    l.housing_type as last_housing_type,
    coalesce(l.is_open, false) as last_spell_open,
    coalesce(l.is_open and l.is_stable_housing, false) as stably_housed_at_extraction,
    coalesce(l.end_reason = 'death', false) as died
from participants as p
left join last_spell as l using (participant_id)
