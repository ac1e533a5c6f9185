-- Housing First participants housed (first move-in) over the whole project, per municipality,
-- against the municipality's targets (reference table: target_housed_total, and
-- target_housed_per_year with the number of calendar years with move-ins). Per-year counts
-- are in mart_housed_per_year_vs_target. Publishable after disclosure control.
with tenancies as (
    select * from int_tenancies where tenancy_seq = 1
),

participants as (
    select * from stg_participants where arm = 'housing_first'
),

municipalities as (
    select * from stg_municipalities
),

housed as (
    select
        p.municipality_code,
        min(year(t.start_date)) as first_move_in_year,
        max(year(t.start_date)) as last_move_in_year,
        count(*) as n_housed
    from tenancies as t
    inner join participants as p using (participant_id)
    group by p.municipality_code
)

select
    m.country,
    m.municipality_code,
    m.municipality_name,
    m.hf_start_year,
    h.first_move_in_year,
    h.last_move_in_year,
    h.last_move_in_year - h.first_move_in_year + 1 as years_with_move_ins,
    h.n_housed,
    m.target_housed_total,
    m.target_housed_per_year,
    m.target_housed_per_year * (h.last_move_in_year - h.first_move_in_year + 1)
        as target_housed_over_years_with_move_ins
from housed as h
inner join municipalities as m using (municipality_code)
order by m.country, m.municipality_code
