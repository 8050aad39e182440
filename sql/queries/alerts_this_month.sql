-- How many alerts opened this month, and for what?
-- Readers: department owners and CX leads reviewing the month.
-- Alerts whose opening window started since the first of report_end()'s month
-- (UTC), per department and cause; still_open counts those not yet subsided.
select
    department,
    cause_id,
    count(*) as alerts,
    count(*) filter (where status = 'open') as still_open,
    max(peak_observed) as peak_observed
from alerts
where
    opened_window_start >= date_trunc('month', report_end() at time zone 'UTC') at time zone 'UTC'
    and opened_window_start < report_end()
group by department, cause_id
order by alerts desc, department, cause_id
