-- Which departments drive the most support contacts this week?
-- Readers: CX leads and every department owner: whose causes bring customers
-- to support. A contact naming causes of two departments counts for both.
select
    department,
    contacts,
    previous_contacts,
    change,
    round(share, 3) as share
from cx.contact_drivers
order by contacts desc, department
