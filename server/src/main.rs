//! `punch-server serve` runs the reference server; `punch-server admin`
//! manages its database (also while it runs). `--db` takes a path (SQLite),
//! `sqlite:PATH` or `postgres://…`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand};
use punch_model::rules::policy::{Settings, Site};
use punch_server::config::{self, LogFormat, Overrides};
use punch_server::{Admin, DbUrl, ServerConfig, ServerHandle};
use serde::Serialize;

type CmdResult = Result<(), Box<dyn std::error::Error>>;

#[derive(Parser)]
#[command(name = "punch-server", version, about = "Reference punch server")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API until Ctrl-C / SIGTERM. Settings come from
    /// `--config` (TOML), then PUNCH_* variables, then these flags.
    Serve {
        /// Database: a path or sqlite:PATH (default punch-server.db), or postgres://…
        #[arg(long)]
        db: Option<String>,
        /// Default 127.0.0.1:8787.
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// A TOML file: db, listen, log_format, at_rest_keys, [limits].
        #[arg(long)]
        config: Option<PathBuf>,
        /// The key file that seals evidence at rest (PUNCH_AT_REST_KEYS);
        /// `admin at-rest-key` writes one.
        #[arg(long)]
        at_rest_keys: Option<PathBuf>,
    },
    /// Check device attestations by hand (no database needed).
    Attestation {
        #[command(subcommand)]
        command: AttestationCommand,
    },
    /// Manage employees, devices, sites and policy.
    Admin {
        /// A path or sqlite:PATH, or postgres://… (PUNCH_DB if absent).
        #[arg(long)]
        db: Option<String>,
        /// Print lists as JSON instead of tables.
        #[arg(long)]
        json: bool,
        /// The key file that seals evidence at rest (PUNCH_AT_REST_KEYS if absent).
        #[arg(long)]
        at_rest_keys: Option<PathBuf>,
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[derive(Subcommand)]
enum AttestationCommand {
    /// Verify one attestation and print the verdict and every field as JSON.
    /// Exit 0 when it verifies, 1 when it is refused, 2 on bad usage.
    Verify {
        /// An Android Key Attestation certificate chain (PEM, leaf first).
        #[arg(long, conflicts_with = "apple", required_unless_present = "apple")]
        android: Option<PathBuf>,
        /// An Apple App Attest attestation object (base64).
        #[arg(long)]
        apple: Option<PathBuf>,
        /// The challenge (Android) or clientDataHash (Apple), base64.
        #[arg(long)]
        challenge: Option<String>,
        /// Allowed app: Android `package[:SHA256,...]`, Apple `TEAMID.bundle.id` (repeatable).
        #[arg(long = "app-id")]
        app_ids: Vec<String>,
        /// Verify as of this time (RFC 3339), e.g. inside old certificates' windows.
        #[arg(long)]
        at: Option<String>,
        /// Roots to trust instead of the shipped ones (roots.json or PEM).
        #[arg(long)]
        roots: Option<PathBuf>,
        /// Apple: accept the development environment instead of production.
        #[arg(long)]
        development: bool,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Show, or replace from a JSON file, what attestations enrollment accepts.
    AttestationConfig {
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// Add (or rename) an employee.
    AddEmployee {
        id: String,
        name: String,
    },
    /// Create a one-time enrollment code for an employee.
    EnrollCode {
        employee: String,
        #[arg(long, default_value_t = 24)]
        ttl_hours: u64,
    },
    /// List devices.
    Devices,
    /// Stop accepting a device's key.
    Unbind {
        device: String,
    },
    /// Allow the employee's next enrollment to replace the bound device.
    ApproveRebind {
        employee: String,
    },
    /// Reset an employee's punch PIN: their device fetches the reset token.
    PinReset {
        employee: String,
    },
    /// The employee's PIN lock as the server derives it from uploaded PIN events (JSON).
    PinStatus {
        employee: String,
    },
    /// Where PIN reset codes go: the employee's e-mail or phone.
    PinContact {
        employee: String,
        #[arg(long, conflicts_with = "phone", required_unless_present = "phone")]
        email: Option<String>,
        #[arg(long)]
        phone: Option<String>,
    },
    /// A one-time enrollment code for a kiosk tablet at SITE (the kiosk account is made once).
    KioskCode {
        site: String,
        #[arg(long, default_value_t = 60)]
        ttl_minutes: u64,
    },
    /// Assign EMPLOYEE to SITE's kiosks with a kiosk PIN (kept hashed; publish afterwards).
    KioskPin {
        site: String,
        employee: String,
        #[arg(long)]
        pin: String,
    },
    /// The identity secret for self-service PIN resets (e.g. last ID digits); kept hashed.
    PinSecret {
        employee: String,
        #[arg(long)]
        secret: String,
    },
    /// Add or replace a site from a JSON file (punch_model::rules::policy::Site).
    AddSite {
        #[arg(long)]
        json: PathBuf,
    },
    RemoveSite {
        id: String,
    },
    /// Replace the policy settings from a JSON file.
    Settings {
        #[arg(long)]
        json: PathBuf,
    },
    /// Publish sites + settings as the next signed policy version.
    Publish {
        #[arg(long, default_value_t = 30)]
        ttl_days: u64,
    },
    /// Print the policy public key (SPKI DER, base64) for apps to pin.
    PolicyKey,
    /// List accepted punches.
    Punches,
    /// List refused records (the evidence table).
    Rejected,
    /// List make-up and field-work requests.
    Requests {
        /// pending, approved, denied or refused.
        #[arg(long)]
        status: Option<String>,
    },
    /// Approve a pending request (a make-up punch, a field-work site).
    Approve {
        event_id: String,
        #[arg(long, default_value = "")]
        comment: String,
        /// Who decides (kept with the decision).
        #[arg(long, default_value = "admin")]
        by: String,
    },
    /// Deny a pending request, with the reason the employee will see.
    Deny {
        event_id: String,
        #[arg(long)]
        comment: String,
        #[arg(long, default_value = "admin")]
        by: String,
    },
    /// List punch-key rotations waiting for HR (a new key that proves less
    /// than the policy requires); the device's later records wait with them.
    KeyRotations,
    /// Approve a pending punch-key rotation: the new key signs the device's
    /// records from the rotation on.
    ApproveKey {
        event_id: String,
        #[arg(long, default_value = "")]
        comment: String,
        #[arg(long, default_value = "admin")]
        by: String,
    },
    /// Deny a pending punch-key rotation: the device's later records are
    /// refused until it enrolls again.
    DenyKey {
        event_id: String,
        #[arg(long)]
        comment: String,
        #[arg(long, default_value = "admin")]
        by: String,
    },
    /// Print a device's accepted chain head.
    Head {
        device: String,
    },
    /// Copy a SQLite database with the online backup API while servers
    /// run (PostgreSQL: use pg_dump -Fc, see server/README.md).
    Backup {
        #[arg(long)]
        out: PathBuf,
    },
    /// Print the database's schema version and the one this binary writes.
    Schema,
    /// Create a staff account (the first HR admin, for one); reads the
    /// password from the first line of stdin; prints the TOTP secret once.
    AddStaff {
        username: String,
        /// hr_admin, manager or auditor.
        #[arg(long)]
        role: String,
        /// The team a manager manages.
        #[arg(long)]
        team: Option<String>,
        #[arg(long, default_value = "")]
        name: String,
    },
    /// Change a staff account (audited): disable, enable, revoke (end every
    /// session and API token), unlock, reset-password (the new one-time
    /// password on stdin), reset-totp (the holder enrols a new
    /// authenticator at their next sign-in).
    Staff {
        username: String,
        /// disable | enable | revoke | unlock | reset-password | reset-totp
        change: String,
        #[arg(long)]
        reason: String,
    },
    /// List staff accounts with their state.
    StaffList,
    /// List API tokens (id, owner, name, expiry, revoked), never secrets.
    Tokens {
        /// Only this staff member's.
        #[arg(long)]
        username: Option<String>,
    },
    /// Revoke one API token by its id (audited).
    TokenRevoke {
        token_id: String,
        #[arg(long)]
        reason: String,
    },
    /// Put an employee in a team (managers see their own team only).
    SetTeam {
        employee: String,
        /// Omit to take the employee out of every team.
        team: Option<String>,
    },
    /// Recompute the audit chain; exit 1 if a record was edited or removed.
    AuditVerify {
        /// SEQ:HASH, a head recorded outside the database earlier (the
        /// server logs each one): the row at SEQ must still have HASH.
        #[arg(long)]
        anchor: Option<String>,
    },
    /// Acknowledge a device's broken chain (audited): it starts a new
    /// segment on its next sync; the refused records stay as evidence.
    AcknowledgeBreak {
        device: String,
        #[arg(long)]
        reason: String,
    },
    /// Show, or replace from a JSON file, how long each kind of data is
    /// kept: {"exact_location_days", "raw_evidence_days", "punch_days", "audit_days"}.
    Retention {
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// The retention job: purge what the stored retention no longer allows
    /// (hashes stay, chains verify); prints what it removed as JSON.
    /// Schedule it (cron, systemd timer) daily.
    Purge,
    /// Print a new at-rest key file (one fresh key named ID) to stdout:
    /// save it mode 0600 outside the database's backups.
    AtRestKey {
        #[arg(long, default_value = "k1")]
        id: String,
    },
    /// Seal what is clear (rows from before keys were configured) or
    /// sealed with an older key, under the key file's `seal_with` key;
    /// prints per column what it found and did as JSON; exit 1 if a row
    /// does not open. `--dry-run` only counts.
    AtRestReseal {
        #[arg(long)]
        dry_run: bool,
    },
    /// Print everything held about an employee (their export) as JSON.
    Export {
        employee: String,
    },
    /// Erasure when an employee leaves: remove their personal data, keep
    /// the punch rows payroll must keep (see README, Privacy). Prints what
    /// it removed as JSON.
    Erase {
        employee: String,
        /// Required: erasure cannot be undone.
        #[arg(long)]
        yes: bool,
    },
    /// Re-verify a device's stored chain (purged links by their hashes);
    /// exit 1 when it is broken.
    VerifyChain {
        device: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve {
            db,
            listen,
            config,
            at_rest_keys,
        } => serve(Overrides {
            config,
            db,
            listen,
            at_rest_keys,
        }),
        Command::Admin {
            command: AdminCommand::AtRestKey { id },
            ..
        } => punch_server::at_rest::AtRestKeys::generate_file(&id)
            .map(|file| print!("{file}"))
            .map_err(Into::into),
        Command::Admin {
            db,
            json,
            at_rest_keys,
            command,
        } => match db.or_else(|| std::env::var("PUNCH_DB").ok()) {
            Some(db) => DbUrl::parse(&db).map_err(Into::into).and_then(|db| {
                let keys = at_rest_keys
                    .or_else(|| std::env::var_os("PUNCH_AT_REST_KEYS").map(Into::into))
                    .map(|path| punch_server::at_rest::AtRestKeys::load(&path).map(Arc::new))
                    .transpose()?;
                admin(&db, keys, json, command)
            }),
            None => Err("admin needs --db (or PUNCH_DB)".into()),
        },
        Command::Attestation {
            command:
                AttestationCommand::Verify {
                    android,
                    apple,
                    challenge,
                    app_ids,
                    at,
                    roots,
                    development,
                },
        } => {
            return attestation_verify(android, apple, challenge, app_ids, at, roots, development);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("punch-server: {e}");
            ExitCode::FAILURE
        }
    }
}

fn serve(flags: Overrides) -> CmdResult {
    let settings = config::load(&flags, &|k| std::env::var(k).ok())?;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match settings.log_format {
        // Spans (the request id) flattened into each line.
        LogFormat::Json => logs
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .init(),
        LogFormat::Text => logs
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
    }
    // The database URL is redacted by DbUrl's Display.
    tracing::info!(db = %settings.db, listen = %settings.listen, limits = ?settings.limits, "starting");
    tracing::info!(pin_sender = %settings.pin_codes.describe(), "PIN reset codes");
    let handle = ServerHandle::start(ServerConfig {
        db: settings.db,
        listen: settings.listen,
        limits: settings.limits,
        pin_codes: settings.pin_codes,
        metrics_token: settings.metrics_token,
        at_rest: settings.at_rest,
        sqlite_busy_timeout: None,
    })?;
    eprintln!("punch-server listening on {}", handle.base_url());
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(shutdown_signal())?;
    tracing::info!("shutting down");
    handle.stop();
    Ok(())
}

async fn shutdown_signal() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate())?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r,
            _ = term.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await
    }
}

/// `attestation verify`: usage problems exit 2, a refusal 1, a pass 0.
fn attestation_verify(
    android: Option<PathBuf>,
    apple: Option<PathBuf>,
    challenge: Option<String>,
    app_ids: Vec<String>,
    at: Option<String>,
    roots: Option<PathBuf>,
    development: bool,
) -> ExitCode {
    use punch_attest::apple::AppAttestEnvironment;
    use punch_attest::{CheckOptions, TrustedRoots};
    let usage = |message: String| {
        eprintln!("punch-server attestation verify: {message}");
        ExitCode::from(2)
    };
    let read =
        |path: &Path| std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()));
    let mut opts = CheckOptions {
        app_ids,
        environment: if development {
            AppAttestEnvironment::Development
        } else {
            AppAttestEnvironment::Production
        },
        ..CheckOptions::default()
    };
    if let Some(c) = challenge {
        match punch_model::wire::b64::decode(c.trim()) {
            Ok(bytes) => opts.challenge = Some(bytes),
            Err(e) => return usage(format!("--challenge is not base64: {e}")),
        }
    }
    if let Some(t) = at {
        match punch_attest::x509::parse_rfc3339(&t) {
            Ok(unix) => opts.at = Some(unix),
            Err(e) => return usage(format!("--at: {e}")),
        }
    }
    if let Some(path) = roots {
        match read(&path).map(|t| TrustedRoots::from_file_contents(&t)) {
            Ok(Ok(r)) => opts.roots = Some(r),
            Ok(Err(e)) => return usage(format!("--roots: {e}")),
            Err(e) => return usage(e),
        }
    }
    let (ok, report) = match (android, apple) {
        (Some(path), None) => match read(&path) {
            Ok(pem) => punch_attest::verify_android_report(&pem, &opts),
            Err(e) => return usage(e),
        },
        (None, Some(path)) => match read(&path) {
            Ok(b64) => punch_attest::verify_apple_report(&b64, &opts),
            Err(e) => return usage(e),
        },
        _ => return usage("give exactly one of --android FILE.pem or --apple FILE.b64".into()),
    };
    match serde_json::to_string_pretty(&report) {
        Ok(text) => println!("{text}"),
        Err(e) => return usage(e.to_string()),
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, Box<dyn std::error::Error>> {
    let text = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_slice(&text).map_err(|e| format!("{}: {e}", path.display()).into())
}

/// Text from devices (site ids in records, refusal details, labels) may
/// hold terminal escapes or bidirectional overrides: everything the admin
/// commands print is shown with those characters as `\u{..}` escapes.
fn shown(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') {
                format!("\\u{{{:x}}}", u32::from(c))
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// `println!` through [`shown`].
macro_rules! say {
    ($($arg:tt)*) => {
        println!("{}", shown(&format!($($arg)*)))
    };
}

/// JSON already escapes control characters; bidirectional overrides are
/// escaped too (`\u202e` is the same string to a JSON reader).
fn print_json<T: Serialize>(value: &T) -> CmdResult {
    let text = serde_json::to_string_pretty(value)?;
    let safe: String = text
        .chars()
        .map(|c| {
            if matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') {
                format!("\\u{:04x}", u32::from(c))
            } else {
                c.to_string()
            }
        })
        .collect();
    println!("{safe}");
    Ok(())
}

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref()
        .map_or_else(|| "-".to_string(), ToString::to_string)
}

