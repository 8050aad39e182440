-- Resolution by cause and channel: first-contact resolution, worst first.
-- Readers: support ops and cause owners asking which causes bring customers
-- back, and on which channel; the README.
-- Only rows with a known customer; settled_fcr_rate leaves out contacts whose
-- repeat window is still open (see first_contact_resolution).
select
    department,
    cause_id,
    channel,
    with_customer,
    round(fcr_rate, 2) as fcr_rate,
    round(settled_fcr_rate, 2) as settled_fcr_rate,
    provisional
from first_contact_resolution
where with_customer > 0
order by fcr_rate, with_customer desc, department, cause_id, channel
