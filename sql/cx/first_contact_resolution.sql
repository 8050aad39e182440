-- cx.first_contact_resolution: main.first_contact_resolution, re-exposed so the
-- cross-department views are in one schema (see sql/views/first_contact_resolution.sql).
select * from main.first_contact_resolution
