-- Episodes in temporary accommodation after enrolment against the ceiling (Mandal: at most
-- 2 months), per arm and stratum (all, country, publication unit; int_participant_strata). The median is over closed
-- episodes (open ones are still running). Publishable after disclosure control.
with episodes as (
    select * from int_temporary_stays
),

participants as (
    select * from stg_participants
),

strata as (
    select * from int_participant_strata
    where stratum_variable in ('all', 'country', 'municipality')
),

by_stratum as (
    select
        e.*,
        p.arm,
        s.stratum_variable,
        s.stratum_value,
        s.stratum_country
    from episodes as e
    inner join participants as p using (participant_id)
    inner join strata as s using (participant_id)
)

select
    arm,
    stratum_variable,
    stratum_value,
    any_value(temporary_stay_max_days) as ceiling_days,
    count(distinct participant_id) as n_people,
    count(*) as n_episodes,
    count(*) filter (where not is_open) as n_episodes_closed,
    count(*) filter (where exceeds_ceiling) as n_episodes_over_ceiling,
    count(*) filter (where exceeds_ceiling) / count(*) as share_episodes_over_ceiling,
    median(days_in_episode) filter (where not is_open) as median_days_closed_episodes,
    any_value(stratum_country) as stratum_country
from by_stratum
group by arm, stratum_variable, stratum_value
order by arm, stratum_variable, stratum_value
