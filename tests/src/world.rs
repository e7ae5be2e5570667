//! A real server (HTTP on 127.0.0.1, on SQLite or PostgreSQL: see
//! [`server_db`]), a fault proxy in front of it, and a device engine (SQLite
//! file, software P-256 key) enrolled through the proxy. Tests drive time by
//! hand through the device's ManualClock.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use geographiclib_rs::{DirectGeodesic, Geodesic};
use punch_core::{
    ClockReading, EngineOptions, Evidence, GpsFix, PunchEngine, PunchKind, PunchReceipt,
    test_support::ManualClock,
};
use punch_core::{RetryConfig, ServerConfig};
use punch_model::geofence::{LatLon, Shape};
use punch_model::rules::policy::{Settings, Site};
use punch_model::rules::shift::Shift;
use punch_server::{Admin, DbUrl, PostgresStore, ServerHandle};
use punch_server::{AtRestKeys, Schedule};

use crate::fault_proxy::FaultProxy;

pub const HQ: (f64, f64) = (22.543096, 114.057865);
pub const EMPLOYEE: &str = "emp-7";

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A fresh, accurate fix 20 m inside HQ, stamped at `engine`'s trusted now.
pub fn inside_hq(engine: &PunchEngine) -> Evidence {
    let at: (f64, f64) = Geodesic::wgs84().direct(HQ.0, HQ.1, 30.0, 20.0);
    Evidence {
        gps: Some(GpsFix {
            lat: at.0,
            lon: at.1,
            accuracy_m: 8.0,
            fix_time_ms: engine.trusted_now_ms(),
            provider: "gps".into(),
            is_mock: false,
            speed_mps: None,
            elapsed_realtime_ms: None,
            reduced_accuracy: false,
            external_receiver: false,
        }),
        ..Evidence::default()
    }
}

