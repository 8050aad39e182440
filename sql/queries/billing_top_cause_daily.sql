-- Is billing's biggest cause rising day by day?
-- Readers: the billing owner, before reading its verbatims.
-- billing.trend_daily for the cause ranked first by volume in billing.open_issues
-- (the last 7 days); a day without contacts has no row.
select
    t.day,
    t.cause_id,
    t.contacts,
    t.negative
from billing.trend_daily as t
inner join billing.open_issues as o
    on o.cause_id = t.cause_id and o.level = 'cause' and o.rank_volume = 1
order by t.day
