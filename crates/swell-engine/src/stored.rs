//! The stored form of a dataflow: what an org keeps (the Metadata API's WaveDataflow, what
//! `sf project retrieve` writes into `.wdf` files) and what the Data Manager's JSON editor
//! does not show. It is the same language as the public form with internal names and shapes:
//!
//! | stored | public |
//! |---|---|
//! | `{"nodes": {...}}` | the node object itself |
//! | node-level `sources: [a]` | `parameters.source: a` |
//! | augment, update `sources: [l, r]` | `parameters.left: l`, `right: r` |
//! | append `sources: [...]`, no `enableDisjointedSchemaMerge` | `parameters.sources: [...]`, `enableDisjointedSchemaMerge: true` (INFERRED) |
//! | `sobjectDigest` | `sfdcDigest`; `passthroughFilter` = `complexFilterConditions` |
//! | `dataset` (`name`) | `edgemart` (`alias`) |
//! | `register` (`name`, `label`) | `sfdcRegister` (`alias`, `name`) |
//! | augment `leftKey`, `rightKey`, `rightSelect` | `left_key`, `right_key`, `right_select` |
//! | update `leftKey`, `rightKey`, `updateColumns` | `left_key`, `right_key`, `update_columns` |
//! | flatten `selfField`, `parentField`, `includeSelfId`, `multiField: {name, label}`, `pathField` | `self_field`, `parent_field`, `include_self_id`, `multi_field: name` (+ `schema` labels), `path_field` |
//! | `runtime` (tokens, chunking hints) | (nothing: dropped) |
//!
//! The mapping is the one transformations.md section 1.1 inferred, corrected by 170 public
//! stored definitions (`../shared/realworld`): node inputs are always node-level `sources`,
//! augment's are `[left, right]` (checked against the keys on 1,037 nodes), and two copies of
//! one flow (the stored "The Motivator" and its public job dump) agree node for node. Keys
//! this table does not name pass through unchanged, so the public reader names what is wrong.

use crate::error::{Problem, Problems};
use serde_json::{Map, Value, json};

/// Whether `map` is the stored form: its one key `nodes` holds an object of nodes (a public
/// definition with one node named `nodes` holds that node, with its `action`, instead).
pub fn is_stored(map: &Map<String, Value>) -> bool {
    map.len() == 1
        && map
            .get("nodes")
            .and_then(Value::as_object)
            .is_some_and(|nodes| !nodes.get("action").is_some_and(Value::is_string))
}

/// The public form of a stored definition's `nodes`, every node's problems at once.
pub fn to_public(nodes: Map<String, Value>) -> Result<Map<String, Value>, Problems> {
    crate::flow::check_node_count(nodes.len())?;
    let mut out = Map::new();
    let mut problems = Vec::new();
    for (name, node) in nodes {
        match public_node(&name, node) {
            Ok(n) => {
                out.insert(name, n);
            }
            Err(p) => problems.push(p),
        }
    }
    if problems.is_empty() { Ok(out) } else { Err(Problems(problems)) }
}

/// Internal action names and their public ones.
const ACTIONS: &[(&str, &str)] =
    &[("sobjectDigest", "sfdcDigest"), ("dataset", "edgemart"), ("register", "sfdcRegister")];

/// Parameter keys renamed per public action: (action, stored, public).
const KEYS: &[(&str, &str, &str)] = &[
    ("augment", "leftKey", "left_key"),
    ("augment", "rightKey", "right_key"),
    ("augment", "rightSelect", "right_select"),
    ("update", "leftKey", "left_key"),
    ("update", "rightKey", "right_key"),
    ("update", "updateColumns", "update_columns"),
    ("flatten", "selfField", "self_field"),
    ("flatten", "parentField", "parent_field"),
    ("flatten", "includeSelfId", "include_self_id"),
    ("flatten", "multiField", "multi_field"),
    ("flatten", "pathField", "path_field"),
    ("sfdcDigest", "passthroughFilter", "complexFilterConditions"),
    ("edgemart", "name", "alias"),
];

