-- The forgotten clock-out sweep reads only the punches received since its
-- last run (`crate::forgotten`).
CREATE INDEX punches_by_received ON punches (received_at_ms);
