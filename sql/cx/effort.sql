-- cx.effort: how hard it was for customers to get help, per channel, over the
-- last 7 days ([report_end() - 168 hours, report_end())).
-- Readers: CX leads and support ops: which channel makes customers work hardest.
-- From the customers' side: surveys with a CES answer (1 very easy .. 7 very
-- hard), mean_effort and the share answering 5 or more (high effort). From the
-- agents' side: agent notes' handling time, hold time and transfers, and the
-- share of notes with at least one transfer. Each side bounded by its event time.
with survey_side as (
    select
        channel,
        count(*) as surveys,
        count(ces) as effort_answers,
        avg(ces) as mean_effort,
        count(*) filter (where ces >= 5) / nullif(count(ces), 0) as share_high_effort
    from surveys
    where submitted_at >= report_end() - interval 168 hours and submitted_at < report_end()
    group by channel
),

note_side as (
    select
        channel,
        count(*) as notes,
        avg(handle_seconds) as mean_handle_seconds,
        avg(hold_seconds) as mean_hold_seconds,
        avg(transfers) as mean_transfers,
        count(*) filter (where transfers > 0) / count(*) as share_transferred
    from agent_notes
    where created_at >= report_end() - interval 168 hours and created_at < report_end()
    group by channel
),

final as (
    select
        coalesce(s.channel, n.channel) as channel,
        coalesce(s.surveys, 0) as surveys,
        coalesce(s.effort_answers, 0) as effort_answers,
        s.mean_effort,
        s.share_high_effort,
        coalesce(n.notes, 0) as notes,
        n.mean_handle_seconds,
        n.mean_hold_seconds,
        n.mean_transfers,
        n.share_transferred
    from survey_side as s
    full outer join note_side as n on n.channel = s.channel
)

select * from final
order by mean_effort desc nulls last, channel
