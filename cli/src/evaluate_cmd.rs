//! `punch evaluate`: one evaluation, no database, JSON out.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use punch_core::{Evidence, GpsFix, WifiObservation};
use punch_model::rules::evaluate::evaluate;
use punch_model::rules::policy::{Policy, PreparedPolicy};

use crate::CmdResult;

#[derive(clap::Args)]
pub struct Args {
    /// Policy JSON file (format in README.md).
    #[arg(long)]
    policy: PathBuf,
    /// Latitude in degrees (WGS-84).
    #[arg(long, allow_hyphen_values = true)]
    lat: Option<f64>,
    /// Longitude in degrees (WGS-84).
    #[arg(long, allow_hyphen_values = true)]
    lon: Option<f64>,
    /// Horizontal accuracy in metres.
    #[arg(long, default_value_t = 10.0)]
    accuracy: f64,
    /// How old the fix is, in seconds.
    #[arg(long, default_value_t = 0.0)]
    fix_age_s: f64,
    /// The platform says the location is mocked.
    #[arg(long)]
    mock: bool,
    /// A Wi-Fi observation: BSSID or BSSID=SSID (repeatable).
    #[arg(long)]
    wifi: Vec<String>,
    /// A device IP address (repeatable).
    #[arg(long)]
    ip: Vec<String>,
}

pub fn run(args: &Args) -> CmdResult {
    let body = std::fs::read(&args.policy)
        .map_err(|e| format!("cannot read {}: {e}", args.policy.display()))?;
    let policy = PreparedPolicy::new(Policy::from_json(&body)?)?;
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let gps = match (args.lat, args.lon) {
        (Some(lat), Some(lon)) => Some(GpsFix {
            lat,
            lon,
            accuracy_m: args.accuracy,
            fix_time_ms: now_ms - (args.fix_age_s * 1000.0) as i64,
            provider: "cli".into(),
            is_mock: args.mock,
            speed_mps: None,
            elapsed_realtime_ms: None,
            reduced_accuracy: false,
            external_receiver: false,
        }),
        (None, None) => None,
        _ => return Err("give both --lat and --lon, or neither".into()),
    };
    let wifi = args
        .wifi
        .iter()
        .map(|w| {
            let (bssid, ssid) = match w.split_once('=') {
                Some((b, s)) => (b, Some(s.to_string())),
                None => (w.as_str(), None),
            };
            WifiObservation {
                bssid: bssid.to_string(),
                ssid,
                rssi_dbm: None,
            }
        })
        .collect();
    let evidence = Evidence {
        gps,
        wifi,
        ip_addresses: args.ip.clone(),
    };
    let valid = evidence.validate()?;
    let evaluation = evaluate(&policy, &valid, now_ms, None);
    println!("{}", serde_json::to_string_pretty(&evaluation)?);
    Ok(ExitCode::SUCCESS)
}
