-- Housing First participants housed (first move-in) per calendar year against the yearly
-- target, per publication unit (a municipality, or an aggregate of small ones:
-- int_publication_units; an aggregate's target is the sum of its municipalities' targets, and
-- unknown when any of them has none). reached_target_housed_per_year is computed from the exact
-- count (a rounded 14 would read as 15), and published only where n_housed is.
-- Publishable after disclosure control.
with participants as (
    select * from mart_participants
),

municipalities as (
    select * from stg_municipalities
),

units as (
    select * from int_publication_units
),

unit_targets as (
    select
        u.unit_code,
        any_value(u.country) as country,
        any_value(u.unit_name) as unit_name,
        case when count(m.target_housed_per_year) = count(*)
            then sum(m.target_housed_per_year)::integer end as target_housed_per_year
    from units as u
    left join municipalities as m using (municipality_code)
    group by u.unit_code
),

housed as (
    select u.unit_code, year(p.first_move_in_date) as year, count(*) as n_housed
    from participants as p
    inner join units as u using (municipality_code)
    where p.arm = 'housing_first' and p.ever_housed
    group by all
)

select
    t.country,
    h.unit_code as municipality_code,
    t.unit_name as municipality_name,
    h.year,
    h.n_housed,
    t.target_housed_per_year,
    h.n_housed >= t.target_housed_per_year as reached_target_housed_per_year
from housed as h
inner join unit_targets as t using (unit_code)
order by t.country, h.unit_code, h.year
