//! Whether a punch needs a photo (`rules::photo`): one pure function of the
//! punch's evaluation, what is known about the device and the policy's
//! setting. The phone applies it before it signs; the server applies it to
//! the stored record and flags a punch that needed a photo and names none.

use crate::rules::evaluate::{Decision, Evaluation, FlagKind};
use crate::rules::photo::{PhotoMode, PhotoReason, PhotoSettings, PhotoTrigger};

/// What the judge knows about the device, beyond the evaluation. The phone
/// and the server each establish these from what they hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DeviceFacts {
    /// No earlier punch from this device (refused attempts do not count).
    pub new_device: bool,
    /// The punch key is a software key (phone), or the device's enrollment
    /// proved no more than `software` (server).
    pub software_key: bool,
}

/// Why a photo is required for a punch judged `evaluation` on a device with
/// `device`'s facts under `settings` (empty: none is). A rejected punch is
/// no punch: it never needs a photo.
pub fn photo_required(
    settings: &PhotoSettings,
    evaluation: &Evaluation,
    device: &DeviceFacts,
) -> Vec<PhotoReason> {
    if evaluation.decision == Decision::Rejected {
        return Vec::new();
    }
    match settings.mode {
        PhotoMode::Never => Vec::new(),
        PhotoMode::Always => vec![PhotoReason::Always],
        PhotoMode::StepUp => {
            let flagged = |kind: FlagKind| evaluation.flags.iter().any(|f| f.kind == kind);
            PhotoTrigger::ALL
                .into_iter()
                .filter(|t| settings.step_up_on.contains(t))
                .filter(|t| match t {
                    PhotoTrigger::NewDevice => device.new_device,
                    PhotoTrigger::Review => evaluation.decision == Decision::Review,
                    PhotoTrigger::MockLocation => flagged(FlagKind::MockLocation),
                    PhotoTrigger::ImpossibleTravel => flagged(FlagKind::ImpossibleTravel),
                    PhotoTrigger::SoftwareKey => device.software_key,
                })
                .map(PhotoReason::StepUp)
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::evaluate::Flag;
    use crate::rules::policy::{Action, Settings};

    fn judged(decision: Decision, flags: &[FlagKind]) -> Evaluation {
        Evaluation {
            decision,
            site_id: Some("hq".into()),
            policy_version: 1,
            sites: Vec::new(),
            flags: flags
                .iter()
                .map(|&kind| Flag {
                    kind,
                    action: Action::Review,
                    detail: String::new(),
                })
                .collect(),
            nearest_site: None,
            reasons: Vec::new(),
            attendance: None,
        }
    }

    fn step_up() -> PhotoSettings {
        PhotoSettings {
            mode: PhotoMode::StepUp,
            ..PhotoSettings::default()
        }
    }

    #[test]
    fn the_default_never_asks_and_old_policies_parse() {
        let settings: Settings = serde_json::from_str("{}").unwrap();
        assert_eq!(settings.photo, PhotoSettings::default());
        let risky = judged(Decision::Review, &[FlagKind::MockLocation]);
        let facts = DeviceFacts {
            new_device: true,
            software_key: true,
        };
        assert!(photo_required(&settings.photo, &risky, &facts).is_empty());
    }

    #[test]
    fn always_asks_unless_refused() {
        let always = PhotoSettings {
            mode: PhotoMode::Always,
            ..PhotoSettings::default()
        };
        let facts = DeviceFacts::default();
        assert_eq!(
            photo_required(&always, &judged(Decision::Accepted, &[]), &facts),
            vec![PhotoReason::Always]
        );
        assert!(photo_required(&always, &judged(Decision::Rejected, &[]), &facts).is_empty());
    }

    #[test]
    fn step_up_names_each_risk_that_fired() {
        let facts = DeviceFacts::default();
        assert!(photo_required(&step_up(), &judged(Decision::Accepted, &[]), &facts).is_empty());
        let risky = judged(
            Decision::Review,
            &[FlagKind::MockLocation, FlagKind::ImpossibleTravel],
        );
        let all = DeviceFacts {
            new_device: true,
            software_key: true,
        };
        assert_eq!(
            photo_required(&step_up(), &risky, &all),
            PhotoTrigger::ALL.map(PhotoReason::StepUp).to_vec()
        );
        // Only the listed triggers count.
        let only_new = PhotoSettings {
            step_up_on: vec![PhotoTrigger::NewDevice],
            ..step_up()
        };
        assert!(photo_required(&only_new, &risky, &facts).is_empty());
        assert_eq!(
            photo_required(&only_new, &risky, &all),
            vec![PhotoReason::StepUp(PhotoTrigger::NewDevice)]
        );
    }
}
