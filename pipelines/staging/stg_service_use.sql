-- Service use events and stays, one row per source row.
with events as (
    select * from valid_service_use
)

select
    participant_id,
    service,
    start_date,
    end_date,
    quantity,
    unit,
    coalesce(source_system, 'other') as source_system,
    _extraction_date as extraction_date,
    _source_id as source_id
from events
