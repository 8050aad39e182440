-- trend_daily_of(dept, period_start, period_end): per UTC day and cause of the
-- department, the contacts naming the cause that day, in [period_start, period_end).
-- Readers: the department's owner (the trend_daily view of its schema) and its
-- digest's trend charts.
-- contacts: distinct interactions naming the cause that day, from feedback_tags
-- (exact; summing the hourly issue_rollups' interactions would count a contact
-- whose survey and note fall in two hours twice). negative: the tagged events
-- (surveys and notes) with a negative sentiment label; mean_csat: over the
-- surveys naming the cause (the survey's CSAT is copied onto its tags).
-- Days are UTC whatever the session's time zone. A day without contacts for a
-- cause has no row.
create or replace macro trend_daily_of(dept, period_start, period_end) as table
with tags as (
    select
        (event_time at time zone 'UTC')::date as day,
        cause_id,
        interaction_id,
        sentiment_label,
        csat
    from feedback_tags
    where
        department = dept
        and event_time >= period_start::timestamptz
        and event_time < period_end::timestamptz
),

final as (
    select
        day,
        cause_id,
        count(distinct interaction_id) as contacts,
        count(*) filter (where sentiment_label = 'negative') as negative,
        avg(csat) as mean_csat
    from tags
    group by day, cause_id
)

select * from final
order by day, cause_id
