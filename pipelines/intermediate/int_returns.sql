-- Returns to homelessness after each placement (a move-in that starts a tenancy), in the style
-- of HUD System Performance Measure 2. The return is the first homeless spell (shelter,
-- temporary accommodation, rough sleeping, with family or friends) starting on or after the day
-- the tenancy ended, or the tenancy's own end reason returned_to_homelessness, whichever comes
-- first; days are counted from the placement. Homeless spells inside a tenancy (during a move
-- between flats) are not returns, and neither is anything sooner than returns_min_gap_days
-- after the placement. Which placements count (person: each person's first; placement: all)
-- and the windows are applied in mart_returns_by_window.
with params as (
    select * from int_retention_parameters
),

tenancies as (
    select * from int_tenancies
),

homeless_spells as (
    select participant_id, start_date from stg_housing_spells where is_homeless
),

candidates as (
    select t.participant_id, t.tenancy_seq, h.start_date as return_date, 'homeless_spell' as source
    from tenancies as t
    inner join homeless_spells as h
        on h.participant_id = t.participant_id and h.start_date >= t.event_date
    union all
    select participant_id, tenancy_seq, event_date, 'end_reason'
    from tenancies
    where event_code = 'returned_to_homelessness'
),

first_return as (
    select
        c.participant_id,
        c.tenancy_seq,
        min(c.return_date) as return_date,
        arg_min(c.source, c.return_date) as return_source
    from candidates as c
    inner join tenancies as t using (participant_id, tenancy_seq)
    cross join params as p
    where date_diff('day', t.start_date, c.return_date) >= p.returns_min_gap_days
    group by c.participant_id, c.tenancy_seq
)

select
    t.participant_id,
    t.tenancy_seq,
    t.definition_name,
    t.start_date as placement_date,
    t.extraction_date,
    date_diff('day', t.start_date, t.extraction_date) as follow_up_days,
    r.return_date,
    date_diff('day', t.start_date, r.return_date) as days_to_return,
    r.return_source
from tenancies as t
left join first_return as r using (participant_id, tenancy_seq)
order by t.participant_id, t.tenancy_seq
