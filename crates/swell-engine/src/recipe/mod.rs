//! Data Prep recipes (R3): the JSON of `/wave/recipes` `recipeDefinition`, `.wdpr` files and
//! the `.wdf` wrapper (`["{}", "<recipe json>"]`), compiled into the same validated graph as a
//! dataflow ([`crate::Dataflow`]) so that one run, one report and one stop serve both.
//!
//! A recipe names its inputs positionally (`sources`, for join 0 = left, 1 = right); `ui` is
//! presentation only and never read. Enum values are matched in any case and with or without
//! underscores (real files write `LEFT_OUTER`, the docs `LeftOuter`). The optional `schema`
//! block of any node (rename, retype, slice) applies to that node's output.
//!
//! Formulas are the recipe SQL dialect (Spark SQL): `'text'` literals, `"Field.Name"`
//! identifiers, `=` for equality; see [`sql`]. Measures compute as `Float64` and dates as
//! timestamps, as in dataflows ([`crate::schema`]).

mod aggregate;
mod append;
mod bucket;
mod compute_relative;
mod extract_grains;
mod filter;
mod format_date;
mod formula;
mod join;
mod load;
mod logic;
mod relative;
mod save;
mod schema;
mod spark;
mod split;
pub mod sql;
mod type_cast;

use crate::definition::RawNode;
use crate::error::{Problem, Problems, suggest, unknown};
use crate::nodes::Transform;
use serde_json::{Map, Value};

/// How many nodes an action reads (its `sources`).
#[derive(Debug, Clone, Copy)]
enum Sources {
    Exactly(usize),
    AtLeast(usize),
}

type Build = fn(&str, &Value, &[String]) -> Result<Box<dyn Transform>, Vec<Problem>>;

/// One action of the recipe language: its name, the other spelling it has, how many nodes
/// it reads and how its node is built from the parameters and the sources' names.
struct Action {
    name: &'static str,
    alias: Option<&'static str>,
    sources: Sources,
    build: Build,
}

fn boxed<T: Transform + 'static>(t: T) -> Box<dyn Transform> {
    Box::new(t)
}

/// Every action of the recipe language that swell runs, declared once: the lookup, the
/// source count check and the list in messages read this table.
static ACTIONS: &[Action] = &[
    Action {
        name: "load",
        alias: None,
        sources: Sources::Exactly(0),
        build: |n, p, _| Ok(boxed(load::Load::parse(n, p)?)),
    },
    Action {
        name: "save",
        alias: None,
        sources: Sources::Exactly(1),
        build: |n, p, s| Ok(boxed(save::Save::parse(n, p, s)?)),
    },
    Action {
        name: "filter",
        alias: None,
        sources: Sources::Exactly(1),
        build: |n, p, s| Ok(boxed(filter::Filter::parse(n, p, s)?)),
    },
    Action {
        name: "sqlFilter",
        alias: None,
        sources: Sources::Exactly(1),
        build: |n, p, s| Ok(boxed(filter::SqlFilter::parse(n, p, s)?)),
    },
    Action {
        name: "formula",
        alias: None,
        sources: Sources::Exactly(1),
        build: |n, p, s| Ok(boxed(formula::Formula::parse(n, p, s)?)),
    },
    Action {
        name: "computeRelative",
        alias: None,
        sources: Sources::Exactly(1),
        build: |n, p, s| Ok(boxed(compute_relative::ComputeRelative::parse(n, p, s)?)),
    },
    Action {
        name: "join",
        alias: None,
        sources: Sources::Exactly(2),
        build: |n, p, s| Ok(boxed(join::Join::parse(n, p, s)?)),
    },
    Action {
        name: "appendV2",
        alias: Some("append"),
        sources: Sources::AtLeast(2),
        build: |n, p, s| Ok(boxed(append::Append::parse(n, p, s)?)),
    },
    Action {
        name: "aggregate",
        alias: None,
        sources: Sources::Exactly(1),
        build: |n, p, s| Ok(boxed(aggregate::Aggregate::parse(n, p, s)?)),
    },
    Action {
        name: "schema",
        alias: None,
        sources: Sources::Exactly(1),
        build: |n, p, s| Ok(boxed(schema::SchemaNode::parse(n, p, s, "parameters")?)),
    },
    Action {
        name: "split",
        alias: None,
        sources: Sources::Exactly(1),
        build: |n, p, s| Ok(boxed(split::Split::parse(n, p, s)?)),
    },
    Action {
        name: "extractGrains",
        alias: None,
        sources: Sources::Exactly(1),
        build: |n, p, s| Ok(boxed(extract_grains::ExtractGrains::parse(n, p, s)?)),
    },
    // the dataflow flatten reads the same parameters in camelCase; it names its input in them
    Action {
        name: "flatten",
        alias: None,
        sources: Sources::Exactly(1),
        build: |n, p, s| {
            let mut p = p.clone();
            if let Value::Object(map) = &mut p {
                map.insert("source".into(), Value::String(s[0].clone()));
            }
            crate::nodes::build(n, "flatten", &p)
        },
    },
    Action {
        name: "formatDate",
        alias: None,
        sources: Sources::Exactly(1),
        build: |n, p, s| Ok(boxed(format_date::FormatDate::parse(n, p, s)?)),
    },
    Action {
        name: "bucket",
        alias: None,
        sources: Sources::Exactly(1),
        build: |n, p, s| Ok(boxed(bucket::BucketNode::parse(n, p, s)?)),
    },
    Action {
        name: "typeCast",
        alias: None,
        sources: Sources::Exactly(1),
        build: |n, p, s| Ok(boxed(type_cast::TypeCast::parse(n, p, s)?)),
    },
    // the dataflow update, with the recipe's positional sources and camelCase keys
    Action {
        name: "update",
        alias: None,
        sources: Sources::Exactly(2),
        build: |n, p, s| crate::nodes::build(n, "update", &update_params(n, p, s)?),
    },
    Action { name: "export", alias: None, sources: Sources::Exactly(1), build: export },
];

