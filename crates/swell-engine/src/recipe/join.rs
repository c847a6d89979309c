//! join: LOOKUP (every left row, at most one right match), MULTI_VALUE_LOOKUP (every left
//! row; the right rows of a key folded into one: text values into a multi-value field,
//! numbers summed, dates the latest), LEFT_OUTER, RIGHT_OUTER, INNER, OUTER (full) and CROSS.
//! `leftKeys`/`rightKeys` pair up positionally; a null key never matches (Spark semantics,
//! unlike the dataflow augment). Right fields are named `<rightQualifier>.<field>` and left
//! fields `<leftQualifier>.<field>` when a qualifier is given.

use super::enum_eq;
use crate::error::Problem;
use crate::nodes::lookup::{check_keys, join_right_build, key_name, lookup};
use crate::nodes::{CheckCx, PlanCx, Transform, parse};
use crate::schema::{Field, FieldType, Schema};
use datafusion::common::Result as DFResult;
use datafusion::functions_aggregate::expr_fn as agg;
use datafusion::logical_expr::{Expr, JoinType, ident};
use datafusion::prelude::DataFrame;
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Params {
    join_type: String,
    #[serde(default)]
    left_keys: Vec<String>,
    #[serde(default)]
    right_keys: Vec<String>,
    #[serde(default)]
    left_qualifier: Option<String>,
    #[serde(default)]
    right_qualifier: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Lookup,
    MultiValueLookup,
    LeftOuter,
    RightOuter,
    Inner,
    Outer,
    Cross,
}

const KINDS: &[(&str, Kind)] = &[
    ("LOOKUP", Kind::Lookup),
    ("MULTI_VALUE_LOOKUP", Kind::MultiValueLookup),
    ("LEFT_OUTER", Kind::LeftOuter),
    ("RIGHT_OUTER", Kind::RightOuter),
    ("INNER", Kind::Inner),
    ("OUTER", Kind::Outer),
    ("FULL_OUTER", Kind::Outer),
    ("CROSS", Kind::Cross),
];

#[derive(Debug)]
pub struct Join {
    sources: Vec<String>,
    kind: Kind,
    params: Params,
}

impl Join {
    pub fn parse(node: &str, params: &Value, sources: &[String]) -> Result<Join, Vec<Problem>> {
        let p: Params = parse(node, params).map_err(|p| vec![p])?;
        let Some(kind) = KINDS.iter().find(|(n, _)| enum_eq(n, &p.join_type)).map(|(_, k)| *k) else {
            return Err(vec![Problem::new(
                node,
                "parameters.joinType",
                format!(
                    "'{}' is not a join type: use LOOKUP, MULTI_VALUE_LOOKUP, LEFT_OUTER, RIGHT_OUTER, INNER, OUTER or CROSS",
                    p.join_type
                ),
            )]);
        };
        Ok(Join { sources: sources.to_vec(), kind, params: p })
    }

    fn qualified(q: &Option<String>, name: &str) -> String {
        match q.as_deref().filter(|q| !q.is_empty()) {
            Some(q) => format!("{q}.{name}"),
            None => name.to_string(),
        }
    }
}

#[async_trait::async_trait]
impl Transform for Join {
    fn inputs(&self) -> Vec<(String, String)> {
        super::inputs(&self.sources)
    }

    fn check(&self, cx: &mut CheckCx, inputs: &[&Schema]) -> Option<Schema> {
        let (left, right) = (inputs[0], inputs[1]);
        if self.kind != Kind::Cross {
            check_keys(
                cx,
                left,
                &self.params.left_keys,
                "parameters.leftKeys",
                right,
                &self.params.right_keys,
                "parameters.rightKeys",
                false,
            );
        }
        if left.open || right.open {
            return Some(Schema::unknown());
        }
        let mut out = Schema::new(Vec::new());
        for f in &left.fields {
            out.fields.push(Field { name: Self::qualified(&self.params.left_qualifier, &f.name), ..f.clone() });
        }
        for f in &right.fields {
            let name = Self::qualified(&self.params.right_qualifier, &f.name);
            if out.contains(&name) {
                cx.problem(
                    "parameters.rightQualifier",
                    format!("field '{name}' is on both sides: give the right side a rightQualifier"),
                );
                continue;
            }
            let ty = match (&self.kind, &f.ty) {
                (Kind::MultiValueLookup, FieldType::Text) => FieldType::MultiValue,
                (_, t) => t.clone(),
            };
            out.fields.push(Field { name, ty, ..f.clone() });
        }
        Some(out)
    }

