//! `admin` commands: retention, export and erasure.

use std::path::PathBuf;

use clap::Subcommand;
use punch_server::Admin;

use super::{CmdResult, print_json, read_json};

#[derive(Subcommand)]
pub(crate) enum Command {
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
    /// Print everything held about an employee (their export) as JSON.
    Export { employee: String },
    /// Erasure when an employee leaves: remove their personal data, keep
    /// the punch rows payroll must keep (see README, Privacy). Prints what
    /// it removed as JSON.
    Erase {
        employee: String,
        /// Required: erasure cannot be undone.
        #[arg(long)]
        yes: bool,
    },
}

pub(crate) fn run(admin: &Admin, command: Command) -> CmdResult {
    match command {
        Command::Retention { json: path } => {
            if let Some(path) = path {
                admin.set_retention(&read_json(&path)?)?;
            }
            print_json(&admin.retention()?)?;
        }
        Command::Purge => {
            print_json(&admin.purge_expired(punch_server::now_ms())?)?;
        }
        Command::Export { employee } => {
            print_json(&admin.export(&employee, punch_server::now_ms())?)?;
        }
        Command::Erase { employee, yes } => {
            if !yes {
                return Err("erasure cannot be undone: pass --yes".into());
            }
            print_json(&admin.erase_employee(&employee, punch_server::now_ms())?)?;
        }
    }
    Ok(())
}
