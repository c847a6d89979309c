//! Recursive-descent parser for SAQL scalar expressions, following the grammar of
//! transformations.md 2.3. Precedence, lowest first: `||`, `&&`, unary `!`, comparison /
//! `like` / `matches` / `in` / `is null`, `+ -`, `* / %`, unary minus, primary.
//!
//! Where the grammar is silent we accept what CRM Analytics users write: keywords in any case,
//! `and`/`or`/`not` spelt out, a single `=` as equality (SAQL projections use it in practice).

use super::ast::{BinOp, Expr, ExprKind, InItem};
use super::lexer::{Tok, Token, lex};

#[derive(Debug, Clone, PartialEq)]
pub struct ParseError {
    /// Byte offset into the expression.
    pub pos: usize,
    pub message: String,
}

impl ParseError {
    /// `at position 12: expected ')'`, with a 1-based character position.
    pub fn render(&self, src: &str) -> String {
        let char_pos = src.get(..self.pos.min(src.len())).map(|s| s.chars().count()).unwrap_or(self.pos) + 1;
        format!("at position {char_pos}: {}", self.message)
    }
}

pub fn parse(src: &str) -> Result<Expr, ParseError> {
    if src.len() > MAX_LENGTH {
        return Err(ParseError {
            pos: 0,
            message: format!(
                "the expression is {} characters long; at most {MAX_LENGTH} are read",
                src.chars().count()
            ),
        });
    }
    let tokens = lex(src).map_err(|e| ParseError { pos: e.pos, message: e.message })?;
    let mut p = Parser { tokens, i: 0, depth: 0, height: 0 };
    if matches!(p.peek(), Tok::Eof) {
        return Err(ParseError { pos: 0, message: "empty expression".into() });
    }
    let e = p.expr()?;
    match p.peek() {
        Tok::Eof => Ok(e),
        _ => Err(p.unexpected("end of expression")),
    }
}

/// Deep nesting is refused rather than overflowing the stack.
const MAX_DEPTH: usize = 64;

/// The most operators applied one after another (`a + b + c + ...` is as deep as it is long:
/// every later step compiles, type-checks and plans recursively). The longest public
/// expression we know (../shared/realworld) is about 9,000 characters and far shallower.
pub const MAX_HEIGHT: usize = 1_000;

/// The longest expression read, in bytes.
pub const MAX_LENGTH: usize = 100_000;

struct Parser {
    tokens: Vec<Token>,
    i: usize,
    depth: usize,
    /// Operators of chains on the path being parsed (see [`MAX_HEIGHT`]).
    height: usize,
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Word(w) => format!("'{w}'"),
        Tok::QuotedIdent(w) => format!("field '{w}'"),
        Tok::Str(s) => format!("string \"{s}\""),
        Tok::Num(n) => format!("number {n}"),
        Tok::Op(o) => format!("'{o}'"),
        Tok::Eof => "end of expression".into(),
    }
}

impl Parser {
    fn peek(&self) -> &Tok {
        &self.tokens[self.i].tok
    }

    fn peek_at(&self, n: usize) -> &Tok {
        &self.tokens[(self.i + n).min(self.tokens.len() - 1)].tok
    }

    fn pos(&self) -> usize {
        self.tokens[self.i].pos
    }

    fn bump(&mut self) -> Token {
        let t = self.tokens[self.i].clone();
        if self.i < self.tokens.len() - 1 {
            self.i += 1;
        }
        t
    }

    fn is_kw(&self, kw: &str) -> bool {
        matches!(self.peek(), Tok::Word(w) if w.eq_ignore_ascii_case(kw))
    }

    fn is_kw_at(&self, n: usize, kw: &str) -> bool {
        matches!(self.peek_at(n), Tok::Word(w) if w.eq_ignore_ascii_case(kw))
    }

    fn eat_kw(&mut self, kw: &str) -> bool {
        if self.is_kw(kw) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn is_op(&self, op: &str) -> bool {
        matches!(self.peek(), Tok::Op(o) if *o == op)
    }

    fn eat_op(&mut self, op: &str) -> bool {
        if self.is_op(op) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn expect_op(&mut self, op: &str) -> Result<(), ParseError> {
        if self.eat_op(op) { Ok(()) } else { Err(self.unexpected(&format!("'{op}'"))) }
    }

    fn expect_kw(&mut self, kw: &str) -> Result<(), ParseError> {
        if self.eat_kw(kw) { Ok(()) } else { Err(self.unexpected(&format!("'{kw}'"))) }
    }

    fn unexpected(&self, expected: &str) -> ParseError {
        ParseError { pos: self.pos(), message: format!("expected {expected}, found {}", describe(self.peek())) }
    }

    fn enter(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ParseError { pos: self.pos(), message: "expression is nested too deeply".into() });
        }
        Ok(())
    }

