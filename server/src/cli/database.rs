//! `admin` commands: the database itself: backups and the schema version.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use punch_server::{Admin, DbUrl};

use super::CmdResult;

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Copy a SQLite database with the online backup API while servers
    /// run (PostgreSQL: use pg_dump -Fc, see server/README.md).
    Backup {
        #[arg(long)]
        out: PathBuf,
    },
    /// Print the database's schema version and the one this binary writes.
    Schema,
}

/// `backup`: runs before the database opens (SQLite's online backup).
pub(crate) fn backup(db: &DbUrl, out: &Path) -> CmdResult {
    match db {
        DbUrl::Sqlite(path) => {
            punch_server::backup_sqlite(path, out)?;
            println!("backup written to {}", out.display());
            Ok(())
        }
        DbUrl::Postgres(_) => Err("PostgreSQL: back up with pg_dump -Fc (server/README.md)".into()),
    }
}

pub(crate) fn run(admin: &Admin, command: Command) -> CmdResult {
    match command {
        Command::Backup { .. } => return Err("backup runs before the database opens".into()),
        Command::Schema => {
            let schema = admin.schema_status()?;
            println!("{} {}", schema.found, schema.supported);
        }
    }
    Ok(())
}
