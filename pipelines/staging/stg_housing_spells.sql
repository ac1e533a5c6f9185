-- Housing spells with open spells made explicit and durations in days.
-- An open spell runs to the extraction date (it is censored there, not ended).
with spells as (
    select * from valid_housing_spells
)

select
    participant_id,
    start_date,
    end_date,
    end_date is null as is_open,
    coalesce(end_date, _extraction_date) as end_or_extraction_date,
    housing_type,
    housing_type in ('own_lease', 'municipal_flat', 'supported_housing') as is_stable_housing,
    housing_type in ('temporary_accommodation', 'shelter', 'rough_sleeping', 'family_friends')
        as is_homeless,
    coalesce(lease_type, 'unknown') as lease_type,
    -- A closed spell without a reason is an unknown exit (a loss under the default definition).
    case when end_date is not null then coalesce(end_reason, 'unknown') end as end_reason,
    date_diff('day', start_date, coalesce(end_date, _extraction_date)) as days_in_spell,
    _extraction_date as extraction_date,
    _source_id as source_id
from spells
