-- cx.channel_mix: per channel, the support contacts of the last 7 days
-- ([report_end() - 168 hours, report_end())) against the 7 days before, and
-- each channel's share of all contacts.
-- Readers: support ops and CX leads deciding where customers reach us.
-- A contact is an interaction with a survey or an agent note in the period
-- (its channel: the note's when there is one, else the survey's); counted
-- from the fact tables bounded by event time, whatever their causes.
with bounds as (
    select
        report_end() - interval 336 hours as previous_start,
        report_end() - interval 168 hours as period_start,
        report_end() as period_end
),

parts as (
    select s.interaction_id, s.channel, s.submitted_at as event_time, 1 as preference
    from surveys as s, bounds as b
    where s.submitted_at >= b.previous_start and s.submitted_at < b.period_end
    union all
    select n.interaction_id, n.channel, n.created_at, 0
    from agent_notes as n, bounds as b
    where n.created_at >= b.previous_start and n.created_at < b.period_end
),

contacts as (
    select
        interaction_id,
        arg_min(channel, preference) as channel,
        max(event_time) >= any_value(b.period_start) as in_period,
        min(event_time) < any_value(b.period_start) as in_previous
    from parts, bounds as b
    group by interaction_id
),

by_channel as (
    select
        channel,
        count(*) filter (where in_period) as contacts,
        count(*) filter (where in_previous) as previous_contacts
    from contacts
    group by channel
),

final as (
    select
        channel,
        contacts,
        previous_contacts,
        contacts - previous_contacts as change,
        contacts / nullif(sum(contacts) over (), 0) as share,
        previous_contacts / nullif(sum(previous_contacts) over (), 0) as previous_share
    from by_channel
)

select * from final
order by contacts desc, channel
