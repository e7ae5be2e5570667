//! The statement layer both back ends share: SQL written once (SQLite's
//! spelling, `?N` placeholders), values and rows in neutral types. A back
//! end only runs statements ([`Db`]); every [`crate::store::StoreTx`] method
//! is written once over it (`store::sql`), and what really differs between
//! the databases is said once in [`Dialect`].

use std::sync::atomic::AtomicU64;

use crate::error::{Result, ServerError};

/// A value bound to, or read from, a statement: what the schemas hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Null,
    /// Every integer column (BOOLEAN ones too: 0 or 1).
    Int(i64),
    Text(String),
    Blob(Vec<u8>),
}

impl Value {
    fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Int(_) => "integer",
            Value::Text(_) => "text",
            Value::Blob(_) => "blob",
        }
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Value {
        Value::Int(v)
    }
}

impl From<i32> for Value {
    fn from(v: i32) -> Value {
        Value::Int(i64::from(v))
    }
}

impl From<u32> for Value {
    fn from(v: u32) -> Value {
        Value::Int(i64::from(v))
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Value {
        Value::Int(i64::from(v))
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::Text(v.to_string())
    }
}

impl From<&String> for Value {
    fn from(v: &String) -> Value {
        Value::Text(v.clone())
    }
}

impl From<String> for Value {
    fn from(v: String) -> Value {
        Value::Text(v)
    }
}

impl From<&[u8]> for Value {
    fn from(v: &[u8]) -> Value {
        Value::Blob(v.to_vec())
    }
}

impl From<&Vec<u8>> for Value {
    fn from(v: &Vec<u8>) -> Value {
        Value::Blob(v.clone())
    }
}

impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Value {
        Value::Blob(v)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}

/// A device-stated or counted `u64` as the database's signed integer:
/// above `i64::MAX` it is refused, never wrapped to a negative that would
/// sort before every real value (issue 25 bug 6).
pub fn int(v: u64) -> Result<Value> {
    Ok(Value::Int(i64::try_from(v).map_err(|_| {
        ServerError::Invalid(format!("{v} is beyond what the store keeps (2^63 - 1)"))
    })?))
}

/// A `u64` to look up by: beyond `i64::MAX` nothing is stored (None).
pub fn lookup(v: u64) -> Option<Value> {
    i64::try_from(v).ok().map(Value::Int)
}

/// A `u64` lower bound (`> v`): beyond `i64::MAX`, past every stored value.
pub fn after(v: u64) -> Value {
    Value::Int(i64::try_from(v).unwrap_or(i64::MAX))
}

/// A stored integer read back as the `u64` it was written from.
pub fn unsigned(v: i64) -> Result<u64> {
    u64::try_from(v).map_err(|_| ServerError::Corrupt(format!("stored {v} where a count belongs")))
}

/// `len` as a LIMIT.
pub fn limit(len: usize) -> Value {
    Value::Int(i64::try_from(len).unwrap_or(i64::MAX))
}

/// One result row, read column by column in the statement's order; a
/// column of the wrong type is a typed error, never a panic.
#[derive(Debug, Clone)]
pub struct Row {
    values: std::vec::IntoIter<Value>,
    at: usize,
}

impl Row {
    pub fn new(values: Vec<Value>) -> Row {
        Row {
            values: values.into_iter(),
            at: 0,
        }
    }

    fn next(&mut self) -> Result<Value> {
        self.at += 1;
        self.values
            .next()
            .ok_or_else(|| ServerError::Corrupt(format!("row has no column {}", self.at - 1)))
    }

    fn wrong(&self, wanted: &str, found: &Value) -> ServerError {
        ServerError::Corrupt(format!(
            "column {}: expected {wanted}, found {}",
            self.at - 1,
            found.kind()
        ))
    }

    pub fn opt_int(&mut self) -> Result<Option<i64>> {
        match self.next()? {
            Value::Null => Ok(None),
            Value::Int(n) => Ok(Some(n)),
            other => Err(self.wrong("integer", &other)),
        }
    }

    pub fn int(&mut self) -> Result<i64> {
        self.opt_int()?
            .ok_or_else(|| self.wrong("integer", &Value::Null))
    }

    pub fn u64(&mut self) -> Result<u64> {
        unsigned(self.int()?)
    }

    pub fn i32(&mut self) -> Result<i32> {
        let n = self.int()?;
        i32::try_from(n).map_err(|_| ServerError::Corrupt(format!("stored {n} is not 32-bit")))
    }

    pub fn bool(&mut self) -> Result<bool> {
        Ok(self.int()? != 0)
    }

    pub fn opt_text(&mut self) -> Result<Option<String>> {
        match self.next()? {
            Value::Null => Ok(None),
            Value::Text(t) => Ok(Some(t)),
            other => Err(self.wrong("text", &other)),
        }
    }

