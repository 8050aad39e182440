-- cx.customer_history: every contact of a pseudonymised customer, in order:
-- their surveys and the agent notes of the same interactions, with the causes
-- each was tagged with and its redacted text.
-- Readers: support agents and CX leads (the 360-degree view of one customer):
--   select * from cx.customer_history where customer_id = 'c_...'
-- customer_id is the pseudonymised id surveys carry. A note is placed under the
-- customer of its interaction's survey, and under the customer it names itself
-- (agent note v2): so a contact the customer never rated is found too. A v1 note
-- of an interaction with no survey has no known customer and is not here.
-- Filter on customer_id: each CTE is read once, so the filter reaches both scans
-- of surveys, and the notes and the tags are joined to that customer's events
-- only (a CTE read twice was materialised for every customer: 9 s at 10M rows).
with survey_parts as (
    select
        customer_id,
        interaction_id,
        submitted_at as event_time,
        'survey' as source,
        event_id,
        channel,
        csat,
        nps,
        ces,
        resolved,
        sentiment_label,
        comment as text
    from surveys
),

-- A note's columns once; inlined (not materialized) where it is read, so a customer
-- filter still reaches each scan.
notes as not materialized (
    select
        customer_id as named_customer,
        interaction_id,
        created_at as event_time,
        'agent_note' as source,
        event_id,
        channel,
        null::tinyint as csat,
        null::tinyint as nps,
        null::tinyint as ces,
        null::boolean as resolved,
        sentiment_label,
        note as text
    from agent_notes
),

-- A note under the customer of its interaction's survey, and under the customer it
-- names itself (v2) when no survey of the interaction names that same customer.
note_parts as (
    select
        c.customer_id,
        n.* exclude (named_customer)
    from (select distinct customer_id, interaction_id from surveys) as c
    inner join notes as n on n.interaction_id = c.interaction_id
    union all
    select
        n.named_customer as customer_id,
        n.* exclude (named_customer)
    from notes as n
    where
        n.named_customer is not null
        and not exists (
            select 1
            from surveys as s
            where s.interaction_id = n.interaction_id and s.customer_id = n.named_customer
        )
),

tagged as (
    select
        p.*,
        t.cause_id
    from (
        select * from survey_parts
        union all
        select * from note_parts
    ) as p
    left join feedback_tags as t on t.event_id = p.event_id
),

final as (
    select
        customer_id,
        event_time,
        interaction_id,
        source,
        event_id,
        channel,
        csat,
        nps,
        ces,
        resolved,
        sentiment_label,
        coalesce(
            list(distinct cause_id order by cause_id) filter (where cause_id is not null), []
        ) as causes,
        regexp_replace(
            text,
            '[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\x{061c}\x{200e}\x{200f}\x{202a}-\x{202e}\x{2066}-\x{2069}]',
            '',
            'g'
        ) as text
    from tagged
    group by
        customer_id, event_time, interaction_id, source, event_id, channel, csat, nps, ces,
        resolved, sentiment_label, text
)

select * from final
order by customer_id, event_time, source desc, event_id
