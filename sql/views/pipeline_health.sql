-- pipeline_health: one row per UTC hour of processing (wall-clock) time over
-- the last 7 days (168 hours) ending at the newest thing stored, gaps included
-- as zeros.
-- Readers: data engineers and whoever is on call for the pipeline.
-- A row: feedback stored that hour (by ingested_at) and how much of it found
-- no cause, dead letters received that hour by reason, late events detected.
-- "No cause": a stored event whose tags are only `unclassified` (the tagger's
-- answer when no rule or model fires), or that has no tag row at all (which the
-- sink never writes, so any such event is worth a look).
-- Hours are processing time: a replay of last month's events counts now.
-- Seven days, not the whole history: the tag scan is what costs (6M events:
-- 1.2 s bounded, 4 s unbounded), and the bound keeps it to the recent part
-- (tags are written with their event, so tagged_at >= its ingested_at). The
-- bound ends at the newest row, not at now(), so an older file still shows its
-- last week; pipeline_status says whether the pipeline is still moving.
with newest as (
    select max(stored_at) as stored_at
    from (
        select max(ingested_at) as stored_at from surveys
        union all
        select max(ingested_at) from agent_notes
        union all
        select max(received_at) from dead_letters
        union all
        select max(detected_at) from late_events
    )
),

bounds as (
    select
        time_bucket(interval 1 hour, stored_at) - interval 167 hour as first_hour,
        time_bucket(interval 1 hour, stored_at) as last_hour
    from newest
),

events as (
    select s.event_id, s.ingested_at
    from surveys as s, bounds as b
    where s.ingested_at >= b.first_hour
    union all
    select n.event_id, n.ingested_at
    from agent_notes as n, bounds as b
    where n.ingested_at >= b.first_hour
),

caused as (
    select t.event_id
    from feedback_tags as t, bounds as b
    where t.tagged_at >= b.first_hour and t.cause_id <> 'unclassified'
),

feedback as (
    select
        time_bucket(interval 1 hour, ingested_at) as hour,
        count(*) as feedback_stored
    from events
    group by all
),

no_cause as (
    select
        time_bucket(interval 1 hour, ingested_at) as hour,
        count(*) as no_cause
    from (select * from events anti join caused using (event_id))
    group by all
),

dead_letter_reasons as (
    select
        time_bucket(interval 1 hour, d.received_at) as hour,
        d.reason,
        count(*) as dead_letters
    from dead_letters as d, bounds as b
    where d.received_at >= b.first_hour
    group by all
),

dead_letter_hours as (
    select
        hour,
        sum(dead_letters)::bigint as dead_letters,
        map_from_entries(list((reason, dead_letters) order by reason)) as dead_letters_by_reason
    from dead_letter_reasons
    group by hour
),

late as (
    select
        time_bucket(interval 1 hour, l.detected_at) as hour,
        count(*) as late_events
    from late_events as l, bounds as b
    where l.detected_at >= b.first_hour
    group by all
),

hours as (
    select unnest(generate_series(first_hour, last_hour, interval 1 hour)) as hour
    from bounds
),

active_hours as (
    select hour from feedback
    union
    select hour from dead_letter_hours
    union
    select hour from late
),

first_active as (
    select min(hour) as hour from active_hours
),

final as (
    select
        h.hour,
        coalesce(f.feedback_stored, 0) as feedback_stored,
        coalesce(c.no_cause, 0) as no_cause,
        coalesce(c.no_cause, 0) / f.feedback_stored as share_no_cause,
        coalesce(d.dead_letters, 0) as dead_letters,
        coalesce(d.dead_letters_by_reason, map_from_entries([])::map(varchar, bigint))
            as dead_letters_by_reason,
        coalesce(l.late_events, 0) as late_events
    from hours as h
    inner join first_active as a on h.hour >= a.hour
    left join feedback as f on f.hour = h.hour
    left join no_cause as c on c.hour = h.hour
    left join dead_letter_hours as d on d.hour = h.hour
    left join late as l on l.hour = h.hour
)

select * from final
