//! Query strings and bodies: paging, dates, and JSON bodies within a size.

use axum::body::Bytes;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::admin_api::error::AdminError;

pub const DEFAULT_LIMIT: usize = 50;
pub const MAX_LIMIT: usize = 500;
/// Admin request bodies are small: a comment, a reason, a staff account.
pub const MAX_BODY: usize = 16 << 10;

/// Keyset paging of a list read in SQL: at most `limit` rows (≤ 500),
/// after `cursor` (the previous page's `next_cursor`).
#[derive(Debug, Default, Deserialize)]
pub struct CursorPaging {
    pub limit: Option<usize>,
    pub cursor: Option<String>,
}

impl CursorPaging {
    pub fn limit(&self) -> usize {
        self.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT)
    }

    /// The cursor, decoded by `decode` (a cursor this server did not give
    /// is a bad request).
    pub fn cursor<C>(&self, decode: impl Fn(&str) -> Option<C>) -> Result<Option<C>, AdminError> {
        match self.cursor.as_deref() {
            None | Some("") => Ok(None),
            Some(text) => decode(text)
                .map(Some)
                .ok_or_else(|| AdminError::bad_request("cursor is not one this server gave")),
        }
    }
}

/// One page of a list read in SQL: no total (counting would read every
/// matching row); `next_cursor` while more may follow.
#[derive(Debug, Clone, Serialize)]
pub struct CursorPage<T> {
    pub items: Vec<T>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    pub server_time_ms: i64,
}

impl<T> CursorPage<T> {
    /// A page from `rows`, read with one more than `limit` to learn whether
    /// a next page exists: the cursor is the last kept row's, and `keep`
    /// turns each row into an item (None: not the reader's to see).
    pub fn of<R>(
        mut rows: Vec<R>,
        limit: usize,
        cursor: impl Fn(&R) -> String,
        keep: impl FnMut(R) -> Option<T>,
        server_time_ms: i64,
    ) -> CursorPage<T> {
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next_cursor = more.then(|| rows.last().map(&cursor)).flatten();
        CursorPage {
            items: rows.into_iter().filter_map(keep).collect(),
            next_cursor,
            server_time_ms,
        }
    }
}

/// `YYYY-MM-DD`.
pub fn date(text: &str, name: &str) -> Result<Date, AdminError> {
    text.parse()
        .map_err(|_| AdminError::bad_request(format!("{name} is not a YYYY-MM-DD date")))
}

pub fn body<T: serde::de::DeserializeOwned>(bytes: &Bytes) -> Result<T, AdminError> {
    if bytes.len() > MAX_BODY {
        return Err(AdminError::new(
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            "bad_request",
            format!("body larger than {MAX_BODY} bytes"),
        ));
    }
    serde_json::from_slice(bytes).map_err(|e| AdminError::bad_request(format!("body: {e}")))
}

/// The body `{"reason": "..."}` an HR action carries: its reason, required
/// (as [`text`] checks it).
pub fn reason(bytes: &Bytes) -> Result<String, AdminError> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Reasoned {
        reason: String,
    }
    let req: Reasoned = body(bytes)?;
    text(&req.reason, "reason", true)
}

/// A reason or comment: trimmed, at most 1000 characters.
pub fn text(value: &str, name: &str, required: bool) -> Result<String, AdminError> {
    let t = value.trim();
    if required && t.is_empty() {
        return Err(AdminError::bad_request(format!("{name} is required")));
    }
    if t.chars().count() > 1000 {
        return Err(AdminError::bad_request(format!(
            "{name} is over 1000 characters"
        )));
    }
    Ok(t.to_string())
}
