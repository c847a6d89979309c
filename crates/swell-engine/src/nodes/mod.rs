//! Dataflow transformations, one file each. Every transformation is parsed from its
//! `parameters` into a typed struct, checked against its input schemas (reporting problems
//! with JSON paths instead of stopping at the first), and planned as DataFusion operations on
//! its inputs' DataFrames.

mod append;
mod augment;
mod compute_expression;
pub(crate) mod compute_relative;
mod delta;
pub mod digest;
mod dim2mea;
mod edgemart;
pub(crate) mod export;
mod filter;
pub(crate) mod flatten;
pub(crate) mod lookup;
pub mod register;
mod slice;
mod soql;
mod update;

use crate::error::{Problem, suggest, unknown};
use crate::schema::Schema;
use crate::source::SourceRef;
use datafusion::common::Result as DFResult;
use datafusion::prelude::{DataFrame, SessionContext};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::HashMap;
use std::fmt::Debug;

pub use register::RegisterTarget;

/// What a check can see.
pub struct CheckCx<'a> {
    pub node: &'a str,
    pub problems: Vec<Problem>,
    /// Schemas of the sources, when checking against data; `None` when validating statically.
    pub sources: Option<&'a HashMap<SourceRef, Schema>>,
    pub now_millis: i64,
}

impl CheckCx<'_> {
    pub fn problem(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem::new(self.node, path, message));
    }

    /// Reports `name` missing from `schema` at `path`; returns whether it exists.
    pub fn require_field(&mut self, schema: &Schema, name: &str, path: impl Into<String>) -> bool {
        if schema.contains(name) {
            true
        } else {
            let msg = schema.unknown_field(name);
            self.problem(path, msg);
            false
        }
    }
}

/// What planning can use.
pub struct PlanCx<'a> {
    pub ctx: &'a SessionContext,
    /// Fires when the run is stopped; long-running code of swell's own checks it.
    pub cancel: &'a tokio_util::sync::CancellationToken,
    pub node: &'a str,
    pub sources: &'a HashMap<SourceRef, DataFrame>,
    /// The sources' schemas, as the check saw them (a node may check a part of itself again).
    pub source_schemas: &'a HashMap<SourceRef, Schema>,
    pub now_millis: i64,
}

/// Where a node's rows go when it is an output of the dataflow.
#[derive(Debug, Clone)]
pub enum Sink {
    /// sfdcRegister: a new dataset version.
    Dataset(RegisterTarget),
    /// export: CSV and Parquet files under the data dir.
    Export,
}

#[async_trait::async_trait]
pub trait Transform: Send + Sync + Debug {
    /// The nodes this one reads, with the JSON path that names each.
    fn inputs(&self) -> Vec<(String, String)>;

    /// The table it reads from outside the dataflow, if any.
    fn source(&self) -> Option<SourceRef> {
        None
    }

    /// Checks the node against its inputs and returns its output schema, or `None` when it is
    /// too broken to say (problems are in `cx`).
    fn check(&self, cx: &mut CheckCx, inputs: &[&Schema]) -> Option<Schema>;

    /// Builds the node's rows from its inputs' rows.
    async fn plan(
        &self,
        cx: &PlanCx<'_>,
        inputs: Vec<DataFrame>,
        in_schemas: &[&Schema],
        out: &Schema,
    ) -> DFResult<DataFrame>;

    /// Whether the node reads its inputs more than once while planning (flatten collects its
    /// hierarchy first); such inputs are materialised so their rows are computed and counted
    /// once.
    fn rereads_inputs(&self) -> bool {
        false
    }

    fn sink(&self) -> Option<Sink> {
        None
    }

    /// Whether the node's rows may leave out the generated companions of dates
    /// ([`crate::dates`]) that its parameters do not name: it reads no field it does not name
    /// and passes the others through unchanged, so the companions can be computed later,
    /// once, where a node names them or the rows are written (see [`crate::run`]). Nodes that
    /// read every field (append) or may change a date (update) keep the default: their inputs
    /// come with every companion.
    fn defers_companions(&self) -> bool {
        false
    }
}

type Build = fn(&str, &Value) -> Result<Box<dyn Transform>, Vec<Problem>>;

/// One action of the dataflow language: its name and how its node is built from the
/// parameters.
struct Action {
    name: &'static str,
    build: Build,
}

/// A node whose parameters deserialize into `T`.
fn plain<T: Transform + DeserializeOwned + 'static>(
    node: &str,
    params: &Value,
) -> Result<Box<dyn Transform>, Vec<Problem>> {
    parse::<T>(node, params).map(boxed).map_err(|p| vec![p])
}

