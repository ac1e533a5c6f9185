-- Follow-up contacts by the support team.
with contacts as (
    select * from valid_support_contacts
)

select
    participant_id,
    contact_date,
    contact_type,
    contact_type = 'home_visit' as is_home_visit,
    minutes,
    _source_id as source_id
from contacts
