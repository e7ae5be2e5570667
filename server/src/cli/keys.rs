//! `admin` commands: at-rest keys.

use std::sync::Arc;

use clap::Subcommand;
use punch_server::Admin;
use punch_server::AtRestKeys;

use super::{CmdResult, print_json};

#[derive(Subcommand)]
pub(crate) enum Command {
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
}

/// `at-rest-key`: runs before (and without) a database.
pub(crate) fn at_rest_key(id: &str) -> CmdResult {
    AtRestKeys::generate_file(id)
        .map(|file| print!("{file}"))
        .map_err(Into::into)
}

pub(crate) fn run(admin: &Admin, at_rest: Option<Arc<AtRestKeys>>, command: Command) -> CmdResult {
    match command {
        Command::AtRestKey { .. } => return Err("at-rest-key needs no database".into()),
        Command::AtRestReseal { dry_run } => {
            let keys =
                at_rest.ok_or("at-rest-reseal needs --at-rest-keys (or PUNCH_AT_REST_KEYS)")?;
            let report = admin.reseal_at_rest(&keys, !dry_run)?;
            print_json(&report)?;
            if report.unopenable() > 0 {
                std::process::exit(1);
            }
        }
    }
    Ok(())
}
