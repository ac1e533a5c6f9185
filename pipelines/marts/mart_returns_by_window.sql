-- Returns to homelessness (HUD SPM 2 style) per window, arm and stratum (all, country,
-- publication unit; int_participant_strata). Counting unit from the definition set: person = each person's first placement,
-- placement = every tenancy. A placement counts in a window only when the extraction date is
-- at least the window's last day after the placement (full follow-up); returned = its first
-- return fell inside the window. Publishable after disclosure control (the share is recomputed
-- from the rounded counts).
with params as (
    select * from int_retention_parameters
),

returns as (
    select * from int_returns
),

participants as (
    select * from stg_participants
),

strata as (
    select * from int_participant_strata
    where stratum_variable in ('all', 'country', 'municipality')
),

windows as (
    select
        w as window_days,
        split_part(w, '-', 1)::integer as first_day,
        split_part(w, '-', 2)::integer as last_day
    from (select unnest(returns_windows) as w from params)
),

counted as (
    select
        r.*,
        p.arm,
        pr.returns_unit,
        w.window_days,
        w.first_day,
        w.last_day,
        coalesce(r.days_to_return between w.first_day and w.last_day, false) as returned
    from returns as r
    inner join participants as p using (participant_id)
    cross join params as pr
    cross join windows as w
    where (pr.returns_unit = 'placement' or r.tenancy_seq = 1)
        and r.follow_up_days >= w.last_day
),

by_stratum as (
    select
        c.*,
        s.stratum_variable,
        s.stratum_value,
        s.stratum_country
    from counted as c
    inner join strata as s using (participant_id)
)

select
    any_value(definition_name) as definition_name,
    any_value(returns_unit) as counting_unit,
    window_days,
    first_day,
    last_day,
    arm,
    stratum_variable,
    stratum_value,
    count(*) as n_eligible,
    count(*) filter (where returned) as n_returned,
    count(*) filter (where returned) / count(*) as share_returned,
    any_value(stratum_country) as stratum_country
from by_stratum
group by window_days, first_day, last_day, arm, stratum_variable, stratum_value
order by arm, stratum_variable, stratum_value, first_day, last_day
