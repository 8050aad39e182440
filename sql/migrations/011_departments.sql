-- 011: the departments owners work in (issue 13).
-- One row per department: the taxonomy's departments (description) joined with
-- the owners registry (schemas/tagging/owners.yaml, or the job's --owners file):
-- who owns it, how to reach them, when and where its digest goes. The job
-- rewrites the rows at every start, so the table always says what the running
-- job was told. Every department here (and every department named in
-- feedback_tags) gets a schema of views at each read-write open.
--   owner            the owner's name (null: the registry names none)
--   contact          the owner's address
--   digest_schedule  a cron expression (5 fields) and its time zone, as json
--                    {"cron": "0 7 * * 1", "timezone": "Europe/Berlin"}
--   delivery         json: {"kind": "file"} | {"kind": "email", "to": [...]} |
--                    {"kind": "webhook", "url": "..."}
create table if not exists departments (
    department       varchar primary key,
    description      varchar not null,
    owner            varchar,
    contact          varchar,
    digest_schedule  varchar,
    delivery         varchar,
    updated_at       timestamptz not null
);