fn public_node(name: &str, node: Value) -> Result<Value, Problem> {
    let Value::Object(mut obj) = node else {
        return Err(Problem::new(name, "", "a node is an object with \"action\" and \"parameters\""));
    };
    let action = crate::definition::take_action(name, &mut obj)?;
    let action = ACTIONS.iter().find(|(stored, _)| *stored == action).map_or(action.clone(), |(_, p)| p.to_string());
    let mut params = match obj.remove("parameters") {
        Some(Value::Object(p)) => p,
        None | Some(Value::Null) => Map::new(),
        Some(_) => return Err(Problem::new(name, "parameters", "must be an object")),
    };
    params.remove("runtime");
    let sources = match obj.remove("sources") {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) if items.iter().all(Value::is_string) => Some(items),
        Some(_) => return Err(Problem::new(name, "sources", "must be a list of node names")),
    };
    if let Some(sources) = sources {
        place_sources(name, &action, sources, &mut params)?;
    }
    for (_, stored, public) in KEYS.iter().filter(|(a, _, _)| *a == action) {
        if !params.contains_key(*public)
            && let Some(v) = params.remove(*stored)
        {
            params.insert(public.to_string(), v);
        }
    }
    let mut schema = obj.remove("schema");
    match action.as_str() {
        "sfdcRegister" => {
            // the stored `name` is the alias and `label` the display name
            if !params.contains_key("alias")
                && let Some(alias) = params.remove("name")
            {
                if let Some(label) = params.remove("label") {
                    params.insert("name".into(), label);
                } else {
                    params.insert("name".into(), alias.clone());
                }
                params.insert("alias".into(), alias);
            }
        }
        "flatten" => {
            // multi_field and path_field are objects with the output field's label
            let mut labelled = Vec::new();
            for key in ["multi_field", "path_field"] {
                if let Some(Value::Object(field)) = params.get(key).cloned() {
                    let Some(field_name) = field.get("name").cloned() else {
                        return Err(Problem::new(name, format!("parameters.{key}.name"), "is missing"));
                    };
                    params.insert(key.into(), field_name);
                    labelled.push(Value::Object(field));
                }
            }
            if schema.is_none() && !labelled.is_empty() {
                schema = Some(json!({"objects": [{"fields": labelled}]}));
            }
        }
        _ => {}
    }
    let mut out = Map::new();
    out.insert("action".into(), Value::String(action));
    out.insert("parameters".into(), Value::Object(params));
    if let Some(s) = schema {
        out.insert("schema".into(), s);
    }
    Ok(Value::Object(out))
}

