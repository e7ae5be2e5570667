//! A real server (SQLite file, HTTP on 127.0.0.1), a fault proxy in front of
//! it, and a device engine (SQLite file, software P-256 key) enrolled through
//! the proxy. Tests drive time by hand through the device's ManualClock.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use geographiclib_rs::{DirectGeodesic, Geodesic};
use punch_core::geofence::{LatLon, Shape};
use punch_core::rules::policy::{Settings, Site};
use punch_core::sync::{RetryConfig, ServerConfig};
use punch_core::{
    ClockReading, EngineOptions, Evidence, GpsFix, ManualClock, PunchEngine, PunchKind,
    PunchReceipt,
};
use punch_server::{Admin, ServerHandle};

use crate::fault_proxy::FaultProxy;

pub const HQ: (f64, f64) = (22.543096, 114.057865);
pub const EMPLOYEE: &str = "emp-7";

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

pub struct World {
    pub dir: tempfile::TempDir,
    pub server_db: PathBuf,
    pub server: Option<ServerHandle>,
    pub proxy: FaultProxy,
    pub admin: Admin,
    pub clock: Arc<ManualClock>,
    pub engine: Arc<PunchEngine>,
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
        let dir = tempfile::tempdir().expect("tempdir");
        let server_db = dir.path().join("server.db");
        let admin = employer(&server_db);
        let server = start_server(&server_db);
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
        }
    }

    pub fn stop_server(&mut self) {
        if let Some(s) = self.server.take() {
            s.stop();
        }
    }

    pub fn start_server(&mut self) {
        let server = start_server(&self.server_db);
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
            }),
            ..Evidence::default()
        };
        self.engine.punch(kind, &evidence).expect("punch")
    }
}

impl Default for World {
    fn default() -> Self {
        Self::new()
    }
}

/// The employer's side: one employee, the HQ site, a 2-minute clock
/// tolerance, policy v1 published for 30 days.
pub fn employer(server_db: &std::path::Path) -> Admin {
    let admin = Admin::open(server_db).expect("admin");
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

pub fn start_server(db: &std::path::Path) -> ServerHandle {
    ServerHandle::start(punch_server::ServerConfig {
        db_path: db.to_path_buf(),
        listen: "127.0.0.1:0".parse().expect("addr"),
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
