-- 009: what the event-time branches derive from the facts (issue 12). Every
-- table here is recomputable from surveys, agent_notes and feedback_tags
-- (`voc reconcile`); the job rebuilds its recent part on every start.
--   interactions      one row per contact: a survey and its agent notes joined by
--                     interaction_id in the stream, updated as parts arrive.
--                     (Until 009 `interactions` was a query-time view; that view is
--                     now `interaction_parts`.)
--   issue_rollups     fixed event-time windows per department x cause (both levels)
--                     x channel; late data within the allowed lateness updates the
--                     same row, `final` once the window can no longer change
--   late_events       facts that arrived after their window closed, and why; the
--                     reconciliation folds them into the rollups (folded_at)
--   alerts            a cause's volume well above its own baseline: one open alert
--                     per cause until it subsides
--   repeat_contacts   a customer who came back within the repeat window about the
--                     same cause; the earlier interaction was not resolved first time
--   pipeline_progress the event-time watermark each derived branch's shard last
--                     observed, and the size of its state
-- surveys.joined / agent_notes.joined: false for a part that arrived after its
-- interaction's join state was collected (it is stored, but not joined); null
-- until the join has seen the part.
drop view if exists interactions;

create table if not exists interactions (
    interaction_id          varchar primary key,
    channel                 varchar not null,
    first_event_at          timestamptz not null,  -- earliest part's event time
    last_event_at           timestamptz not null,  -- latest part's event time
    survey_event_id         varchar,               -- the survey joined (latest by event time)
    note_event_ids          varchar[] not null,    -- every agent note joined
    submitted_at            timestamptz,
    csat                    tinyint,
    nps                     tinyint,
    customer_effort         tinyint,               -- the survey's CES, 1 (easy) .. 7 (hard)
    resolved                boolean,               -- the customer says so (survey)
    handle_seconds          integer,               -- summed over the notes
    hold_seconds            integer,
    transfers               integer,
    causes                  varchar[] not null,    -- union over every part's causes
    departments             varchar[] not null,
    cause_sources           varchar not null,      -- json [{cause_id, sub_cause_id, department, sources}]
    sentiment_score         double,                -- one overall score over the parts' texts
    sentiment_label         varchar,
    complete                boolean not null,      -- a survey and at least one note
    resolved_first_contact  boolean,               -- null: no customer known (no survey)
    updated_at              timestamptz not null
);

alter table surveys add column if not exists joined boolean;
alter table agent_notes add column if not exists joined boolean;

create table if not exists issue_rollups (
    window_start    timestamptz not null,
    window_end      timestamptz not null,
    department      varchar not null,
    cause_id        varchar not null,
    sub_cause_id    varchar not null,   -- '' on cause-level rows
    level           varchar not null,   -- cause | sub_cause
    channel         varchar not null,
    volume          integer not null,   -- feedback events (surveys + notes) naming the cause
    interactions    integer not null,   -- distinct contacts among them (what alerts count)
    surveys         integer not null,
    scored          integer not null,   -- events with a sentiment score
    negative        integer not null,
    csat_sum        integer not null,
    csat_count      integer not null,
    promoters       integer not null,   -- nps 9-10
    detractors      integer not null,   -- nps 0-6
    nps_count       integer not null,
    effort_sum      integer not null,
    effort_count    integer not null,
    share_negative  double,
    mean_csat       double,
    nps             double,             -- promoters minus detractors, -100 .. 100
    mean_effort     double,
    top_phrases     varchar not null,   -- json [{phrase, count}], most frequent first
    final           boolean not null,   -- the window closed (watermark past end + lateness)
    updated_at      timestamptz not null,
    primary key (window_start, department, cause_id, sub_cause_id, channel)
);

create table if not exists late_events (
    event_id          varchar primary key,
    event_type        varchar not null,
    event_time        timestamptz not null,
    window_start      timestamptz not null,
    watermark         timestamptz not null,  -- as the rollup branch observed it
    lateness_seconds  double not null,       -- watermark minus the window's end
    reason            varchar not null,      -- beyond_allowed_lateness
    detected_at       timestamptz not null,
    folded_at         timestamptz            -- set when a reconciliation counted it
);

create table if not exists alerts (
    alert_id             varchar primary key,  -- department:cause_id:opening window
    department           varchar not null,
    cause_id             varchar not null,
    status               varchar not null,     -- open | closed
    opened_window_start  timestamptz not null,
    last_window_start    timestamptz not null, -- the latest window evaluated while open
    closed_window_start  timestamptz,          -- the window in which it subsided
    observed             integer not null,     -- volume in the opening window
    expected             double not null,
    score                double not null,
    peak_observed        integer not null,
    peak_score           double not null,
    method               varchar not null,     -- seasonal | recent
    examples             varchar not null,     -- json [{event_id, text}], redacted text
    updated_at           timestamptz not null
);

create table if not exists repeat_contacts (
    earlier_interaction_id  varchar not null,
    later_interaction_id    varchar not null,
    cause_id                varchar not null,
    department              varchar not null,
    channel                 varchar not null,  -- the earlier interaction's
    earlier_at              timestamptz not null,
    later_at                timestamptz not null,
    gap_hours               double not null,
    detected_at             timestamptz not null,
    primary key (earlier_interaction_id, later_interaction_id, cause_id)
);

create table if not exists pipeline_progress (
    branch        varchar not null,     -- join | rollups | repeat_contacts
    shard         integer not null,     -- the branch's state shard
    watermark     timestamptz not null, -- the event-time watermark it last observed
    observed_at   timestamptz not null, -- wall-clock time of that observation
    open_keys     bigint not null,      -- interactions / windows / customers in its state
    state_bytes   bigint not null,      -- size of that state, pickled
    primary key (branch, shard)
);
