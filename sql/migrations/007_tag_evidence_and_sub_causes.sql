-- 007: every tag explains itself (issue 10).
--   sub_cause_id     the strongest sub-cause of cause_id (null: none, or not known)
--   rule_id          the strongest rule that fired, e.g. billing_error/near/1
--   evidence_start   character offsets of that rule's words in the stored,
--   evidence_end       redacted text (null for a note's numeric signal)
--   confidence       the cause's confidence, 0 .. 0.99
--   evidence_spans   JSON list of every rule that fired: rule, start, end, confidence
--   taxonomy_release the taxonomy's human version number, as written in its file
--   taxonomy_hash    a content hash of the resolved taxonomy, so two runs can be diffed
-- Rows tagged before this migration keep their cause, department and evidence
-- text; the new columns stay null there (their taxonomy had none of this).
alter table feedback_tags add column if not exists sub_cause_id varchar;
alter table feedback_tags add column if not exists rule_id varchar;
alter table feedback_tags add column if not exists evidence_start integer;
alter table feedback_tags add column if not exists evidence_end integer;
alter table feedback_tags add column if not exists confidence double;
alter table feedback_tags add column if not exists evidence_spans json;
alter table feedback_tags add column if not exists taxonomy_release varchar;
alter table feedback_tags add column if not exists taxonomy_hash varchar;
