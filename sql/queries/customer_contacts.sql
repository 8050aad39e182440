-- What has this customer been in touch about?
-- Readers: a support agent before calling customer c1 back (the customer_id of a
-- recovery item; pseudonymised, never a name or an address).
-- Every survey of the customer and the agent notes of the same contacts, in order,
-- with the causes each was tagged with and its redacted text.
select
    event_time,
    interaction_id,
    source,
    channel,
    csat,
    nps,
    causes,
    text
from cx.customer_history
where customer_id = 'c1'
order by event_time, event_id
