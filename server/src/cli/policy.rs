//! `admin` commands: what gets published to devices: sites, settings, attestation, the policy key.

use std::path::PathBuf;
use std::time::Duration;

use clap::Subcommand;
use punch_model::rules::policy::{Settings, Site};
use punch_server::Admin;

use super::{CmdResult, print_json, read_json};

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Show, or replace from a JSON file, what attestations enrollment accepts.
    AttestationConfig {
        #[arg(long)]
        json: Option<PathBuf>,
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
}

pub(crate) fn run(admin: &Admin, command: Command) -> CmdResult {
    match command {
        Command::AttestationConfig { json: path } => {
            if let Some(path) = path {
                admin.set_attestation_config(read_json(&path)?)?;
            }
            print_json(&admin.attestation_config()?)?;
        }
        Command::AddSite { json: path } => {
            let site: Site = read_json(&path)?;
            let id = site.id.clone();
            admin.upsert_site(site)?;
            say!("site {id} saved (publish to send it to devices)");
        }
        Command::RemoveSite { id } => {
            admin.remove_site(&id)?;
            say!("site {id} removed (publish to send the change to devices)");
        }
        Command::Settings { json: path } => {
            let settings: Settings = read_json(&path)?;
            admin.set_settings(settings)?;
            say!("settings saved (publish to send them to devices)");
        }
        Command::Publish { ttl_days } => {
            let ttl = Duration::from_secs(ttl_days.saturating_mul(86_400));
            say!("published policy version {}", admin.publish_policy(ttl)?);
        }
        Command::PolicyKey => {
            say!(
                "{}",
                punch_model::wire::b64::encode(&admin.policy_public_key()?)
            );
        }
    }
    Ok(())
}
