-- 001: the core fact tables and the dead-letter table.
-- Readers: department owners (surveys, agent_notes, feedback_tags), data
-- engineers (dead_letters). Every fact table is keyed on event_id and written
-- with INSERT OR IGNORE, so a redelivered message never makes a second row.
-- Free text in surveys.comment and agent_notes.note is PII-redacted before it
-- is stored; only dead_letters keeps raw payloads (restricted).

create table if not exists surveys (
    event_id        varchar primary key,
    interaction_id  varchar not null,
    customer_id     varchar not null,
    channel         varchar not null,
    submitted_at    timestamptz not null,
    csat            tinyint,
    nps             tinyint,
    ces             tinyint,
    resolved        boolean not null,
    comment         varchar not null,  -- PII redacted
    language        varchar not null,
    sentiment_score double not null,   -- VADER compound, -1 .. 1
    sentiment_label varchar not null,  -- positive | neutral | negative
    schema_version  integer not null,
    message_id      varchar,
    published_at    timestamptz,
    ingested_at     timestamptz not null
);

create table if not exists agent_notes (
    event_id        varchar primary key,
    interaction_id  varchar not null,
    agent_id        varchar not null,
    team            varchar not null,
    channel         varchar not null,
    created_at      timestamptz not null,
    handle_seconds  integer not null,
    hold_seconds    integer not null,
    transfers       integer not null,
    note            varchar not null,  -- PII redacted
    sentiment_score double not null,
    sentiment_label varchar not null,
    schema_version  integer not null,
    message_id      varchar,
    published_at    timestamptz,
    ingested_at     timestamptz not null
);

-- One row per (event, root cause): why the customer had to contact us, and
-- which department owns that cause. Multi-label: an event can have several.
create table if not exists feedback_tags (
    event_id         varchar not null,
    source           varchar not null,  -- survey | agent_note
    interaction_id   varchar not null,
    event_time       timestamptz not null,
    cause_id         varchar not null,  -- taxonomy id, or 'unclassified'
    department       varchar not null,
    evidence         varchar not null,  -- matched words (redacted text) or signal
    sentiment_score  double not null,
    sentiment_label  varchar not null,
    taxonomy_version integer not null,
    tagged_at        timestamptz not null,
    primary key (event_id, cause_id)
);

-- Messages no step could handle. Restricted: data holds raw payloads.
create table if not exists dead_letters (
    dead_letter_id  varchar primary key,  -- msg:<pubsub message id> or sha256:<content>
    received_at     timestamptz not null,
    stage           varchar not null,     -- parse | tag
    reason          varchar not null,     -- stable code, e.g. schema_violation
    error           varchar not null,     -- one human-readable line
    exception_type  varchar not null,
    stack           varchar not null,
    message_id      varchar,
    published_at    timestamptz,
    attributes      json not null,        -- the Pub/Sub attributes as sent
    data            blob not null
);
