-- 005: what happened to a dead letter after it was stored.
-- `voc dlq replay` re-publishes a dead letter's raw bytes with the attribute
-- voc_replay_of=<dead_letter_id>; the sink then either stores the event and
-- sets resolved_at here, or updates this same row with the new failure (a
-- replay never adds a second dead letter). `voc dlq list` shows unresolved rows.
alter table dead_letters add column if not exists replay_count integer default 0;
alter table dead_letters add column if not exists last_replayed_at timestamptz;
alter table dead_letters add column if not exists last_failed_at timestamptz;
alter table dead_letters add column if not exists resolved_at timestamptz;