    pub fn text(&mut self) -> Result<String> {
        self.opt_text()?
            .ok_or_else(|| self.wrong("text", &Value::Null))
    }

    pub fn opt_blob(&mut self) -> Result<Option<Vec<u8>>> {
        match self.next()? {
            Value::Null => Ok(None),
            Value::Blob(b) => Ok(Some(b)),
            other => Err(self.wrong("blob", &other)),
        }
    }

    pub fn blob(&mut self) -> Result<Vec<u8>> {
        self.opt_blob()?
            .ok_or_else(|| self.wrong("blob", &Value::Null))
    }
}

/// What differs between the databases, said once each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// A lock a rule takes until its transaction ends.
#[derive(Debug, Clone, Copy)]
pub enum Lock<'a> {
    /// Audit appends from several servers take turns.
    AuditHead,
    /// Two devices cannot both claim one event id.
    EventId(&'a str),
    /// One employee's enrollments and attendance readings take turns.
    Employee(&'a str),
}

impl Dialect {
    /// The database's own clock in milliseconds: every server on the
    /// database prunes by it.
    pub fn now_ms(self) -> &'static str {
        match self {
            Dialect::Sqlite => "CAST(unixepoch('subsec') * 1000 AS INTEGER)",
            Dialect::Postgres => "(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::bigint",
        }
    }

    /// The suffix that locks the rows a write transaction read (SQLite's
    /// one writer already excludes everyone).
    pub fn for_update(self, write: bool) -> &'static str {
        match self {
            Dialect::Postgres if write => " FOR UPDATE",
            _ => "",
        }
    }

    /// The statement that takes `lock` (SQLite: none, the IMMEDIATE
    /// transaction holds the one write lock), with its parameters.
    pub fn lock(self, lock: Lock<'_>) -> Option<(&'static str, Vec<Value>)> {
        match (self, lock) {
            (Dialect::Sqlite, _) => None,
            (Dialect::Postgres, Lock::AuditHead) => Some((
                "SELECT pg_advisory_xact_lock(?1)",
                vec![Value::Int(AUDIT_LOCK)],
            )),
            (Dialect::Postgres, Lock::EventId(id)) => Some((
                "SELECT pg_advisory_xact_lock(hashtextextended('event_id:' || ?1, 0))",
                vec![id.into()],
            )),
            (Dialect::Postgres, Lock::Employee(id)) => Some((
                "SELECT pg_advisory_xact_lock(hashtextextended('employee:' || ?1, 0))",
                vec![id.into()],
            )),
        }
    }

    /// The statement in this dialect: PostgreSQL numbers placeholders
    /// `$N` and spells the empty blob `''::bytea`. Statements never hold
    /// `?` or `X''` inside string literals.
    pub fn translate(self, sql: &str) -> std::borrow::Cow<'_, str> {
        if self == Dialect::Sqlite {
            return sql.into();
        }
        let mut out = String::with_capacity(sql.len() + 8);
        let mut chars = sql.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '?' => out.push('$'),
                'X' if chars.peek() == Some(&'\'') => {
                    let mut ahead = chars.clone();
                    ahead.next();
                    if ahead.next() == Some('\'') {
                        chars = ahead;
                        out.push_str("''::bytea");
                    } else {
                        out.push('X');
                    }
                }
                c => out.push(c),
            }
        }
        out.into()
    }
}

/// Any constant: the PostgreSQL advisory lock audit appends take.
const AUDIT_LOCK: i64 = 0x7075_6e63_685f_6175; // "punch_au"

/// An open transaction of one back end: runs statements, nothing else.
pub trait Db {
    fn dialect(&self) -> Dialect;
    /// Whether this is a write transaction (row locks only there).
    fn write(&self) -> bool;
    fn query(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>>;
    /// Rows changed.
    fn execute(&self, sql: &str, params: &[Value]) -> Result<u64>;
    /// The store's count of punch and event rows read
    /// (`ServerStore::rows_read`).
    fn rows_read(&self) -> &AtomicU64;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_spelling() {
        assert_eq!(
            Dialect::Postgres.translate("UPDATE t SET r = X'' WHERE a = ?1 AND b > ?12"),
            "UPDATE t SET r = ''::bytea WHERE a = $1 AND b > $12"
        );
        assert_eq!(Dialect::Postgres.translate("SELECT X'01'"), "SELECT X'01'");
    }

    #[test]
    fn rows_refuse_wrong_types_and_counts_beyond_i64() {
        let mut row = Row::new(vec![Value::Int(-1), Value::Text("a".into())]);
        assert!(matches!(row.u64(), Err(ServerError::Corrupt(_))));
        assert!(matches!(row.blob(), Err(ServerError::Corrupt(_))));
        assert!(matches!(row.text(), Err(ServerError::Corrupt(_))));
        assert!(matches!(int(u64::MAX), Err(ServerError::Invalid(_))));
        assert_eq!(int(7).unwrap(), Value::Int(7));
    }
}
