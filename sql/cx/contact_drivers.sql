-- cx.contact_drivers: which upstream departments drive support contacts: per
-- department, the contacts of the last 7 days ([report_end() - 168 hours,
-- report_end())) naming one of its causes, against the 7 days before.
-- Readers: CX leads and the department owners, to see whose causes bring
-- customers to support.
-- A contact naming causes of two departments counts for both, so the shares
-- add up to more than 1 when contacts have several drivers. 'unclassified'
-- (support_ops triages it) counts as support_ops'. One scan of feedback_tags
-- bounded by event time (every department's 14 days: ~0.35 s at 10M rows,
-- bench/views.py; grouping per contact first was slower here).
with tags as (
    select
        department,
        interaction_id,
        event_time >= report_end() - interval 168 hours as in_period
    from feedback_tags
    where
        event_time >= report_end() - interval 336 hours
        and event_time < report_end()
),

all_contacts as (
    select
        count(distinct interaction_id) filter (where in_period) as contacts,
        count(distinct interaction_id) filter (where not in_period) as previous_contacts
    from tags
),

by_department as (
    select
        department,
        count(distinct interaction_id) filter (where in_period) as contacts,
        count(distinct interaction_id) filter (where not in_period) as previous_contacts
    from tags
    group by department
),

final as (
    select
        d.department,
        d.contacts,
        d.previous_contacts,
        d.contacts - d.previous_contacts as change,
        d.contacts / nullif(a.contacts, 0) as share,
        d.previous_contacts / nullif(a.previous_contacts, 0) as previous_share
    from by_department as d
    cross join all_contacts as a
)

select * from final
order by contacts desc, department
