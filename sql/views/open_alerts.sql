-- open_alerts: the alerts still open, one row each.
-- Readers: department owners and support ops deciding what to look at today.
-- The alert branch opens an alert when a cause's volume in a window scores well
-- above its own baseline (method: which baseline) and keeps it open, one per
-- cause, until the cause subsides. examples are a few events of the opening
-- window with their redacted text; the rest of the alert's history stays in
-- the alerts table.
with still_open as (
    select * from alerts
    where status = 'open'
),

final as (
    select
        alert_id,
        department,
        cause_id,
        opened_window_start as since,
        last_window_start,
        observed,
        expected,
        score,
        peak_observed,
        peak_score,
        method,
        examples::json as examples,
        updated_at
    from still_open
)

select * from final
