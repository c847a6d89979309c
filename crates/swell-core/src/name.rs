//! Names that become file names.
//!
//! Connected objects, dataset aliases, connections, export nodes and versions are stored in
//! folders named after them under the data dir. A name that held a separator, `..` or an
//! absolute path would write, read or delete outside it, so every such name is a
//! [`PathName`]: the one type that cannot hold one. The data dir builds paths only from
//! `PathName`s (`swell_engine::storage::DataDir`).
//!
//! The rule is deliberately narrow (it is about file names, not about what an org accepts as
//! an API name): 1 to 255 bytes, no `/`, `\`, NUL or other control character, no pattern
//! character (`*`, `?`, `[`, `]`: file readers take them for globs), not `.` or `..`, and not
//! starting with `.` (names starting with a dot are swell's own: staging folders,
//! locks). Names such as `Account`, `eadx__oppty`, `public.orders` or `Extract Opportunity` are
//! all fine.

use std::fmt;

/// A name that is safe as one path segment under the data dir.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PathName(String);

/// Why a name cannot be a file name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{shown}' cannot be used as a name: {reason}")]
pub struct NameError {
    /// The name as given, shortened for messages.
    pub shown: String,
    pub reason: &'static str,
}

/// The longest name a file system takes as one segment.
pub const MAX_PATH_NAME_BYTES: usize = 255;

impl PathName {
    pub fn parse(name: &str) -> Result<PathName, NameError> {
        let reason = if name.is_empty() {
            Some("it is empty")
        } else if name.len() > MAX_PATH_NAME_BYTES {
            Some("it is longer than 255 bytes")
        } else if name == "." || name == ".." {
            Some("'.' and '..' are not names")
        } else if name.contains('/') || name.contains('\\') {
            Some("it holds a path separator ('/' or '\\')")
        } else if name.chars().any(char::is_control) {
            Some("it holds a control character")
        } else if name.contains(['*', '?', '[', ']']) {
            // file readers take them for patterns (DataFusion lists `a*b` as a glob)
            Some("it holds a pattern character ('*', '?', '[' or ']')")
        } else if name.starts_with('.') {
            Some("it starts with '.'")
        } else {
            None
        };
        match reason {
            None => Ok(PathName(name.to_string())),
            Some(reason) => Err(NameError { shown: shorten(name), reason }),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PathName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for PathName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// At most 60 characters of a name, control characters shown escaped: what an error message
/// quotes of user input (a 100 KB "id" is not echoed whole).
pub(crate) fn shorten(name: &str) -> String {
    let mut out: String = name.chars().take(60).flat_map(char::escape_debug).collect();
    if name.chars().count() > 60 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_leave_a_folder_are_refused() {
        for bad in [
            "",
            ".",
            "..",
            "../x",
            "../../etc",
            "/etc/passwd",
            "a/b",
            "a\\b",
            "x\0y",
            ".staging-1",
            ".hidden",
            "line\nbreak",
            "a*b",
            "Q?",
            "x[1]",
            &"a".repeat(256),
        ] {
            assert!(PathName::parse(bad).is_err(), "{bad:?} must be refused");
        }
        for good in ["Account", "eadx__oppty_demo12", "public.orders", "Extract Opportunity", "a..b", "Ünïcode", "x."]
        {
            assert_eq!(PathName::parse(good).unwrap().as_str(), good);
        }
    }

    #[test]
    fn the_message_names_the_problem_without_flooding() {
        let e = PathName::parse("../../x").unwrap_err();
        assert_eq!(e.to_string(), "'../../x' cannot be used as a name: it holds a path separator ('/' or '\\')");
        let long = PathName::parse(&"y".repeat(10_000)).unwrap_err().to_string();
        assert!(long.len() < 200, "{long}");
        assert!(PathName::parse("a\0b").unwrap_err().to_string().contains("a\\0b"));
    }
}
