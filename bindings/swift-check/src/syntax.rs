//! Syntax: a tree-sitter parse with no ERROR or MISSING node.

use tree_sitter::{Node, Parser, Tree};

/// Where tree-sitter-swift 0.7.4 falls short of Swift, in the forms uniffi
/// generates; each is blanked to the same length before parsing, so a
/// position in the tree is a position in the file. Nothing else is touched.
///
/// Lines uniffi puts around attributes (SE-0367, conditional compilation
/// for attributes, Swift 5.8). tree-sitter-swift 0.7.4 cannot parse an
/// attribute split from its declaration by `#endif` at the top level; the
/// Swift compiler can. Exactly this three-line form is blanked before
/// parsing (lines keep their numbers); any other `#if` is parsed as it is.
const CONDITIONAL_ATTRIBUTE: [&str; 3] = [
    "#if swift(>=5.8)",
    "@_documentation(visibility: private)",
    "#endif",
];

/// A closure returning the empty tuple: the grammar has no `()` expression.
/// `{    }` is the same closure, `() -> ()`.
const UNIT_CLOSURE: (&str, &str) = ("{ () }", "{    }");

/// `nonisolated(unsafe)` on a local constant (SE-0412, Swift 5.10), which
/// uniffi 0.33 writes in callback bodies: the grammar knows the modifier on
/// members only. Blanked where it starts a line's statement before `let`;
/// the declaration after it is parsed as written.
const LOCAL_NONISOLATED: (&str, &str) = ("nonisolated(unsafe) let ", "                    let ");

/// `text` with the grammar's gaps blanked: same length, same line breaks.
pub fn without_grammar_gaps(text: &str) -> String {
    without_local_nonisolated(&without_conditional_attributes(text))
        .replace(UNIT_CLOSURE.0, UNIT_CLOSURE.1)
}

/// `text` with the modifier of local `nonisolated(unsafe) let`s blanked.
fn without_local_nonisolated(text: &str) -> String {
    text.split_inclusive('\n')
        .map(|line| {
            let body = line.trim_start();
            if body.starts_with(LOCAL_NONISOLATED.0) {
                let indent = &line[..line.len() - body.len()];
                format!(
                    "{indent}{}",
                    body.replacen(LOCAL_NONISOLATED.0, LOCAL_NONISOLATED.1, 1)
                )
            } else {
                line.to_string()
            }
        })
        .collect()
}

/// `text` with uniffi's conditional attributes blanked.
fn without_conditional_attributes(text: &str) -> String {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < lines.len() {
        let matches = lines.get(i..i + 3).is_some_and(|window| {
            window
                .iter()
                .zip(CONDITIONAL_ATTRIBUTE)
                .all(|(line, wanted)| line.trim() == wanted)
        });
        let take = if matches { 3 } else { 1 };
        for line in lines.iter().skip(i).take(take) {
            if matches {
                out.extend(line.chars().map(|c| if c == '\n' { c } else { ' ' }));
            } else {
                out.push_str(line);
            }
        }
        i += take;
    }
    out
}

/// The tree of `text`, or each place it does not parse ("line:column what").
pub fn parse(text: &str) -> Result<Tree, Vec<String>> {
    let mut parser = Parser::new();
    parser
        .set_language(&tree_sitter_swift::LANGUAGE.into())
        .map_err(|e| vec![format!("0:0 the Swift grammar does not load: {e}")])?;
    let tree = parser
        .parse(without_grammar_gaps(text), None)
        .ok_or_else(|| vec!["0:0 the parser gave up".to_string()])?;
    let mut errors = Vec::new();
    collect_errors(tree.root_node(), text, &mut errors);
    if errors.is_empty() {
        Ok(tree)
    } else {
        Err(errors)
    }
}

fn collect_errors(node: Node<'_>, text: &str, out: &mut Vec<String>) {
    if node.is_error() || node.is_missing() {
        let at = node.start_position();
        let line = text.lines().nth(at.row).unwrap_or("").trim();
        let what = if node.is_missing() {
            format!("missing {}", node.kind())
        } else {
            "syntax error".to_string()
        };
        out.push(format!("{}:{} {what}: {line}", at.row + 1, at.column + 1));
        // One report per broken region: its children add nothing.
        return;
    }
    let mut cursor = node.walk();
    for child in node.children(&mut cursor) {
        collect_errors(child, text, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_swift_parses() {
        let ok = "import Foundation\n@MainActor\nfinal class A {\n    nonisolated(unsafe) static var shared: A?\n    func f() async throws -> Int { try await g() }\n}\n";
        assert!(parse(ok).is_ok());
    }

    #[test]
    fn a_unit_closure_parses_and_another_tuple_does_not_hide_errors() {
        assert!(parse("func f() {\n    let writeReturn = { () }\n}\n").is_ok());
        assert!(parse("func f() {\n    let w = { ( }\n}\n").is_err());
    }

    #[test]
    fn a_local_nonisolated_constant_parses_and_its_declaration_is_still_read() {
        let generated = "func f(level: Int) {\n    nonisolated(unsafe) let level = level\n    print(level)\n}\n";
        assert!(parse(generated).is_ok());
        assert_eq!(without_grammar_gaps(generated).len(), generated.len());
        assert!(parse("func f() {\n    nonisolated(unsafe) let x = (\n}\n").is_err());
    }

    #[test]
    fn a_syntax_error_is_found_with_its_line() {
        let bad = "struct A {\n    func f( {\n}\n";
        let errors = parse(bad).err().unwrap_or_default();
        assert!(!errors.is_empty());
        assert!(errors[0].starts_with("2:"), "{errors:?}");
    }

    #[test]
    fn only_uniffis_conditional_attribute_is_blanked() {
        let generated = "#if swift(>=5.8)\n@_documentation(visibility: private)\n#endif\nfileprivate struct A {}\n";
        assert!(parse(generated).is_ok());
        let blanked = without_grammar_gaps(generated);
        assert_eq!(blanked.len(), generated.len());
        assert!(blanked.ends_with("fileprivate struct A {}\n"));
        // Another conditional block is parsed as written: a broken body fails.
        let other = "#if swift(>=5.8)\nfileprivate struct A {\n#endif\n";
        assert!(parse(other).is_err());
    }
}
