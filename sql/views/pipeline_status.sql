-- pipeline_status: one row saying whether the pipeline is moving, as of now().
-- Readers: whoever is on call for the pipeline, and any monitor that can run SQL
-- (alert when an age passes a threshold).
-- Three clocks, each as a timestamp and its age in seconds:
--   watermark      the oldest event-time watermark in pipeline_progress: of the
--                  slowest shard of the slowest branch (a branch is as far as
--                  its slowest shard, the derived tables as their slowest
--                  branch); stuck means they stop finalising even if facts
--                  are still stored
--   newest_event   the newest event time stored in surveys / agent_notes: old
--                  means no new feedback reaches the store (or none is sent)
--   newest_ingest  the newest ingested_at: old means the sink stopped writing
-- plus what is waiting for a person: unresolved dead letters, and late events
-- no reconciliation has folded in yet.
-- The ages are measured from now(), or from the session variable voc_now when
-- it is set (`set variable voc_now = timestamptz '...'`): how the tests pin the
-- clock, and how to read the status as it was at some earlier time.
with clock as (
    select coalesce(getvariable('voc_now')::timestamptz, now()) as checked_at
),

slowest as (
    select branch, shard, watermark
    from pipeline_progress
    order by watermark, branch, shard
    limit 1
),

facts as (
    select
        max(event_time) as newest_event_at,
        max(ingested_at) as newest_ingested_at
    from (
        select submitted_at as event_time, ingested_at from surveys
        union all
        select created_at as event_time, ingested_at from agent_notes
    )
),

waiting as (
    select
        (select count(*) from dead_letters where resolved_at is null)
            as unresolved_dead_letters,
        (select count(*) from late_events where folded_at is null) as unfolded_late_events
),

final as (
    select
        c.checked_at,
        p.branch as slowest_branch,
        p.shard as slowest_shard,
        p.watermark,
        epoch(c.checked_at - p.watermark) as watermark_lag_seconds,
        f.newest_event_at,
        epoch(c.checked_at - f.newest_event_at) as event_age_seconds,
        f.newest_ingested_at,
        epoch(c.checked_at - f.newest_ingested_at) as ingestion_age_seconds,
        w.unresolved_dead_letters,
        w.unfolded_late_events
    from clock as c
    left join slowest as p on true
    cross join facts as f
    cross join waiting as w
)

select * from final
