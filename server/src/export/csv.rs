//! The CSV form: UTF-8 with a byte-order mark (Excel and WPS read a file
//! without one as the local code page and garble Chinese names), CRLF rows
//! (RFC 4180), and cells that a spreadsheet would run as a formula defused.

use crate::export::attendance::DayRow;

pub const BOM: &str = "\u{feff}";
pub const HEADER: &str = "employee_id,name,team,date,time_zone,first_in,last_out,worked_min,\
                          break_min,late_min,early_min,punches,review_flags,corrections";

/// What starts a formula: the ASCII signs, their full-width forms (which
/// spreadsheets in Chinese, Japanese and Korean locales also read), tab
/// and carriage return.
const FORMULA_START: [char; 10] = ['=', '+', '-', '@', '\t', '\r', '＝', '＋', '－', '＠'];

/// One cell: quoted when it must be, and a formula start prefixed with `'`
/// so a name like `=HYPERLINK(…)` stays text (OWASP's CSV injection
/// advice). A cell with `;` (or `；`) is quoted too: a spreadsheet in a
/// locale whose list separator is `;` splits there, and what follows
/// would start a new cell unchecked.
fn cell(text: &str) -> String {
    let text = if text.trim_start_matches(' ').starts_with(FORMULA_START) {
        format!("'{text}")
    } else {
        text.to_string()
    };
    if text.contains([',', ';', '；', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

pub fn to_csv(rows: &[DayRow]) -> String {
    let mut out = String::from(BOM);
    out.push_str(HEADER);
    out.push_str("\r\n");
    for r in rows {
        let cells = [
            cell(&r.employee_id),
            cell(&r.name),
            cell(r.team.as_deref().unwrap_or("")),
            cell(&r.date),
            cell(&r.time_zone),
            cell(r.first_in.as_deref().unwrap_or("")),
            cell(r.last_out.as_deref().unwrap_or("")),
            r.worked_min.to_string(),
            r.break_min.to_string(),
            r.late_min.to_string(),
            r.early_min.to_string(),
            r.punches.to_string(),
            cell(&r.review_flags.join(";")),
            cell(&r.corrections.join(";")),
        ];
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_and_formulas_defused() {
        assert_eq!(cell("王小明"), "王小明");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("=1+1"), "'=1+1");
        // A `;` list separator, full-width signs, leading spaces.
        assert_eq!(cell("ok;=cmd|' /C calc'!A0"), "\"ok;=cmd|' /C calc'!A0\"");
        assert_eq!(cell("ok；＝1"), "\"ok；＝1\"");
        assert_eq!(cell("＝1+1"), "'＝1+1");
        assert_eq!(cell("＋1"), "'＋1");
        assert_eq!(cell("－1"), "'－1");
        assert_eq!(cell("＠SUM(A1)"), "'＠SUM(A1)");
        assert_eq!(cell("  =1+1"), "'  =1+1");
        assert!(to_csv(&[]).starts_with('\u{feff}'));
    }
}
