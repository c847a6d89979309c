//! The validated dataflow: nodes with their transformations, the input graph resolved (every
//! source exists, no cycles) and schemas inferred node by node. Every problem is collected and
//! reported at once, each with its node and JSON path.

use crate::definition::{RawNode, parse_dataflow};
use crate::error::{Problem, Problems, suggest, unknown};
use crate::nodes::{self, CheckCx, Transform};
use crate::schema::Schema;
use crate::source::SourceRef;
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};

#[derive(Debug)]
pub struct Node {
    pub name: String,
    pub action: String,
    pub transform: Box<dyn Transform>,
    /// Indexes of the nodes this one reads, in parameter order.
    pub inputs: Vec<usize>,
    /// The node's optional `schema` block (labels and system-field flags of its output).
    schema_block: Option<Value>,
    /// The keys and texts of the node's parameters in lower case: a generated date companion it names
    /// anywhere (`CloseDate_Year` in an expression) is computed before it runs
    /// ([`crate::nodes::Transform::defers_companions`]).
    params_text: String,
}

impl Node {
    /// Whether the node's parameters name `field` (in any case, anywhere: a superset of what
    /// it reads).
    pub fn names(&self, field: &str) -> bool {
        self.params_text.contains(&field.to_lowercase())
    }
}

/// A dataflow (or a recipe, which compiles to the same graph) whose nodes parsed and whose
/// graph is sound.
#[derive(Debug)]
pub struct Dataflow {
    pub nodes: Vec<Node>,
    /// Node indexes in an order where inputs come first.
    pub order: Vec<usize>,
    /// Problems of nodes whose parameters could not be read; such nodes stay in the graph as
    /// broken so that the rest of the flow is still checked and every problem is reported.
    parse_problems: Vec<Problem>,
}

/// Stands in for a node whose parameters are wrong: no inputs, no schema.
#[derive(Debug)]
struct Broken;

#[async_trait::async_trait]
impl Transform for Broken {
    fn inputs(&self) -> Vec<(String, String)> {
        vec![]
    }
    fn check(&self, _cx: &mut CheckCx, _inputs: &[&Schema]) -> Option<Schema> {
        None
    }
    async fn plan(
        &self,
        _cx: &nodes::PlanCx<'_>,
        _inputs: Vec<datafusion::prelude::DataFrame>,
        _in: &[&Schema],
        _out: &Schema,
    ) -> datafusion::common::Result<datafusion::prelude::DataFrame> {
        datafusion::common::plan_err!("the node is invalid")
    }
}

impl Dataflow {
    /// Parses definition text and resolves the graph; schemas are not checked yet.
    pub fn parse(text: &str) -> Result<Dataflow, Problems> {
        Self::from_raw(parse_dataflow(text)?)
    }

    /// A definition already read as JSON (a stored one), in any of the forms
    /// [`crate::definition::from_value`] reads.
    pub fn from_value(value: serde_json::Value) -> Result<Dataflow, Problems> {
        Self::from_raw(crate::definition::from_value(value)?)
    }

