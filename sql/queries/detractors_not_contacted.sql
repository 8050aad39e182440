-- Which detractors have not been contacted yet?
-- Readers: each department's owner and the agents calling customers back
-- (`voc recovery contact ID --note ...` records the call).
-- A recovery item is made for every detractor (NPS 0-6), low CSAT (1-2) or
-- strongly negative survey; "not contacted" means no change of its history says
-- contacted or resolved. customer_id is pseudonymised: look the customer up in
-- cx.customer_history. Most overdue first.
with reached as (
    select distinct item_id
    from recovery_changes
    where status in ('contacted', 'resolved')
)

select
    i.department,
    i.item_id,
    i.customer_id,
    i.channel,
    i.cause_id,
    i.reason,
    i.nps,
    i.csat,
    i.due_at,
    i.due_at < report_end() as overdue
from recovery_items as i
anti join reached as r on r.item_id = i.item_id
order by i.due_at, i.item_id
