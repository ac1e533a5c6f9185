-- Fidelity from administrative data for Housing First participants, per stratum (all, country,
-- publication unit, support model; int_participant_strata): home visits per participant-week in the programme (enrolment to
-- extraction or death: the contract has no programme end date, so time-limited CTI shows lower
-- rates; target from home_visits_target_per_week, Mandal's HF team: >= 1), the number of
-- participants meeting it, and the share of first flats with an ordinary lease. Publishable
-- after disclosure control.
with params as (
    select * from int_retention_parameters
),

people as (
    select * from mart_person_outcomes where arm = 'housing_first' and weeks_in_programme > 0
),

strata as (
    select * from int_participant_strata
    where stratum_variable in ('all', 'country', 'municipality', 'support_model')
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
    b.stratum_variable,
    b.stratum_value,
    any_value(pr.home_visits_target_per_week) as target_home_visits_per_week,
    count(*) as n_participants,
    sum(b.weeks_in_programme) as participant_weeks,
    sum(b.n_home_visits)::bigint as n_home_visits,
    sum(b.n_home_visits) / sum(b.weeks_in_programme) as home_visits_per_participant_week,
    count(*) filter (where b.home_visits_per_week >= pr.home_visits_target_per_week)
        as n_meeting_target,
    count(*) filter (where b.home_visits_per_week >= pr.home_visits_target_per_week) / count(*)
        as share_meeting_target,
    count(*) filter (where b.housed) as n_housed,
    count(*) filter (where b.first_lease_type = 'ordinary') as n_first_flat_ordinary_lease,
    count(*) filter (where b.first_lease_type = 'ordinary')
        / nullif(count(*) filter (where b.housed), 0) as share_first_flat_ordinary_lease,
    any_value(b.stratum_country) as stratum_country
from by_stratum as b
cross join params as pr
group by b.stratum_variable, b.stratum_value
order by b.stratum_variable, b.stratum_value
