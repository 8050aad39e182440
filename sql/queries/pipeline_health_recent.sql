-- Pipeline health, recent: the last day of pipeline_health with the current
-- watermark lag and ingestion age beside every hour.
-- Readers: whoever is on call for the pipeline; the README.
-- "The last day" ends at the newest hour anything was stored; the lag and the
-- age are as of now() (pipeline_status).
select
    h.hour,
    h.feedback_stored,
    round(h.share_no_cause, 2) as share_no_cause,
    h.dead_letters,
    h.dead_letters_by_reason,
    h.late_events,
    s.watermark_lag_seconds,
    s.ingestion_age_seconds
from pipeline_health as h, pipeline_status as s
where h.hour > (select max(hour) from pipeline_health) - interval 1 day
order by h.hour desc
