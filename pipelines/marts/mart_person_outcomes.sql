-- One row per participant: time to housing, share of days stably housed, temporary
-- accommodation, death, and follow-up contacts. Person-level, for analysis in the secure zone.
--   time to housing: enrolment -> first move-in to stable housing (days_to_housing, housed);
--     never housed: censored at extraction or death (time_to_housing_days, housed = false);
--   share of days stably housed (At Home/Chez Soi primary outcome): nights in stable housing /
--     nights observed in the window from enrolment (days_housed_window_days), observation
--     ending at extraction or death;
--   programme time for fidelity: enrolment -> extraction or death.
with params as (
    select * from int_retention_parameters
),

participants as (
    select * from stg_participants
),

spells as (
    select * from stg_housing_spells
),

first_tenancy as (
    select * from int_tenancies where tenancy_seq = 1
),

temporary as (
    select * from int_temporary_stays
),

contacts as (
    select * from stg_support_contacts
),

deaths as (
    select participant_id, min(end_date) as death_date
    from spells
    where end_reason = 'death'
    group by participant_id
),

windows as (
    select
        p.participant_id,
        p.enrolment_date,
        d.death_date,
        least(p.extraction_date, coalesce(d.death_date, p.extraction_date)) as observed_until,
        least(
            p.enrolment_date + pr.days_housed_window_days,
            p.extraction_date,
            coalesce(d.death_date, p.extraction_date)
        ) as window_end
    from participants as p
    cross join params as pr
    left join deaths as d using (participant_id)
),

stable_nights as (
    select
        w.participant_id,
        sum(greatest(0, date_diff(
            'day', greatest(s.start_date, w.enrolment_date),
            least(s.end_or_extraction_date, w.window_end)
        ))) as days_stably_housed_window
    from windows as w
    inner join spells as s
        on s.participant_id = w.participant_id and s.is_stable_housing
    group by w.participant_id
),

temporary_by_person as (
    select
        participant_id,
        count(*) as n_temporary_episodes,
        sum(days_in_episode) as days_in_temporary_accommodation,
        count(*) filter (where exceeds_ceiling) as n_temporary_episodes_over_ceiling
    from temporary
    group by participant_id
),

home_visits as (
    select w.participant_id, count(*) as n_home_visits
    from windows as w
    inner join contacts as c
        on c.participant_id = w.participant_id
        and c.is_home_visit
        and c.contact_date between w.enrolment_date and w.observed_until
    group by w.participant_id
)

select
    p.participant_id,
    pr.definition_name,
    p.arm,
    p.country,
    p.municipality_code,
    p.municipality_name,
    p.cohort_year,
    p.support_model,
    p.sex,
    p.age_band,
    p.enrolment_date,
    p.extraction_date,
    w.death_date,
    w.death_date is not null as died,
    f.start_date as first_move_in_date,
    f.start_date is not null as housed,
    date_diff('day', p.enrolment_date, f.start_date) as days_to_housing,
    coalesce(
        date_diff('day', p.enrolment_date, f.start_date),
        date_diff('day', p.enrolment_date, w.observed_until)
    ) as time_to_housing_days,
    f.first_lease_type,
    f.event_type as first_tenancy_event_type,
    f.event_code as first_tenancy_event_code,
    f.duration_days as first_tenancy_duration_days,
    pr.days_housed_window_days,
    date_diff('day', p.enrolment_date, w.window_end) as days_observed_window,
    date_diff('day', p.enrolment_date, w.window_end) = pr.days_housed_window_days
        as full_window_observed,
    coalesce(sn.days_stably_housed_window, 0) as days_stably_housed_window,
    case when date_diff('day', p.enrolment_date, w.window_end) > 0
        then coalesce(sn.days_stably_housed_window, 0)
            / date_diff('day', p.enrolment_date, w.window_end)
    end as share_days_stably_housed,
    coalesce(tp.n_temporary_episodes, 0) as n_temporary_episodes,
    coalesce(tp.days_in_temporary_accommodation, 0) as days_in_temporary_accommodation,
    coalesce(tp.n_temporary_episodes_over_ceiling, 0) as n_temporary_episodes_over_ceiling,
    date_diff('day', p.enrolment_date, w.observed_until) / 7.0 as weeks_in_programme,
    coalesce(hv.n_home_visits, 0) as n_home_visits,
    case when w.observed_until > p.enrolment_date
        then coalesce(hv.n_home_visits, 0)
            / (date_diff('day', p.enrolment_date, w.observed_until) / 7.0)
    end as home_visits_per_week
from participants as p
cross join params as pr
inner join windows as w using (participant_id)
left join first_tenancy as f using (participant_id)
left join stable_nights as sn using (participant_id)
left join temporary_by_person as tp using (participant_id)
left join home_visits as hv using (participant_id)
order by p.participant_id
