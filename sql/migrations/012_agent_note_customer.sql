-- 012: agent note v2 may name the customer the agent served (pseudonymised like a
-- survey's customer_id when it looks personal). Without it a contact the customer
-- never rated could not be found in cx.customer_history. NULL for v1 notes.
alter table agent_notes add column if not exists customer_id varchar;
