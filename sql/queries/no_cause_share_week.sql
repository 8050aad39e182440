-- How much of this week's feedback found no cause?
-- Readers: the taxonomy owner (a rising share says the taxonomy no longer matches
-- what customers write: see `voc discover`) and support ops, who triage it.
-- Feedback events of the last 7 days (by event time) whose only tag is unclassified.
with events as (
    select
        event_id,
        bool_and(cause_id = 'unclassified') as no_cause
    from feedback_tags
    where event_time >= report_end() - interval 168 hours and event_time < report_end()
    group by event_id
)

select
    count(*) as events,
    count(*) filter (where no_cause) as no_cause,
    round(count(*) filter (where no_cause) / nullif(count(*), 0), 3) as share_no_cause
from events
