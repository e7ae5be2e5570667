//! The commands, one module per concern; `main` parses the arguments and
//! dispatches here. Everything a command prints goes through `say!` or
//! `print_json`, which keep device-supplied text from driving the terminal.

use std::path::Path;

use serde::Serialize;

pub(crate) type CmdResult = Result<(), Box<dyn std::error::Error>>;

/// `println!` through [`shown`].
macro_rules! say {
    ($($arg:tt)*) => {
        println!("{}", $crate::cli::shown(&format!($($arg)*)))
    };
}

pub(crate) mod attestation;
pub(crate) mod chain;
pub(crate) mod database;
pub(crate) mod devices;
pub(crate) mod keys;
pub(crate) mod people;
pub(crate) mod pin;
pub(crate) mod policy;
pub(crate) mod privacy;
pub(crate) mod records;
pub(crate) mod serve;
pub(crate) mod staff;

pub(crate) fn read_json<T: serde::de::DeserializeOwned>(
    path: &Path,
) -> Result<T, Box<dyn std::error::Error>> {
    let text = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_slice(&text).map_err(|e| format!("{}: {e}", path.display()).into())
}

/// Text from devices (site ids in records, refusal details, labels) may
/// hold terminal escapes or bidirectional overrides: everything the admin
/// commands print is shown with those characters as `\u{..}` escapes.
pub(crate) fn shown(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') {
                format!("\\u{{{:x}}}", u32::from(c))
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// JSON already escapes control characters; bidirectional overrides are
/// escaped too (`\u202e` is the same string to a JSON reader).
pub(crate) fn print_json<T: Serialize>(value: &T) -> CmdResult {
    let text = serde_json::to_string_pretty(value)?;
    let safe: String = text
        .chars()
        .map(|c| {
            if matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') {
                format!("\\u{:04x}", u32::from(c))
            } else {
                c.to_string()
            }
        })
        .collect();
    println!("{safe}");
    Ok(())
}

pub(crate) fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref()
        .map_or_else(|| "-".to_string(), ToString::to_string)
}
