-- Up to settings.max_devices bound devices per employee (enroll.rs counts
-- them under the employee's lock): the one-bound-device index goes, an
-- index for an employee's devices comes.
DROP INDEX devices_one_bound;
CREATE INDEX devices_by_employee ON devices (employee_id, enrolled_at_ms, device_id);
-- HR's single-use approvals for a device beyond the policy's max_devices
-- (enroll.rs, store/employee_devices.rs): kept after use, for the record.
CREATE TABLE device_approvals (
    id              BIGSERIAL PRIMARY KEY,
    employee_id     TEXT NOT NULL REFERENCES employees (employee_id),
    approved_by     TEXT NOT NULL,
    reason          TEXT NOT NULL,
    approved_at_ms  BIGINT NOT NULL,
    used_at_ms      BIGINT,
    used_by_device  TEXT
);
CREATE INDEX device_approvals_by_employee ON device_approvals (employee_id, id);
-- One employee's punches on every device by the server's time for them:
-- the attendance reading across devices (shift::open_before).
CREATE INDEX punches_by_employee_time ON punches (employee_id, (COALESCE(trusted_time_ms, wall_time_ms)), device_id, seq);
