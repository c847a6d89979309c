//! Tokens of the SAQL scalar-expression language (transformations.md 2.1).
//!
//! Quoting is SAQL's: `'ident'` is a field, `"text"` is a string. Positions are byte offsets
//! into the expression; errors show them 1-based as characters.

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// A bare word: a field name, a function name or a keyword (matched case-insensitively).
    Word(String),
    /// `'Opportunity.Name'`
    QuotedIdent(String),
    /// `"text"`
    Str(String),
    Num(f64),
    Op(&'static str),
    Eof,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub pos: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LexError {
    pub pos: usize,
    pub message: String,
}

const OPS: [&str; 22] = [
    "==", "!=", "<=", ">=", "&&", "||", "..", "<", ">", "+", "-", "*", "/", "%", "!", "(", ")", "[", "]", ",", "=",
    "<>",
];

pub fn lex(src: &str) -> Result<Vec<Token>, LexError> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        // comments: -- to end of line, /* ... */
        if src[i..].starts_with("--") {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        if src[i..].starts_with("/*") {
            match src[i + 2..].find("*/") {
                Some(end) => i += end + 4,
                None => return Err(LexError { pos: i, message: "unterminated comment".into() }),
            }
            continue;
        }
        // a statement's `;` ending the expression (SAQL queries end so; 2 public definitions
        // an org ran end expressions with it)
        if c == b';' && src[i + 1..].trim().is_empty() {
            break;
        }
        let start = i;
        if c == b'"' || c == b'\'' {
            let (text, next) = quoted(src, i, c as char)?;
            out.push(Token { tok: if c == b'"' { Tok::Str(text) } else { Tok::QuotedIdent(text) }, pos: start });
            i = next;
            continue;
        }
        if c.is_ascii_digit() || (c == b'.' && bytes.get(i + 1).is_some_and(|b| b.is_ascii_digit())) {
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            // a '.' followed by a digit is a decimal point; '..' is the range operator
            if i < bytes.len() && bytes[i] == b'.' && bytes.get(i + 1) != Some(&b'.') {
                i += 1;
                while i < bytes.len() && bytes[i].is_ascii_digit() {
                    i += 1;
                }
            }
            if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
                let mut j = i + 1;
                if j < bytes.len() && (bytes[j] == b'+' || bytes[j] == b'-') {
                    j += 1;
                }
                if j < bytes.len() && bytes[j].is_ascii_digit() {
                    i = j;
                    while i < bytes.len() && bytes[i].is_ascii_digit() {
                        i += 1;
                    }
                }
            }
            let text = &src[start..i];
            let v: f64 =
                text.parse().map_err(|_| LexError { pos: start, message: format!("invalid number '{text}'") })?;
            out.push(Token { tok: Tok::Num(v), pos: start });
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' || c == b'$' {
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] == b'$') {
                i += 1;
            }
            out.push(Token { tok: Tok::Word(src[start..i].to_string()), pos: start });
            continue;
        }
        match OPS.iter().filter(|op| src[i..].starts_with(**op)).max_by_key(|op| op.len()) {
            Some(op) => {
                out.push(Token { tok: Tok::Op(op), pos: start });
                i += op.len();
            }
            None => {
                let ch = src[i..].chars().next().unwrap_or('?');
                return Err(LexError { pos: start, message: format!("unexpected character '{ch}'") });
            }
        }
    }
    out.push(Token { tok: Tok::Eof, pos: src.len() });
    Ok(out)
}

/// Reads a quoted run starting at `start` (the quote); a backslash escapes the next character.
fn quoted(src: &str, start: usize, quote: char) -> Result<(String, usize), LexError> {
    let mut text = String::new();
    let mut chars = src[start + 1..].char_indices();
    while let Some((off, ch)) = chars.next() {
        if ch == '\\' {
            match chars.next() {
                Some((_, 'n')) => text.push('\n'),
                Some((_, 't')) => text.push('\t'),
                Some((_, esc)) => text.push(esc),
                None => break,
            }
        } else if ch == quote {
            return Ok((text, start + 1 + off + ch.len_utf8()));
        } else {
            text.push(ch);
        }
    }
    // INFERRED: a field name quoted only at its start and ending the expression
    // (`'Account.ShippingState`, in a public definition an org ran) names that field
    if quote == '\'' && !text.is_empty() && !text.chars().any(|c| c.is_whitespace() || "()[],=<>!+-*/%\"".contains(c)) {
        return Ok((text, src.len()));
    }
    let what = if quote == '"' { "string" } else { "quoted field name" };
    Err(LexError { pos: start, message: format!("unterminated {what}") })
}