    pub fn from_raw(raw: Vec<RawNode>) -> Result<Dataflow, Problems> {
        check_node_count(raw.len())?;
        let mut problems = Vec::new();
        let names: Vec<String> = raw.iter().map(|n| n.name.clone()).collect();
        let index: HashMap<&str, usize> = names.iter().enumerate().map(|(i, n)| (n.as_str(), i)).collect();
        let mut nodes = Vec::new();
        for r in raw {
            let built = match &r.sources {
                Some(sources) => crate::recipe::build(&r.name, &r.action, sources, &r.parameters, r.schema.as_ref()),
                None => nodes::build(&r.name, &r.action, &r.parameters),
            };
            // a recipe's schema block is part of its transformation; a dataflow's only labels
            let schema_block = if r.sources.is_some() { None } else { r.schema };
            let mut params_text = String::new();
            texts_of(&r.parameters, &mut params_text);
            match built {
                Ok(transform) => {
                    check_file_names(&r.name, transform.as_ref(), &mut problems);
                    let mut inputs = Vec::new();
                    for (path, source) in transform.inputs() {
                        match index.get(source.as_str()) {
                            Some(&i) if names[i] == r.name => {
                                problems.push(Problem::new(&r.name, path, "a node cannot read itself"));
                            }
                            Some(&i) => inputs.push(i),
                            None => {
                                let hint = suggest(&source, names.iter().map(String::as_str));
                                let msg = if source.is_empty() {
                                    "must name a node".to_string()
                                } else {
                                    unknown("node", &source, hint)
                                };
                                problems.push(Problem::new(&r.name, path, msg));
                            }
                        }
                    }
                    nodes.push(Node { name: r.name, action: r.action, transform, inputs, schema_block, params_text });
                }
                Err(mut p) => {
                    problems.append(&mut p);
                    nodes.push(Node {
                        name: r.name,
                        action: r.action,
                        transform: Box::new(Broken),
                        inputs: vec![],
                        schema_block: None,
                        params_text,
                    });
                }
            }
        }
        check_one_writer(&nodes, &mut problems);
        let order = match topological_order(&nodes) {
            Ok(order) => order,
            Err(mut cycle) => {
                // start at the node written first, so the message is stable
                let first = cycle.iter().enumerate().min_by_key(|(_, n)| **n).map_or(0, |(i, _)| i);
                cycle.rotate_left(first);
                let path: Vec<&str> = cycle.iter().map(|&i| nodes[i].name.as_str()).collect();
                problems.push(Problem::new(
                    &nodes[cycle[0]].name,
                    "",
                    format!("the nodes form a cycle: {} -> {}", path.join(" -> "), path[0]),
                ));
                return Err(Problems(problems));
            }
        };
        if let Some((node, depth)) = deepest_chain(&nodes, &order)
            && depth > MAX_CHAIN
        {
            problems.push(Problem::new(
                &nodes[node].name,
                "",
                format!(
                    "the node ends a chain of {depth} nodes; at most {MAX_CHAIN} are run one after another \
                     (register an intermediate dataset and read it in a second dataflow)"
                ),
            ));
            return Err(Problems(problems));
        }
        Ok(Dataflow { nodes, order, parse_problems: problems })
    }

    /// Whether some node's parameters could not be read.
    pub fn has_parse_problems(&self) -> bool {
        !self.parse_problems.is_empty()
    }

    /// Every outside table the dataflow reads.
    pub fn sources(&self) -> BTreeSet<SourceRef> {
        self.nodes.iter().filter_map(|n| n.transform.source()).collect()
    }

    /// How many nodes read each node.
    pub fn consumers(&self) -> Vec<usize> {
        let mut c = vec![0; self.nodes.len()];
        for n in &self.nodes {
            for &i in &n.inputs {
                c[i] += 1;
            }
        }
        c
    }

    /// Infers every node's output schema. With `sources` the real source schemas are used;
    /// without, source fields have unknown types and only what can be known is checked.
    pub fn check(
        &self,
        sources: Option<&HashMap<SourceRef, Schema>>,
        now_millis: i64,
    ) -> Result<Vec<Schema>, Problems> {
        let (schemas, problems) = self.check_all(sources, now_millis);
        if !problems.is_empty() {
            return Err(Problems(problems));
        }
        schemas
            .into_iter()
            .zip(&self.nodes)
            .map(|(s, n)| s.ok_or_else(|| Problems(vec![Problem::new(&n.name, "", "its input could not be read")])))
            .collect()
    }

    /// Every node's schema where it could be inferred, and every problem found.
    pub fn check_all(
        &self,
        sources: Option<&HashMap<SourceRef, Schema>>,
        now_millis: i64,
    ) -> (Vec<Option<Schema>>, Vec<Problem>) {
        let mut schemas: Vec<Option<Schema>> = vec![None; self.nodes.len()];
        let mut problems = self.parse_problems.clone();
        for &i in &self.order {
            let node = &self.nodes[i];
            let inputs: Option<Vec<&Schema>> = node.inputs.iter().map(|&j| schemas[j].as_ref()).collect();
            let Some(inputs) = inputs else {
                continue; // an input is broken; its problems are reported already
            };
            if inputs.len() != node.transform.inputs().len() {
                continue; // an input does not exist; reported while resolving the graph
            }
            let mut cx = CheckCx { node: &node.name, problems: Vec::new(), sources, now_millis };
            let out = node.transform.check(&mut cx, &inputs);
            let out = out.map(|s| apply_schema_block(&mut cx, node.schema_block.as_ref(), s));
            problems.append(&mut cx.problems);
            schemas[i] = out;
        }
        (schemas, problems)
    }
}

