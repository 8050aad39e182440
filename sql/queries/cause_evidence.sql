-- Cause evidence: one row per (department, cause, sub-cause).
-- Readers: taxonomy owners checking that each cause is found for the right
-- reason, and everyone running `voc demo` / `voc summary`.
-- A row: how many tags a cause (and sub-cause) has, how sure the rules were, the
-- rule that fired most, and the words of its most confident tag, so a bad rule
-- shows itself without opening the texts. Tags stored before migration 007 have
-- no rule or confidence; they still count, under a null sub-cause.
with tagged as (
    select * from feedback_tags
    where cause_id <> 'unclassified'
),

by_cause as (
    select
        department,
        cause_id,
        sub_cause_id,
        count(*) as tags,
        avg(confidence) as avg_confidence,
        mode(rule_id) as top_rule,
        arg_max(evidence, coalesce(confidence, 0)) as example_evidence
    from tagged
    group by department, cause_id, sub_cause_id
),

final as (
    select
        department,
        cause_id,
        sub_cause_id,
        tags,
        round(avg_confidence, 2) as avg_confidence,
        top_rule,
        example_evidence
    from by_cause
)

select * from final
order by tags desc, cause_id, sub_cause_id nulls first