/// `HH:MM` (UTC) of `at_ms`.
fn hhmm_utc(at_ms: i64) -> String {
    let minutes = at_ms.div_euclid(60_000).rem_euclid(24 * 60);
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// Sets the draft schedule to a two-hour shift "early" every day that
/// started five minutes ago (UTC), ten minutes' grace: a clock-in now is on
/// time, a clock-out soon is early.
pub fn schedule_current_shift(admin: &Admin) {
    let start = now_ms() - 5 * 60_000;
    let shift: Shift = serde_json::from_value(serde_json::json!({
        "id": "early", "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
        "start": hhmm_utc(start), "end": hhmm_utc(start + 2 * 3_600_000),
        "grace_late_min": 10,
    }))
    .expect("shift");
    admin
        .set_schedule(Schedule {
            time_zone: Some("UTC".into()),
            shifts: vec![shift],
            ..Schedule::default()
        })
        .expect("schedule");
}

pub struct World {
    pub dir: tempfile::TempDir,
    pub server_db: DbUrl,
    pub server: Option<ServerHandle>,
    pub proxy: FaultProxy,
    pub admin: Admin,
    pub clock: Arc<ManualClock>,
    pub engine: Arc<PunchEngine>,
    /// The keys the server seals evidence with at rest, if any.
    pub at_rest: Option<Arc<AtRestKeys>>,
}

/// Quick retries so fault tests finish in milliseconds, not minutes.
pub fn fast_retry() -> RetryConfig {
    RetryConfig {
        base_delay_ms: 5,
        max_delay_ms: 200,
        max_attempts_per_sync: 3,
        max_inline_wait_ms: 2_000,
    }
}

impl World {
    /// Server up with one employee, one site, policy v1 published; a device
    /// enrolled through the proxy (policy not yet fetched).
    pub fn new() -> World {
        Self::with_batch(500)
    }

    pub fn with_batch(batch_size: u32) -> World {
        Self::build(batch_size, None)
    }

    /// Like [`World::new`], the server sealing evidence at rest with `keys`.
    pub fn sealed_at_rest(keys: Arc<AtRestKeys>) -> World {
        Self::build(500, Some(keys))
    }

    fn build(batch_size: u32, at_rest: Option<Arc<AtRestKeys>>) -> World {
        let dir = tempfile::tempdir().expect("tempdir");
        let server_db = server_db(dir.path());
        let admin = employer_with(&server_db, at_rest.as_ref());
        let server = start_server_with(&server_db, at_rest.clone());
        let proxy = FaultProxy::start(server.addr());
        let clock = Arc::new(ManualClock::new(ClockReading {
            wall_time_ms: now_ms(),
            utc_offset_min: 480,
            monotonic_ms: 10_000_000,
            boot_id: "boot-1".into(),
        }));
        let engine = Arc::new(device(
            &dir.path().join("device.db"),
            &proxy,
            &admin,
            &clock,
            batch_size,
        ));
        let code = admin
            .create_enrollment_code(EMPLOYEE, Duration::from_secs(600))
            .expect("code");
        engine.enroll(&code).expect("enroll");
        World {
            dir,
            server_db,
            server: Some(server),
            proxy,
            admin,
            clock,
            engine,
            at_rest,
        }
    }

    pub fn stop_server(&mut self) {
        if let Some(s) = self.server.take() {
            s.stop();
        }
    }

    pub fn start_server(&mut self) {
        let server = start_server_with(&self.server_db, self.at_rest.clone());
        self.proxy.set_upstream(server.addr());
        self.server = Some(server);
    }

    /// A clock-in at HQ with a fresh, accurate fix.
    pub fn punch(&self) -> PunchReceipt {
        self.punch_kind(PunchKind::ClockIn)
    }

    pub fn punch_kind(&self, kind: PunchKind) -> PunchReceipt {
        use punch_core::Clock;
        let at: (f64, f64) = Geodesic::wgs84().direct(HQ.0, HQ.1, 30.0, 25.0);
        let evidence = Evidence {
            gps: Some(GpsFix {
                lat: at.0,
                lon: at.1,
                accuracy_m: 8.0,
                fix_time_ms: self.clock.now().wall_time_ms,
                provider: "gps".into(),
                is_mock: false,
                speed_mps: None,
                elapsed_realtime_ms: None,
                reduced_accuracy: false,
                external_receiver: false,
            }),
            ..Evidence::default()
        };
        self.engine.punch(kind, &evidence).expect("punch")
    }
}

impl World {
    /// Makes the server forget everything of `device_id` after `seq` (as a
    /// restore from an older backup would), leaving `head_hash` as its head.
    pub fn server_forget_after(&self, device_id: &str, seq: u64, head_hash: &str) {
        self.server_execute(&format!(
            "DELETE FROM punches WHERE device_id = '{device_id}' AND seq > {seq};
             UPDATE devices SET head_seq = {seq}, head_hash = '{head_hash}'
             WHERE device_id = '{device_id}';"
        ));
    }

    /// Runs SQL (our own literals) on the server's database, behind its back.
    pub fn server_execute(&self, sql: &str) {
        match &self.server_db {
            DbUrl::Sqlite(path) => rusqlite::Connection::open(path)
                .and_then(|db| db.execute_batch(sql))
                .expect("server sql"),
            DbUrl::Postgres(url) => psql(url, sql),
        }
    }
}

/// Runs SQL with the `psql` client (tests only; values are our own).
pub fn psql(url: &str, sql: &str) {
    let out = std::process::Command::new("psql")
        .args(["-v", "ON_ERROR_STOP=1", "-q", url, "-c", sql])
        .output()
        .expect("psql runs");
    assert!(
        out.status.success(),
        "psql: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The back end under test: `PUNCH_TEST_DB` unset (or `sqlite`) gives a
/// SQLite file in `dir`; a `postgres://` URL gives a fresh database there.
pub fn server_db(dir: &std::path::Path) -> DbUrl {
    match std::env::var("PUNCH_TEST_DB").ok().as_deref() {
        None | Some("") | Some("sqlite") => DbUrl::Sqlite(dir.join("server.db")),
        Some(url) if url.starts_with("postgres") => {
            let name = format!("punch_w_{}", uuid_like());
            DbUrl::Postgres(PostgresStore::create_database(url, &name).expect("scratch database"))
        }
        Some(other) => panic!("PUNCH_TEST_DB={other:?}: use sqlite or a postgres:// URL"),
    }
}

/// Unique enough for a scratch database name (no uuid dependency here).
fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}_{}_{}",
        std::process::id(),
        now_ms(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

impl Default for World {
    fn default() -> Self {
        Self::new()
    }
}

/// The employer's side: one employee, the HQ site, a 2-minute clock
/// tolerance, policy v1 published for 30 days.
pub fn employer(server_db: &DbUrl) -> Admin {
    employer_with(server_db, None)
}

fn employer_with(server_db: &DbUrl, at_rest: Option<&Arc<AtRestKeys>>) -> Admin {
    let admin = Admin::connect_with(server_db, at_rest).expect("admin");
    admin.add_employee(EMPLOYEE, "Li Wei").expect("employee");
    admin
        .upsert_site(Site {
            id: "hq".into(),
            name: "HQ".into(),
            shape: Shape::Circle {
                center: LatLon {
                    lat: HQ.0,
                    lon: HQ.1,
                },
                radius_m: 150.0,
            },
            wifi: Default::default(),
            cidrs: vec![],
            rule: Default::default(),
            min_assurance: None,
        })
        .expect("site");
    admin
        .set_settings(Settings {
            max_clock_skew_s: 120.0,
            ..Settings::default()
        })
        .expect("settings");
    admin
        .publish_policy(Duration::from_secs(30 * 86_400))
        .expect("publish");
    admin
}

pub fn start_server(db: &DbUrl) -> ServerHandle {
    start_server_with(db, None)
}

pub fn start_server_with(db: &DbUrl, at_rest: Option<Arc<AtRestKeys>>) -> ServerHandle {
    ServerHandle::start(punch_server::ServerConfig {
        listen: "127.0.0.1:0".parse().expect("addr"),
        at_rest,
        ..punch_server::ServerConfig::new(db.clone())
    })
    .expect("server start")
}

/// A device engine talking to the server through `proxy`.
pub fn device(
    db: &std::path::Path,
    proxy: &FaultProxy,
    admin: &Admin,
    clock: &Arc<ManualClock>,
    batch_size: u32,
) -> PunchEngine {
    let mut server = ServerConfig::new(
        &proxy.base_url(),
        admin.policy_public_key().expect("policy key"),
    );
    server.batch_size = batch_size;
    server.retry = fast_retry();
    server.request_timeout_ms = 2_000;
    PunchEngine::open_with(
        db,
        EngineOptions {
            clock: clock.clone(),
            server: Some(server),
            ..Default::default()
        },
    )
    .expect("device engine")
}