/// A CSV export of the node's source.
fn export(node: &str, params: &Value, sources: &[String]) -> Result<Box<dyn Transform>, Vec<Problem>> {
    if let Some(f) = params.get("format").and_then(Value::as_str)
        && !f.eq_ignore_ascii_case("CSV")
    {
        return Err(vec![Problem::new(node, "parameters.format", format!("'{f}' exports are not supported (CSV)"))]);
    }
    Ok(Box::new(crate::nodes::export::Export::of(sources[0].clone())))
}

/// The names of the actions swell runs, for messages.
fn action_names() -> impl Iterator<Item = &'static str> {
    ACTIONS.iter().flat_map(|a| std::iter::once(a.name).chain(a.alias))
}

/// Actions that need services swell does not have; refused naming the node.
const EXTERNAL: &[(&str, &str)] = &[
    ("predict", "Einstein Discovery predictions"),
    ("discoveryPredict", "Einstein Discovery predictions"),
    ("smartDataDiscoveryPredict", "Einstein Discovery predictions"),
    ("clustering", "Einstein clustering"),
    ("detectSentiment", "Einstein sentiment models"),
    ("timeSeries", "Einstein time-series forecasting"),
    ("timeSeriesV2", "Einstein time-series forecasting"),
    ("predictMissingValues", "Einstein predictions"),
    ("recommendation", "Einstein recommendations"),
    ("outputD360", "Data Cloud"),
    ("outputExternal", "output connections"),
    ("writeDataCloudObject", "Data Cloud"),
    ("updateDataCloudObject", "Data Cloud"),
    ("extension", "recipe extensions"),
];

/// Whether a parsed JSON value is a recipe rather than a dataflow.
pub fn is_recipe(value: &Value) -> bool {
    match value {
        Value::Object(map) => {
            (map.get("nodes").is_some_and(Value::is_object) && (map.contains_key("version") || map.contains_key("ui")))
                || map.get("recipeDefinition").is_some_and(Value::is_object)
        }
        // the .wdf form ["{}", "<recipe json>"] is unwrapped by the definition reader
        _ => false,
    }
}

