-- cx.pipeline_health: main.pipeline_health, re-exposed so the cross-department
-- views are in one schema (see sql/views/pipeline_health.sql).
select * from main.pipeline_health
