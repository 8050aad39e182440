-- Where is billing's CSAT worst?
-- Readers: the billing owner deciding which channel to look at first.
-- billing.csat_by_channel: the last 7 days, each billing contact once, by channel;
-- the lowest mean CSAT first.
select
    channel,
    contacts,
    surveys,
    round(mean_csat, 2) as mean_csat,
    round(nps, 1) as nps,
    round(mean_effort, 1) as mean_effort
from billing.csat_by_channel
order by mean_csat nulls last, channel
