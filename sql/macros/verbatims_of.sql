-- verbatims_of(dept, period_start, period_end): what customers wrote (survey
-- comments) and what agents wrote (notes) about the department's causes in
-- [period_start, period_end), newest first, with the tag that put each text here.
-- Readers: the department's owner (the verbatims view of its schema) and its
-- digest (a few representative texts per top cause).
-- A row is one tag: an event naming two of the department's causes shows twice,
-- once under each. The text is the stored one, PII-redacted by the pipeline;
-- bidi and control characters (which can make a text display other than it
-- reads) are removed here, tabs and newlines kept.
-- Fast at 10M tag rows: the tags are bounded by department and event time
-- first, and each fact table by the same event-time bounds (a fact's
-- event_time is its submitted_at / created_at), so the joins only read the
-- period's facts.
create or replace macro verbatims_of(dept, period_start, period_end) as table
with tags as (
    select
        event_time,
        source,
        event_id,
        interaction_id,
        cause_id,
        sub_cause_id,
        sentiment_score,
        sentiment_label,
        evidence
    from feedback_tags
    where
        department = dept
        and event_time >= period_start::timestamptz
        and event_time < period_end::timestamptz
),

survey_texts as (
    select event_id, channel, comment as text, csat, nps
    from surveys
    where
        submitted_at >= period_start::timestamptz
        and submitted_at < period_end::timestamptz
),

note_texts as (
    select event_id, channel, note as text
    from agent_notes
    where
        created_at >= period_start::timestamptz
        and created_at < period_end::timestamptz
),

joined as (
    select
        t.event_time,
        t.source,
        t.event_id,
        t.interaction_id,
        coalesce(s.channel, n.channel) as channel,
        t.cause_id,
        t.sub_cause_id,
        t.sentiment_score,
        t.sentiment_label,
        t.evidence,
        coalesce(s.text, n.text, '') as text,
        s.csat,
        s.nps
    from tags as t
    left join survey_texts as s on s.event_id = t.event_id
    left join note_texts as n on n.event_id = t.event_id
    order by t.event_time desc, t.event_id, t.cause_id
)

-- The characters are removed after the ordering, so an owner's `limit 100` cleans
-- only the 100 rows it reads.
select
    * replace (
        regexp_replace(
            text,
            '[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\x{061c}\x{200e}\x{200f}\x{202a}-\x{202e}\x{2066}-\x{2069}]',
            '',
            'g'
        ) as text
    )
from joined