/// Every action of the dataflow language that swell runs, declared once: the lookup and the
/// list in messages read this table.
static ACTIONS: &[Action] = &[
    Action { name: "sfdcDigest", build: |n, p| digest::Digest::parse(n, p, true).map(boxed).map_err(|e| vec![e]) },
    Action { name: "digest", build: |n, p| digest::Digest::parse(n, p, false).map(boxed).map_err(|e| vec![e]) },
    Action { name: "edgemart", build: plain::<edgemart::Edgemart> },
    Action { name: "append", build: plain::<append::Append> },
    Action { name: "augment", build: plain::<augment::Augment> },
    Action { name: "computeExpression", build: |n, p| compute_expression::ComputeExpression::parse(n, p).map(boxed) },
    Action { name: "computeRelative", build: |n, p| compute_relative::ComputeRelative::parse(n, p).map(boxed) },
    Action { name: "delta", build: plain::<delta::Delta> },
    Action { name: "dim2mea", build: plain::<dim2mea::Dim2Mea> },
    Action { name: "filter", build: |n, p| filter::Filter::parse(n, p).map(boxed) },
    Action { name: "flatten", build: plain::<flatten::Flatten> },
    Action { name: "sliceDataset", build: plain::<slice::Slice> },
    Action { name: "update", build: plain::<update::Update> },
    Action { name: "sfdcRegister", build: |n, p| register::Register::parse(n, p).map(boxed) },
    Action { name: "export", build: plain::<export::Export> },
];

/// Actions that need services swell does not have; refused naming the node.
const EXTERNAL: &[(&str, &str)] = &[("prediction", "it scores rows with an Einstein Discovery model")];

/// Builds the transformation of `action` from its parameters.
pub fn build(node: &str, action: &str, params: &Value) -> Result<Box<dyn Transform>, Vec<Problem>> {
    if let Some(a) = ACTIONS.iter().find(|a| a.name == action) {
        return (a.build)(node, params);
    }
    let message = match EXTERNAL.iter().find(|(name, _)| *name == action) {
        Some((name, why)) => format!("'{name}' is not supported: {why}, which swell does not have"),
        None => {
            let names = || ACTIONS.iter().map(|a| a.name);
            let hint = suggest(action, names());
            let mut msg = unknown("action", action, hint);
            if hint.is_none() {
                msg.push_str(&format!(" (swell runs: {})", names().collect::<Vec<_>>().join(", ")));
            }
            msg
        }
    };
    Err(vec![Problem::new(node, "action", message)])
}

fn boxed<T: Transform + 'static>(t: T) -> Box<dyn Transform> {
    Box::new(t)
}

/// Deserializes a node's parameters; the error names the JSON path below `parameters`.
pub fn parse<T: DeserializeOwned>(node: &str, params: &Value) -> Result<T, Problem> {
    serde_path_to_error::deserialize(params).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." { "parameters".to_string() } else { format!("parameters.{path}") };
        let inner = e.into_inner().to_string();
        let msg = match inner.find(" at line ") {
            Some(i) => inner[..i].to_string(),
            None => inner,
        };
        Problem::new(node, path, msg)
    })
}

/// A field list written as `["A", "B"]` or `[{"name": "A"}, ...]`.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(untagged)]
pub enum NameRef {
    Plain(String),
    Object { name: String },
}

impl NameRef {
    pub fn name(&self) -> &str {
        match self {
            NameRef::Plain(n) | NameRef::Object { name: n } => n,
        }
    }
}

/// A list of names or a single name.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}

/// Flexible booleans: `true` or `"true"`.
pub fn de_bool<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum B {
        Bool(bool),
        Str(String),
    }
    match B::deserialize(d)? {
        B::Bool(b) => Ok(b),
        B::Str(s) if s.eq_ignore_ascii_case("true") => Ok(true),
        B::Str(s) if s.eq_ignore_ascii_case("false") || s.is_empty() => Ok(false),
        B::Str(s) => Err(serde::de::Error::custom(format!("expected true or false, found \"{s}\""))),
    }
}

use serde::Deserialize;

/// `df`'s fields of `schema`, in order, then `expr` as a new field `name`.
pub fn add_field(df: DataFrame, schema: &Schema, expr: datafusion::prelude::Expr, name: &str) -> DFResult<DataFrame> {
    let mut exprs: Vec<datafusion::prelude::Expr> =
        schema.fields.iter().map(|f| datafusion::prelude::ident(f.name.as_str())).collect();
    exprs.push(expr.alias(name));
    df.select(exprs)
}

/// Projects `df` onto `schema`'s field names, in order.
pub fn project_to(df: DataFrame, schema: &Schema) -> DFResult<DataFrame> {
    df.select(schema.fields.iter().map(|f| datafusion::prelude::ident(f.name.as_str())).collect::<Vec<_>>())
}
