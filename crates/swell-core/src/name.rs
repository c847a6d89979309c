//! Names: API names ([`check_api_name`], the one rule for the names of dataflows, recipes,
//! connections and datasets) and names that become file names ([`PathName`]).
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

/// The longest API name.
pub const MAX_API_NAME: usize = 80;

/// What an API name is, as the messages say it.
pub const API_NAME_RULE: &str = "use a letter first, then letters, digits and single underscores (at most 80 \
     characters, not ending with '_'), optionally behind a namespace prefix (ns__Name)";

/// The API-name rule of CRM Analytics, for the names of dataflows, recipes, data connections
/// and datasets: a letter first, then letters, digits and single underscores, at most 80
/// characters, not ending with `_`; optionally behind a managed package's namespace prefix,
/// `ns__Name` (1 to 15 characters of the same kind; 41 public definitions register
/// `eadx__...` or `FinServWaveExt__...` datasets). The error quotes the name, shortened.
pub fn check_api_name(name: &str) -> Result<(), String> {
    fn plain(s: &str, max: usize) -> bool {
        !s.is_empty()
            && s.len() <= max
            && s.starts_with(|c: char| c.is_ascii_alphabetic())
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !s.contains("__")
            && !s.ends_with('_')
    }
    let ok = name.len() <= MAX_API_NAME
        && match name.split_once("__") {
            Some((namespace, rest)) => plain(namespace, 15) && plain(rest, MAX_API_NAME),
            None => plain(name, MAX_API_NAME),
        };
    if ok { Ok(()) } else { Err(format!("'{}' is not a valid API name: {API_NAME_RULE}", shorten(name))) }
}

/// An API name made from a label, as Salesforce's UI proposes a developer name: other
/// characters become `_`, runs of `_` become one, none at either end (`"Sales & Ops"` gives
/// `Sales_Ops`); a name that would start with a digit starts with `X` (`"2024 Plan"` gives
/// `X2024_Plan`); at most [`MAX_API_NAME`] characters. A label of no letter or digit makes no
/// name (`""`), which [`check_api_name`] refuses.
pub fn api_name_from_label(label: &str) -> String {
    let made: String = label.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    let mut out = String::new();
    for c in made.trim_matches('_').chars() {
        if !(c == '_' && out.ends_with('_')) {
            out.push(c);
        }
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'X');
    }
    out.truncate(MAX_API_NAME);
    out.trim_end_matches('_').to_string()
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
    fn api_names_follow_one_rule() {
        for good in
            ["Opportunities", "a", "Sales_2024", "eadx__oppty_demo12", "FinServWaveExt__Accounts", &"A".repeat(80)]
        {
            assert_eq!(check_api_name(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "2024_Sales",
            "_x",
            "x_",
            "a__b__c",
            "a___b",
            "bad name!",
            "Ünïcode",
            "sync:Files",
            "../x",
            "averylongnamespace__x",
            &"A".repeat(81),
        ] {
            let e = check_api_name(bad).unwrap_err();
            assert!(e.contains("is not a valid API name: use a letter first"), "{bad}: {e}");
        }
        assert!(check_api_name(&"x".repeat(10_000)).unwrap_err().len() < 300);
    }

    #[test]
    fn a_name_made_from_a_label_is_squeezed() {
        assert_eq!(api_name_from_label("Sales & Ops "), "Sales_Ops");
        assert_eq!(api_name_from_label("__a--b__"), "a_b");
        assert_eq!(api_name_from_label("2024 Plan"), "X2024_Plan");
        assert_eq!(api_name_from_label("!!!"), "");
        let long = api_name_from_label(&"Word ".repeat(50));
        assert!(long.len() <= MAX_API_NAME && !long.ends_with('_') && check_api_name(&long).is_ok(), "{long}");
        assert_eq!(check_api_name(&api_name_from_label("Quarterly Pipeline (EMEA)")), Ok(()));
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
