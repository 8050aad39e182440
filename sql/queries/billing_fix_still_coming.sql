-- Did billing's shipped fixes stop the contacts?
-- Readers: the billing owner after `voc fix record`. For the full before/after
-- comparison with its noise, read billing.fix_impact.
-- Billing causes with a fix shipped by report_end(), and their contacts this week
-- against the week before.
select
    cause_id,
    fix_date,
    contacts,
    previous_contacts,
    change
from billing.open_issues
where level = 'cause' and status = 'fix shipped'
order by fix_date desc, cause_id
