//! Privacy on the phone, for Kotlin and Swift (the data key's wrapper is in
//! `key_wrapper`): the notice, revealing the
//! exact evidence behind a minimised record, retention and the employee's
//! export. See README.md, "Privacy".

use punch_core::DataKeyStatus as CoreStatus;
use punch_model::messages::{Locale, review_message};

use crate::client::PunchClient;
use crate::error::PunchError;
use crate::error::unsigned;
use crate::types::Signed;

/// Whether record payloads are sealed at rest.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum DataKeyState {
    /// No wrapper given: payloads are stored in clear.
    Off,
    Ready {
        key_id: String,
    },
    /// The platform cannot unwrap the key: stored records still upload;
    /// call `rotate_data_key` to punch again.
    Unavailable {
        key_id: String,
        reason: String,
    },
}

/// What the server found on revealed evidence.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RevealOutcome {
    pub seq: i64,
    /// What a manager should look at, each as a code with its arguments
    /// (`localized_text` renders one); empty: the evidence supports the verdict.
    pub review_flags: Vec<crate::messages::Message>,
}

/// The employee's export built on the phone.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PersonalExport {
    /// UTF-8 JSON.
    pub json: Vec<u8>,
    pub summary: String,
}

#[uniffi::export]
impl PunchClient {
    /// The notice version to show the employee, while not acknowledged.
    pub async fn notice_required(&self) -> Result<Option<String>, PunchError> {
        self.run(move |engine| Ok(engine.notice_required()?)).await
    }

    /// The employee saw notice `version` (the app showed it).
    pub async fn acknowledge_notice(&self, version: String) -> Result<(), PunchError> {
        self.run(move |engine| Ok(engine.acknowledge_notice(&version)?))
            .await
    }

    /// The exact evidence behind the record at `seq` (None: it keeps all).
    pub async fn evidence_opening(&self, seq: i64) -> Result<Option<Vec<u8>>, PunchError> {
        self.run(move |engine| Ok(engine.evidence_opening(unsigned(seq, "seq")?)?))
            .await
    }

    /// Reveals that evidence to the server to settle a dispute (the
    /// employee's choice). Blocking: call it off the main thread.
    pub async fn reveal_evidence(&self, seq: i64) -> Result<RevealOutcome, PunchError> {
        self.run(move |engine| {
            let answer = engine.reveal_evidence(unsigned(seq, "seq")?)?;
            Ok(RevealOutcome {
                seq: answer.seq.signed(),
                review_flags: answer
                    .review_flags
                    .iter()
                    .map(|f| review_message(f, Locale::English).into())
                    .collect(),
            })
        })
        .await
    }

    pub fn data_key_state(&self) -> DataKeyState {
        match self.engine.data_key_status() {
            CoreStatus::Off => DataKeyState::Off,
            CoreStatus::Ready { key_id } => DataKeyState::Ready { key_id },
            CoreStatus::Unavailable { key_id, reason } => {
                DataKeyState::Unavailable { key_id, reason }
            }
        }
    }

    /// A new data key after the platform lost its key; answers its id.
    pub async fn rotate_data_key(&self) -> Result<String, PunchError> {
        self.run(move |engine| Ok(engine.rotate_data_key()?)).await
    }

    /// Purges records the server acknowledged longer ago than the policy
    /// keeps them (also done after each good sync); answers how many.
    pub async fn purge_expired(&self) -> Result<i64, PunchError> {
        self.run(move |engine| Ok(engine.purge_expired()?.records.signed()))
            .await
    }

    /// Everything this phone holds about the employee.
    pub async fn export_personal_data(&self) -> Result<PersonalExport, PunchError> {
        self.run(move |engine| {
            let export = engine.export_personal_data()?;
            Ok(PersonalExport {
                json: export.json,
                summary: export.summary,
            })
        })
        .await
    }

    /// The server's export of everything it holds about the employee (JSON).
    pub async fn fetch_server_export(&self) -> Result<Vec<u8>, PunchError> {
        self.run(move |engine| Ok(engine.fetch_server_export()?))
            .await
    }
}
