
CREATE INDEX rate_limits_window ON rate_limits (window_start_ms);
