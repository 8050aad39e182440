-- 010: the owners' closed loop (issue 13).
--   recovery_items    one follow-up per detractor or strongly negative contact, made by the
--                     sink in the transaction that stores the survey; keyed on the
--                     interaction, so a redelivered survey or a second survey of the same
--                     contact never makes a second item
--   recovery_changes  every change of an item's status, with who, when and why: the
--                     item's status is its latest change (see recovery_queue_of)
--   cause_actions     what an owner did about a cause: acknowledged it, or shipped a fix
--                     on a date (fix_impact_of compares before and after that date)
-- Owners never write these tables directly: `voc recovery` and `voc fix` apply each
-- change in one transaction, through the running job's inbox when a job holds the file.
-- No PII: customer_id is the pseudonymised id the surveys table holds, notes are
-- what the owner typed.

create table recovery_items (
    item_id          varchar primary key,   -- 'recovery:' || interaction_id
    interaction_id   varchar not null,
    survey_event_id  varchar not null,      -- the survey that raised the item
    customer_id      varchar not null,      -- pseudonymised, as in surveys
    channel          varchar not null,
    department       varchar not null,      -- the owner: the primary cause's department
    cause_id         varchar not null,      -- the survey's primary cause ('unclassified' -> support_ops)
    reason           varchar not null,      -- nps_detractor | low_csat | strongly_negative
    nps              tinyint,
    csat             tinyint,
    sentiment_score  double,
    survey_at        timestamptz not null,
    due_at           timestamptz not null,  -- survey_at + the job's --recovery-due
    created_at       timestamptz not null
);

create table recovery_changes (
    item_id     varchar not null,
    changed_at  timestamptz not null,
    status      varchar not null,           -- contacted | resolved | reopened
    changed_by  varchar not null,
    note        varchar not null,
    change_id   varchar,                    -- the request's id: applying it twice does nothing
    primary key (item_id, changed_at)
);

create table cause_actions (
    action_id       varchar primary key,    -- the request's id
    department      varchar not null,
    cause_id        varchar not null,
    kind            varchar not null,       -- acknowledged | fix_shipped
    effective_date  date not null,
    note            varchar not null,
    recorded_by     varchar not null,
    recorded_at     timestamptz not null
);

-- Which owner commands were applied, whatever they changed (a dead-letter purge
-- changes no row of its own): what makes a change sent twice, or left in the inbox
-- by a job that crashed after applying it, a no-op.
create table owner_changes_applied (
    change_id   varchar primary key,
    kind        varchar not null,           -- recovery_change | cause_action | dead_letter_purge | dead_letter_replay_mark
    applied_at  timestamptz not null,
    outcome     varchar not null            -- json: the ChangeOutcome as first returned
);
