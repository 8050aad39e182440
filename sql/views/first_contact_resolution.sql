-- first_contact_resolution: per department x cause x channel, how many
-- contacts with a known customer were resolved the first time.
-- Readers: support ops and the department owning each cause, to see which
-- causes bring customers back.
-- A contact counts under every cause it names (interactions.causes), with the
-- cause's department from interactions.cause_sources. resolved_first_contact
-- comes from the stream: null without a customer (no survey), false once the
-- customer came back about the same cause within the repeat window (7 days,
-- EventTimeSettings.repeat_window). A resolved contact whose window is still
-- open (last_event_at less than 7 days before the newest contact stored) may
-- still turn false: it is counted in `provisional`. settled_fcr_rate is the
-- rate over the contacts whose window has closed, which can no longer change.
-- "Newest contact stored" rather than now(), so an older file reads the same
-- on any day.
with newest as (
    select max(last_event_at) as last_event_at from interactions
),

departments as (
    select distinct
        i.interaction_id,
        s.source.cause_id,
        s.source.department
    from interactions as i,
        unnest(from_json(
            i.cause_sources, '[{"cause_id": "VARCHAR", "department": "VARCHAR"}]'
        )) as s(source)
),

contact_causes as (
    select
        i.interaction_id,
        i.channel,
        i.resolved_first_contact,
        i.last_event_at > n.last_event_at - interval 168 hour as window_open,
        u.cause_id
    from interactions as i
    cross join newest as n
    cross join unnest(i.causes) as u(cause_id)
),

by_cause as (
    select
        d.department,
        c.cause_id,
        c.channel,
        count(*) as interactions,
        count(c.resolved_first_contact) as with_customer,
        count(*) filter (where c.resolved_first_contact) as resolved_first,
        count(*) filter (where c.resolved_first_contact and c.window_open) as provisional,
        count(*) filter (where c.resolved_first_contact is not null and not c.window_open)
            as settled,
        count(*) filter (where c.resolved_first_contact and not c.window_open)
            as settled_resolved_first
    from contact_causes as c
    left join departments as d
        on d.interaction_id = c.interaction_id and d.cause_id = c.cause_id
    group by d.department, c.cause_id, c.channel
),

final as (
    select
        department,
        cause_id,
        channel,
        interactions,
        with_customer,
        resolved_first,
        resolved_first / nullif(with_customer, 0) as fcr_rate,
        provisional,
        settled_resolved_first / nullif(settled, 0) as settled_fcr_rate
    from by_cause
)

select * from final