/// The most nodes a definition may have. The largest public definition we know has 209
/// (../shared/realworld); a limit keeps a hostile one from holding the server.
pub const MAX_NODES: usize = 2_000;

/// Refuses a definition of more than [`MAX_NODES`] nodes, before any node is read (a body of
/// a million empty nodes would otherwise cost a problem, and memory, for each).
pub fn check_node_count(count: usize) -> Result<(), Problems> {
    if count > MAX_NODES {
        return Err(Problems(vec![Problem::new(
            "",
            "",
            format!("the definition has {count} nodes; at most {MAX_NODES} are run (split it into several dataflows)"),
        )]));
    }
    Ok(())
}

/// The longest chain of nodes each reading the one before. A chain becomes one nested
/// DataFusion plan whose planning recurses with its depth; the largest public definition
/// chains fewer than 60.
pub const MAX_CHAIN: usize = 500;

/// The node ending the longest chain, and the chain's length in nodes.
fn deepest_chain(nodes: &[Node], order: &[usize]) -> Option<(usize, usize)> {
    let mut depth = vec![0usize; nodes.len()];
    for &i in order {
        depth[i] = 1 + nodes[i].inputs.iter().map(|&j| depth[j]).max().unwrap_or(0);
    }
    depth.iter().enumerate().max_by_key(|(_, d)| **d).map(|(i, d)| (i, *d))
}

/// Names that become file names under the data dir (a connected object, a dataset read, an
/// export node's folder) must be [`swell_core::PathName`]s: checked here, once for every
/// transformation, before anything is read or written.
fn check_file_names(node: &str, transform: &dyn Transform, problems: &mut Vec<Problem>) {
    let mut check = |path: &str, what: &str, name: &str| {
        if let Err(e) = swell_core::PathName::parse(name) {
            problems.push(Problem::new(node, path, format!("{what} {e}")));
        }
    };
    match transform.source() {
        Some(SourceRef::Object { connection, object }) => {
            check("parameters.connectionName", "the connection", &connection);
            check("parameters.object", "the object", &object);
        }
        Some(SourceRef::Dataset(alias)) => check("parameters.alias", "the dataset", &alias),
        None => {}
    }
    match transform.sink() {
        Some(nodes::Sink::Export) => check("", "an export node's name names its folder:", node),
        Some(nodes::Sink::Dataset(target)) => check("parameters.alias", "the dataset", &target.alias),
        None => {}
    }
}

/// Every key and text of `v`, in lower case, one a line (`"a\"b"` stays `a"b`, as a name).
fn texts_of(v: &Value, out: &mut String) {
    match v {
        Value::String(t) => {
            out.push_str(&t.to_lowercase());
            out.push('\n');
        }
        Value::Array(items) => items.iter().for_each(|i| texts_of(i, out)),
        Value::Object(map) => {
            for (k, x) in map {
                out.push_str(&k.to_lowercase());
                out.push('\n');
                texts_of(x, out);
            }
        }
        _ => {}
    }
}

