//! `admin` commands: punches, refused records, requests and punch-key rotations.

use clap::Subcommand;
use punch_server::Admin;

use super::{CmdResult, opt, print_json, shown};

#[derive(Subcommand)]
pub(crate) enum Command {
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
}

pub(crate) fn run(admin: &Admin, json: bool, command: Command) -> CmdResult {
    match command {
        Command::Punches => {
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
        Command::Rejected => {
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
        Command::Requests { status } => {
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
        Command::Approve {
            event_id,
            comment,
            by,
        } => {
            let r = admin.decide_request(&event_id, true, &by, &comment)?;
            say!("{} {} approved", r.event_type, shown(&r.event_id));
        }
        Command::Deny {
            event_id,
            comment,
            by,
        } => {
            let r = admin.decide_request(&event_id, false, &by, &comment)?;
            say!("{} {} denied", r.event_type, shown(&r.event_id));
        }
        Command::KeyRotations => {
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
        Command::ApproveKey {
            event_id,
            comment,
            by,
        } => {
            let r = admin.decide_key_rotation(&event_id, true, &by, &comment)?;
            say!("key rotation {} approved", shown(&r.event_id));
        }
        Command::DenyKey {
            event_id,
            comment,
            by,
        } => {
            let r = admin.decide_key_rotation(&event_id, false, &by, &comment)?;
            say!("key rotation {} denied", shown(&r.event_id));
        }
    }
    Ok(())
}
