-- Rising causes: one row per (department, cause) with more feedback in the last
-- 7 days than in the 7 days before, biggest rise first.
-- Readers: department owners asking "what is rising this week", and the README.
-- The weeks end at the newest day in issue_rollups_daily, not at today, so an
-- older file still has a "this week". That newest day is usually still going,
-- so this week is slightly short: a cause rising here is rising.
with newest as (
    select max(day) as newest_day from issue_rollups_daily
),

weeks as (
    select
        department,
        cause_id,
        sum(volume) filter (where day > newest_day - 7) as this_week,
        coalesce(sum(volume) filter (where day <= newest_day - 7), 0) as previous_week
    from issue_rollups_daily, newest
    where level = 'cause' and day > newest_day - 14
    group by department, cause_id
)

select department, cause_id, this_week, previous_week, this_week - previous_week as change
from weeks
where this_week > previous_week
order by change desc, department, cause_id
