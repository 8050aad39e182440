-- Which channel makes customers work hardest?
-- Readers: CX leads and support ops. The first row answers; the rest rank the
-- other channels.
-- cx.effort, the last 7 days: the customers' own effort score (CES, 1 very easy
-- .. 7 very hard) and the agents' side (hold time, transfers).
select
    channel,
    effort_answers,
    mean_effort,
    share_high_effort,
    mean_hold_seconds,
    share_transferred
from cx.effort
order by mean_effort desc nulls last, channel
