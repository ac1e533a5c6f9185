-- Costing frame: one row per participant with the anchor date that splits "before" from
-- "after" and the last day the person is observed. Parameter-free; the window length, price
-- year, currency and discounting are applied by hfeval.costs.
-- Anchor: Housing First participants at their first move-in to stable housing; comparison
-- participants (and Housing First participants never housed) at enrolment.
-- Observed until the extraction date, or the day of death if earlier.
with participants as (
    select * from stg_participants
),

first_move_in as (
    select * from int_first_move_in
),

spells as (
    select * from stg_housing_spells
),

deaths as (
    select participant_id, min(end_date) as death_date
    from spells
    where end_reason = 'death'
    group by participant_id
)

select
    p.participant_id,
    p.country,
    p.municipality_code,
    p.municipality_name,
    p.arm,
    p.enrolment_date,
    f.first_move_in_date,
    case
        when p.arm = 'housing_first' and f.first_move_in_date is not null then 'move_in'
        when p.arm = 'housing_first' then 'enrolment_never_housed'
        else 'enrolment'
    end as anchor_kind,
    case
        when p.arm = 'housing_first' and f.first_move_in_date is not null
            then f.first_move_in_date
        else p.enrolment_date
    end as anchor_date,
    p.extraction_date,
    d.death_date,
    least(p.extraction_date, coalesce(d.death_date, p.extraction_date)) as observed_until_date
from participants as p
left join first_move_in as f using (participant_id)
left join deaths as d using (participant_id)
