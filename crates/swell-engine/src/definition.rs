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
use serde_json::{Map, Value, json};

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
    from_value(value)
}

fn strip_position(e: &serde_json::Error) -> String {
    let s = e.to_string();
    match s.rfind(" at line ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// Reads a definition in any of the forms users have (see the module docs and
/// [`crate::stored`]): the stored array `["<definition JSON>", <recipe JSON or null>]`, the
/// stored `{"nodes": {...}}`, a resource wrapping it in `definition`, a recipe, or the public
/// object of nodes. HTML entities are decoded once, in the innermost document.
pub fn from_value(value: Value) -> Result<Vec<RawNode>, Problems> {
    let whole = |m: String| Problems(vec![Problem::new("", "", m)]);
    let map = match value {
        Value::Array(items) => return stored_array(items),
        Value::Object(map) => map,
        _ => {
            return Err(whole(
                "a dataflow definition is a JSON object of nodes (node name -> {\"action\", \"parameters\"})".into(),
            ));
        }
    };
    let mut map = map;
    if map.get("definition").is_some_and(|d| d.is_object() || d.is_array() || d.is_string())
        && let Some(definition) = map.remove("definition")
    {
        return match definition {
            Value::String(text) => from_value(inner_json(&text, "definition")?),
            other => from_value(other),
        };
    }
    let value = unescape_value(Value::Object(map));
    if is_r2_recipe(&value) {
        return Err(whole(R2_REFUSAL.into()));
    }
    if crate::recipe::is_recipe(&value) {
        return crate::recipe::parse(value);
    }
    let Value::Object(mut map) = value else { unreachable!("decoding keeps an object an object") };
    if crate::stored::is_stored(&map) {
        let Some(Value::Object(nodes)) = map.remove("nodes") else { unreachable!("is_stored saw an object") };
        if nodes.values().any(|n| n.get("action").and_then(Value::as_str).is_some_and(is_recipe_only_action)) {
            // a recipe without its `version` and `ui`
            return crate::recipe::parse(json!({"nodes": nodes}));
        }
        map = crate::stored::to_public(nodes)?;
    }
    if map.is_empty() {
        return Err(whole("the definition has no nodes".into()));
    }
    crate::flow::check_node_count(map.len())?;
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

/// The public form (an object of nodes) of a dataflow definition given in a stored form (the
/// `.wdf` array, `{"nodes": {...}}`), so that the REST API keeps and shows one form; any other
/// value is returned as it is, for the checks that follow. A recipe or an R2 recipe is
/// refused: it is not a dataflow.
pub fn public_dataflow(value: Value) -> Result<Value, Problems> {
    let whole = |m: &str| Problems(vec![Problem::new("", "", m)]);
    match value {
        Value::Array(items) => {
            let first = match items.first() {
                Some(Value::String(text)) if items.len() == 2 && (items[1].is_string() || items[1].is_null()) => {
                    inner_json(text, "[0]")?
                }
                _ => return Err(stored_shape()),
            };
            if !first.is_object() {
                return Err(Problems(vec![Problem::new("", "[0]", "must hold a definition object")]));
            }
            if let Some(Value::String(recipe)) = items.get(1) {
                inner_json(recipe, "[1]")?;
            }
            if first.as_object().is_some_and(Map::is_empty) {
                return Err(whole(
                    "this is the target dataflow of a recipe ([\"{}\", \"<recipe>\"]): create it as a recipe",
                ));
            }
            public_dataflow(first)
        }
        Value::Object(mut map) => {
            if is_r2_recipe(&Value::Object(map.clone())) {
                return Err(whole(R2_REFUSAL));
            }
            if crate::stored::is_stored(&map) {
                let Some(Value::Object(nodes)) = map.remove("nodes") else { unreachable!("is_stored saw an object") };
                return crate::stored::to_public(nodes).map(Value::Object);
            }
            Ok(Value::Object(map))
        }
        other => Ok(other),
    }
}

fn stored_shape() -> Problems {
    Problems(vec![Problem::new(
        "",
        "",
        "a stored dataflow is a list of two: [\"<definition JSON>\", \"<recipe JSON>\" or null]",
    )])
}

/// What Data Prep Classic (R2) recipes get: the org runs the dataflow generated from them.
const R2_REFUSAL: &str = "this is a Data Prep Classic (R2) recipe, which swell does not run: CRM Analytics runs \
     the dataflow generated from it, element 0 of its target dataflow's .wdf file (`[\"<dataflow>\", \"<this \
     recipe>\"]`); give swell that file";

/// An R2 recipe: `steps` and `tableModelInfo` instead of `nodes`.
fn is_r2_recipe(value: &Value) -> bool {
    value.get("steps").is_some_and(Value::is_array) && value.get("nodes").is_none()
}

/// Actions only the recipe language has (the two languages share flatten, filter, append,
/// update and computeRelative).
fn is_recipe_only_action(action: &str) -> bool {
    ["load", "save", "formula", "join", "schema", "appendV2", "aggregate", "extractGrains", "typeCast", "sqlFilter"]
        .contains(&action)
}

/// The stored array: element 0 is the dataflow the org runs (`{}` when the file is a recipe's
/// target dataflow, element 1 then being the R3 recipe); element 1 is the recipe it came from
/// or null. An R2 recipe in element 1 is its source only, never read.
fn stored_array(items: Vec<Value>) -> Result<Vec<RawNode>, Problems> {
    let shape = stored_shape;
    let [first, second]: [Value; 2] = items.try_into().map_err(|_| shape())?;
    let (Value::String(first), second @ (Value::String(_) | Value::Null)) = (first, second) else {
        return Err(shape());
    };
    let definition = inner_json(&first, "[0]")?;
    if !definition.is_object() {
        return Err(Problems(vec![Problem::new("", "[0]", "must hold a definition object")]));
    }
    if let Value::String(recipe) = &second {
        // the recipe it came from is not read, but it must be what it says
        inner_json(recipe, "[1]")?;
    }
    if definition.as_object().is_some_and(Map::is_empty) {
        let Value::String(recipe) = second else {
            return Err(Problems(vec![Problem::new("", "", "the definition has no nodes")]));
        };
        let recipe = unescape_value(inner_json(&recipe, "[1]")?);
        if is_r2_recipe(&recipe) {
            return Err(Problems(vec![Problem::new("", "", R2_REFUSAL)]));
        }
        return crate::recipe::parse(recipe);
    }
    from_value(definition)
}

/// A JSON document held in a string of the outer one (`at`: where).
fn inner_json(text: &str, at: &str) -> Result<Value, Problems> {
    let value: Value = serde_json::from_str(text).map_err(|e| {
        Problems(vec![Problem::new(
            "",
            at,
            format!("invalid JSON at line {}, column {}: {}", e.line(), e.column(), strip_position(&e)),
        )])
    })?;
    if let Some(path) = swell_core::json::duplicate_key(text.as_bytes()) {
        return Err(Problems(vec![Problem::new(
            "",
            at,
            format!("the key {path} is given twice; JSON keeps only the last, so the definition is refused"),
        )]));
    }
    Ok(value)
}

/// Takes a node's `action` out of it (every reader of nodes: public, stored, recipe).
pub(crate) fn take_action(name: &str, node: &mut Map<String, Value>) -> Result<String, Problem> {
    match node.remove("action") {
        Some(Value::String(a)) => Ok(a),
        Some(_) => Err(Problem::new(name, "action", "must be a string")),
        None => Err(Problem::new(name, "action", "is missing")),
    }
}

fn parse_node(name: &str, node: Value) -> Result<RawNode, Problem> {
    let Value::Object(mut obj) = node else {
        return Err(Problem::new(name, "", "a node is an object with \"action\" and \"parameters\""));
    };
    let action = take_action(name, &mut obj)?;
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
