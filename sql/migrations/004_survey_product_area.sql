-- 004: surveys.product_area, from survey contract v2 (schemas/survey.v2.json):
-- which product area the contact was about, filled by the survey tool when it
-- knows. Nullable because v1 surveys never carry it and v2 ones may not; no
-- backfill, since nothing recorded before v2 says which area a contact was about.
-- Readers: department owners, who want CSAT and root causes per product area.
alter table surveys add column product_area varchar;

-- The interactions view lists its survey columns by name, so it is re-created
-- to show product_area next to the survey's scores. The definition is 002's,
-- unchanged apart from that one column.
create or replace view interactions as
with repeated_surveys as (
    select interaction_id from surveys group by interaction_id having count(*) > 1
),

latest_surveys as (
    select * from surveys anti join repeated_surveys using (interaction_id)
    union all
    (
        select * from surveys semi join repeated_surveys using (interaction_id)
        qualify row_number() over (
            partition by interaction_id order by submitted_at desc, event_id
        ) = 1
    )
),

repeated_notes as (
    select interaction_id from agent_notes group by interaction_id having count(*) > 1
),

latest_notes as (
    select * from agent_notes anti join repeated_notes using (interaction_id)
    union all
    (
        select * from agent_notes semi join repeated_notes using (interaction_id)
        qualify row_number() over (
            partition by interaction_id order by created_at desc, event_id
        ) = 1
    )
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
        s.product_area,
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

select * from final;
