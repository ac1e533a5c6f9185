-- Housing First participants housed (first move-in) over the whole project, per publication
-- unit (a municipality, or an aggregate of small ones: int_publication_units), against the
-- targets (reference table: target_housed_total, and target_housed_per_year with the number of
-- calendar years with move-ins). An aggregate's targets are the sums of its municipalities'
-- targets (unknown when any of them has none) and its start year the earliest. Per-year counts
-- are in mart_housed_per_year_vs_target. Progress against the targets (reached_*, the band of
-- the share of the target housed) is computed from the exact count, because a rounded count
-- misleads next to a target (14 housed of 15 rounds to 15), and published only where n_housed
-- is. Publishable after disclosure control.
with tenancies as (
    select * from int_tenancies where tenancy_seq = 1
),

participants as (
    select * from stg_participants where arm = 'housing_first'
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
        min(m.hf_start_year) as hf_start_year,
        case when count(m.target_housed_total) = count(*)
            then sum(m.target_housed_total)::integer end as target_housed_total,
        case when count(m.target_housed_per_year) = count(*)
            then sum(m.target_housed_per_year)::integer end as target_housed_per_year
    from units as u
    left join municipalities as m using (municipality_code)
    group by u.unit_code
),

housed as (
    select
        u.unit_code,
        min(year(t.start_date)) as first_move_in_year,
        max(year(t.start_date)) as last_move_in_year,
        count(*) as n_housed
    from tenancies as t
    inner join participants as p using (participant_id)
    inner join units as u using (municipality_code)
    group by u.unit_code
),

against_target as (
    select
        ut.country,
        h.unit_code as municipality_code,
        ut.unit_name as municipality_name,
        ut.hf_start_year,
        h.first_move_in_year,
        h.last_move_in_year,
        h.last_move_in_year - h.first_move_in_year + 1 as years_with_move_ins,
        h.n_housed,
        ut.target_housed_total,
        ut.target_housed_per_year,
        ut.target_housed_per_year * (h.last_move_in_year - h.first_move_in_year + 1)
            as target_housed_over_years_with_move_ins
    from housed as h
    inner join unit_targets as ut using (unit_code)
)

select
    *,
    n_housed >= target_housed_total as reached_target_housed_total,
    n_housed >= target_housed_over_years_with_move_ins
        as reached_target_housed_over_years_with_move_ins,
    case
        when target_housed_total is null or target_housed_total <= 0 then null
        when n_housed >= target_housed_total then '100 % or more'
        when n_housed >= 0.75 * target_housed_total then '75-99 %'
        when n_housed >= 0.5 * target_housed_total then '50-74 %'
        else 'under 50 %'
    end as share_of_target_housed_total_band
from against_target
order by country, municipality_code
