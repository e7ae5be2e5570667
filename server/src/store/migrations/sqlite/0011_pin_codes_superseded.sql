
ALTER TABLE pin_codes ADD COLUMN superseded_at_ms INTEGER;
CREATE INDEX pin_codes_employee ON pin_codes (employee_id);
