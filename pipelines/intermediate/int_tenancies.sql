-- Tenancies: from a move-in to stable housing (own lease, municipal flat, supported housing) on
-- or after enrolment, chained across moves and short stays, until loss of housing, a competing
-- event or censoring, as the definition set in int_retention_parameters says (see
-- hfeval.retention.definitions for the rules in words). One row per participant and tenancy;
-- tenancy_seq 1 starts at the first move-in. Days count nights: move-in and loss on the same day
-- is a tenancy of 0 days.
with params as (
    select * from int_retention_parameters
),

participants as (
    select participant_id, enrolment_date, extraction_date from stg_participants
),

spells as (
    select
        s.participant_id,
        s.start_date,
        s.end_date,
        s.is_open,
        s.end_or_extraction_date,
        s.housing_type,
        s.lease_type,
        s.end_reason,
        s.is_stable_housing,
        list_contains(p.long_stay_types, s.housing_type) as is_stay,
        row_number() over (partition by s.participant_id order by s.start_date) as spell_seq
    from stg_housing_spells as s
    cross join params as p
),

-- Consecutive institution, prison and hospital spells form one stay (run_id numbers runs).
runs as (
    select
        *,
        sum(case when is_stay and coalesce(previous_is_stay, false) then 0 else 1 end)
            over (partition by participant_id order by spell_seq) as run_id
    from (
        select
            *,
            lag(is_stay) over (partition by participant_id order by spell_seq) as previous_is_stay
        from spells
    )
),

stays as (
    select
        participant_id,
        run_id,
        arg_min(housing_type, spell_seq) as stay_type,
        max(end_or_extraction_date) as stay_end_date,
        bool_or(is_open) as stay_is_open,
        arg_max(end_reason, spell_seq) as stay_end_reason
    from runs
    where is_stay
    group by participant_id, run_id
),

-- What follows each spell: the next spell (a stay?) and the next move-in to stable housing.
followed as (
    select
        *,
        lead(is_stay) over w as next_is_stay,
        lead(run_id) over w as next_run_id,
        min(case when is_stable_housing then start_date end) over (
            w rows between 1 following and unbounded following
        ) as next_flat_start_date
    from runs
    window w as (partition by participant_id order by spell_seq)
),

flats as (
    select
        f.*,
        pa.enrolment_date,
        pa.extraction_date,
        st.stay_type,
        st.stay_end_date,
        st.stay_is_open,
        st.stay_end_reason,
        date_diff('day', f.end_date, st.stay_end_date) as stay_days,
        date_diff('day', f.end_date, f.next_flat_start_date) as days_to_next_flat,
        date_diff('day', st.stay_end_date, f.next_flat_start_date) as days_from_stay_to_next_flat,
        p.move_max_gap_days,
        p.move_reasons,
        p.long_stay_types,
        p.long_stay_min_days,
        p.long_stay_handling,
        p.death_handling,
        p.definition_name
    from followed as f
    inner join participants as pa
        on f.participant_id = pa.participant_id and f.start_date >= pa.enrolment_date
    left join stays as st
        on f.participant_id = st.participant_id and f.next_run_id = st.run_id and f.next_is_stay
    cross join params as p
    where f.is_stable_housing
),

-- How each flat ends, in order of precedence. 'continue' = the tenancy goes on in the next flat.
outcomes as (
    select
        *,
        case
            when is_open then 'censored:open_at_extraction'
            -- Exports often close open spells on the extraction day without a reason.
            when end_date = extraction_date and end_reason = 'unknown'
                then 'censored:closed_at_extraction'
            when end_reason = 'death' then 'death'
            when stay_type is not null
                and (long_stay_min_days is null or stay_days > long_stay_min_days)
                then 'long_stay:' || stay_type
            when stay_type is not null and stay_is_open then 'censored:short_stay_ongoing'
            when stay_type is not null and stay_end_reason = 'death' then 'death_after_short_stay'
            when stay_type is not null
                and days_from_stay_to_next_flat <= coalesce(move_max_gap_days, 0) then 'continue'
            when stay_type is not null then 'loss:not_rehoused_after_' || stay_type
            when move_max_gap_days is not null
                and list_contains(move_reasons, end_reason)
                and days_to_next_flat <= move_max_gap_days then 'continue'
            -- Left for an institution, prison or hospital that was never recorded.
            when list_contains(long_stay_types, end_reason) and long_stay_min_days is null
                then 'long_stay:' || end_reason
            when list_contains(long_stay_types, end_reason) then 'censored:stay_not_recorded'
            else 'loss:' || end_reason
        end as outcome
    from flats
),

events as (
    select
        *,
        case
            when outcome like 'death%' then death_handling
            when outcome like 'long_stay:%' then long_stay_handling
            when outcome like 'censored:%' then 'censor'
            when outcome like 'loss:%' then 'loss'
        end as handling,
        case
            when outcome like 'death%' then 'death'
            when outcome <> 'continue' then split_part(outcome, ':', 2)
        end as event_code,
        case
            when outcome in ('censored:open_at_extraction', 'censored:closed_at_extraction')
                then extraction_date
            when outcome = 'death_after_short_stay' then stay_end_date
            when outcome <> 'continue' then end_date
        end as event_date,
        coalesce(
            lag(outcome) over (partition by participant_id order by start_date) <> 'continue',
            true
        ) as starts_tenancy
    from outcomes
),

numbered as (
    select
        *,
        sum(starts_tenancy::integer) over (
            partition by participant_id order by start_date
        ) as tenancy_seq
    from events
)

select
    participant_id,
    tenancy_seq::integer as tenancy_seq,
    any_value(definition_name) as definition_name,
    any_value(enrolment_date) as enrolment_date,
    any_value(extraction_date) as extraction_date,
    min(start_date) as start_date,
    arg_max(event_date, start_date) as event_date,
    date_diff('day', min(start_date), arg_max(event_date, start_date)) as duration_days,
    case arg_max(handling, start_date)
        when 'censor' then 'censored'
        when 'exclude' then 'excluded'
        else arg_max(handling, start_date)
    end as event_type,
    arg_max(event_code, start_date) as event_code,
    count(*)::integer as n_flats,
    arg_min(housing_type, start_date) as first_housing_type,
    arg_min(lease_type, start_date) as first_lease_type,
    date_diff('day', any_value(enrolment_date), min(start_date)) as days_from_enrolment
from numbered
group by participant_id, tenancy_seq
order by participant_id, tenancy_seq
