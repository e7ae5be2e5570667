-- Pruning ended rate windows (`rate::hit`) is a range scan, not a full one.
CREATE INDEX rate_limits_window ON rate_limits (window_start_ms);
