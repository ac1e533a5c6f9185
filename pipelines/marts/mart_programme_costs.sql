-- Programme costs per publication unit (a municipality, or an aggregate of small ones:
-- int_publication_units; a municipality with costs but no participants stands alone) and
-- budget year (nominal, own currency) beside the participant-years in the programme that year:
-- person-time of Housing First participants from enrolment to extraction or death. An
-- aggregate adds up its municipalities' costs and, so costs and person-time match, only the
-- person-time of municipalities with costs that year. hfeval.costs moves the amounts to one
-- price year and divides by the participant-years. Publishable: counts of people are
-- disclosure-controlled.
with costs as (
    select * from stg_programme_costs
),

people as (
    select * from int_cost_observation
),

units as (
    select * from int_publication_units
),

cost_years as (
    select
        municipality_code,
        country,
        year,
        currency,
        sum(amount_nominal) as total_cost_nominal,
        sum(amount_nominal) filter (where cost_item in ('staff', 'administration'))
            as fixed_cost_nominal,
        sum(amount_nominal) filter (where cost_item not in ('staff', 'administration'))
            as variable_cost_nominal,
        sum(fte) filter (where cost_item = 'staff') as staff_fte
    from costs
    group by all
),

in_programme as (
    select
        participant_id,
        municipality_code,
        enrolment_date as from_date,
        observed_until_date as to_date
    from people
    where arm = 'housing_first' and observed_until_date >= enrolment_date
),

person_years as (
    select
        participant_id,
        municipality_code,
        unnest(range(year(from_date), year(to_date) + 1)) as year,
        from_date,
        to_date
    from in_programme
),

exposure as (
    select
        municipality_code,
        year,
        count(distinct participant_id) as n_participants,
        sum(
            date_diff(
                'day',
                greatest(from_date, make_date(year, 1, 1)),
                least(to_date + 1, make_date(year + 1, 1, 1))
            )
        ) / 365.25 as participant_years
    from person_years
    group by all
),

municipality_years as (
    select
        coalesce(u.unit_code, c.municipality_code) as unit_code,
        c.*,
        e.n_participants,
        e.participant_years
    from cost_years as c
    left join exposure as e using (municipality_code, year)
    left join units as u using (municipality_code)
)

select
    unit_code as municipality_code,
    country,
    year,
    currency,
    sum(total_cost_nominal) as total_cost_nominal,
    coalesce(sum(fixed_cost_nominal), 0) as fixed_cost_nominal,
    coalesce(sum(variable_cost_nominal), 0) as variable_cost_nominal,
    sum(staff_fte) as staff_fte,
    coalesce(sum(n_participants), 0)::bigint as n_participants,
    coalesce(sum(participant_years), 0) as participant_years
from municipality_years
group by unit_code, country, year, currency
order by country, municipality_code, year
