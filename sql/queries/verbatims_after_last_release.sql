-- What did customers say about the last release?
-- Readers: the product owner, the week after shipping.
-- The product department's latest fix_shipped action (`voc fix record`), then
-- every comment and agent note about that cause since the fix's date (UTC
-- midnight) until report_end(), newest first. The texts are PII-redacted.
with last_fix as (
    select cause_id, effective_date, note
    from cause_actions
    where department = 'product' and kind = 'fix_shipped'
    order by effective_date desc, recorded_at desc
    limit 1
)

select
    f.note as fix,
    f.effective_date as fix_date,
    v.event_time,
    v.source,
    v.channel,
    v.sentiment_label,
    v.text
from verbatims_of(
    'product',
    (select effective_date::timestamp at time zone 'UTC' from last_fix),
    report_end()
) as v
inner join last_fix as f on f.cause_id = v.cause_id
order by v.event_time desc, v.event_id