fn admin(
    db: &DbUrl,
    at_rest: Option<Arc<punch_server::at_rest::AtRestKeys>>,
    json: bool,
    command: AdminCommand,
) -> CmdResult {
    if let AdminCommand::Backup { out } = &command {
        return match db {
            DbUrl::Sqlite(path) => {
                punch_server::store::sqlite::backup(path, out)?;
                println!("backup written to {}", out.display());
                Ok(())
            }
            DbUrl::Postgres(_) => {
                Err("PostgreSQL: back up with pg_dump -Fc (server/README.md)".into())
            }
        };
    }
    let admin = Admin::connect_with(db, at_rest.as_ref())?;
    match command {
        AdminCommand::AddStaff {
            username,
            role,
            team,
            name,
        } => {
            let role = punch_server::staff::Role::parse(&role)
                .ok_or("role is hr_admin, manager or auditor")?;
            let mut password = String::new();
            std::io::stdin().read_line(&mut password)?;
            let created = admin.add_staff(&punch_server::staff::account::NewStaff {
                username,
                display_name: name,
                role,
                team,
                password: password.trim_end_matches(['\r', '\n']).to_string(),
            })?;
            if json {
                println!("{}", serde_json::to_string_pretty(&created)?);
            } else {
                say!(
                    "staff {} ({}); add this to an authenticator app now, it is not shown again:\n  secret {}\n  {}",
                    created.username,
                    created.role.as_str(),
                    created.totp_secret.as_deref().unwrap_or_default(),
                    created.otpauth_uri.as_deref().unwrap_or_default()
                );
            }
        }
        AdminCommand::Staff {
            username,
            change,
            reason,
        } => {
            use punch_server::staff::lifecycle::Change;
            let change = Change::parse(&change).ok_or(
                "the change is disable, enable, revoke, unlock, reset-password or reset-totp",
            )?;
            let password = if change == Change::ResetPassword {
                let mut line = String::new();
                std::io::stdin().read_line(&mut line)?;
                Some(line.trim_end_matches(['\r', '\n']).to_string())
            } else {
                None
            };
            let outcome = admin.change_staff(&username, change, password.as_deref(), &reason)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&outcome)?);
            } else {
                say!(
                    "staff {username}: {} done ({} sessions ended, {} tokens revoked)",
                    change.as_str(),
                    outcome.sessions_ended,
                    outcome.tokens_revoked
                );
            }
        }
        AdminCommand::Tokens { username } => {
            let tokens = admin.api_tokens(username.as_deref())?;
            if json {
                let views: Vec<serde_json::Value> = tokens
                    .iter()
                    .map(|t| {
                        serde_json::json!({
                            "token_id": t.token_id, "username": t.username, "name": t.name,
                            "scopes": t.scopes, "created_at_ms": t.created_at_ms,
                            "expires_at_ms": t.expires_at_ms, "revoked_at_ms": t.revoked_at_ms,
                        })
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&views)?);
            } else {
                for t in tokens {
                    let state = match t.revoked_at_ms {
                        Some(at) => format!("revoked at {at}"),
                        None => format!("expires at {}", t.expires_at_ms),
                    };
                    say!("{}\t{}\t{}\t{state}", t.token_id, t.username, t.name);
                }
            }
        }
        AdminCommand::TokenRevoke { token_id, reason } => {
            let row = admin.revoke_token(&token_id, &reason)?;
            say!("token {token_id} of {} revoked", row.username);
        }
        AdminCommand::StaffList => {
            let now = punch_server::clock::now_ms();
            for s in admin.staff()? {
                let mut state = Vec::new();
                if s.disabled {
                    state.push("disabled".to_string());
                }
                if let Some(until) = s.locked_until_ms.filter(|u| *u > now) {
                    state.push(format!("locked until {until}"));
                }
                if punch_server::staff::lifecycle::needs_totp_enrolment(&s) {
                    state.push("totp enrolment pending".into());
                }
                say!(
                    "{}\t{}\t{}\t{}",
                    s.username,
                    s.role,
                    s.team.unwrap_or_default(),
                    state.join(", ")
                );
            }
        }
        AdminCommand::SetTeam { employee, team } => {
            admin.set_team(&employee, team.as_deref())?;
            say!(
                "employee {employee}: team {}",
                team.as_deref().unwrap_or("(none)")
            );
        }
        AdminCommand::AcknowledgeBreak { device, reason } => {
            let ack = admin.acknowledge_break(&device, &reason)?;
            say!(
                "device {device}: break acknowledged at seq {} (ack {})",
                ack.head_seq,
                ack.id
            );
        }
        AdminCommand::AuditVerify { anchor } => {
            let v = match anchor {
                Some(text) => {
                    let (seq, hash) = text
                        .split_once(':')
                        .and_then(|(s, h)| Some((s.trim().parse::<u64>().ok()?, h)))
                        .ok_or("--anchor is SEQ:HASH")?;
                    admin.verify_audit_anchored(seq, hash)?
                }
                None => admin.verify_audit()?,
            };
            println!("{}", serde_json::to_string_pretty(&v)?);
            if v.broken.is_some() {
                return Err("the audit chain is broken".into());
            }
        }
        AdminCommand::AddEmployee { id, name } => {
            admin.add_employee(&id, &name)?;
            say!("employee {id} ({name})");
        }
        AdminCommand::EnrollCode {
            employee,
            ttl_hours,
        } => {
            let ttl = Duration::from_secs(ttl_hours.saturating_mul(3600));
            say!("{}", admin.create_enrollment_code(&employee, ttl)?);
        }
        AdminCommand::AttestationConfig { json: path } => {
            if let Some(path) = path {
                admin.set_attestation_config(read_json(&path)?)?;
            }
            print_json(&admin.attestation_config()?)?;
        }
        AdminCommand::Devices => {
            let devices = admin.devices()?;
            if json {
                return print_json(&devices);
            }
            say!(
                "{:<38} {:<16} {:<8} {:<10} {:<18} {:>6}  platform",
                "device",
                "employee",
                "state",
                "key",
                "assurance",
                "head"
            );
            for d in devices {
                let state = if d.is_bound() { "bound" } else { "unbound" };
                say!(
                    "{:<38} {:<16} {:<8} {:<10} {:<18} {:>6}  {}",
                    d.device_id,
                    d.employee_id,
                    state,
                    d.key_storage,
                    d.assurance,
                    d.head_seq,
                    d.platform
                );
            }
        }
        AdminCommand::Requests { status } => {
            let requests = admin.requests(status.as_deref())?;
            if json {
                return print_json(&requests);
            }
            say!(
                "{:<38} {:<12} {:<19} {:<9} {:<24} body",
                "event",
                "employee",
                "type",
                "status",
                "detail"
            );
            for r in requests {
                say!(
                    "{:<38} {:<12} {:<19} {:<9} {:<24} {}",
                    shown(&r.event_id),
                    shown(&r.employee_id),
                    r.event_type,
                    r.status.as_deref().unwrap_or("-"),
                    shown(r.status_detail.as_deref().unwrap_or("-")),
                    shown(&r.body)
                );
            }
        }
        AdminCommand::Approve {
            event_id,
            comment,
            by,
        } => {
            let r = admin.decide_request(&event_id, true, &by, &comment)?;
            say!("{} {} approved", r.event_type, shown(&r.event_id));
        }
        AdminCommand::Deny {
            event_id,
            comment,
            by,
        } => {
            let r = admin.decide_request(&event_id, false, &by, &comment)?;
            say!("{} {} denied", r.event_type, shown(&r.event_id));
        }
        AdminCommand::KeyRotations => {
            for r in admin.pending_key_rotations()? {
                say!(
                    "{:<38} {:<38} {:<12} seq {:<6} {}",
                    shown(&r.event_id),
                    shown(&r.device_id),
                    shown(&r.employee_id),
                    r.seq,
                    shown(r.status_detail.as_deref().unwrap_or("-"))
                );
            }
        }
        AdminCommand::ApproveKey {
            event_id,
            comment,
            by,
        } => {
            let r = admin.decide_key_rotation(&event_id, true, &by, &comment)?;
            say!("key rotation {} approved", shown(&r.event_id));
        }
        AdminCommand::DenyKey {
            event_id,
            comment,
            by,
        } => {
            let r = admin.decide_key_rotation(&event_id, false, &by, &comment)?;
            say!("key rotation {} denied", shown(&r.event_id));
        }
        AdminCommand::Unbind { device } => {
            admin.unbind_device(&device)?;
            say!("device {device} unbound");
        }
        AdminCommand::ApproveRebind { employee } => {
            admin.approve_rebind(&employee)?;
            say!("employee {employee} may enroll a replacement device");
        }
        AdminCommand::PinReset { employee } => {
            admin.order_pin_reset(&employee)?;
            say!("PIN reset ordered for {employee}: their device fetches it within 7 days");
        }
        AdminCommand::PinStatus { employee } => {
            print_json(&admin.pin_lock_state(&employee)?)?;
        }
        AdminCommand::PinContact {
            employee,
            email,
            phone,
        } => {
            let (channel, address) = match (email, phone) {
                (Some(e), _) => ("email", e),
                (None, Some(p)) => ("phone", p),
                (None, None) => return Err("give --email or --phone".into()),
            };
            admin.set_pin_contact(&employee, channel, &address)?;
            say!("PIN reset codes for {employee} go to their {channel}");
        }
        AdminCommand::KioskCode { site, ttl_minutes } => {
            let code = admin.kiosk_enrollment_code(
                &site,
                std::time::Duration::from_secs(ttl_minutes.saturating_mul(60)),
            )?;
            say!("{code}");
        }
        AdminCommand::KioskPin {
            site,
            employee,
            pin,
        } => {
            admin.set_kiosk_pin(&site, &employee, &pin)?;
            say!("{employee} punches on {site}'s kiosks (publish to send it to them)");
        }
        AdminCommand::PinSecret { employee, secret } => {
            admin.set_pin_identity_secret(&employee, &secret)?;
            say!("self-service identity secret set for {employee}");
        }
        AdminCommand::AddSite { json: path } => {
            let site: Site = read_json(&path)?;
            let id = site.id.clone();
            admin.upsert_site(site)?;
            say!("site {id} saved (publish to send it to devices)");
        }
        AdminCommand::RemoveSite { id } => {
            admin.remove_site(&id)?;
            say!("site {id} removed (publish to send the change to devices)");
        }
        AdminCommand::Settings { json: path } => {
            let settings: Settings = read_json(&path)?;
            admin.set_settings(settings)?;
            say!("settings saved (publish to send them to devices)");
        }
        AdminCommand::Publish { ttl_days } => {
            let ttl = Duration::from_secs(ttl_days.saturating_mul(86_400));
            say!("published policy version {}", admin.publish_policy(ttl)?);
        }
        AdminCommand::PolicyKey => {
            say!(
                "{}",
                punch_model::wire::b64::encode(&admin.policy_public_key()?)
            );
        }
        AdminCommand::Punches => {
            let punches = admin.punches()?;
            if json {
                return print_json(&punches);
            }
            say!(
                "{:<38} {:>5} {:<12} {:<11} {:>15} {:>15} {:<26} {:>4} {:<8} review",
                "device",
                "seq",
                "employee",
                "kind",
                "wall_ms",
                "trusted_ms",
                "time",
                "pol",
                "decision"
            );
            for p in punches {
                say!(
                    "{:<38} {:>5} {:<12} {:<11} {:>15} {:>15} {:<26} {:>4} {:<8} {}",
                    p.device_id,
                    p.seq,
                    p.employee_id,
                    p.kind,
                    p.wall_time_ms,
                    opt(&p.trusted_time_ms),
                    p.time_status,
                    p.policy_version,
                    p.decision,
                    p.review_flags
                        .iter()
                        .filter_map(|f| serde_json::to_value(f).ok())
                        .filter_map(|v| v["flag"].as_str().map(str::to_string))
                        .collect::<Vec<_>>()
                        .join(",")
                );
            }
        }
        AdminCommand::Rejected => {
            let rejected = admin.rejected()?;
            if json {
                return print_json(&rejected);
            }
            say!(
                "{:>4} {:<38} {:>5} {:<22} {:>3}  detail",
                "id",
                "device",
                "seq",
                "reason",
                "n"
            );
            for r in rejected {
                say!(
                    "{:>4} {:<38} {:>5} {:<22} {:>3}  {}",
                    r.id,
                    r.device_id,
                    r.seq,
                    r.reason,
                    r.attempts,
                    r.detail
                );
            }
        }
        AdminCommand::Head { device } => {
            let (seq, hash) = admin.head(&device)?;
            say!("{seq} {hash}");
        }
        AdminCommand::Schema => {
            let schema = admin.schema_status()?;
            println!("{} {}", schema.found, schema.supported);
        }
        AdminCommand::Retention { json: path } => {
            if let Some(path) = path {
                admin.set_retention(&read_json(&path)?)?;
            }
            print_json(&admin.retention()?)?;
        }
        AdminCommand::Purge => {
            print_json(&admin.purge_expired(punch_server::clock::now_ms())?)?;
        }
        AdminCommand::Export { employee } => {
            print_json(&admin.export(&employee, punch_server::clock::now_ms())?)?;
        }
        AdminCommand::Erase { employee, yes } => {
            if !yes {
                return Err("erasure cannot be undone: pass --yes".into());
            }
            print_json(&admin.erase_employee(&employee, punch_server::clock::now_ms())?)?;
        }
        AdminCommand::VerifyChain { device } => {
            let report = admin.verify_chain(&device)?;
            print_json(&report)?;
            if !report.is_intact() {
                std::process::exit(1);
            }
        }
        AdminCommand::AtRestReseal { dry_run } => {
            let keys =
                at_rest.ok_or("at-rest-reseal needs --at-rest-keys (or PUNCH_AT_REST_KEYS)")?;
            let report = admin.reseal_at_rest(&keys, !dry_run)?;
            print_json(&report)?;
            if report.unopenable() > 0 {
                std::process::exit(1);
            }
        }
        AdminCommand::Backup { .. } => return Err("backup runs before the database opens".into()),
        AdminCommand::AtRestKey { .. } => return Err("at-rest-key needs no database".into()),
    }
    Ok(())
}