    async fn plan(
        &self,
        _cx: &PlanCx<'_>,
        mut inputs: Vec<DataFrame>,
        in_schemas: &[&Schema],
        out: &Schema,
    ) -> DFResult<DataFrame> {
        let right = inputs.remove(1);
        let mut left = inputs.remove(0);
        let (ls, rs) = (in_schemas[0], in_schemas[1]);
        let lq = &self.params.left_qualifier;
        let rq = &self.params.right_qualifier;
        // left fields under their output names
        if lq.as_deref().is_some_and(|q| !q.is_empty()) {
            left = left.select(
                ls.fields
                    .iter()
                    .map(|f| ident(f.name.as_str()).alias(Self::qualified(lq, &f.name)))
                    .collect::<Vec<_>>(),
            )?;
        }
        let left_keys: Vec<String> = self.params.left_keys.iter().map(|k| Self::qualified(lq, k)).collect();
        let right_cols: Vec<(Expr, String)> =
            rs.fields.iter().map(|f| (ident(f.name.as_str()), Self::qualified(rq, &f.name))).collect();
        let joined = match self.kind {
            Kind::Lookup => lookup(left, &left_keys, right, &self.params.right_keys, right_cols)?,
            Kind::MultiValueLookup => {
                let keys: Vec<Expr> = self
                    .params
                    .right_keys
                    .iter()
                    .enumerate()
                    .map(|(i, k)| ident(k.as_str()).alias(key_name(i)))
                    .collect();
                let aggs: Vec<Expr> = rs
                    .fields
                    .iter()
                    .map(|f| {
                        let c = ident(f.name.as_str());
                        let e = match &f.ty {
                            FieldType::Numeric { .. } => agg::sum(c),
                            FieldType::Date { .. } => agg::max(c),
                            FieldType::MultiValue => datafusion::functions_nested::expr_fn::flatten(agg::array_agg(c)),
                            _ => agg::array_agg(c),
                        };
                        e.alias(Self::qualified(rq, &f.name))
                    })
                    .collect();
                let not_null = self
                    .params
                    .right_keys
                    .iter()
                    .map(|k| ident(k.as_str()).is_not_null())
                    .reduce(Expr::and)
                    .unwrap_or_else(|| datafusion::prelude::lit(true));
                let folded = right.filter(not_null)?.aggregate(keys, aggs)?;
                join_right_build(left, &left_keys, folded, right_cols.into_iter().map(|(_, n)| n).collect())?
            }
            kind => {
                let right =
                    right.select(right_cols.iter().map(|(e, n)| e.clone().alias(n.as_str())).collect::<Vec<_>>())?;
                let on: Vec<Expr> = left_keys
                    .iter()
                    .zip(&self.params.right_keys)
                    .map(|(l, r)| ident(l.as_str()).eq(ident(Self::qualified(rq, r))))
                    .collect();
                let jt = match kind {
                    Kind::LeftOuter => JoinType::Left,
                    Kind::RightOuter => JoinType::Right,
                    Kind::Outer => JoinType::Full,
                    _ => JoinType::Inner,
                };
                left.join_on(right, jt, if kind == Kind::Cross { vec![] } else { on })?
            }
        };
        joined.select(out.fields.iter().map(|f| ident(f.name.as_str())).collect::<Vec<_>>())
    }
}