    /// One more operator in a chain; `steps` counts the chain's, taken back by [`Self::end_chain`].
    fn chain_step(&mut self, steps: &mut usize) -> Result<(), ParseError> {
        *steps += 1;
        self.height += 1;
        if self.height > MAX_HEIGHT {
            return Err(ParseError {
                pos: self.pos(),
                message: format!(
                    "the expression is too deep: more than {MAX_HEIGHT} operators one after another \
                     (split it into several fields, or use 'in [...]' for long lists of alternatives)"
                ),
            });
        }
        Ok(())
    }

    fn end_chain(&mut self, steps: usize, e: Expr) -> Result<Expr, ParseError> {
        self.height -= steps;
        Ok(e)
    }

    fn expr(&mut self) -> Result<Expr, ParseError> {
        self.enter()?;
        let r = self.or_expr();
        self.depth -= 1;
        r
    }

    fn or_expr(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.and_expr()?;
        let mut steps = 0;
        loop {
            let pos = self.pos();
            if self.eat_op("||") || self.eat_kw("or") {
                self.chain_step(&mut steps)?;
                let right = self.and_expr()?;
                left = bin(BinOp::Or, left, right, pos);
            } else {
                return self.end_chain(steps, left);
            }
        }
    }

    fn and_expr(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.not_expr()?;
        let mut steps = 0;
        loop {
            let pos = self.pos();
            if self.eat_op("&&") || self.eat_kw("and") {
                self.chain_step(&mut steps)?;
                let right = self.not_expr()?;
                left = bin(BinOp::And, left, right, pos);
            } else {
                return self.end_chain(steps, left);
            }
        }
    }

    fn not_expr(&mut self) -> Result<Expr, ParseError> {
        let pos = self.pos();
        if self.eat_op("!") || self.eat_kw("not") {
            self.enter()?;
            let inner = self.not_expr();
            self.depth -= 1;
            return Ok(Expr { kind: ExprKind::Not(Box::new(inner?)), pos });
        }
        self.predicate()
    }

    fn predicate(&mut self) -> Result<Expr, ParseError> {
        let left = self.additive()?;
        let pos = self.pos();
        let cmp = match self.peek() {
            Tok::Op("==") | Tok::Op("=") => Some(BinOp::Eq),
            Tok::Op("!=") | Tok::Op("<>") => Some(BinOp::NotEq),
            Tok::Op("<") => Some(BinOp::Lt),
            Tok::Op("<=") => Some(BinOp::LtEq),
            Tok::Op(">") => Some(BinOp::Gt),
            Tok::Op(">=") => Some(BinOp::GtEq),
            _ => None,
        };
        if let Some(op) = cmp {
            self.bump();
            let right = self.additive()?;
            return Ok(bin(op, left, right, pos));
        }
        let negated = self.is_kw("not") && (self.is_kw_at(1, "in") || self.is_kw_at(1, "like"));
        if negated {
            self.bump();
        }
        if self.eat_kw("in") {
            let items = self.array()?;
            return Ok(Expr { kind: ExprKind::In { expr: Box::new(left), items, negated }, pos });
        }
        if self.eat_kw("like") {
            let pattern = self.additive()?;
            return Ok(Expr {
                kind: ExprKind::Like { expr: Box::new(left), pattern: Box::new(pattern), negated },
                pos,
            });
        }
        if self.eat_kw("matches") {
            let pattern = self.additive()?;
            return Ok(Expr { kind: ExprKind::Matches { expr: Box::new(left), pattern: Box::new(pattern) }, pos });
        }
        if self.eat_kw("is") {
            let negated = self.eat_kw("not");
            self.expect_kw("null")?;
            return Ok(Expr { kind: ExprKind::IsNull { expr: Box::new(left), negated }, pos });
        }
        Ok(left)
    }

