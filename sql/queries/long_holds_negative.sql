-- Long holds, negative contacts: the last week's contacts that held the customer
-- 10 minutes or more and ended negative, longest hold first.
-- Readers: support ops (staffing, queue design), and the README.
-- "The last week" ends at the newest contact stored, not at today.
select interaction_id, channel, last_event_at, hold_seconds, transfers, csat, causes
from interactions
where
    hold_seconds >= 600
    and sentiment_label = 'negative'
    and last_event_at > (select max(last_event_at) from interactions) - interval 7 day
order by hold_seconds desc, interaction_id
limit 20
