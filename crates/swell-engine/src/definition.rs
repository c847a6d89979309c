//! Reading a dataflow definition: the JSON CRM Analytics uses (node name -> `{action,
//! parameters, schema?}`), in the forms users actually have it:
//!
//! * the plain definition object (a `.json` file, the Dataflow resource's `definition`);
//! * a Dataflow resource (`{"name": ..., "definition": {...}}`), as the REST API returns it;
//! * a Data Prep recipe (R3), in any of its forms (see [`crate::recipe`]);
//! * HTML-entity-escaped strings, as definitions read back from an org come (`&quot;`,
//!   `&#39;`, `&gt;`, `&amp;&amp;`): entities are always decoded. A literal `&amp;` meant
//!   verbatim in a definition is therefore read as `&`, as CRM Analytics does on import.

use crate::error::{Problem, Problems};
use serde_json::{Map, Value};

/// One node as written, before its parameters are checked.
#[derive(Debug, Clone)]
pub struct RawNode {
    pub name: String,
    pub action: String,
    pub parameters: Value,
    pub schema: Option<Value>,
    /// A recipe node's positional inputs; `None` for a dataflow node (which names its inputs
    /// in its parameters).
    pub sources: Option<Vec<String>>,
}

/// Parses definition text into raw nodes, in document order.
pub fn parse_dataflow(text: &str) -> Result<Vec<RawNode>, Problems> {
    let value: Value = serde_json::from_str(text).map_err(|e| {
        Problems(vec![Problem::new(
            "",
            "",
            format!("invalid JSON at line {}, column {}: {}", e.line(), e.column(), strip_position(&e)),
        )])
    })?;
    if let Some(path) = swell_core::json::duplicate_key(text.as_bytes()) {
        return Err(Problems(vec![Problem::new(
            "",
            "",
            format!("the key {path} is given twice; JSON keeps only the last, so the definition is refused"),
        )]));
    }
    from_value(unescape_value(value))
}

fn strip_position(e: &serde_json::Error) -> String {
    let s = e.to_string();
    match s.rfind(" at line ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// Accepts the plain definition or a resource wrapping it in `definition`; a recipe (any of
/// its forms, see [`crate::recipe`]) is read as one.
pub fn from_value(value: Value) -> Result<Vec<RawNode>, Problems> {
    if crate::recipe::is_recipe(&value) {
        return crate::recipe::parse(value);
    }
    let Value::Object(mut map) = value else {
        return Err(Problems(vec![Problem::new(
            "",
            "",
            "a dataflow definition is a JSON object of nodes (node name -> {\"action\", \"parameters\"})",
        )]));
    };
    if let Some(Value::Object(_)) = map.get("definition")
        && let Some(Value::Object(def)) = map.remove("definition")
    {
        map = def;
    }
    if map.is_empty() {
        return Err(Problems(vec![Problem::new("", "", "the definition has no nodes")]));
    }
    let mut nodes = Vec::new();
    let mut problems = Vec::new();
    for (name, node) in map {
        match parse_node(&name, node) {
            Ok(n) => nodes.push(n),
            Err(p) => problems.push(p),
        }
    }
    if problems.is_empty() { Ok(nodes) } else { Err(Problems(problems)) }
}

fn parse_node(name: &str, node: Value) -> Result<RawNode, Problem> {
    let Value::Object(mut obj) = node else {
        return Err(Problem::new(name, "", "a node is an object with \"action\" and \"parameters\""));
    };
    let action = match obj.remove("action") {
        Some(Value::String(a)) => a,
        Some(_) => return Err(Problem::new(name, "action", "must be a string")),
        None => return Err(Problem::new(name, "action", "is missing")),
    };
    let parameters = match obj.remove("parameters") {
        Some(p @ Value::Object(_)) => p,
        Some(_) => return Err(Problem::new(name, "parameters", "must be an object")),
        None => Value::Object(Map::new()),
    };
    Ok(RawNode { name: name.to_string(), action, parameters, schema: obj.remove("schema"), sources: None })
}

/// Decodes HTML entities in every string and key.
pub fn unescape_value(v: Value) -> Value {
    match v {
        Value::String(s) => Value::String(unescape(&s)),
        Value::Array(a) => Value::Array(a.into_iter().map(unescape_value).collect()),
        Value::Object(o) => Value::Object(o.into_iter().map(|(k, v)| (unescape(&k), unescape_value(v))).collect()),
        other => other,
    }
}

/// Decodes the named entities Salesforce emits and numeric references.
pub fn unescape(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let decoded = rest.find(';').filter(|&end| end <= 10).and_then(|end| {
            let entity = &rest[1..end];
            let ch = match entity {
                "quot" => Some('"'),
                "apos" => Some('\''),
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "nbsp" => Some('\u{a0}'),
                _ if entity.starts_with("#x") || entity.starts_with("#X") => {
                    u32::from_str_radix(&entity[2..], 16).ok().and_then(char::from_u32)
                }
                _ if entity.starts_with('#') => entity[1..].parse().ok().and_then(char::from_u32),
                _ => None,
            };
            ch.map(|c| (c, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescapes_org_exports() {
        assert_eq!(unescape("fruit==&quot;apple&quot; &amp;&amp; &#39;x&#39; &gt; 1"), "fruit==\"apple\" && 'x' > 1");
        assert_eq!(unescape("AT&T & co; &unknown; &#x41;"), "AT&T & co; &unknown; A");
    }

    #[test]
    fn reports_json_errors_with_position() {
        let e = parse_dataflow("{\n \"a\": {\"action\": }\n}").unwrap_err();
        assert!(e.to_string().starts_with("invalid JSON at line 2, column 18"), "{e}");
    }

    #[test]
    fn refuses_malformed_nodes_all_at_once() {
        let e = parse_dataflow(r#"{"a": 1, "b": {"parameters": {}}, "c": {"action": 3}}"#).unwrap_err();
        assert_eq!(e.0.len(), 3);
        assert_eq!(e.0[1].to_string(), "b.action: is missing");
    }

    #[test]
    fn reads_a_resource_wrapper() {
        let nodes = parse_dataflow(
            r#"{"name": "x", "definition": {"n": {"action": "edgemart", "parameters": {"alias": "a"}}}}"#,
        )
        .unwrap();
        assert_eq!(nodes[0].name, "n");
    }
}
