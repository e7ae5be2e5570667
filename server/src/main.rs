//! `punch-server serve` runs the reference server; `punch-server admin`
//! manages its database (also while it runs). `--db` takes a path (SQLite),
//! `sqlite:PATH` or `postgres://…`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use punch_server::AtRestKeys;
use punch_server::Overrides;
use punch_server::{Admin, DbUrl};

use crate::cli::CmdResult;

mod cli;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    #[command(flatten)]
    People(cli::people::Command),
    #[command(flatten)]
    Devices(cli::devices::Command),
    #[command(flatten)]
    Pin(cli::pin::Command),
    #[command(flatten)]
    Policy(cli::policy::Command),
    #[command(flatten)]
    Records(cli::records::Command),
    #[command(flatten)]
    Staff(cli::staff::Command),
    #[command(flatten)]
    Chain(cli::chain::Command),
    #[command(flatten)]
    Privacy(cli::privacy::Command),
    #[command(flatten)]
    Keys(cli::keys::Command),
    #[command(flatten)]
    Database(cli::database::Command),
}
fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve {
            db,
            listen,
            config,
            at_rest_keys,
        } => cli::serve::run(Overrides {
            config,
            db,
            listen,
            at_rest_keys,
        }),
        Command::Admin {
            command: AdminCommand::Keys(cli::keys::Command::AtRestKey { id }),
            ..
        } => cli::keys::at_rest_key(&id),
        Command::Admin {
            db,
            json,
            at_rest_keys,
            command,
        } => match db.or_else(|| std::env::var("PUNCH_DB").ok()) {
            Some(db) => DbUrl::parse(&db).map_err(Into::into).and_then(|db| {
                let keys = at_rest_keys
                    .or_else(|| std::env::var_os("PUNCH_AT_REST_KEYS").map(Into::into))
                    .map(|path| AtRestKeys::load(&path).map(Arc::new))
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
            return cli::attestation::verify(
                android,
                apple,
                challenge,
                app_ids,
                at,
                roots,
                development,
            );
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

/// The database commands: `backup` before the database opens, the rest
/// with an [`Admin`] on it.
fn admin(
    db: &DbUrl,
    at_rest: Option<Arc<AtRestKeys>>,
    json: bool,
    command: AdminCommand,
) -> CmdResult {
    if let AdminCommand::Database(cli::database::Command::Backup { out }) = &command {
        return cli::database::backup(db, out);
    }
    let admin = Admin::connect_with(db, at_rest.as_ref())?;
    match command {
        AdminCommand::People(c) => cli::people::run(&admin, c),
        AdminCommand::Devices(c) => cli::devices::run(&admin, json, c),
        AdminCommand::Pin(c) => cli::pin::run(&admin, c),
        AdminCommand::Policy(c) => cli::policy::run(&admin, c),
        AdminCommand::Records(c) => cli::records::run(&admin, json, c),
        AdminCommand::Staff(c) => cli::staff::run(&admin, json, c),
        AdminCommand::Chain(c) => cli::chain::run(&admin, c),
        AdminCommand::Privacy(c) => cli::privacy::run(&admin, c),
        AdminCommand::Keys(c) => cli::keys::run(&admin, at_rest, c),
        AdminCommand::Database(c) => cli::database::run(&admin, c),
    }
}
