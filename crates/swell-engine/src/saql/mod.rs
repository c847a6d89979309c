//! SAQL scalar expressions (transformations.md section 2): lexer, parser, type checker and the
//! lowering to DataFusion expressions and UDFs.

pub mod ast;
pub mod catalog;
pub mod compile;
pub mod functions;
pub mod lexer;
pub mod parser;
pub mod relative;

pub use compile::{RelFn, Relative, SType, Scope, Typed};
pub use parser::parse;

/// Parses and compiles `src`; errors carry the 1-based position in the expression.
pub fn compile(src: &str, scope: &Scope<'_>) -> Result<Typed, String> {
    let ast = parse(src).map_err(|e| e.render(src))?;
    scope.compile(&ast).map_err(|e| parser::ParseError { pos: e.pos, message: e.message }.render(src))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Field, FieldType, Schema};

    /// A deterministic soup of SAQL fragments: parsing and compiling any mix of them returns a
    /// value or an error, never a panic (a cheap stand-in for a fuzzer, run on every test).
    #[test]
    fn arbitrary_input_never_panics() {
        const PIECES: &[&str] = &[
            "Amount",
            "'Name'",
            "\"x\"",
            "1",
            "2.5",
            "-",
            "+",
            "*",
            "/",
            "%",
            "==",
            "!=",
            "<",
            ">=",
            "&&",
            "||",
            "!",
            "(",
            ")",
            "[",
            "]",
            ",",
            "..",
            "case",
            "when",
            "then",
            "else",
            "end",
            "in",
            "not",
            "like",
            "matches",
            "is",
            "null",
            "true",
            "substr(",
            "toDate(",
            "now()",
            "coalesce(",
            "previous(",
            "'",
            "\"",
            "\\",
            "--",
            "/*",
            "é",
            "\u{0}",
            "date_diff(\"day\",",
            "number_to_string(",
            "CloseDate",
            "Flags",
        ];
        let schema = Schema::new(vec![
            Field::new("Amount", FieldType::numeric(18, 2)),
            Field::new("Name", FieldType::Text),
            Field::new("CloseDate", FieldType::plain_date()),
            Field::new("Flags", FieldType::MultiValue),
        ]);
        let scope = Scope { schema: &schema, now_millis: 0, relative: None };
        let mut state: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..20_000 {
            let len = (next() % 12) as usize;
            let src: String =
                (0..len).map(|_| PIECES[(next() % PIECES.len() as u64) as usize]).collect::<Vec<_>>().join(" ");
            let _ = compile(&src, &scope);
        }
    }
}
