-- interaction_parts: one row per support contact: its latest survey and
-- latest note side by side, joined by interaction_id when queried.
-- Readers: support ops and every department that wants the survey scores and
-- the agent's account of the same contact side by side. The two events arrive
-- in any order (or only one of them arrives); the join happens at query time,
-- so a late survey simply fills in its side.
-- The query-time cross-check of the `interactions` table, which the stream
-- joins as parts arrive (migration 009): the two agree on which contacts have
-- a survey and a note, except for parts the stream stored but did not join
-- (surveys.joined / agent_notes.joined = false).
-- "Latest" per side comes from the macro latest_per_interaction (sql/macros/).
with latest_surveys as (
    select * from latest_per_interaction('surveys', submitted_at)
),

latest_notes as (
    select * from latest_per_interaction('agent_notes', created_at)
),

final as (
    select
        coalesce(s.interaction_id, n.interaction_id) as interaction_id,
        coalesce(n.channel, s.channel) as channel,
        s.event_id as survey_event_id,
        s.submitted_at,
        s.csat,
        s.nps,
        s.ces,
        s.resolved,
        s.sentiment_label as survey_sentiment,
        n.event_id as note_event_id,
        n.created_at as note_created_at,
        n.agent_id,
        n.team,
        n.handle_seconds,
        n.hold_seconds,
        n.transfers,
        n.sentiment_label as note_sentiment,
        s.event_id is not null and n.event_id is not null as complete
    from latest_surveys as s
    full outer join latest_notes as n on n.interaction_id = s.interaction_id
)

select * from final
