-- issue_rollups_daily: the hourly issue_rollups rows summed per UTC day x
-- department x cause x sub-cause x channel.
-- Readers: department owners and analysts who look at days and weeks rather
-- than hours (trends, "what is rising this week").
-- Every ratio is recomputed from the day's sums (never an average of the
-- hourly averages, which would weigh a quiet hour like a busy one).
-- top_phrases merges the hourly lists: counts summed per phrase, top 5. An
-- hourly list holds only that hour's top phrases, so a merged count is a lower
-- bound for a phrase that missed some hour's list.
-- final: every hourly row of the day is final and the stream has finalised a
-- window ending at or after the day's end (the watermark is one for all rows,
-- so no later window of that day can still appear).
with hourly as (
    select
        *,
        time_bucket(interval 1 day, window_start) as day_start
    from issue_rollups
),

closed_until as (
    select max(window_end) as window_end
    from issue_rollups
    where final
),

phrases as (
    select
        h.day_start,
        h.department,
        h.cause_id,
        h.sub_cause_id,
        h.channel,
        p.phrase,
        sum(p.count) as phrase_count
    from hourly as h,
        unnest(from_json(h.top_phrases, '[{"phrase": "VARCHAR", "count": "BIGINT"}]')) as u(p)
    group by all
),

top_phrases as (
    select
        day_start,
        department,
        cause_id,
        sub_cause_id,
        channel,
        to_json(
            list({'phrase': phrase, 'count': phrase_count} order by phrase_count desc, phrase)[1:5]
        ) as top_phrases
    from phrases
    group by all
),

daily as (
    select
        day_start,
        department,
        cause_id,
        sub_cause_id,
        level,
        channel,
        count(*) as hours,
        sum(volume)::bigint as volume,
        sum(interactions)::bigint as hourly_contacts,
        sum(surveys)::bigint as surveys,
        sum(scored)::bigint as scored,
        sum(negative)::bigint as negative,
        sum(csat_sum)::bigint as csat_sum,
        sum(csat_count)::bigint as csat_count,
        sum(promoters)::bigint as promoters,
        sum(detractors)::bigint as detractors,
        sum(nps_count)::bigint as nps_count,
        sum(effort_sum)::bigint as effort_sum,
        sum(effort_count)::bigint as effort_count,
        bool_and(final) as all_hours_final,
        max(updated_at) as updated_at
    from hourly
    group by day_start, department, cause_id, sub_cause_id, level, channel
),

final as (
    select
        (d.day_start at time zone 'UTC')::date as day,
        d.department,
        d.cause_id,
        d.sub_cause_id,
        d.level,
        d.channel,
        d.hours,
        d.volume,
        d.hourly_contacts,
        d.surveys,
        d.scored,
        d.negative,
        d.csat_sum,
        d.csat_count,
        d.promoters,
        d.detractors,
        d.nps_count,
        d.effort_sum,
        d.effort_count,
        d.negative / nullif(d.scored, 0) as share_negative,
        d.csat_sum / nullif(d.csat_count, 0) as mean_csat,
        100 * (d.promoters - d.detractors) / nullif(d.nps_count, 0) as nps,
        d.effort_sum / nullif(d.effort_count, 0) as mean_effort,
        coalesce(t.top_phrases, '[]')::json as top_phrases,
        d.all_hours_final and coalesce(d.day_start + interval 24 hour <= c.window_end, false)
            as final,
        d.updated_at
    from daily as d
    cross join closed_until as c
    left join top_phrases as t
        on
            t.day_start = d.day_start
            and t.department = d.department
            and t.cause_id = d.cause_id
            and t.sub_cause_id = d.sub_cause_id
            and t.channel = d.channel
)

select * from final