    fn array(&mut self) -> Result<Vec<InItem>, ParseError> {
        self.expect_op("[")?;
        let mut items = Vec::new();
        if self.eat_op("]") {
            return Ok(items);
        }
        loop {
            // `[.."current day"]` and `["1 day ahead"..]` are open at one end
            if self.eat_op("..") {
                items.push(InItem::Range(None, Some(self.additive()?)));
            } else if self.is_kw("dateRange") && matches!(self.peek_at(1), Tok::Op("(")) {
                items.push(self.date_range()?);
            } else {
                let first = self.additive()?;
                if self.eat_op("..") {
                    let second = if self.is_op("]") || self.is_op(",") { None } else { Some(self.additive()?) };
                    items.push(InItem::Range(Some(first), second));
                } else {
                    items.push(InItem::Value(first));
                }
            }
            if self.eat_op("]") {
                return Ok(items);
            }
            self.expect_op(",")?;
        }
    }

    /// `dateRange([2021, 1, 1], [2021, 12, 31])`: a range of two dates given as [year, month,
    /// day], read as `date(2021, 1, 1)..date(2021, 12, 31)`.
    fn date_range(&mut self) -> Result<InItem, ParseError> {
        self.bump();
        self.expect_op("(")?;
        let mut bounds = Vec::new();
        for i in 0..2 {
            if i == 1 {
                self.expect_op(",")?;
            }
            let pos = self.pos();
            self.expect_op("[")?;
            let mut args = Vec::new();
            for j in 0..3 {
                if j > 0 {
                    self.expect_op(",")?;
                }
                args.push(self.additive()?);
            }
            self.expect_op("]")?;
            bounds.push(Expr { kind: ExprKind::Call { name: "date".into(), args }, pos });
        }
        self.expect_op(")")?;
        let hi = bounds.pop();
        Ok(InItem::Range(bounds.pop(), hi))
    }

    fn additive(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.term()?;
        let mut steps = 0;
        loop {
            let pos = self.pos();
            let op = match self.peek() {
                Tok::Op("+") => BinOp::Add,
                Tok::Op("-") => BinOp::Sub,
                _ => return self.end_chain(steps, left),
            };
            self.bump();
            self.chain_step(&mut steps)?;
            let right = self.term()?;
            left = bin(op, left, right, pos);
        }
    }

    fn term(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.unary()?;
        let mut steps = 0;
        loop {
            let pos = self.pos();
            let op = match self.peek() {
                Tok::Op("*") => BinOp::Mul,
                Tok::Op("/") => BinOp::Div,
                Tok::Op("%") => BinOp::Mod,
                _ => return self.end_chain(steps, left),
            };
            self.bump();
            self.chain_step(&mut steps)?;
            let right = self.unary()?;
            left = bin(op, left, right, pos);
        }
    }

