//! SAQL scalar expressions (transformations.md section 2): lexer, parser, type checker and the
//! lowering to DataFusion expressions and UDFs.

pub mod ast;
pub mod compile;
pub mod functions;
pub mod lexer;
pub mod parser;

pub use compile::{RelFn, Relative, SType, Scope, Typed};
pub use parser::parse;

/// Parses and compiles `src`; errors carry the 1-based position in the expression.
pub fn compile(src: &str, scope: &Scope<'_>) -> Result<Typed, String> {
    let ast = parse(src).map_err(|e| e.render(src))?;
    scope.compile(&ast).map_err(|e| parser::ParseError { pos: e.pos, message: e.message }.render(src))
}