/// The nodes of a recipe, in document order.
pub fn parse(value: Value) -> Result<Vec<RawNode>, Problems> {
    let problem = |m: String| Problems(vec![Problem::new("", "", m)]);
    let value = match value {
        Value::Array(items) => {
            let text = items.get(1).and_then(Value::as_str).unwrap_or_default();
            serde_json::from_str(text)
                .map_err(|e| problem(format!("the .wdf wrapper's recipe is not valid JSON: {e}")))?
        }
        other => other,
    };
    let Value::Object(mut map) = value else { return Err(problem("a recipe is a JSON object".into())) };
    if let Some(Value::Object(inner)) = map.remove("recipeDefinition") {
        map = inner;
    }
    let nodes = match map.remove("nodes") {
        Some(Value::Object(nodes)) => nodes,
        _ => {
            return Err(problem(
                "a recipe has \"nodes\": an object of node name -> {\"action\", \"sources\", \"parameters\"}".into(),
            ));
        }
    };
    if nodes.is_empty() {
        return Err(problem("the recipe has no nodes".into()));
    }
    crate::flow::check_node_count(nodes.len())?;
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for (name, node) in nodes {
        match raw_node(&name, node) {
            Ok(n) => out.push(n),
            Err(p) => problems.push(p),
        }
    }
    if problems.is_empty() { Ok(out) } else { Err(Problems(problems)) }
}

fn raw_node(name: &str, node: Value) -> Result<RawNode, Problem> {
    let Value::Object(mut obj) = node else {
        return Err(Problem::new(name, "", "a node is an object with \"action\", \"sources\" and \"parameters\""));
    };
    let action = crate::definition::take_action(name, &mut obj)?;
    let sources = match obj.remove("sources") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => {
            let mut sources = Vec::new();
            for (i, s) in items.into_iter().enumerate() {
                match s {
                    Value::String(s) => sources.push(s),
                    _ => return Err(Problem::new(name, format!("sources[{i}]"), "must be a node name")),
                }
            }
            sources
        }
        Some(_) => return Err(Problem::new(name, "sources", "must be a list of node names")),
    };
    let parameters = match obj.remove("parameters") {
        Some(p @ Value::Object(_)) => p,
        None | Some(Value::Null) => Value::Object(Map::new()),
        Some(_) => return Err(Problem::new(name, "parameters", "must be an object")),
    };
    Ok(RawNode { name: name.to_string(), action, parameters, schema: obj.remove("schema"), sources: Some(sources) })
}

/// Enum spellings compared as a recipe writes them: any case, underscores optional.
pub fn enum_eq(a: &str, b: &str) -> bool {
    let norm = |s: &str| s.chars().filter(|c| *c != '_' && *c != ' ').flat_map(char::to_lowercase).collect::<String>();
    norm(a) == norm(b)
}

/// Builds the transformation of a recipe node; its `schema` block, if any, applies to the
/// node's output.
pub fn build(
    node: &str,
    action: &str,
    sources: &[String],
    params: &Value,
    schema_block: Option<&Value>,
) -> Result<Box<dyn Transform>, Vec<Problem>> {
    let Some(found) = ACTIONS.iter().find(|a| enum_eq(a.name, action) || a.alias.is_some_and(|x| enum_eq(x, action)))
    else {
        if let Some((name, what)) = EXTERNAL.iter().find(|(a, _)| enum_eq(a, action)) {
            return Err(vec![Problem::new(
                node,
                "action",
                format!("'{name}' is not supported: it needs {what}, which swell does not have"),
            )]);
        }
        let hint = suggest(action, action_names());
        let mut msg = unknown("action", action, hint);
        if hint.is_none() {
            msg.push_str(&format!(" (swell runs: {})", action_names().collect::<Vec<_>>().join(", ")));
        }
        return Err(vec![Problem::new(node, "action", msg)]);
    };
    // the action as the recipe writes it (`append`, `LEFT_OUTER`-style spellings aside)
    let written = if enum_eq(found.name, action) { found.name } else { found.alias.unwrap_or(found.name) };
    let article = if written.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
    let wrong = match found.sources {
        Sources::Exactly(n) if sources.len() != n => {
            Some(format!("{article} {written} node reads {n} node(s), this one lists {}", sources.len()))
        }
        Sources::AtLeast(n) if sources.len() < n => {
            Some(format!("{article} {written} node reads at least {n} nodes, this one lists {}", sources.len()))
        }
        _ => None,
    };
    if let Some(message) = wrong {
        return Err(vec![Problem::new(node, "sources", message)]);
    }
    let transform = (found.build)(node, params, sources)?;
    match schema_block {
        Some(block) if block.get("fields").is_some() || block.get("slice").is_some() => {
            Ok(Box::new(schema::WithSchema::new(node, transform, block)?))
        }
        _ => Ok(transform),
    }
}

