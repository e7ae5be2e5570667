//! Range checks shared by every kind of chain entry: values no phone
//! produces are refused by the server even when the signature verifies.

/// Version of the record layout inside the signed bytes.
pub const RECORD_FORMAT: u32 = 1;

/// Why a record holds values no phone produces.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecordCheck {
    #[error("record format {found} is not one this version knows ({RECORD_FORMAT})")]
    UnknownFormat { found: u64 },
    #[error("{field} is out of range: {detail}")]
    OutOfRange { field: &'static str, detail: String },
}

/// The longest identifier or label a phone writes into a record.
pub const MAX_ID_LEN: usize = 128;
/// More reasons, sites or addresses than any real evaluation has.
pub const MAX_LIST: usize = 256;

/// A text a phone writes into a record: present, bounded, printable.
pub fn check_text(field: &'static str, text: &str, max_len: usize) -> Result<(), RecordCheck> {
    if text.len() > max_len || text.chars().any(char::is_control) {
        return Err(RecordCheck::OutOfRange {
            field,
            detail: format!("longer than {max_len} bytes, or with control characters"),
        });
    }
    Ok(())
}
