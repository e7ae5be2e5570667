//! Enum values as the text they carry on the wire and in databases.

/// The serde name of a unit enum variant (`clock_in`, `review`, `gap`...):
/// one spelling for JSON, SQL columns and logs.
pub fn serde_name<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_variants_read_as_their_wire_names() {
        assert_eq!(
            serde_name(&crate::ledger::record::PunchKind::BreakStart),
            "break_start"
        );
        assert_eq!(
            serde_name(&crate::rules::evaluate::Decision::Review),
            "review"
        );
        // Not a unit variant: no name rather than a panic.
        assert_eq!(serde_name(&vec![1]), "");
    }
}