/// A recipe update's parameters in the dataflow update's form: `sources` [left, right],
/// `leftKeys`/`leftKey`, `rightKeys`/`rightKey`, and `updateColumns` as an object (left field
/// -> right field) or a list of names updated from the same name. (INFERRED: the recipe
/// update mirrors the dataflow update; key names as in the recipe join and the .wdf form.)
fn update_params(node: &str, params: &Value, sources: &[String]) -> Result<Value, Vec<Problem>> {
    let get = |names: &[&str]| names.iter().find_map(|n| params.get(*n)).cloned();
    let mut problems = Vec::new();
    let left_key = get(&["leftKeys", "leftKey", "left_key"]);
    let right_key = get(&["rightKeys", "rightKey", "right_key"]);
    if left_key.is_none() {
        problems.push(Problem::new(node, "parameters.leftKeys", "is required: the key fields of the first source"));
    }
    if right_key.is_none() {
        problems.push(Problem::new(node, "parameters.rightKeys", "is required: the key fields of the second source"));
    }
    let columns = match get(&["updateColumns", "update_columns"]) {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) => Some(Value::Object(m)),
        Some(Value::Array(names)) => {
            let mut m = Map::new();
            for (i, n) in names.iter().enumerate() {
                match n.as_str() {
                    Some(s) => {
                        m.insert(s.to_string(), Value::String(s.to_string()));
                    }
                    None => problems.push(Problem::new(
                        node,
                        format!("parameters.updateColumns[{i}]"),
                        "must be a field name",
                    )),
                }
            }
            Some(Value::Object(m))
        }
        Some(_) => {
            problems.push(Problem::new(
                node,
                "parameters.updateColumns",
                "must map left fields to right fields ({\"Amount\": \"NewAmount\"}) or list field names",
            ));
            None
        }
    };
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut out = Map::new();
    out.insert("left".into(), Value::String(sources[0].clone()));
    out.insert("right".into(), Value::String(sources[1].clone()));
    out.insert("left_key".into(), left_key.unwrap_or_default());
    out.insert("right_key".into(), right_key.unwrap_or_default());
    if let Some(c) = columns {
        out.insert("update_columns".into(), c);
    }
    Ok(Value::Object(out))
}

/// The `(path, node)` pairs of a recipe node's `sources`.
pub fn inputs(sources: &[String]) -> Vec<(String, String)> {
    sources.iter().enumerate().map(|(i, s)| (format!("sources[{i}]"), s.clone())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Messages name the action as the recipe writes it (the probe of session 11 saw
    /// "an appendV2 node" for an `append`), and every action counts its sources.
    #[test]
    fn actions_count_their_sources_in_the_recipe_s_words() {
        let message = |action: &str, sources: &[&str]| -> String {
            let sources: Vec<String> = sources.iter().map(|s| s.to_string()).collect();
            match build("N", action, &sources, &serde_json::json!({}), None) {
                Err(p) => p[0].to_string(),
                Ok(_) => String::new(),
            }
        };
        assert_eq!(message("append", &["A"]), "N.sources: an append node reads at least 2 nodes, this one lists 1");
        assert_eq!(
            message("APPEND_V2", &["A"]),
            "N.sources: an appendV2 node reads at least 2 nodes, this one lists 1"
        );
        assert_eq!(message("join", &["A"]), "N.sources: a join node reads 2 node(s), this one lists 1");
        assert_eq!(message("load", &["A"]), "N.sources: a load node reads 0 node(s), this one lists 1");
        assert!(message("predict", &["A"]).contains("Einstein Discovery"));
    }
}
