-- 006: payload_sha256 on the fact tables: the sha256 of the event's payload
-- written canonically (keys sorted, no spaces). With it the sink tells a
-- redelivery (same event_id, same content: ignored) from a reused event_id
-- (other content, or the id already taken in the other fact table: a
-- conflicting_duplicate dead letter), instead of dropping the second event
-- silently. Rows stored before this migration have no hash; the sink treats
-- a same-table repeat of their id as a redelivery.
alter table surveys add column if not exists payload_sha256 varchar;
alter table agent_notes add column if not exists payload_sha256 varchar;
-- The same hash on each tag row: which version of the event the tags belong to.
alter table feedback_tags add column if not exists payload_sha256 varchar;
