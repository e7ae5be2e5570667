//! What both parts of `punch demo` use: the phone's clock, evidence near
//! the sample sites, and starting the reference server.

use std::sync::Mutex;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use geographiclib_rs::{DirectGeodesic, Geodesic};
use punch_core::{
    Clock, ClockReading, Evidence, GpsFix, WifiObservation, test_support::ManualClock,
};
use punch_server::ServerHandle;

/// The sample policy's head office.
pub(crate) const HQ: (f64, f64) = (52.520008, 13.404954);

/// A point `metres` from `from` along `bearing` (degrees), on WGS-84.
pub(crate) fn offset(from: (f64, f64), bearing: f64, metres: f64) -> (f64, f64) {
    Geodesic::wgs84().direct(from.0, from.1, bearing, metres)
}

/// The phone's clocks: they follow real time (the server checks that no
/// punch claims a time after it arrived), and the demo can move the wall
/// clock the way an employee would.
pub(crate) struct PhoneClock {
    pub(crate) clock: ManualClock,
    last: Mutex<Instant>,
}

impl PhoneClock {
    pub(crate) fn new() -> Result<PhoneClock, Box<dyn std::error::Error>> {
        let wall = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis() as i64;
        Ok(PhoneClock {
            clock: ManualClock::new(ClockReading {
                wall_time_ms: wall,
                utc_offset_min: 60,
                monotonic_ms: 5_000_000,
                boot_id: "phone-boot-1".into(),
            }),
            last: Mutex::new(Instant::now()),
        })
    }
}

impl Clock for PhoneClock {
    fn now(&self) -> ClockReading {
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        self.clock.advance_ms(last.elapsed().as_millis() as u64);
        *last = Instant::now();
        self.clock.now()
    }
}

pub(crate) fn gps(clock: &PhoneClock, at: (f64, f64), accuracy_m: f64, mock: bool) -> Evidence {
    Evidence {
        gps: Some(GpsFix {
            lat: at.0,
            lon: at.1,
            accuracy_m,
            fix_time_ms: clock.now().wall_time_ms - 1_500,
            provider: "fused".into(),
            is_mock: mock,
            speed_mps: None,
            elapsed_realtime_ms: None,
            reduced_accuracy: false,
            external_receiver: false,
        }),
        ..Evidence::default()
    }
}

pub(crate) fn basement() -> Evidence {
    Evidence {
        gps: None,
        wifi: vec![
            WifiObservation {
                bssid: "A4-2B-B0-10-20-30".into(),
                ssid: Some("ACME-Office".into()),
                rssi_dbm: Some(-61),
            },
            WifiObservation {
                bssid: "5c:11:22:33:44:55".into(),
                ssid: Some("Neighbour".into()),
                rssi_dbm: Some(-80),
            },
        ],
        ip_addresses: vec![],
    }
}

pub(crate) fn start_server(
    db: &std::path::Path,
    listen: std::net::SocketAddr,
) -> Result<ServerHandle, Box<dyn std::error::Error>> {
    Ok(ServerHandle::start(punch_server::ServerConfig {
        listen,
        ..punch_server::ServerConfig::new(db)
    })?)
}

/// A shift that runs every day, `start`–`end` in the policy's zone, an hour
/// before it to clock in, 5 minutes' grace either way.
pub(crate) fn daily_shift(
    id: &str,
    name: &str,
    start: &str,
    end: &str,
    latest_out_min: u32,
) -> punch_model::rules::shift::Shift {
    use punch_model::rules::shift::{Day, Shift};
    Shift {
        id: id.into(),
        name: name.into(),
        days: vec![
            Day::Mon,
            Day::Tue,
            Day::Wed,
            Day::Thu,
            Day::Fri,
            Day::Sat,
            Day::Sun,
        ],
        start: start.into(),
        end: end.into(),
        time_zone: None,
        earliest_in_min: 60,
        latest_out_min,
        grace_late_min: 5,
        grace_early_min: 5,
        breaks: vec![],
        sites: vec![],
    }
}

/// A phone for `admin`'s server at `server`: its clock and an engine on
/// `db`, not yet enrolled.
pub(crate) fn phone(
    db: &std::path::Path,
    admin: &punch_server::Admin,
    server: &ServerHandle,
) -> Result<(std::sync::Arc<PhoneClock>, punch_core::PunchEngine), Box<dyn std::error::Error>> {
    let clock = std::sync::Arc::new(PhoneClock::new()?);
    let mut config = punch_core::ServerConfig::new(&server.base_url(), admin.policy_public_key()?);
    config.request_timeout_ms = 3_000;
    let engine = punch_core::PunchEngine::open_with(
        db,
        punch_core::EngineOptions {
            clock: clock.clone(),
            server: Some(config),
            ..Default::default()
        },
    )?;
    Ok((clock, engine))
}

/// A new phone (its database at `db`) enrolled for `employee` with a fresh
/// code, talking to `server`.
pub(crate) fn enrolled_phone(
    admin: &punch_server::Admin,
    server: &ServerHandle,
    db: &std::path::Path,
    employee: &str,
) -> Result<(std::sync::Arc<PhoneClock>, punch_core::PunchEngine), Box<dyn std::error::Error>> {
    let (clock, engine) = phone(db, admin, server)?;
    engine.enroll(&admin.create_enrollment_code(employee, std::time::Duration::from_secs(900))?)?;
    Ok((clock, engine))
}
