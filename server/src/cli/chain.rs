//! `admin` commands: chains: the audit chain and devices' punch chains.

use clap::Subcommand;
use punch_server::Admin;

use super::{CmdResult, print_json};

#[derive(Subcommand)]
pub(crate) enum Command {
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
    /// Re-verify a device's stored chain (purged links by their hashes);
    /// exit 1 when it is broken.
    VerifyChain { device: String },
}

pub(crate) fn run(admin: &Admin, command: Command) -> CmdResult {
    match command {
        Command::AuditVerify { anchor } => {
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
        Command::AcknowledgeBreak { device, reason } => {
            let ack = admin.acknowledge_break(&device, &reason)?;
            say!(
                "device {device}: break acknowledged at seq {} (ack {})",
                ack.head_seq,
                ack.id
            );
        }
        Command::VerifyChain { device } => verify_chain(admin, &device)?,
    }
    Ok(())
}

/// `verify-chain`: the device's stored chain walked again; exit 1 when it
/// is broken. (The walk itself is `Admin::verify_chain`'s.)
fn verify_chain(admin: &Admin, device: &str) -> CmdResult {
    let report = admin.verify_chain(device)?;
    print_json(&report)?;
    if !report.is_intact() {
        std::process::exit(1);
    }
    Ok(())
}
