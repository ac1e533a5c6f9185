-- Share of days stably housed in the window from enrolment (At Home/Chez Soi primary outcome,
-- 24 months), per arm and stratum (all, country, publication unit; int_participant_strata): the
-- mean of the participants'
-- shares with a 95 % confidence interval (normal approximation, mean +- 1.96 SE), the median,
-- and how many were observed for the whole window. Observation ends at extraction or death.
-- Publishable after disclosure control.
with people as (
    select * from mart_person_outcomes where days_observed_window > 0
),

strata as (
    select * from int_participant_strata
    where stratum_variable in ('all', 'country', 'municipality')
),

by_stratum as (
    select
        p.*,
        s.stratum_variable,
        s.stratum_value,
        s.stratum_country
    from people as p
    inner join strata as s using (participant_id)
)

select
    any_value(definition_name) as definition_name,
    any_value(days_housed_window_days) as window_days,
    arm,
    stratum_variable,
    stratum_value,
    count(*) as n_participants,
    count(*) filter (where full_window_observed) as n_full_window_observed,
    avg(share_days_stably_housed) as mean_share_days_stably_housed,
    avg(share_days_stably_housed) - 1.96 * stddev_samp(share_days_stably_housed) / sqrt(count(*))
        as mean_share_ci_lower,
    avg(share_days_stably_housed) + 1.96 * stddev_samp(share_days_stably_housed) / sqrt(count(*))
        as mean_share_ci_upper,
    median(share_days_stably_housed) as median_share_days_stably_housed,
    any_value(stratum_country) as stratum_country
from by_stratum
group by arm, stratum_variable, stratum_value
order by arm, stratum_variable, stratum_value
