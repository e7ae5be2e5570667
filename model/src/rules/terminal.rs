//! Which terminals a site takes punches from (`phone`, `kiosk`, `browser`)
//! and how much each one's key must prove: the site's list and its one
//! rule ([`Terminals::admit`]); `rules::terminal_verdict` applies it to a
//! verdict, for the phone, the server's ingest and the browser punch alike.

use serde::{Deserialize, Serialize};

use crate::rules::assurance::AssuranceLevel;

/// Where a punch was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Terminal {
    /// The employee's own phone (this library).
    Phone,
    /// A shared phone or tablet at a site, punching for whoever enters a PIN.
    Kiosk,
    /// A computer's browser with a passkey (the server's `/punch/` page).
    Browser,
}

impl Terminal {
    pub fn as_str(self) -> &'static str {
        match self {
            Terminal::Phone => "phone",
            Terminal::Kiosk => "kiosk",
            Terminal::Browser => "browser",
        }
    }
}

impl std::fmt::Display for Terminal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One terminal a site accepts, and the least assurance its key must have
/// (none: any).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TerminalRule {
    pub terminal: Terminal,
    // Always written: the prepared-policy snapshot (postcard) cannot skip.
    #[serde(default)]
    pub min_assurance: Option<AssuranceLevel>,
}

/// A site's accepted terminals. Empty: every terminal at any assurance (the
/// behaviour before terminals were named).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Terminals(pub Vec<TerminalRule>);

/// Why a site does not take a punch from a terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case", tag = "refusal")]
pub enum TerminalRefusal {
    #[error("the site does not accept {terminal} punches")]
    NotAccepted { terminal: Terminal },
    #[error(
        "the site accepts {terminal} punches from a key proven {required} or better, this one is {assurance}"
    )]
    AssuranceTooLow {
        terminal: Terminal,
        assurance: AssuranceLevel,
        required: AssuranceLevel,
    },
}

impl Terminals {
    pub fn accepts_all(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether a punch from `terminal` whose key proved `assurance` is taken.
    /// `None`: the level is not known where this runs (a phone judging
    /// itself); only the terminal is checked, the server checks the level.
    pub fn admit(
        &self,
        terminal: Terminal,
        assurance: Option<AssuranceLevel>,
    ) -> Result<(), TerminalRefusal> {
        if self.accepts_all() {
            return Ok(());
        }
        let rule = self
            .0
            .iter()
            .find(|r| r.terminal == terminal)
            .ok_or(TerminalRefusal::NotAccepted { terminal })?;
        match (rule.min_assurance, assurance) {
            (Some(required), Some(assurance)) if assurance < required => {
                Err(TerminalRefusal::AssuranceTooLow {
                    terminal,
                    assurance,
                    required,
                })
            }
            _ => Ok(()),
        }
    }
}
