-- MANSA quality of life per participant and wave, with the mean over answered items.
-- The mean needs at least 9 of the 12 items answered (otherwise NULL), a common rule for
-- short scales with a few missing items.
with assessments as (
    select * from valid_quality_of_life
),

answered as (
    select
        *,
        list_filter(
            [
                mansa_01_life_as_whole, mansa_02_job, mansa_03_finances, mansa_04_friendships,
                mansa_05_leisure, mansa_06_accommodation, mansa_07_safety,
                mansa_08_people_lived_with, mansa_09_sex_life, mansa_10_family,
                mansa_11_physical_health, mansa_12_mental_health
            ],
            lambda x: x is not null
        ) as answered_items
    from assessments
)

select
    participant_id,
    wave,
    assessment_date,
    columns('^mansa_\d\d_'),
    len(answered_items) as mansa_items_answered,
    case when len(answered_items) >= 9 then list_avg(answered_items) end as mansa_mean_score,
    _source_id as source_id
from answered
