-- alerts_of(dept, period_start, period_end): the department's alerts that were
-- open at any time during [period_start, period_end), open ones first, then the
-- newest opening first.
-- Readers: the department's owner (the alerts view of its schema) and its digest.
-- An alert is open from its opening window until the window in which it
-- subsided (closed_window_start; null while still open), so it overlaps the
-- period when it opened before period_end and had not closed before
-- period_start. The alerts table is small (one row per surge): no pre-filtering.
-- examples: the opening window's events with their PII-redacted text.
create or replace macro alerts_of(dept, period_start, period_end) as table
with overlapping as (
    select *
    from main.alerts  -- qualified: the department schema has a view named alerts
    where
        department = dept
        and opened_window_start < period_end::timestamptz
        and (closed_window_start is null or closed_window_start >= period_start::timestamptz)
),

final as (
    select
        alert_id,
        cause_id,
        status,
        opened_window_start,
        closed_window_start,
        observed,
        expected,
        score,
        peak_observed,
        examples::json as examples
    from overlapping
)

select * from final
order by status = 'open' desc, opened_window_start desc, alert_id
