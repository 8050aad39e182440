-- Which causes drive repeat contacts?
-- Readers: support ops and the owning departments: a repeat is a customer who
-- came back about the same cause within the repeat window (7 days), so the
-- first contact did not resolve it.
-- Repeats detected in the last 30 days (by the later contact), per cause.
select
    department,
    cause_id,
    count(*) as repeats,
    round(avg(gap_hours), 1) as mean_gap_hours
from repeat_contacts
where later_at >= report_end() - interval 720 hours and later_at < report_end()
group by department, cause_id
order by repeats desc, department, cause_id
