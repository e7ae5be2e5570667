//! `admin` commands: staff accounts and their API tokens.

use clap::Subcommand;
use punch_server::Admin;

use super::CmdResult;

#[derive(Subcommand)]
pub(crate) enum Command {
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
}

pub(crate) fn run(admin: &Admin, json: bool, command: Command) -> CmdResult {
    match command {
        Command::AddStaff {
            username,
            role,
            team,
            name,
        } => {
            let role =
                punch_server::Role::parse(&role).ok_or("role is hr_admin, manager or auditor")?;
            let mut password = String::new();
            std::io::stdin().read_line(&mut password)?;
            let created = admin.add_staff(&punch_server::NewStaff {
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
        Command::Staff {
            username,
            change,
            reason,
        } => {
            use punch_server::StaffChange as Change;
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
        Command::StaffList => {
            let now = punch_server::now_ms();
            for s in admin.staff()? {
                let mut state = Vec::new();
                if s.disabled {
                    state.push("disabled".to_string());
                }
                if let Some(until) = s.locked_until_ms.filter(|u| *u > now) {
                    state.push(format!("locked until {until}"));
                }
                if punch_server::needs_totp_enrolment(&s) {
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
        Command::Tokens { username } => {
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
        Command::TokenRevoke { token_id, reason } => {
            let row = admin.revoke_token(&token_id, &reason)?;
            say!("token {token_id} of {} revoked", row.username);
        }
    }
    Ok(())
}
