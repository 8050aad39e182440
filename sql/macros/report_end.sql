-- report_end(): the end of "now" for every department view and digest: the
-- session variable voc_now when it is set (tests pin the clock with it, and an
-- owner reads the views as of an earlier time with
-- `set variable voc_now = timestamptz '2026-01-15 00:00+00'`), else now().
-- Department views show [report_end() - interval 7 days, report_end()) and
-- compare it with the 7 days before; digests pass their own period instead.
create or replace macro report_end() as
coalesce(try_cast(getvariable('voc_now') as timestamptz), now())
