//! How much the server can trust that a device key lives where it should:
//! what enrollment proved, and what an employer's policy requires.

use serde::{Deserialize, Serialize};

/// Ordered from weakest to strongest, so a policy minimum is a comparison
/// (`level >= minimum`). The attestation verifier (`punch-attest`) gives
/// these levels too.
///
/// Apple App Attest sits below the Android hardware levels because what it
/// attests is the app and its own Secure Enclave key, not an arbitrary key
/// of ours with its hardware properties and boot state.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum AssuranceLevel {
    /// Nothing proved: a software key, an emulator or a copied database could hold it.
    #[default]
    Software,
    /// Apple App Attest: a genuine app instance on a real Apple device holds an
    /// attested key bound to the device key (which CryptoKit keeps in the Secure Enclave).
    AttestedApp,
    /// Android Key Attestation: the key lives in the phone's trusted execution environment.
    HardwareTee,
    /// Android Key Attestation: the key lives in a separate secure chip (StrongBox).
    HardwareStrongbox,
}

impl AssuranceLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            AssuranceLevel::Software => "software",
            AssuranceLevel::AttestedApp => "attested_app",
            AssuranceLevel::HardwareTee => "hardware_tee",
            AssuranceLevel::HardwareStrongbox => "hardware_strongbox",
        }
    }

    pub fn parse(text: &str) -> Option<AssuranceLevel> {
        [
            AssuranceLevel::Software,
            AssuranceLevel::AttestedApp,
            AssuranceLevel::HardwareTee,
            AssuranceLevel::HardwareStrongbox,
        ]
        .into_iter()
        .find(|l| l.as_str() == text)
    }
}

impl std::fmt::Display for AssuranceLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the server does with a device below the policy's minimum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BelowMinimum {
    /// Enrollment is refused with `assurance_too_low`.
    #[default]
    Refuse,
    /// Enrollment is accepted and every punch from the device is flagged for review.
    Review,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_order_and_spell_as_on_the_wire() {
        assert!(AssuranceLevel::Software < AssuranceLevel::AttestedApp);
        assert!(AssuranceLevel::AttestedApp < AssuranceLevel::HardwareTee);
        assert!(AssuranceLevel::HardwareTee < AssuranceLevel::HardwareStrongbox);
        for l in [
            AssuranceLevel::Software,
            AssuranceLevel::AttestedApp,
            AssuranceLevel::HardwareTee,
            AssuranceLevel::HardwareStrongbox,
        ] {
            assert_eq!(AssuranceLevel::parse(l.as_str()), Some(l));
            assert_eq!(crate::text::serde_name(&l), l.as_str());
        }
        assert_eq!(AssuranceLevel::parse("root"), None);
    }
}
