//! `admin` commands: punch PINs: resets, contacts, kiosk PINs, identity secrets.

use clap::Subcommand;
use punch_server::Admin;

use super::{CmdResult, print_json};

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Reset an employee's punch PIN: their device fetches the reset token.
    PinReset { employee: String },
    /// The employee's PIN lock as the server derives it from uploaded PIN events (JSON).
    PinStatus { employee: String },
    /// Where PIN reset codes go: the employee's e-mail or phone.
    PinContact {
        employee: String,
        #[arg(long, conflicts_with = "phone", required_unless_present = "phone")]
        email: Option<String>,
        #[arg(long)]
        phone: Option<String>,
    },
    /// Assign EMPLOYEE to SITE's kiosks with a kiosk PIN (kept hashed; publish afterwards).
    KioskPin {
        site: String,
        employee: String,
        #[arg(long)]
        pin: String,
    },
    /// The identity secret for self-service PIN resets (e.g. last ID digits); kept hashed.
    PinSecret {
        employee: String,
        #[arg(long)]
        secret: String,
    },
}

pub(crate) fn run(admin: &Admin, command: Command) -> CmdResult {
    match command {
        Command::PinReset { employee } => {
            admin.order_pin_reset(&employee)?;
            say!("PIN reset ordered for {employee}: their device fetches it within 7 days");
        }
        Command::PinStatus { employee } => {
            print_json(&admin.pin_lock_state(&employee)?)?;
        }
        Command::PinContact {
            employee,
            email,
            phone,
        } => {
            let (channel, address) = match (email, phone) {
                (Some(e), _) => ("email", e),
                (None, Some(p)) => ("phone", p),
                (None, None) => return Err("give --email or --phone".into()),
            };
            admin.set_pin_contact(&employee, channel, &address)?;
            say!("PIN reset codes for {employee} go to their {channel}");
        }
        Command::KioskPin {
            site,
            employee,
            pin,
        } => {
            admin.set_kiosk_pin(&site, &employee, &pin)?;
            say!("{employee} punches on {site}'s kiosks (publish to send it to them)");
        }
        Command::PinSecret { employee, secret } => {
            admin.set_pin_identity_secret(&employee, &secret)?;
            say!("self-service identity secret set for {employee}");
        }
    }
    Ok(())
}
