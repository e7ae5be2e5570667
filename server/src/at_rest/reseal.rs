//! `admin at-rest-reseal`: seals every evidence value that is clear (rows
//! written before keys were configured) or sealed under a key other than
//! the sealing one (rotation), a page per transaction so a running server
//! is never blocked for long. A value that changed meanwhile (purged,
//! erased) is left alone; one that does not open is reported, never lost.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::error::Result;
use crate::store::sealable::{RowKey, SealableColumn, StoredValue};
use crate::store::{ServerStore, StoreExt, StoreTx};

use super::AtRestKeys;
use super::value::{self, Slot};

/// Rows per transaction.
const PAGE: u32 = 200;
/// Unopenable rows named in the report (the count is always whole).
const MAX_NAMED: usize = 20;

/// What one column held and what the job did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ColumnReport {
    pub column: &'static str,
    pub rows: u64,
    /// Empty (purged or never set): nothing to seal.
    pub empty: u64,
    /// Already sealed with the sealing key.
    pub current: u64,
    /// Sealed now: clear before, or sealed with an older key.
    pub resealed: u64,
    /// Found as they were, by key id ("clear" for unsealed).
    pub found: BTreeMap<String, u64>,
    /// Sealed with a key not configured, or altered: left as they are.
    pub unopenable: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ResealReport {
    pub sealing_key: String,
    /// False for a dry run: `resealed` counts what would be sealed.
    pub applied: bool,
    pub columns: Vec<ColumnReport>,
    /// The first unopenable rows, with why.
    pub unopenable: Vec<String>,
}

impl ResealReport {
    pub fn resealed(&self) -> u64 {
        self.columns.iter().map(|c| c.resealed).sum()
    }

    pub fn unopenable(&self) -> u64 {
        self.columns.iter().map(|c| c.unopenable).sum()
    }
}

/// Reseals every evidence column of `store` under `keys`' sealing key
/// (`apply` false: only counts what it would do). `store` may be the raw
/// backend or the sealing layer: this reads and writes values as stored.
pub fn reseal(store: &dyn ServerStore, keys: &AtRestKeys, apply: bool) -> Result<ResealReport> {
    let mut report = ResealReport {
        sealing_key: keys.sealing().0.to_string(),
        applied: apply,
        ..Default::default()
    };
    for column in SealableColumn::ALL {
        let mut col = ColumnReport {
            column: column.name(),
            ..Default::default()
        };
        let mut after: Option<RowKey> = None;
        loop {
            // Counted on copies, kept once the page commits: a page the
            // database aborts runs again (`StoreExt::write`).
            let (page, counted, named) = store.write(|tx| {
                let (mut col, mut named) = (col.clone(), report.unopenable.clone());
                let page = tx.privacy().stored_values(column, after.as_ref(), PAGE)?;
                for stored in &page {
                    let job = Job {
                        keys,
                        column,
                        apply,
                    };
                    job.run(tx, stored, &mut col, &mut named)?;
                }
                Ok((page, col, named))
            })?;
            (col, report.unopenable) = (counted, named);
            let Some(last) = page.last() else { break };
            after = Some(last.row.clone());
            if page.len() < PAGE as usize {
                break;
            }
        }
        report.columns.push(col);
    }
    if apply {
        store.scrub()?;
    }
    Ok(report)
}

struct Job<'k> {
    keys: &'k AtRestKeys,
    column: SealableColumn,
    apply: bool,
}

impl Job<'_> {
    fn run(
        &self,
        tx: &dyn StoreTx,
        stored: &StoredValue,
        col: &mut ColumnReport,
        named: &mut Vec<String>,
    ) -> Result<()> {
        let Job {
            keys,
            column,
            apply,
        } = *self;
        col.rows += 1;
        let bytes = if column.is_text() {
            value::text_bytes(&String::from_utf8_lossy(&stored.value))
        } else {
            stored.value.clone()
        };
        // Judged on the value as stored: a text value whose base64 is broken
        // decodes to nothing, and must be reported unopenable, not empty.
        if stored.value.is_empty() || (column.is_text() && stored.value == b"{}") {
            // An erased event body is `{}`: nothing personal left to seal.
            col.empty += 1;
            return Ok(());
        }
        let found = value::sealed_with(&bytes).unwrap_or("clear").to_string();
        *col.found.entry(found).or_default() += 1;
        if value::is_current(keys, &bytes) {
            col.current += 1;
            return Ok(());
        }
        let slot = slot_of(column, &stored.row);
        let new = if column.is_text() {
            let text = String::from_utf8_lossy(&stored.value).into_owned();
            value::open_text(keys, &slot, text)
                .and_then(|plain| value::seal_text(keys, &slot, &plain))
                .map(String::into_bytes)
        } else {
            value::open(keys, &slot, stored.value.clone())
                .and_then(|plain| value::seal(keys, &slot, &plain))
        };
        match new {
            Ok(new) => {
                if !apply
                    || tx
                        .privacy()
                        .replace_value(column, &stored.row, &stored.value, &new)?
                {
                    col.resealed += 1;
                }
            }
            Err(e) => {
                col.unopenable += 1;
                if named.len() < MAX_NAMED {
                    named.push(format!("{}: {e}", column.name()));
                }
            }
        }
        Ok(())
    }
}

/// The row a value is bound to, from its key columns.
pub fn slot_of(column: SealableColumn, row: &RowKey) -> Slot<'_> {
    match column {
        SealableColumn::PunchRecord | SealableColumn::EventRecord => Slot::ChainRecord {
            device_id: row.text(0),
            seq: row.int(1) as u64,
        },
        SealableColumn::EventBody => Slot::EventBody {
            device_id: row.text(0),
            seq: row.int(1) as u64,
        },
        SealableColumn::RejectedRecord => Slot::RejectedRecord {
            device_id: row.text(0),
            hash: row.text(1),
        },
        SealableColumn::Attachment => Slot::Attachment {
            sha256: row.text(1),
        },
        SealableColumn::DataKey => Slot::DataKey {
            device_id: row.text(0),
            key_id: row.text(1),
        },
        SealableColumn::MetaSecret => Slot::Secret { name: row.text(0) },
        SealableColumn::StaffTotp => Slot::StaffTotp {
            username: row.text(0),
        },
    }
}