/// Dataset names, like an org's API names, are compared regardless of case: two nodes
/// registering `Dup` and `dup` would write two folders that collide where the file system
/// ignores case (the store holds the same rule across definitions). Two nodes registering the
/// very same alias write two versions of one dataset, the last one current, as two
/// dataflows registering it do.
fn check_one_writer(nodes: &[Node], problems: &mut Vec<Problem>) {
    let mut seen: Vec<(&str, String)> = Vec::new();
    for node in nodes {
        let Some(nodes::Sink::Dataset(target)) = node.transform.sink() else { continue };
        match seen.iter().find(|(_, alias)| alias.eq_ignore_ascii_case(&target.alias)) {
            Some((first, alias)) if *alias != target.alias => problems.push(Problem::new(
                &node.name,
                "parameters.alias",
                format!(
                    "'{}' differs only in case from '{alias}', which node '{first}' registers (dataset names are \
                     compared regardless of case)",
                    target.alias
                ),
            )),
            Some(_) => {}
            None => seen.push((node.name.as_str(), target.alias.clone())),
        }
    }
}

/// [`validate`] on a thread of its own with a deep stack, for callers on ordinary threads
/// (an HTTP handler): a panic while checking is a problem of the definition, never the end
/// of the caller.
pub fn validate_isolated(text: String) -> Result<(), Problems> {
    match crate::on_deep_stack(move || validate(&text).map(|_| ())) {
        Ok(result) => result,
        Err(panic) => {
            Err(Problems(vec![Problem::new("", "", format!("the definition could not be checked: {panic}"))]))
        }
    }
}

/// Validates a definition without touching data.
pub fn validate(text: &str) -> Result<Dataflow, Problems> {
    let flow = Dataflow::parse(text)?;
    flow.check(None, chrono::Utc::now().timestamp_millis())?;
    Ok(flow)
}

/// Kahn's algorithm; on a cycle returns the nodes of one cycle in order.
fn topological_order(nodes: &[Node]) -> Result<Vec<usize>, Vec<usize>> {
    let n = nodes.len();
    let mut indegree = vec![0usize; n];
    let mut readers: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, node) in nodes.iter().enumerate() {
        for &j in &node.inputs {
            indegree[i] += 1;
            readers[j].push(i);
        }
    }
    let mut ready: Vec<usize> = (0..n).filter(|&i| indegree[i] == 0).rev().collect();
    let mut order = Vec::with_capacity(n);
    while let Some(i) = ready.pop() {
        order.push(i);
        for &r in readers[i].iter().rev() {
            indegree[r] -= 1;
            if indegree[r] == 0 {
                ready.push(r);
            }
        }
    }
    if order.len() == n {
        return Ok(order);
    }
    // walk inputs from a node left in a cycle until one repeats
    let mut at = (0..n).find(|&i| indegree[i] > 0).expect("a node is left");
    let mut seen = vec![usize::MAX; n];
    let mut path = Vec::new();
    while seen[at] == usize::MAX {
        seen[at] = path.len();
        path.push(at);
        at = *nodes[at].inputs.iter().find(|&&j| indegree[j] > 0).expect("a cycle node has a cycle input");
    }
    let mut cycle: Vec<usize> = path[seen[at]..].to_vec();
    cycle.reverse();
    Err(cycle)
}

/// Applies a node's `schema` block: `{"objects": [{"fields": [{"name", "label", "isSystemField"}]}]}`.
fn apply_schema_block(cx: &mut CheckCx, block: Option<&Value>, mut schema: Schema) -> Schema {
    let Some(block) = block else { return schema };
    let objects = block.get("objects").and_then(Value::as_array).cloned().unwrap_or_default();
    for (o, object) in objects.iter().enumerate() {
        let fields = object.get("fields").and_then(Value::as_array).cloned().unwrap_or_default();
        for (i, f) in fields.iter().enumerate() {
            let path = format!("schema.objects[{o}].fields[{i}]");
            let Some(name) = f.get("name").and_then(Value::as_str) else {
                cx.problem(format!("{path}.name"), "is missing");
                continue;
            };
            if schema.open {
                continue;
            }
            let msg = schema.unknown_field(name);
            let Some(field) = schema.fields.iter_mut().find(|x| x.name == name) else {
                cx.problem(format!("{path}.name"), msg);
                continue;
            };
            if let Some(label) = f.get("label").and_then(Value::as_str) {
                field.label = Some(label.to_string());
            }
            if let Some(system) = f.get("isSystemField").and_then(Value::as_bool) {
                field.is_system_field = system;
            }
        }
    }
    schema
}
