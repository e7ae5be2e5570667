//! The calls a punch screen and a history screen need: "where do I stand"
//! in one call (its change notification is `subscribe`) and history pages
//! newest first.

use crate::client::PunchClient;
use crate::error::{PunchError, unsigned};
use crate::standing::Standing;
use crate::types::{HistoryEntry, Signed};

/// Longest history page.
const MAX_PAGE: u32 = 1_000;

/// A page of history, newest first; pass `next_before_seq` for the older ones.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct HistoryPage {
    pub entries: Vec<HistoryEntry>,
    /// None when this page reaches the oldest punch.
    pub next_before_seq: Option<i64>,
}

#[uniffi::export]
impl PunchClient {
    /// Where the employee stands now; `subscribe` hears every change.
    pub async fn standing(&self) -> Result<Standing, PunchError> {
        self.run(|engine| Ok(engine.standing()?.into())).await
    }

    /// Stored punches, newest first: `before_seq` None for the first page,
    /// then the page's `next_before_seq`.
    pub async fn history(
        &self,
        before_seq: Option<i64>,
        limit: i32,
    ) -> Result<HistoryPage, PunchError> {
        self.run(move |engine| {
            if limit == 0 || limit > MAX_PAGE.signed() {
                return Err(PunchError::invalid(format!(
                    "limit must be 1..={MAX_PAGE}, not {limit}"
                )));
            }
            // One more than asked: a full page says whether older ones exist.
            let before_seq = before_seq.map(|s| unsigned(s, "before_seq")).transpose()?;
            let mut rows = engine
                .punches_newest_first(before_seq, unsigned(i64::from(limit) + 1, "limit")?)?;
            let more = rows.len() > limit as usize;
            rows.truncate(limit as usize);
            let entries: Vec<HistoryEntry> = rows.into_iter().map(HistoryEntry::from).collect();
            let next_before_seq = more.then(|| entries.last().map(|e| e.seq)).flatten();
            Ok(HistoryPage {
                entries,
                next_before_seq,
            })
        })
        .await
    }
}