    fn unary(&mut self) -> Result<Expr, ParseError> {
        let pos = self.pos();
        if self.eat_op("-") {
            self.enter()?;
            let inner = self.unary();
            self.depth -= 1;
            let inner = inner?;
            if let ExprKind::Num(n) = inner.kind {
                return Ok(Expr { kind: ExprKind::Num(-n), pos });
            }
            return Ok(Expr { kind: ExprKind::Neg(Box::new(inner)), pos });
        }
        if self.eat_op("+") {
            return self.unary();
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, ParseError> {
        let pos = self.pos();
        let tok = self.peek().clone();
        match tok {
            Tok::Num(n) => {
                self.bump();
                Ok(Expr { kind: ExprKind::Num(n), pos })
            }
            Tok::Str(s) => {
                self.bump();
                Ok(Expr { kind: ExprKind::Str(s), pos })
            }
            Tok::QuotedIdent(name) => {
                self.bump();
                Ok(Expr { kind: ExprKind::Field(name), pos })
            }
            Tok::Op("(") => {
                self.bump();
                let e = self.expr()?;
                self.expect_op(")")?;
                Ok(e)
            }
            Tok::Word(w) => {
                let lower = w.to_ascii_lowercase();
                match lower.as_str() {
                    "null" => {
                        self.bump();
                        Ok(Expr { kind: ExprKind::Null, pos })
                    }
                    "true" | "false" => {
                        self.bump();
                        Ok(Expr { kind: ExprKind::Bool(lower == "true"), pos })
                    }
                    "case" => self.case(),
                    _ if matches!(self.peek_at(1), Tok::Op("(")) => {
                        self.bump();
                        self.bump();
                        let mut args = Vec::new();
                        if !self.eat_op(")") {
                            loop {
                                args.push(self.expr()?);
                                if self.eat_op(")") {
                                    break;
                                }
                                if !self.eat_op(",") {
                                    return Err(self.unexpected("',' or ')'"));
                                }
                            }
                        }
                        Ok(Expr { kind: ExprKind::Call { name: w, args }, pos })
                    }
                    "when" | "then" | "else" | "end" | "and" | "or" | "in" | "is" | "like" | "matches" => {
                        Err(self.unexpected("a value"))
                    }
                    _ => {
                        self.bump();
                        Ok(Expr { kind: ExprKind::Field(w), pos })
                    }
                }
            }
            _ => Err(self.unexpected("a value")),
        }
    }

    fn case(&mut self) -> Result<Expr, ParseError> {
        let pos = self.pos();
        self.bump(); // case
        let operand = if self.is_kw("when") { None } else { Some(Box::new(self.expr()?)) };
        let mut whens = Vec::new();
        while self.eat_kw("when") {
            let cond = self.expr()?;
            self.expect_kw("then")?;
            let then = self.expr()?;
            whens.push((cond, then));
        }
        if whens.is_empty() {
            return Err(self.unexpected("'when'"));
        }
        let otherwise = if self.eat_kw("else") { Some(Box::new(self.expr()?)) } else { None };
        self.expect_kw("end")?;
        Ok(Expr { kind: ExprKind::Case { operand, whens, otherwise }, pos })
    }
}

fn bin(op: BinOp, left: Expr, right: Expr, pos: usize) -> Expr {
    Expr { kind: ExprKind::Binary { op, left: Box::new(left), right: Box::new(right) }, pos }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> Expr {
        parse(s).unwrap_or_else(|e| panic!("{s}: {}", e.render(s)))
    }

    fn err(s: &str) -> String {
        parse(s).map(|e| format!("{e:?}")).map_or_else(|e| e.render(s), |e| panic!("{s} parsed: {e}"))
    }

    #[test]
    fn parses_real_expressions() {
        ok("case when daysBetween(toDate(ActivityDate_sec_epoch), now()) >= 0 then \"true\" else \"false\" end");
        ok("case when 'Opportunity.Name' is null && 'IsActive' == \"false\" then \"false\" else \"true\" end");
        ok("daysBetween(toDate(substr('ActivityDate', 1, 10), \"yyyy-MM-dd\"), now())");
        ok("(current(Amount) - previous(Amount)) / previous(Amount) * 100");
        ok("Stage in [\"A\", \"B\"] and not (Amount in [1 .. 10]) -- comment");
        ok("Name not like \"A%\" || Name matches \"corp\"");
        ok("case Stage when \"Won\" then 1 when \"Lost\" then 0 end");
    }

    #[test]
    fn precedence() {
        let e = ok("a || b && c");
        let ExprKind::Binary { op: BinOp::Or, .. } = e.kind else { panic!("{e:?}") };
        let e = ok("1 + 2 * 3 == 7");
        let ExprKind::Binary { op: BinOp::Eq, left, .. } = e.kind else { panic!() };
        assert!(matches!(left.kind, ExprKind::Binary { op: BinOp::Add, .. }));
        assert_eq!(ok("-3").kind, ExprKind::Num(-3.0));
    }

    #[test]
    fn errors_have_positions() {
        assert_eq!(err("Amount +"), "at position 9: expected a value, found end of expression");
        assert_eq!(err("case when a then 1"), "at position 19: expected 'end', found end of expression");
        assert_eq!(err("\"abc"), "at position 1: unterminated string");
        assert_eq!(err("a # b"), "at position 3: unexpected character '#'");
        assert_eq!(err("f(1, 2"), "at position 7: expected ',' or ')', found end of expression");
        assert_eq!(err(""), "at position 1: empty expression");
        let deep = "(".repeat(500) + "1" + &")".repeat(500);
        assert!(err(&deep).contains("nested too deeply"));
    }

    /// issue 12, finding 4: long chains are parsed up to the limit and refused beyond it with
    /// a position, never by overflowing the stack.
    #[test]
    fn long_chains_have_a_limit() {
        let chain = |n: usize| vec!["'Amount'"; n].join(" + ");
        assert!(parse(&chain(800)).is_ok());
        let e = err(&chain(1_500));
        assert!(e.contains("too deep") && e.contains("position"), "{e}");
        let ors = vec!["'A' == \"x\""; 5_000].join(" || ");
        assert!(err(&ors).contains("too deep"));
        assert!(err(&"x".repeat(MAX_LENGTH + 1)).contains("characters long"));
        // a long flat list is not deep
        let list = format!("'A' in [{}]", vec!["\"x\""; 5_000].join(", "));
        assert!(parse(&list).is_ok());
    }
}
