-- fix_impact_of(dept): did the fix work? For each fix an owner recorded (cause_actions,
-- kind fix_shipped) the cause's contacts, share of the department's contacts and mean
-- sentiment in equal periods before and after the fix date, against the cause's usual
-- week-to-week variation. dept null: every department (voc fix list).
-- Readers: the department's owner (the fix_impact view of its schema), its digest.
-- One row per fix. The fix takes effect at 00:00 UTC of its date.
--   days_compared  whole days from the fix to report_end(), at most 28, at least 1:
--                  both periods have this length
--   contacts       distinct interactions whose survey or note names the cause
--                  (feedback_tags, exact); shares divide by the department's distinct
--                  interactions in the same period
--   weekly_noise   the sample standard deviation of the cause's weekly contacts in
--                  the 8 weeks before the fix, from issue_rollups (weeks in which the
--                  department had any rollup: weeks before the data began do not
--                  count as zeros), scaled to days_compared as sqrt(days_compared /
--                  7); null with fewer than 2 such weeks (or with --no-derived, whose
--                  jobs write no rollups until voc reconcile)
--   verdict        a change of at least twice weekly_noise, and of at least 3 contacts
--                  (a 0 -> 1 is never news), is "likely a real change"
-- Hours rather than days throughout: adding days to a timestamptz follows the
-- session's time zone (daylight saving), the comparison must not.
create or replace macro fix_impact_of(dept) as table
with fixes as (
    select
        action_id,
        department,
        cause_id,
        effective_date as fix_date,
        note,
        recorded_at,
        timezone('UTC', effective_date::timestamp) as fix_start
    from cause_actions
    where kind = 'fix_shipped' and (dept is null or department = dept)
),

compared as (
    select
        *,
        floor(epoch(report_end() - fix_start) / 86400)::integer as days_since,
        greatest(1, least(28, floor(epoch(report_end() - fix_start) / 86400)))::integer
            as days_compared
    from fixes
),

bounded as (
    -- Each fix's period bounds, computed once per fix: timestamptz arithmetic goes
    -- through the calendar and costs microseconds, too much for every tag.
    select
        *,
        fix_start - to_hours(24 * days_compared) as before_start,
        fix_start + to_hours(24 * days_compared) as after_end,
        fix_start - to_hours(24 * 56) as history_start,
        epoch(fix_start) as fix_epoch
    from compared
),

windowed as (
    -- The department's tags in the two periods, one row per contact and period
    -- (grouping first is cheaper than count(distinct) over every tag).
    select
        f.action_id,
        t.interaction_id,
        t.event_time >= f.fix_start as after,
        bool_or(t.cause_id = f.cause_id) as names_cause,
        sum(t.sentiment_score) filter (where t.cause_id = f.cause_id) as cause_sentiment_sum,
        count(t.sentiment_score) filter (where t.cause_id = f.cause_id) as cause_sentiment_n
    from bounded as f
    inner join feedback_tags as t
        on
            t.department = f.department
            and t.event_time >= f.before_start
            and t.event_time < f.after_end
    group by all
),

measured as (
    select
        action_id,
        count(*) filter (where names_cause and not after) as before_contacts,
        count(*) filter (where names_cause and after) as after_contacts,
        count(*) filter (where not after) as before_department,
        count(*) filter (where after) as after_department,
        sum(cause_sentiment_sum) filter (where not after)
        / nullif(sum(cause_sentiment_n) filter (where not after), 0) as before_sentiment,
        sum(cause_sentiment_sum) filter (where after)
        / nullif(sum(cause_sentiment_n) filter (where after), 0) as after_sentiment
    from windowed
    group by action_id
),

weeks as (
    -- The cause's contacts per week in the 8 weeks before the fix, from the hourly
    -- rollups (cause level, every channel): a contact whose survey and note fall in two
    -- hours counts twice here, harmless for a measure of spread, and 56 days of rollups
    -- are far cheaper to read than 56 days of tags. Weeks without any rollup of the
    -- department (before its data began) are not counted as zeros.
    select
        f.action_id,
        floor((f.fix_epoch - epoch(r.window_start)) / (7 * 86400))::integer as weeks_before,
        coalesce(sum(r.interactions) filter (where r.cause_id = f.cause_id), 0) as contacts
    from bounded as f
    inner join issue_rollups as r
        on
            r.department = f.department
            and r.level = 'cause'
            and r.window_start >= f.history_start
            and r.window_start < f.fix_start
    group by all
),

noise as (
    select
        action_id,
        count(*) as weeks_seen,
        stddev_samp(contacts) as weekly_sd
    from weeks
    group by action_id
),

figures as (
    select
        f.action_id,
        f.cause_id,
        f.fix_date,
        f.note,
        f.days_since,
        f.days_compared,
        f.department,
        f.recorded_at,
        coalesce(m.before_contacts, 0) as before_contacts,
        coalesce(m.after_contacts, 0) as after_contacts,
        round(m.before_contacts / nullif(m.before_department, 0), 4) as before_share,
        round(m.after_contacts / nullif(m.after_department, 0), 4) as after_share,
        round(m.before_sentiment, 3) as before_sentiment,
        round(m.after_sentiment, 3) as after_sentiment,
        case
            when n.weeks_seen >= 2 then round(n.weekly_sd * sqrt(f.days_compared / 7), 1)
        end as weekly_noise
    from bounded as f
    left join measured as m on f.action_id = m.action_id
    left join noise as n on f.action_id = n.action_id
),

judged as (
    select
        *,
        round(100 * (after_contacts - before_contacts) / nullif(before_contacts, 0), 1)
            as change_pct,
        abs(after_contacts - before_contacts) as moved
    from figures
)

select
    action_id,
    cause_id,
    fix_date,
    note,
    days_compared,
    before_contacts,
    after_contacts,
    change_pct,
    before_share,
    after_share,
    before_sentiment,
    after_sentiment,
    weekly_noise,
    case
        when days_since < 1
            then printf('Too early: the fix shipped %d days ago.', greatest(days_since, 0))
        else
            case
                when before_contacts = after_contacts then 'Contacts unchanged'
                when before_contacts = 0 then 'Contacts rose from none'
                when after_contacts < before_contacts
                    then printf('Contacts fell %d%%', round(-change_pct)::integer)
                else printf('Contacts rose %d%%', round(change_pct)::integer)
            end
            || printf(' (%d -> %d over %d days)', before_contacts, after_contacts, days_compared)
            || case
                when weekly_noise is null
                    then '; too little history before the fix to know its usual variation.'
                when moved >= greatest(2 * weekly_noise, 3)
                    then printf(
                        '; larger than twice the usual week-to-week variation (+/-%d), '
                        || 'so likely a real change.',
                        round(weekly_noise)::integer
                    )
                else printf(
                    '; within twice the usual week-to-week variation (+/-%d): '
                    || 'not yet distinguishable from noise.',
                    round(weekly_noise)::integer
                )
            end
    end as verdict,
    department
from judged
order by fix_date desc, action_id
