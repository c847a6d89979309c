//! A filter's `filterBooleanLogic`: how its numbered conditions combine, as Salesforce's
//! filter logic is written everywhere (`1 AND (2 OR 3)`, `(1 AND 2) OR (3 AND 4)`, `NOT 1`).
//! Conditions are numbered from 1 in the order of `filterExpressions`; AND binds tighter than
//! OR; words in any case. Every number must name a condition, and every condition must be
//! used (an unused one is almost always a typo; Salesforce's report filter logic refuses it
//! the same way).

use datafusion::logical_expr::{Expr, not};

#[derive(Debug, Clone, PartialEq)]
pub enum Logic {
    Condition(usize),
    And(Box<Logic>, Box<Logic>),
    Or(Box<Logic>, Box<Logic>),
    Not(Box<Logic>),
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Number(usize),
    And,
    Or,
    Not,
    Open,
    Close,
}

fn tokens(text: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '(' || c == ')' {
            out.push(if c == '(' { Token::Open } else { Token::Close });
            i += 1;
        } else if c.is_ascii_alphanumeric() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_alphanumeric() {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            out.push(match word.to_ascii_uppercase().as_str() {
                "AND" => Token::And,
                "OR" => Token::Or,
                "NOT" => Token::Not,
                _ => Token::Number(word.parse().map_err(|_| format!("'{word}' is not a condition number"))?),
            });
        } else {
            return Err(format!("unexpected '{c}' at position {}", i + 1));
        }
    }
    Ok(out)
}

impl Logic {
    /// Reads `text` for a filter of `count` conditions.
    pub fn parse(text: &str, count: usize) -> Result<Logic, String> {
        let tokens = tokens(text)?;
        let mut p = Parser { tokens: &tokens, at: 0, depth: 0 };
        let logic = p.or()?;
        if p.at < tokens.len() {
            return Err(format!("'{text}': unexpected {:?} after a whole expression", tokens[p.at]));
        }
        let mut used = vec![false; count];
        logic.numbers(&mut |n| {
            if (1..=count).contains(&n) {
                used[n - 1] = true;
                Ok(())
            } else {
                Err(format!("'{text}' names condition {n}, but there are {count}"))
            }
        })?;
        if let Some(n) = used.iter().position(|u| !u) {
            return Err(format!("'{text}' does not use condition {}", n + 1));
        }
        Ok(logic)
    }

    fn numbers(&self, f: &mut impl FnMut(usize) -> Result<(), String>) -> Result<(), String> {
        match self {
            Logic::Condition(n) => f(*n),
            Logic::And(a, b) | Logic::Or(a, b) => {
                a.numbers(f)?;
                b.numbers(f)
            }
            Logic::Not(a) => a.numbers(f),
        }
    }

    /// The predicate, given each condition's (numbered from 1 as `conditions[n - 1]`).
    pub fn expr(&self, conditions: &[Expr]) -> Expr {
        match self {
            Logic::Condition(n) => conditions[n - 1].clone(),
            Logic::And(a, b) => a.expr(conditions).and(b.expr(conditions)),
            Logic::Or(a, b) => a.expr(conditions).or(b.expr(conditions)),
            Logic::Not(a) => not(a.expr(conditions)),
        }
    }
}

/// Nesting deeper than this is refused (the parser recurses).
const MAX_DEPTH: usize = 64;

struct Parser<'a> {
    tokens: &'a [Token],
    at: usize,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn or(&mut self) -> Result<Logic, String> {
        let mut left = self.and()?;
        while self.peek() == Some(&Token::Or) {
            self.at += 1;
            left = Logic::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Logic, String> {
        let mut left = self.unary()?;
        while self.peek() == Some(&Token::And) {
            self.at += 1;
            left = Logic::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Logic, String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(format!("nested more than {MAX_DEPTH} deep"));
        }
        let out = match self.tokens.get(self.at).cloned() {
            Some(Token::Not) => {
                self.at += 1;
                Logic::Not(Box::new(self.unary()?))
            }
            Some(Token::Number(n)) => {
                self.at += 1;
                Logic::Condition(n)
            }
            Some(Token::Open) => {
                self.at += 1;
                let inner = self.or()?;
                if self.peek() != Some(&Token::Close) {
                    return Err("a '(' is not closed".into());
                }
                self.at += 1;
                inner
            }
            Some(t) => return Err(format!("expected a condition number, found {t:?}")),
            None => return Err("ends where a condition number is expected".into()),
        };
        self.depth -= 1;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Logic::*;

    fn c(n: usize) -> Box<Logic> {
        Box::new(Condition(n))
    }

    #[test]
    fn reads_salesforce_filter_logic() {
        assert_eq!(Logic::parse("1", 1), Ok(Condition(1)));
        assert_eq!(Logic::parse("1 AND (2 OR 3)", 3), Ok(And(c(1), Box::new(Or(c(2), c(3))))));
        // AND binds tighter than OR
        assert_eq!(Logic::parse("1 or 2 and 3", 3), Ok(Or(c(1), Box::new(And(c(2), c(3))))));
        assert_eq!(Logic::parse("NOT 1 AND 2", 2), Ok(And(Box::new(Not(c(1))), c(2))));
        let four = Logic::parse("1 OR (2 AND 3 AND 4) OR (5 AND 4) OR (6 AND 4)", 6);
        assert!(four.is_ok(), "{four:?}");
    }

    #[test]
    fn wrong_logic_is_named() {
        assert_eq!(Logic::parse("1 AND 3", 2).unwrap_err(), "'1 AND 3' names condition 3, but there are 2");
        assert_eq!(Logic::parse("1", 2).unwrap_err(), "'1' does not use condition 2");
        assert!(Logic::parse("(1 AND 2", 2).unwrap_err().contains("not closed"));
        assert!(Logic::parse("1 AND", 1).unwrap_err().contains("ends where"));
        assert!(Logic::parse("1 & 2", 2).unwrap_err().contains("unexpected '&'"));
        assert!(Logic::parse(&format!("{}1{}", "(".repeat(100), ")".repeat(100)), 1).is_err());
    }
}
