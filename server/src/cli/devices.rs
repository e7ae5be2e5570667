//! `admin` commands: devices: list, unbind, rebind, one more device than
//! `max_devices` and where an employee stands, passkeys (list, revoke),
//! heads, kiosk codes.

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
    /// Allow the employee one device beyond the policy's max_devices (once).
    ApproveExtraDevice {
        employee: String,
        /// Why (kept in the audit log).
        #[arg(long)]
        reason: String,
    },
    /// The employee's max_devices, bound devices and extra-device approvals.
    DeviceSlots { employee: String },
    /// The employee's passkeys (browser punching), revoked ones too.
    Passkeys { employee: String },
    /// Revoke one of the employee's passkeys: it punches no more.
    RevokePasskey {
        employee: String,
        /// The passkey's device id (see `passkeys`).
        device: String,
        /// Why (kept in the audit log).
        #[arg(long)]
        reason: String,
    },
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
        Command::ApproveExtraDevice { employee, reason } => {
            let slots = admin.approve_extra_device(&employee, &reason)?;
            if json {
                return print_json(&slots);
            }
            say!(
                "employee {employee} may enroll one more device ({} bound, max_devices {})",
                slots.bound_devices.len(),
                slots.max_devices
            );
        }
        Command::DeviceSlots { employee } => {
            let slots = admin.device_slots(&employee)?;
            if json {
                return print_json(&slots);
            }
            say!(
                "employee {employee}: {} of max_devices {} bound: {}{}",
                slots.bound_devices.len(),
                slots.max_devices,
                slots.bound_devices.join(", "),
                if slots.rebind_approved {
                    " (rebind approved)"
                } else {
                    ""
                }
            );
            for a in &slots.approvals {
                let state = match (&a.used_by_device, a.used_at_ms) {
                    (Some(device), _) => format!("used by {device}"),
                    (None, Some(_)) => "used".to_string(),
                    (None, None) => "unused".to_string(),
                };
                say!(
                    "  approval {} by {} at {}: {} ({state})",
                    a.id,
                    a.approved_by,
                    a.approved_at_ms,
                    a.reason
                );
            }
        }
        Command::Passkeys { employee } => {
            let passkeys = admin.passkeys(&employee)?;
            if json {
                return print_json(&passkeys);
            }
            for p in passkeys {
                let state = match p.revoked_at_ms {
                    Some(at) => format!("revoked at {at}"),
                    None => "active".to_string(),
                };
                say!(
                    "{} registered at {}, {} punch(es), {state}",
                    p.device_id,
                    p.registered_at_ms,
                    p.head_seq
                );
            }
        }
        Command::RevokePasskey {
            employee,
            device,
            reason,
        } => {
            let passkey = admin.revoke_passkey(&employee, &device, &reason)?;
            if json {
                return print_json(&passkey);
            }
            say!("passkey {device} of employee {employee} revoked");
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