/// Moves node-level `sources` to where the public action names its inputs.
fn place_sources(
    name: &str,
    action: &str,
    sources: Vec<Value>,
    params: &mut Map<String, Value>,
) -> Result<(), Problem> {
    match action {
        "augment" | "update" => {
            let [left, right]: [Value; 2] = sources.try_into().map_err(|s: Vec<Value>| {
                Problem::new(name, "sources", format!("{action} reads two sources (left, right), not {}", s.len()))
            })?;
            params.entry("left").or_insert(left);
            params.entry("right").or_insert(right);
        }
        "append" => {
            params.entry("sources").or_insert(Value::Array(sources));
            // INFERRED: a stored append without the key merges disjoint schemas. The stored
            // "The Motivator" has no key where its public job dump says true, and Salesforce's
            // own templates append Task and Event digests of different fields without it.
            params.entry("enableDisjointedSchemaMerge").or_insert(Value::Bool(true));
        }
        _ => match <[Value; 1]>::try_from(sources) {
            Ok([source]) => {
                params.entry("source").or_insert(source);
            }
            // a source node with `sources: []`
            Err(s) if s.is_empty() => {}
            Err(s) => {
                return Err(Problem::new(name, "sources", format!("{action} reads one source, not {}", s.len())));
            }
        },
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public(stored: Value) -> Value {
        let Value::Object(map) = stored else { panic!() };
        assert!(is_stored(&map));
        let Some(Value::Object(nodes)) = map.into_iter().next().map(|(_, v)| v) else { panic!() };
        Value::Object(to_public(nodes).unwrap())
    }

    #[test]
    fn maps_every_internal_shape_to_the_public_one() {
        let out = public(json!({"nodes": {
            "Opps": {"action": "sobjectDigest", "parameters": {"object": "Opportunity", "fields": [{"name": "Id"}],
                "passthroughFilter": "IsClosed = false", "runtime": {"SFDCtoken": "x"}}},
            "Accounts": {"action": "dataset", "parameters": {"name": "ns__Accounts"}},
            "Join": {"action": "augment", "sources": ["Opps", "Accounts"], "parameters": {"leftKey": ["AccountId"],
                "rightKey": ["Id"], "rightSelect": ["Name"], "relationship": "Account", "operation": "LookupSingleValue"}},
            "Both": {"action": "append", "sources": ["Join", "Join"], "parameters": {}},
            "Tree": {"action": "flatten", "sources": ["Both"], "parameters": {"selfField": "Id", "parentField": "ParentId",
                "multiField": {"name": "Roles", "label": "Roles", "isSystemField": false}, "pathField": {"name": "Path"}}},
            "Save": {"action": "register", "sources": ["Tree"], "parameters": {"name": "eadx__Opps", "label": "Opportunities"}}
        }}));
        assert_eq!(out["Opps"]["action"], "sfdcDigest");
        assert_eq!(out["Opps"]["parameters"]["complexFilterConditions"], "IsClosed = false");
        assert!(out["Opps"]["parameters"].get("runtime").is_none());
        assert_eq!(out["Accounts"], json!({"action": "edgemart", "parameters": {"alias": "ns__Accounts"}}));
        let join = &out["Join"]["parameters"];
        assert_eq!((&join["left"], &join["right"]), (&json!("Opps"), &json!("Accounts")));
        assert_eq!((&join["left_key"], &join["right_select"]), (&json!(["AccountId"]), &json!(["Name"])));
        assert_eq!(out["Both"]["parameters"]["sources"], json!(["Join", "Join"]));
        assert_eq!(out["Both"]["parameters"]["enableDisjointedSchemaMerge"], true);
        let tree = &out["Tree"];
        assert_eq!(tree["parameters"]["multi_field"], "Roles");
        assert_eq!(tree["parameters"]["path_field"], "Path");
        assert_eq!(tree["parameters"]["source"], "Both");
        assert_eq!(tree["schema"]["objects"][0]["fields"][0]["label"], "Roles");
        assert_eq!(
            out["Save"],
            json!({"action": "sfdcRegister", "parameters": {"source": "Tree", "alias": "eadx__Opps", "name": "Opportunities"}})
        );
    }

    #[test]
    fn wrong_sources_are_named() {
        let Value::Object(nodes) = json!({
            "J": {"action": "augment", "sources": ["A"], "parameters": {}},
            "F": {"action": "filter", "sources": ["A", "B"], "parameters": {}},
            "S": {"action": "filter", "sources": "A"}
        }) else {
            panic!()
        };
        let problems = to_public(nodes).unwrap_err().to_string();
        assert!(problems.contains("J.sources: augment reads two sources (left, right), not 1"), "{problems}");
        assert!(problems.contains("F.sources: filter reads one source, not 2"), "{problems}");
        assert!(problems.contains("S.sources: must be a list of node names"), "{problems}");
    }

    #[test]
    fn a_public_node_named_nodes_is_not_the_stored_form() {
        let Value::Object(map) = json!({"nodes": {"action": "edgemart", "parameters": {"alias": "a"}}}) else {
            panic!()
        };
        assert!(!is_stored(&map));
    }
}
