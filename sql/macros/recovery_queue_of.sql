-- recovery_queue_of(dept): the department's follow-up calls, what became of each, and
-- which are late. dept null: every department (voc recovery list without --department).
-- Readers: the department's owner (the recovery_queue view of its schema), its digest
-- (overdue items), `voc recovery list`.
-- One row per recovery item (the sink makes one per detractor or strongly negative
-- contact) whose survey came in the last 28 days (672 hours) before report_end(): the
-- working queue. Older items have expired or been worked; they stay in recovery_items
-- and recovery_changes (`voc recovery history ID`). The bound also lets DuckDB skip
-- the row groups of older items (they are stored in arrival order).
-- status is the latest change's (recovery_changes): contacted | resolved, 'reopened'
-- counts as open; an item never changed is open, and expired once report_end() is 7
-- days (168 hours) past its due time: a call that late is no longer a recovery.
-- overdue: open and past due. Overdue first, then by due time.
-- Hours rather than days: adding days to a timestamptz follows the session's time
-- zone (daylight saving), the queue must not. The clock's arithmetic is done once
-- (clock), not per row.
create or replace macro recovery_queue_of(dept) as table
with clock as (
    select
        report_end() as now_at,
        report_end() - interval 168 hours as expired_before
),

items as (
    select r.*
    from recovery_items as r
    where
        (dept is null or r.department = dept)
        -- The clock itself here, not the clock CTE: a constant lets the scan skip row groups.
        and r.survey_at >= report_end() - interval 672 hours
),

latest as (
    -- The latest change of each item: arg_max over a hash aggregate, not a sorted window.
    select
        item_id,
        max(changed_at) as last_changed_at,
        arg_max(status, changed_at) as last_status,
        arg_max(changed_by, changed_at) as last_changed_by,
        arg_max(note, changed_at) as last_note
    from recovery_changes
    where item_id in (select item_id from items)
    group by item_id
),

statused as (
    select
        i.*,
        l.last_changed_at,
        l.last_changed_by,
        l.last_note,
        case
            when l.last_status is null and i.due_at <= c.expired_before then 'expired'
            when l.last_status is null or l.last_status = 'reopened' then 'open'
            else l.last_status
        end as status,
        c.now_at
    from items as i
    cross join clock as c
    left join latest as l on i.item_id = l.item_id
)

select
    item_id,
    status,
    status = 'open' and due_at < now_at as overdue,
    due_at,
    survey_at,
    interaction_id,
    customer_id,
    channel,
    cause_id,
    reason,
    nps,
    csat,
    sentiment_score,
    last_changed_at,
    last_changed_by,
    last_note,
    department
from statused
order by overdue desc, due_at, item_id
