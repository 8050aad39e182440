-- csat_by_channel_of(dept, period_start, period_end): per channel, the contacts
-- about the department's causes in [period_start, period_end) and what the
-- customers' surveys say about them.
-- Readers: the department's owner (the csat_by_channel view of its schema) and
-- its digest.
-- A feedback event counts once for the department however many of its causes
-- it names (feedback_tags.first_for_department); its channel is the survey's or
-- the note's. contacts: distinct interactions; surveys: survey events;
-- mean_csat, nps (promoters 9-10 minus detractors 0-6, -100 .. 100) and
-- mean_effort (CES, 1 easy .. 7 hard) over the surveys that answered;
-- share_negative: negative events over events with a sentiment score.
-- The facts are bounded by the same event-time period before the join.
create or replace macro csat_by_channel_of(dept, period_start, period_end) as table
with events as (
    select event_id, source, interaction_id, sentiment_label, sentiment_score
    from feedback_tags
    where
        department = dept
        and first_for_department
        and event_time >= period_start::timestamptz
        and event_time < period_end::timestamptz
),

period_surveys as (
    select event_id, channel, csat, nps, ces
    from surveys
    where
        submitted_at >= period_start::timestamptz
        and submitted_at < period_end::timestamptz
),

period_notes as (
    select event_id, channel
    from agent_notes
    where
        created_at >= period_start::timestamptz
        and created_at < period_end::timestamptz
),

joined as (
    select
        e.*,
        coalesce(s.channel, n.channel) as channel,
        s.csat,
        s.nps,
        s.ces
    from events as e
    left join period_surveys as s on s.event_id = e.event_id
    left join period_notes as n on n.event_id = e.event_id
),

final as (
    select
        channel,
        count(distinct interaction_id) as contacts,
        count(*) filter (where source = 'survey') as surveys,
        avg(csat) as mean_csat,
        100.0 * (count(*) filter (where nps >= 9) - count(*) filter (where nps <= 6))
        / nullif(count(nps), 0) as nps,
        avg(ces) as mean_effort,
        count(*) filter (where sentiment_label = 'negative')
        / nullif(count(sentiment_score), 0) as share_negative
    from joined
    where channel is not null
    group by channel
)

select * from final
order by contacts desc, channel
