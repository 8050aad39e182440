-- Department summary: one row per owning department.
-- Readers: everyone running `voc demo` / `voc summary`; department owners as a
-- first look before they query feedback_tags themselves.
-- A row: how many events name a cause this department owns, how negative they
-- are, the CSAT that came with them, and the department's top cause.
-- One scan of feedback_tags, no join and no count(distinct): the sink marks one
-- row per (event, department) and copies the survey's CSAT onto its tags
-- (migration 003), which keeps this under a second at 10M rows.
with department_events as (
    select * from feedback_tags
    where first_for_department
),

by_department as (
    select
        department,
        count(*) as feedback,
        avg(case when sentiment_label = 'negative' then 1.0 else 0.0 end) as negative_share,
        avg(sentiment_score) as avg_sentiment,
        avg(csat) as avg_csat
    from department_events
    group by department
),

cause_counts as (
    select
        department,
        cause_id,
        count(*) as mentions,
        row_number() over (partition by department order by count(*) desc, cause_id) as rank
    from feedback_tags
    group by department, cause_id
),

final as (
    select
        d.department,
        d.feedback,
        round(100 * d.negative_share, 1) as pct_negative,
        round(d.avg_sentiment, 3) as avg_sentiment,
        round(d.avg_csat, 2) as avg_csat,
        c.cause_id as top_cause,
        c.mentions as top_cause_mentions
    from by_department as d
    left join cause_counts as c on c.department = d.department and c.rank = 1
)

select * from final
order by feedback desc, department
