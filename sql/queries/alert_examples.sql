-- Alert examples: what customers said in the opening window of each alert, the
-- open alerts first, then the newest closed ones; at most 30 rows.
-- Readers: department owners and support ops reading a surge before opening
-- the facts; the README.
-- Closed alerts are included because a surge is usually over by the time
-- someone looks, and a closed alert keeps its examples. Texts are PII-redacted.
-- An alert without examples has no row (open_alerts lists every open alert).
with example_rows as (
    select
        *,
        unnest(
            from_json(examples, '[{"event_id": "VARCHAR", "text": "VARCHAR"}]'), recursive := true
        )
    from alerts
)

select
    status,
    department,
    cause_id,
    opened_window_start as since,
    observed,
    round(expected, 1) as expected,
    event_id,
    text
from example_rows
order by status = 'open' desc, since desc, alert_id, event_id
limit 30
