-- A new PIN reset code replaces the employee's older ones (`pin::reset`).
ALTER TABLE pin_codes ADD COLUMN superseded_at_ms BIGINT;
CREATE INDEX pin_codes_employee ON pin_codes (employee_id);
