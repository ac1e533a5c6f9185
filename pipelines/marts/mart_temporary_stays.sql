-- Episodes in temporary accommodation after enrolment against the ceiling (Mandal: at most
-- 2 months), per arm and stratum (all, country, municipality). The median is over closed
-- episodes (open ones are still running). Publishable after disclosure control.
with episodes as (
    select * from int_temporary_stays
),

participants as (
    select * from stg_participants
),

by_stratum as (
    select
        e.*,
        p.arm,
        s.stratum_variable,
        case s.stratum_variable
            when 'all' then 'all'
            when 'country' then p.country
            else p.municipality_name
        end as stratum_value
    from episodes as e
    inner join participants as p using (participant_id)
    cross join (values ('all'), ('country'), ('municipality')) as s (stratum_variable)
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
    median(days_in_episode) filter (where not is_open) as median_days_closed_episodes
from by_stratum
group by arm, stratum_variable, stratum_value
order by arm, stratum_variable, stratum_value
