-- 008: sentiment that says how sure it is, in which language, from which model,
-- and what the customer's scores and words say together (issue 11).
--   sentiment_score       now null where sentiment_label = 'unscored': text in a
--                         language the lexicon does not read gets no score rather
--                         than a neutral 0 it did not earn, so averages skip it
--   sentiment_confidence  probability of sentiment_label, 0 .. 1
--   detected_language     language code detected in the text ('und': too short
--                         to tell); surveys.language is what the survey tool sent
--   sentiment_model       version of the learned model blended in (null: rules only)
--   experience_score      surveys: CSAT/NPS/CES and comment fused, -1 .. 1
--   contradiction         surveys: the scores and the comment clearly disagree
--   evidence_sentiment    tags: sentiment of the sentence the cause's evidence is in
--   model_version         tags: the learned model that made the tag (null: a rule)
-- Rows tagged before this migration keep their values; the new columns are null.
alter table surveys alter column sentiment_score drop not null;
alter table agent_notes alter column sentiment_score drop not null;
alter table feedback_tags alter column sentiment_score drop not null;
alter table surveys add column if not exists sentiment_confidence double;
alter table surveys add column if not exists detected_language varchar;
alter table surveys add column if not exists sentiment_model varchar;
alter table surveys add column if not exists experience_score double;
alter table surveys add column if not exists contradiction boolean;
alter table agent_notes add column if not exists sentiment_confidence double;
alter table agent_notes add column if not exists detected_language varchar;
alter table agent_notes add column if not exists sentiment_model varchar;
alter table feedback_tags add column if not exists evidence_sentiment double;
alter table feedback_tags add column if not exists model_version varchar;
