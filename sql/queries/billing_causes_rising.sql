-- Which billing causes rose most this week?
-- Readers: the billing owner, on Monday morning. The same question for another
-- department reads its own schema (product.open_issues, ...).
-- billing.open_issues compares the last 7 days (to report_end(): now, or voc_now)
-- with the 7 days before; contacts are distinct support contacts naming the cause.
-- status says whether billing already acted on it (voc fix acknowledge|record).
select
    cause_id,
    contacts,
    previous_contacts,
    change,
    change_pct,
    status
from billing.open_issues
where level = 'cause' and change > 0
order by rank_change
