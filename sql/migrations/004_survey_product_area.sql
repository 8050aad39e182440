-- 004: surveys.product_area, from survey contract v2 (schemas/events/survey.v2.json):
-- which product area the contact was about, filled by the survey tool when it
-- knows. Nullable because v1 surveys never carry it and v2 ones may not; no
-- backfill, since nothing recorded before v2 says which area a contact was about.
-- Readers: department owners, who want CSAT and root causes per product area
-- (join interactions.survey_event_id to surveys.event_id for it per interaction).
alter table surveys add column if not exists product_area varchar;
