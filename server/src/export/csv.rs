//! The CSV form: UTF-8 with a byte-order mark (Excel and WPS read a file
//! without one as the local code page and garble Chinese names), CRLF rows
//! (RFC 4180), and cells that a spreadsheet would run as a formula defused.

use std::borrow::Cow;

use ::csv::{QuoteStyle, Terminator, WriterBuilder};

use crate::error::{Result, ServerError};
use crate::export::attendance::DayRow;

pub const BOM: &str = "\u{feff}";
pub const HEADER: &str = "employee_id,name,team,date,time_zone,first_in,last_out,worked_min,\
                          break_min,late_min,early_min,punches,review_flags,corrections";

/// What starts a formula: the ASCII signs, their full-width forms (which
/// spreadsheets in Chinese, Japanese and Korean locales also read), tab
/// and carriage return.
const FORMULA_START: [char; 10] = ['=', '+', '-', '@', '\t', '\r', '＝', '＋', '－', '＠'];

/// Prefixes a formula start with `'` so a name like `=HYPERLINK(…)` stays
/// text (OWASP's CSV injection advice).
fn defused(text: &str) -> Cow<'_, str> {
    if text.trim_start_matches(' ').starts_with(FORMULA_START) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// One cell, defused and escaped by the csv crate: quoted where RFC 4180
/// needs it, and also when it holds `;` (or `；`): a spreadsheet in a
/// locale whose list separator is `;` splits there, and what follows would
/// start a new cell unchecked. (A cell is written as a one-field record,
/// since the crate closes a quoted field only at the record's end.)
fn cell(text: &str) -> Result<Vec<u8>> {
    let text = defused(text);
    if text.is_empty() {
        // As a record of its own the crate would write `""`.
        return Ok(Vec::new());
    }
    let style = if text.contains([';', '；']) {
        QuoteStyle::Always
    } else {
        QuoteStyle::Necessary
    };
    let mut one = WriterBuilder::new()
        .quote_style(style)
        .terminator(Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    one.write_record([text.as_bytes()]).map_err(csv_error)?;
    let mut bytes = one.into_inner().map_err(|e| csv_error(e.into_error()))?;
    bytes.pop();
    Ok(bytes)
}

fn csv_error(e: impl std::fmt::Display) -> ServerError {
    ServerError::Invalid(format!("writing the CSV: {e}"))
}

pub fn to_csv(rows: &[DayRow]) -> Result<String> {
    // Cells arrive escaped: the row writer only joins them.
    let mut out = WriterBuilder::new()
        .quote_style(QuoteStyle::Never)
        .terminator(Terminator::CRLF)
        .from_writer(BOM.as_bytes().to_vec());
    out.write_record(HEADER.split(',')).map_err(csv_error)?;
    for r in rows {
        let number = |n: i64| n.to_string().into_bytes();
        out.write_record([
            cell(&r.employee_id)?,
            cell(&r.name)?,
            cell(r.team.as_deref().unwrap_or(""))?,
            cell(&r.date)?,
            cell(&r.time_zone)?,
            cell(r.first_in.as_deref().unwrap_or(""))?,
            cell(r.last_out.as_deref().unwrap_or(""))?,
            number(r.worked_min),
            number(r.break_min),
            number(r.late_min.into()),
            number(r.early_min.into()),
            number(r.punches.into()),
            cell(&r.review_flags.join(";"))?,
            cell(&r.corrections.join(";"))?,
        ])
        .map_err(csv_error)?;
    }
    let bytes = out.into_inner().map_err(|e| csv_error(e.into_error()))?;
    String::from_utf8(bytes).map_err(csv_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(cell_text: &str) -> String {
        String::from_utf8(cell(cell_text).unwrap()).unwrap()
    }

    #[test]
    fn cells_are_quoted_and_formulas_defused() {
        assert_eq!(text("王小明"), "王小明");
        assert_eq!(text(""), "");
        assert_eq!(text("a,b"), "\"a,b\"");
        assert_eq!(text("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(text("two\nlines"), "\"two\nlines\"");
        assert_eq!(text("=1+1"), "'=1+1");
        // A `;` list separator, full-width signs, leading spaces.
        assert_eq!(text("ok;=cmd|' /C calc'!A0"), "\"ok;=cmd|' /C calc'!A0\"");
        assert_eq!(text("ok；＝1"), "\"ok；＝1\"");
        assert_eq!(text("＝1+1"), "'＝1+1");
        assert_eq!(text("＋1"), "'＋1");
        assert_eq!(text("－1"), "'－1");
        assert_eq!(text("＠SUM(A1)"), "'＠SUM(A1)");
        assert_eq!(text("  =1+1"), "'  =1+1");
        // A carriage return or tab first: defused, and quoted where RFC 4180 says.
        assert_eq!(text("\r=1"), "\"'\r=1\"");
        assert_eq!(text("\t=1"), "'\t=1");
    }

    #[test]
    fn rows_are_crlf_after_a_bom_and_header() {
        let row = DayRow {
            employee_id: "e1".into(),
            name: "=HYPERLINK(\"x\")".into(),
            team: None,
            date: "2026-11-02".into(),
            time_zone: "Asia/Shanghai".into(),
            first_in: Some("08:55".into()),
            last_out: None,
            worked_min: 487,
            break_min: 60,
            late_min: 3,
            early_min: 0,
            punches: 2,
            review_flags: vec!["needs_review".into(), "no_clock_out".into()],
            corrections: Vec::new(),
        };
        let csv = to_csv(&[row]).unwrap();
        assert_eq!(
            csv,
            format!(
                "{BOM}{HEADER}\r\ne1,\"'=HYPERLINK(\"\"x\"\")\",,2026-11-02,Asia/Shanghai,08:55,,487,60,3,0,2,\"needs_review;no_clock_out\",\r\n"
            )
        );
        assert!(to_csv(&[]).unwrap().starts_with('\u{feff}'));
    }
}
