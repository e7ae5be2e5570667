//! The columns that hold personal evidence, which the at-rest layer
//! (`crate::at_rest`) seals, laid out so both backends page through and
//! rewrite them with the same SQL (`admin at-rest-reseal`).

/// A column the at-rest layer seals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SealableColumn {
    PunchRecord,
    EventRecord,
    EventBody,
    RejectedRecord,
    Attachment,
    DataKey,
    /// The server's own secrets in `meta` (see [`SECRET_META`]).
    MetaSecret,
    StaffTotp,
}

/// The `meta` rows that are secrets: whoever holds them signs policies
/// (and the field-work addenda) every app trusts, mints time tokens, or
/// forges PIN-reset codes' MACs. Sealed like the evidence.
pub const SECRET_META: [&str; 4] = [
    "policy_key_pkcs8",
    "time_token_secret",
    "pin_code_mac_key",
    "enroll_code_key",
];

/// One part of a row's key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum KeyPart {
    Text(String),
    Int(i64),
}

/// A row named by its key columns, in [`SealableColumn::key_columns`] order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct RowKey(pub Vec<KeyPart>);

impl RowKey {
    pub fn text(&self, i: usize) -> &str {
        match self.0.get(i) {
            Some(KeyPart::Text(t)) => t,
            _ => "",
        }
    }

    pub fn int(&self, i: usize) -> i64 {
        match self.0.get(i) {
            Some(KeyPart::Int(n)) => *n,
            _ => 0,
        }
    }
}

/// A value as stored (sealed or clear; empty when purged) and its row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredValue {
    pub row: RowKey,
    pub value: Vec<u8>,
}

/// The type of a key column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    Text,
    Int,
}

impl SealableColumn {
    pub const ALL: [SealableColumn; 8] = [
        SealableColumn::PunchRecord,
        SealableColumn::EventRecord,
        SealableColumn::EventBody,
        SealableColumn::RejectedRecord,
        SealableColumn::Attachment,
        SealableColumn::DataKey,
        SealableColumn::MetaSecret,
        SealableColumn::StaffTotp,
    ];

    /// `table.column`, for reports.
    pub fn name(self) -> &'static str {
        match self {
            SealableColumn::PunchRecord => "punches.record",
            SealableColumn::EventRecord => "events.record",
            SealableColumn::EventBody => "events.body",
            SealableColumn::RejectedRecord => "rejected.record",
            SealableColumn::Attachment => "attachments.body",
            SealableColumn::DataKey => "device_data_keys.key",
            SealableColumn::MetaSecret => "meta.value",
            SealableColumn::StaffTotp => "staff.totp_secret",
        }
    }

    pub fn table(self) -> &'static str {
        self.name().split('.').next().unwrap_or_default()
    }

    pub fn column(self) -> &'static str {
        self.name().split('.').nth(1).unwrap_or_default()
    }

    /// Whether the column is TEXT (its value read and written as UTF-8).
    pub fn is_text(self) -> bool {
        self == SealableColumn::EventBody
    }

    /// The columns that name a row, in paging order (a refused row by
    /// (device, hash, id): the hash is what its value is bound to).
    pub fn key_columns(self) -> &'static [(&'static str, KeyType)] {
        use KeyType::{Int, Text};
        match self {
            SealableColumn::PunchRecord
            | SealableColumn::EventRecord
            | SealableColumn::EventBody => &[("device_id", Text), ("seq", Int)],
            SealableColumn::RejectedRecord => &[("device_id", Text), ("hash", Text), ("id", Int)],
            SealableColumn::Attachment => &[("employee_id", Text), ("sha256", Text)],
            SealableColumn::DataKey => &[("device_id", Text), ("key_id", Text)],
            SealableColumn::MetaSecret => &[("key", Text)],
            SealableColumn::StaffTotp => &[("username", Text)],
        }
    }

    /// Rows of the table that are not this column's (meta: all but the
    /// secrets), as a condition; literal names only, no input.
    fn only(self) -> Option<String> {
        (self == SealableColumn::MetaSecret).then(|| {
            let names: Vec<String> = SECRET_META.iter().map(|k| format!("'{k}'")).collect();
            format!("key IN ({})", names.join(", "))
        })
    }

    /// `SELECT keys…, value … WHERE (keys) > (cursor) ORDER BY keys LIMIT n`,
    /// with `ph(i)` the backend's i-th placeholder (1-based). With no
    /// cursor the only placeholder is the limit.
    pub fn page_sql(self, with_cursor: bool, ph: impl Fn(usize) -> String) -> String {
        let keys: Vec<&str> = self.key_columns().iter().map(|(c, _)| *c).collect();
        let list = keys.join(", ");
        let (mut conditions, limit) = if with_cursor {
            let marks: Vec<String> = (1..=keys.len()).map(&ph).collect();
            (
                vec![format!("({list}) > ({})", marks.join(", "))],
                ph(keys.len() + 1),
            )
        } else {
            (Vec::new(), ph(1))
        };
        conditions.extend(self.only());
        let filter = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        format!(
            "SELECT {list}, {value} FROM {table} {filter} ORDER BY {list} LIMIT {limit}",
            value = self.column(),
            table = self.table(),
        )
    }

    /// `UPDATE … SET value = new WHERE keys = row AND value = old`: a value
    /// changed meanwhile (purged, erased) is left as it is.
    pub fn replace_sql(self, ph: impl Fn(usize) -> String) -> String {
        let keys = self.key_columns();
        let mut filter: Vec<String> = keys
            .iter()
            .enumerate()
            .map(|(i, (c, _))| format!("{c} = {}", ph(i + 2)))
            .collect();
        filter.push(format!("{} = {}", self.column(), ph(keys.len() + 2)));
        format!(
            "UPDATE {table} SET {value} = {new} WHERE {filter}",
            table = self.table(),
            value = self.column(),
            new = ph(1),
            filter = filter.join(" AND "),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_paging_and_replacing_sql_names_the_right_columns() {
        let pg = |i: usize| format!("${i}");
        assert_eq!(
            SealableColumn::PunchRecord.page_sql(true, pg),
            "SELECT device_id, seq, record FROM punches WHERE (device_id, seq) > ($1, $2) \
             ORDER BY device_id, seq LIMIT $3"
        );
        assert_eq!(
            SealableColumn::Attachment.page_sql(false, pg),
            "SELECT employee_id, sha256, body FROM attachments  ORDER BY employee_id, sha256 LIMIT $1"
        );
        assert_eq!(
            SealableColumn::MetaSecret.page_sql(true, pg),
            "SELECT key, value FROM meta WHERE (key) > ($1) AND key IN ('policy_key_pkcs8', \
             'time_token_secret', 'pin_code_mac_key', 'enroll_code_key') ORDER BY key LIMIT $2"
        );
        assert_eq!(
            SealableColumn::DataKey.replace_sql(|i| format!("?{i}")),
            "UPDATE device_data_keys SET key = ?1 WHERE device_id = ?2 AND key_id = ?3 AND key = ?4"
        );
    }
}
