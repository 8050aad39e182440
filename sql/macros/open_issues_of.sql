-- open_issues_of(dept, period_start, period_end): the department's causes and
-- sub-causes in [period_start, period_end), ranked by volume and by change
-- against the period of the same length just before, with what the owner did
-- about each cause (cause_actions).
-- Readers: the department's owner (the open_issues view of its schema) and its digest.
-- contacts are distinct interactions (support contacts) whose survey or note
-- names the cause in the period, counted from feedback_tags: exact. The hourly
-- issue_rollups cannot give this figure: their `interactions` are distinct per
-- window and channel, so summing them counts a contact whose survey and note fall
-- in two windows twice. Their event sums are exact per cause, so negative_share
-- and mean_csat come from them (a scan of a few thousand rows instead of
-- aggregating every tag; 'unclassified' has no rollup rows, so those two are
-- null there). The facts are read once, bounded by department and event time
-- (both periods), and grouped once per (cause, sub-cause, contact) and once per
-- (cause, contact) with min/max event time: the cheapest exact distinct count
-- found at 10M rows (bench/views.py).
-- 'unclassified' (support_ops' triage cause) is listed like any cause.
-- A row is a cause (or sub-cause) named in either period: one that fell to 0
-- contacts is still shown, with its change.
-- status: 'fix shipped' when a fix_shipped action exists for the cause on or
-- before the period's end, else 'acknowledged' when an acknowledged one does,
-- else 'new'; sub-cause rows carry their cause's status.
create or replace macro open_issues_of(dept, period_start, period_end) as table
with tags as (
    select
        interaction_id,
        cause_id,
        coalesce(sub_cause_id, '') as sub_cause_id,
        event_time
    from feedback_tags
    where
        department = dept
        -- the previous period, as exact microseconds (no calendar arithmetic in the
        -- session's time zone)
        and event_time >= period_start::timestamptz
        - to_microseconds(epoch_us(period_end::timestamptz) - epoch_us(period_start::timestamptz))
        and event_time < period_end::timestamptz
),

-- One row per (cause, contact) and per (sub-cause, contact): when the contact
-- first and last named it. (count(distinct ...) filter (...) per period took
-- 2-3x longer at 10M rows.)
per_cause as (
    select
        cause_id,
        '' as sub_cause_id,
        interaction_id,
        min(event_time) as first_at,
        max(event_time) as last_at
    from tags
    group by cause_id, interaction_id
),

per_sub_cause as (
    select
        cause_id,
        sub_cause_id,
        interaction_id,
        min(event_time) as first_at,
        max(event_time) as last_at
    from tags
    where sub_cause_id <> ''
    group by cause_id, sub_cause_id, interaction_id
),

contact_counts as (
    select
        'cause' as level,
        cause_id,
        sub_cause_id,
        count(*) filter (where last_at >= period_start::timestamptz) as contacts,
        count(*) filter (where first_at < period_start::timestamptz) as previous_contacts
    from per_cause
    group by cause_id, sub_cause_id
    union all
    select
        'sub_cause' as level,
        cause_id,
        sub_cause_id,
        count(*) filter (where last_at >= period_start::timestamptz) as contacts,
        count(*) filter (where first_at < period_start::timestamptz) as previous_contacts
    from per_sub_cause
    group by cause_id, sub_cause_id
),

event_sums as (
    select
        level,
        cause_id,
        sub_cause_id,
        sum(negative) / nullif(sum(scored), 0) as negative_share,
        sum(csat_sum) / nullif(sum(csat_count), 0) as mean_csat
    from issue_rollups
    where
        department = dept
        and window_start >= period_start::timestamptz
        and window_start < period_end::timestamptz
    group by level, cause_id, sub_cause_id
),

-- A contact naming two of the department's causes counts once in the whole.
department_total as (
    select count(distinct interaction_id) as contacts
    from per_cause
    where last_at >= period_start::timestamptz
),

actions as (
    select
        cause_id,
        max(effective_date) filter (where kind = 'fix_shipped') as fix_date,
        bool_or(kind = 'acknowledged') as acknowledged
    from cause_actions
    where
        department = dept
        and effective_date <= (period_end::timestamptz at time zone 'UTC')::date
    group by cause_id
),

final as (
    select
        c.cause_id,
        c.sub_cause_id,
        c.level,
        c.contacts,
        c.previous_contacts,
        c.contacts - c.previous_contacts as change,
        round(100.0 * (c.contacts - c.previous_contacts) / nullif(c.previous_contacts, 0), 1)
            as change_pct,
        c.contacts / nullif(d.contacts, 0) as share,
        e.negative_share,
        e.mean_csat,
        row_number() over (
            partition by c.level order by c.contacts desc, c.cause_id, c.sub_cause_id
        ) as rank_volume,
        row_number() over (
            partition by c.level
            order by c.contacts - c.previous_contacts desc, c.contacts desc, c.cause_id,
                c.sub_cause_id
        ) as rank_change,
        case
            when a.fix_date is not null then 'fix shipped'
            when a.acknowledged then 'acknowledged'
            else 'new'
        end as status,
        a.fix_date
    from contact_counts as c
    cross join department_total as d
    left join event_sums as e
        on e.level = c.level and e.cause_id = c.cause_id and e.sub_cause_id = c.sub_cause_id
    left join actions as a on a.cause_id = c.cause_id
)

select * from final
order by level, rank_volume
