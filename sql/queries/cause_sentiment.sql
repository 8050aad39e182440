-- Cause sentiment: one row per (department, cause).
-- Readers: department owners deciding which cause hurts most, and everyone
-- running `voc summary` / `voc demo`.
-- A row: how many tags a cause has, how the customers felt in the sentences
-- that name it (evidence_sentiment, not the whole text's sentiment, so a
-- complaint about billing inside a thank-you note reads as a complaint about
-- billing), the share of those sentences that are negative, and, for surveys,
-- the mean experience score (scores and words fused) and how many surveys'
-- scores contradict their comment. Unclassified and unscored tags are left out
-- of the sentiment figures but counted in tags.
with tagged as (
    select * from feedback_tags
    where cause_id <> 'unclassified'
),

with_surveys as (
    select
        tagged.department,
        tagged.cause_id,
        tagged.sentiment_label,
        coalesce(tagged.evidence_sentiment, tagged.sentiment_score) as cause_sentiment,
        surveys.experience_score,
        surveys.contradiction
    from tagged
    left join surveys
        on tagged.source = 'survey' and surveys.event_id = tagged.event_id
),

by_cause as (
    select
        department,
        cause_id,
        count(*) as tags,
        avg(cause_sentiment) filter (where sentiment_label <> 'unscored') as avg_sentiment,
        avg(case when cause_sentiment <= -0.05 then 1.0 else 0.0 end)
            filter (where sentiment_label <> 'unscored' and cause_sentiment is not null)
            as negative_share,
        avg(experience_score) as avg_experience,
        count(*) filter (where contradiction) as contradictions
    from with_surveys
    group by department, cause_id
),

final as (
    select
        department,
        cause_id,
        tags,
        round(avg_sentiment, 2) as avg_sentiment,
        round(negative_share, 2) as negative_share,
        round(avg_experience, 2) as avg_experience,
        contradictions
    from by_cause
)

select * from final
order by avg_sentiment nulls last, tags desc, cause_id
