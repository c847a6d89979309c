//! The rules of an asset's texts: its API name (made from the label when not given), the
//! longest text each field may hold, and names that never change.

use crate::error::{ApiError, ApiResult};

/// The longest text each named field may hold, in characters. API names follow Salesforce's
/// developer names (80); CRM Analytics does not document the others, so these are chosen well
/// above what its UI lets one type.
const TEXT_LIMITS: &[(&str, usize)] =
    &[("name", 80), ("label", 255), ("historyLabel", 255), ("description", 1_000), ("masterLabel", 255)];

/// Refuses a text longer than its field's limit; `field` is the field's wire name. Names and
/// labels are shown wherever the asset is listed, so they may not be blank nor hold control
/// characters; a description may hold line breaks and tabs, no other control character.
pub fn check_text(field: &str, value: &str) -> ApiResult<()> {
    let Some((_, max)) = TEXT_LIMITS.iter().find(|(n, _)| *n == field) else { return Ok(()) };
    let len = value.chars().count();
    if len > *max {
        return Err(ApiError::bad_request(format!("{field}: is {len} characters long; at most {max} are allowed")));
    }
    let multiline = field == "description";
    if let Some((i, c)) =
        value.chars().enumerate().find(|(_, c)| c.is_control() && !(multiline && "\n\r\t".contains(*c)))
    {
        return Err(ApiError::bad_request(format!(
            "{field}: holds the control character U+{:04X} at position {}",
            c as u32,
            i + 1
        )));
    }
    // a direction override shows a text in another order than it is stored (`abc` read as `cba`)
    if let Some((i, c)) = value.chars().enumerate().find(|(_, c)| is_direction_override(*c)) {
        return Err(ApiError::bad_request(format!(
            "{field}: holds the invisible direction mark U+{:04X} at position {}",
            c as u32,
            i + 1
        )));
    }
    if !multiline && value.chars().all(|c| c.is_whitespace() || is_invisible(c)) {
        return Err(ApiError::bad_request(format!("{field}: must not be blank")));
    }
    Ok(())
}

/// Characters that take no room: zero-width spaces and joiners, the word joiner, the byte-order
/// mark, the soft hyphen. A name or label of only these (and spaces) shows as blank.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{00AD}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}')
}

/// The embeddings, overrides and isolates of bidirectional text.
pub fn is_direction_override(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Checks each of the (field, text) pairs given.
pub(crate) fn check_texts(texts: &[(&str, Option<&str>)]) -> ApiResult<()> {
    for (field, value) in texts {
        if let Some(v) = value {
            check_text(field, v)?;
        }
    }
    Ok(())
}

/// The API name and label of a new asset: `name`, or made from `label`
/// (`swell_core::name::api_name_from_label`), checked by the one API-name rule. The label
/// defaults to the name.
pub fn name_and_label(name: Option<&str>, label: Option<&str>) -> ApiResult<(String, String)> {
    check_texts(&[("name", name), ("label", label)])?;
    let given_name = name;
    let name = match (name, label) {
        (Some(n), _) => n.to_string(),
        (None, Some(l)) => swell_core::name::api_name_from_label(l),
        (None, None) => return Err(ApiError::bad_request("name: is required (or a label to make it from)")),
    };
    swell_core::name::check_api_name(&name).map_err(|e| match (given_name, label) {
        // the user gave no name: say that the one made from the label does not do
        (None, Some(l)) => ApiError::bad_request(format!(
            "name: is required: the label '{l}' does not make an API name ({e}); give a name (letters, digits and _, starting with a letter)"
        )),
        _ => ApiError::bad_request(format!("name: {e}")),
    })?;
    let label = label.unwrap_or(&name).to_string();
    Ok((name, label))
}

/// An update may repeat an asset's API name but not change it: names are how scripts, other
/// definitions (`edgemart` aliases, schedules' event rules) and the data dir refer to an
/// asset, so CRM Analytics fixes them at creation. A different name is refused, never
/// ignored.
pub fn unchanged_name(given: Option<&str>, current: &str) -> ApiResult<()> {
    match given {
        Some(n) if n != current => {
            Err(ApiError::bad_request(format!("name: the API name '{current}' cannot change (to '{n}')")))
        }
        _ => Ok(()),
    }
}

/// At most the first `n` characters of `s`: what is kept of a name given at sign-in, which no
/// user or client has when longer (usernames have at most 80 characters, client ids 47), so
/// that a megabyte of "username" costs the audit log and the lockout counts no more than this.
pub(crate) fn cut(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

#[cfg(test)]
mod tests {
    use super::check_text;

    #[test]
    fn invisible_labels_are_blank_and_direction_overrides_are_refused() {
        for blank in ["\u{200B}", " \u{200B}\u{FEFF} ", "\u{00AD}", "\u{2060}\u{200D}"] {
            let e = check_text("label", blank).unwrap_err();
            assert!(e.message.ends_with("label: must not be blank"), "{blank:?}: {}", e.message);
        }
        let e = check_text("label", "invoice\u{202E}fdp.exe").unwrap_err();
        assert!(e.message.contains("U+202E at position 8"), "{}", e.message);
        assert!(check_text("description", "a\u{2067}b").is_err());
        // joiners inside a word are text (emoji sequences, some scripts)
        check_text("label", "Sales 👩\u{200D}💻").unwrap();
        check_text("label", "Café").unwrap();
    }
}
