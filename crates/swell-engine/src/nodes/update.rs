//! update: overwrites fields of the left stream with values from the right stream where the
//! keys match; other rows pass through unchanged. `update_columns` maps left field -> right
//! field; without it, every right field with the same name as a left field (keys excepted) is
//! updated. Right keys should be unique; when they are not, one right row is used (see
//! lookup.rs).

use super::lookup::{check_keys, lookup};
use super::{CheckCx, OneOrMany, PlanCx, Transform};
use crate::schema::Schema;
use datafusion::common::Result as DFResult;
use datafusion::logical_expr::{Expr, cast, ident, lit, when};
use datafusion::prelude::DataFrame;
use indexmap_lite::Pairs;
use serde::Deserialize;

mod indexmap_lite {
    /// An ordered JSON object of strings.
    pub type Pairs = serde_json::Map<String, serde_json::Value>;
}

#[derive(Debug, Deserialize)]
pub struct Update {
    left: String,
    right: String,
    left_key: OneOrMany,
    right_key: OneOrMany,
    #[serde(default)]
    update_columns: Option<Pairs>,
}

impl Update {
    /// (left field, right field) pairs.
    fn mapping(&self, left: &Schema, right: &Schema) -> Vec<(String, String)> {
        match &self.update_columns {
            Some(m) => m.iter().map(|(l, r)| (l.clone(), r.as_str().unwrap_or_default().to_string())).collect(),
            None => {
                let rk = self.right_key.clone().into_vec();
                right
                    .fields
                    .iter()
                    .filter(|f| left.get(&f.name).is_some() && !rk.contains(&f.name))
                    .map(|f| (f.name.clone(), f.name.clone()))
                    .collect()
            }
        }
    }
}

const MATCHED: &str = "__swell_matched";

fn update_name(i: usize) -> String {
    format!("__swell_update{i}")
}

#[async_trait::async_trait]
impl Transform for Update {
    fn inputs(&self) -> Vec<(String, String)> {
        vec![("parameters.left".into(), self.left.clone()), ("parameters.right".into(), self.right.clone())]
    }

    fn check(&self, cx: &mut CheckCx, inputs: &[&Schema]) -> Option<Schema> {
        let (left, right) = (inputs[0], inputs[1]);
        let (lk, rk) = (self.left_key.clone().into_vec(), self.right_key.clone().into_vec());
        check_keys(cx, left, &lk, "parameters.left_key", right, &rk, "parameters.right_key", false);
        if let Some(m) = &self.update_columns {
            for (l, r) in m {
                let path = format!("parameters.update_columns.{l}");
                let Some(r) = r.as_str() else {
                    cx.problem(path, "must name a field of the right stream");
                    continue;
                };
                let (lt, rt) = (left.type_of(l), right.type_of(r));
                if lt.is_none() {
                    cx.problem(path.clone(), left.unknown_field(l));
                }
                if rt.is_none() {
                    cx.problem(path.clone(), right.unknown_field(r));
                }
                if let (Some(lt), Some(rt)) = (lt, rt)
                    && lt.kind_name() != rt.kind_name()
                    && !matches!(lt, crate::schema::FieldType::Unknown)
                    && !matches!(rt, crate::schema::FieldType::Unknown)
                {
                    cx.problem(path, format!("'{l}' is {} but '{r}' is {}", lt.kind_name(), rt.kind_name()));
                }
            }
        } else if !left.open && !right.open && self.mapping(left, right).is_empty() {
            cx.problem(
                "parameters.update_columns",
                "no right field has the name of a left field: say which fields to update",
            );
        }
        Some(left.clone())
    }

    async fn plan(
        &self,
        _cx: &PlanCx<'_>,
        inputs: Vec<DataFrame>,
        in_schemas: &[&Schema],
        out: &Schema,
    ) -> DFResult<DataFrame> {
        let mut inputs = inputs.into_iter();
        let (left, right) = (inputs.next().expect("left"), inputs.next().expect("right"));
        let (lk, rk) = (self.left_key.clone().into_vec(), self.right_key.clone().into_vec());
        let mapping = self.mapping(in_schemas[0], in_schemas[1]);
        let mut cols: Vec<(Expr, String)> = vec![(lit(true), MATCHED.to_string())];
        cols.extend(mapping.iter().enumerate().map(|(i, (_, r))| (ident(r.as_str()), update_name(i))));
        let joined = lookup(left, &lk, right, &rk, cols)?;
        let exprs: Vec<Expr> = out
            .fields
            .iter()
            .map(|f| {
                let name = f.name.as_str();
                match mapping.iter().position(|(l, _)| l == name) {
                    Some(i) => when(ident(MATCHED).is_not_null(), cast(ident(update_name(i)), f.ty.run_type()))
                        .otherwise(ident(name))
                        .expect("when")
                        .alias(name),
                    None => ident(name),
                }
            })
            .collect();
        joined.select(exprs)
    }
}
