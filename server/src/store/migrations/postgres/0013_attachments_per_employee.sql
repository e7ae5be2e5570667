-- Attachments keyed by (employee, hash), not the hash alone
-- (store/sqlite.rs, MIGRATION_13_ATTACHMENTS_PER_EMPLOYEE): the same bytes
-- from two employees are two pieces of evidence (issue 21 item 13).
ALTER TABLE attachments DROP CONSTRAINT attachments_pkey;
ALTER TABLE attachments ADD PRIMARY KEY (employee_id, sha256);
