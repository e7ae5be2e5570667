//! Prometheus metrics through the `metrics` facade: every name in one
//! place, so `/metrics`, the README and the bench agree. One recorder per
//! process (servers started in one test process share it).

use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

pub const HTTP_REQUESTS: &str = "punch_http_requests_total";
pub const HTTP_SECONDS: &str = "punch_http_request_seconds";
pub const INGEST_SECONDS: &str = "punch_ingest_seconds";
pub const RECORDS: &str = "punch_records_total";
pub const SIGNATURES: &str = "punch_signature_verifications_total";
pub const DB_MICROS: &str = "punch_db_time_microseconds_total";
pub const RATE_LIMITED: &str = "punch_rate_limited_total";
pub const CONNECTIONS_REFUSED: &str = "punch_connections_refused_total";
pub const REQUEST_TIMEOUTS: &str = "punch_request_timeouts_total";

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the process-wide recorder once; None if another recorder was
/// installed first (then `/metrics` says so instead of lying).
pub fn install() -> Option<PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let seconds = [
                0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                10.0,
            ];
            PrometheusBuilder::new()
                .set_buckets(&seconds)
                .ok()?
                .install_recorder()
                .ok()
        })
        .clone()
}

/// Wall time spent waiting on the database (statements, commit).
pub fn db_time(backend: &'static str, took: Duration) {
    metrics::counter!(DB_MICROS, "backend" => backend)
        .increment(u64::try_from(took.as_micros()).unwrap_or(u64::MAX));
}

/// Signature checks made: `kind` is "record" or "request".
pub fn signatures(kind: &'static str, ok: u64, bad: u64) {
    if ok > 0 {
        metrics::counter!(SIGNATURES, "kind" => kind, "result" => "ok").increment(ok);
    }
    if bad > 0 {
        metrics::counter!(SIGNATURES, "kind" => kind, "result" => "bad").increment(bad);
    }
}

/// One record's outcome: accepted, duplicate, or rejected with its reason.
pub fn record(outcome: &'static str, reason: Option<String>) {
    match reason {
        Some(reason) => {
            metrics::counter!(RECORDS, "outcome" => outcome, "reason" => reason).increment(1)
        }
        None => metrics::counter!(RECORDS, "outcome" => outcome).increment(1),
    }
}
