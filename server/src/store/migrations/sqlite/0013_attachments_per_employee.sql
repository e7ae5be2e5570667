
CREATE TABLE attachments_by_employee (
    employee_id     TEXT NOT NULL,
    sha256          TEXT NOT NULL,
    size_bytes      INTEGER NOT NULL,
    body            BLOB NOT NULL,
    received_at_ms  INTEGER NOT NULL,
    PRIMARY KEY (employee_id, sha256)
);
INSERT INTO attachments_by_employee
    SELECT employee_id, sha256, size_bytes, body, received_at_ms FROM attachments;
DROP TABLE attachments;
ALTER TABLE attachments_by_employee RENAME TO attachments;
