-- Episodes in temporary accommodation that start on or after enrolment: consecutive
-- temporary-accommodation spells form one episode. An episode still open at extraction is
-- counted to the extraction date (is_open); it exceeds the ceiling (Mandal: 2 months) once it
-- is longer than temporary_stay_max_days.
with params as (
    select * from int_retention_parameters
),

participants as (
    select participant_id, enrolment_date from stg_participants
),

spells as (
    select
        *,
        housing_type = 'temporary_accommodation' as is_temporary,
        row_number() over (partition by participant_id order by start_date) as spell_seq
    from stg_housing_spells
),

runs as (
    select
        *,
        sum(case when is_temporary and coalesce(previous_is_temporary, false) then 0 else 1 end)
            over (partition by participant_id order by spell_seq) as run_id
    from (
        select
            *,
            lag(is_temporary) over (partition by participant_id order by spell_seq)
                as previous_is_temporary
        from spells
    )
),

episodes as (
    select
        participant_id,
        run_id,
        min(start_date) as start_date,
        max(end_or_extraction_date) as end_or_extraction_date,
        bool_or(is_open) as is_open,
        count(*) as n_spells
    from runs
    where is_temporary
    group by participant_id, run_id
)

select
    e.participant_id,
    row_number() over (partition by e.participant_id order by e.start_date)::integer
        as episode_seq,
    e.start_date,
    e.end_or_extraction_date,
    e.is_open,
    e.n_spells::integer as n_spells,
    date_diff('day', e.start_date, e.end_or_extraction_date) as days_in_episode,
    p.temporary_stay_max_days,
    date_diff('day', e.start_date, e.end_or_extraction_date) > p.temporary_stay_max_days
        as exceeds_ceiling
from episodes as e
inner join participants as pa
    on e.participant_id = pa.participant_id and e.start_date >= pa.enrolment_date
cross join params as p
order by e.participant_id, episode_seq
