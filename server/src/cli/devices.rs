//! `admin` commands: devices: list, unbind, rebind, heads, kiosk codes.

use clap::Subcommand;
use punch_server::Admin;

use super::{CmdResult, print_json};

#[derive(Subcommand)]
pub(crate) enum Command {
    /// List devices.
    Devices,
    /// Stop accepting a device's key.
    Unbind { device: String },
    /// Allow the employee's next enrollment to replace the bound device.
    ApproveRebind { employee: String },
    /// Print a device's accepted chain head.
    Head { device: String },
    /// A one-time enrollment code for a kiosk tablet at SITE (the kiosk account is made once).
    KioskCode {
        site: String,
        #[arg(long, default_value_t = 60)]
        ttl_minutes: u64,
    },
}

pub(crate) fn run(admin: &Admin, json: bool, command: Command) -> CmdResult {
    match command {
        Command::Devices => {
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
        Command::Unbind { device } => {
            admin.unbind_device(&device)?;
            say!("device {device} unbound");
        }
        Command::ApproveRebind { employee } => {
            admin.approve_rebind(&employee)?;
            say!("employee {employee} may enroll a replacement device");
        }
        Command::Head { device } => {
            let (seq, hash) = admin.head(&device)?;
            say!("{seq} {hash}");
        }
        Command::KioskCode { site, ttl_minutes } => {
            let code = admin.kiosk_enrollment_code(
                &site,
                std::time::Duration::from_secs(ttl_minutes.saturating_mul(60)),
            )?;
            say!("{code}");
        }
    }
    Ok(())
}
