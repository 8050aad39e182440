-- 013: versioned re-tagging (issue 14, `voc retag`).
-- Owners read feedback_tags, and only feedback_tags. `voc retag` tags stored
-- (redacted) texts again under a new taxonomy or learned model and writes the
-- result beside it, as a candidate version; `voc retag --promote VERSION` then
-- swaps a range's tags in one transaction, so no one ever reads a half-retagged
-- week. Nothing here is read by a department view.
--   tag_versions            one row per version: what it was tagged with, the
--                           event-time range it covers, its status and counts.
--                           kind 'retag': its rows are in feedback_tag_candidates;
--                           kind 'previous': the tags a promotion replaced, kept in
--                           feedback_tag_history (promoting it undoes that promotion)
--   tag_promotions          every promotion, in order: which version, when, how many
--                           tags it replaced and wrote, and the 'previous' version
--                           that holds what it replaced
--   feedback_tag_candidates feedback_tags' columns plus tag_version: a version's tags
--   feedback_tag_history    feedback_tags' columns plus tag_version (the 'previous'
--                           version they form) and replaced_at
-- Texts are not copied: evidence and offsets point into surveys.comment and
-- agent_notes.note, which are PII-redacted and never change.

create table if not exists tag_versions (
    version            varchar primary key,  -- e.g. r1.1.0-3f9a2c81d0 | previous-3
    kind               varchar not null,     -- retag | previous
    taxonomy_name      varchar,
    taxonomy_release   varchar,              -- the release written in the taxonomy file
    taxonomy_hash      varchar,              -- content hash of the resolved taxonomy
    taxonomy_format    integer,              -- the file format (feedback_tags.taxonomy_version)
    model_version      varchar,              -- the learned model's content version (null: rules only)
    since              timestamptz not null, -- event-time range covered: [since, until)
    until              timestamptz,          -- null: open-ended
    status             varchar not null,     -- candidate | promoted | superseded
    events             bigint not null,      -- texts tagged (events covered)
    tags               bigint not null,      -- tag rows
    created_at         timestamptz not null,
    promoted_at        timestamptz
);

create table if not exists tag_promotions (
    promotion          integer primary key,  -- 1, 2, ... in order
    version            varchar not null,
    previous_version   varchar not null,     -- holds the tags this promotion replaced
    since              timestamptz not null,
    until              timestamptz,
    events             bigint not null,
    tags_replaced      bigint not null,
    tags_written       bigint not null,
    promoted_at        timestamptz not null
);

create table if not exists feedback_tag_candidates (
    tag_version          varchar not null,
    event_id             varchar not null,
    source               varchar not null,
    interaction_id       varchar not null,
    event_time           timestamptz not null,
    cause_id             varchar not null,
    department           varchar not null,
    evidence             varchar not null,
    sentiment_score      double,
    sentiment_label      varchar not null,
    taxonomy_version     integer not null,
    tagged_at            timestamptz not null,
    first_for_department boolean default false,
    csat                 tinyint,
    payload_sha256       varchar,
    sub_cause_id         varchar,
    rule_id              varchar,
    evidence_start       integer,
    evidence_end         integer,
    confidence           double,
    evidence_spans       json,
    taxonomy_release     varchar,
    taxonomy_hash        varchar,
    evidence_sentiment   double,
    model_version        varchar,
    primary key (tag_version, event_id, cause_id)
);

create table if not exists feedback_tag_history (
    tag_version          varchar not null,
    replaced_at          timestamptz not null,
    event_id             varchar not null,
    source               varchar not null,
    interaction_id       varchar not null,
    event_time           timestamptz not null,
    cause_id             varchar not null,
    department           varchar not null,
    evidence             varchar not null,
    sentiment_score      double,
    sentiment_label      varchar not null,
    taxonomy_version     integer not null,
    tagged_at            timestamptz not null,
    first_for_department boolean default false,
    csat                 tinyint,
    payload_sha256       varchar,
    sub_cause_id         varchar,
    rule_id              varchar,
    evidence_start       integer,
    evidence_end         integer,
    confidence           double,
    evidence_spans       json,
    taxonomy_release     varchar,
    taxonomy_hash        varchar,
    evidence_sentiment   double,
    model_version        varchar,
    primary key (tag_version, event_id, cause_id)
);
