//! `admin` commands: employees, their enrollment codes and teams.

use std::time::Duration;

use clap::Subcommand;
use punch_server::Admin;

use super::CmdResult;

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Add (or rename) an employee.
    AddEmployee { id: String, name: String },
    /// Create a one-time enrollment code for an employee.
    EnrollCode {
        employee: String,
        #[arg(long, default_value_t = 24)]
        ttl_hours: u64,
    },
    /// Put an employee in a team (managers see their own team only).
    SetTeam {
        employee: String,
        /// Omit to take the employee out of every team.
        team: Option<String>,
    },
}

pub(crate) fn run(admin: &Admin, command: Command) -> CmdResult {
    match command {
        Command::AddEmployee { id, name } => {
            admin.add_employee(&id, &name)?;
            say!("employee {id} ({name})");
        }
        Command::EnrollCode {
            employee,
            ttl_hours,
        } => {
            let ttl = Duration::from_secs(ttl_hours.saturating_mul(3600));
            say!("{}", admin.create_enrollment_code(&employee, ttl)?);
        }
        Command::SetTeam { employee, team } => {
            admin.set_team(&employee, team.as_deref())?;
            say!(
                "employee {employee}: team {}",
                team.as_deref().unwrap_or("(none)")
            );
        }
    }
    Ok(())
}
