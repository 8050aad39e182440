-- What share of chat contacts were transferred this week?
-- Readers: support ops and the digital self-service owner (a transfer is effort
-- the customer did not choose).
-- A chat contact is an interaction with an agent note on the chat channel in the
-- last 7 days; it was transferred when any of its notes records a transfer.
with chat_contacts as (
    select
        interaction_id,
        max(transfers) > 0 as transferred
    from agent_notes
    where
        channel = 'chat'
        and created_at >= report_end() - interval 168 hours
        and created_at < report_end()
    group by interaction_id
)

select
    count(*) as chat_contacts,
    count(*) filter (where transferred) as transferred,
    round(count(*) filter (where transferred) / nullif(count(*), 0), 3) as share_transferred
from chat_contacts
