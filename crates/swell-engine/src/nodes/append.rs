//! append: stacks the rows of several streams. Without `enableDisjointedSchemaMerge` every
//! input must have the same fields; with it, the output has the union of the fields and a
//! field an input lacks is null there. A field present in several inputs must have one kind;
//! measures take the widest precision and scale; text and multi-value make a multi-value
//! field. While checking without data, a field whose
//! type is not known yet (undeclared in a digest) takes the type another input declares.

use super::{CheckCx, PlanCx, Transform, de_bool};
use crate::schema::{FieldType, Schema};
use datafusion::common::{Result as DFResult, ScalarValue};
use datafusion::logical_expr::{Expr, cast, ident, lit, when};
use datafusion::prelude::DataFrame;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Append {
    sources: Vec<String>,
    #[serde(default, deserialize_with = "de_bool")]
    enable_disjointed_schema_merge: bool,
}

#[async_trait::async_trait]
impl Transform for Append {
    fn inputs(&self) -> Vec<(String, String)> {
        self.sources.iter().enumerate().map(|(i, s)| (format!("parameters.sources[{i}]"), s.clone())).collect()
    }

    fn check(&self, cx: &mut CheckCx, inputs: &[&Schema]) -> Option<Schema> {
        if self.sources.len() < 2 {
            cx.problem("parameters.sources", "must list at least two nodes");
        }
        if inputs.iter().any(|s| s.open) {
            return Some(Schema::unknown());
        }
        let mut out = inputs.first().map(|s| (*s).clone()).unwrap_or_default();
        for (i, input) in inputs.iter().enumerate().skip(1) {
            let path = format!("parameters.sources[{i}]");
            if !self.enable_disjointed_schema_merge {
                // the date parts of a field whose type is not known yet may not exist at all
                let speculative = |s: &Schema, n: &str| {
                    s.get(n).is_some_and(|f| f.derived_from.is_some() && f.ty == FieldType::Unknown)
                };
                let missing: Vec<&str> = out.names().filter(|n| !input.contains(n) && !speculative(&out, n)).collect();
                let extra: Vec<&str> = input.names().filter(|n| !out.contains(n) && !speculative(input, n)).collect();
                if !missing.is_empty() || !extra.is_empty() {
                    let mut msg = format!("'{}' has different fields from '{}'", self.sources[i], self.sources[0]);
                    if !missing.is_empty() {
                        msg.push_str(&format!("; it lacks {}", missing.join(", ")));
                    }
                    if !extra.is_empty() {
                        msg.push_str(&format!("; it adds {}", extra.join(", ")));
                    }
                    msg.push_str(" (set enableDisjointedSchemaMerge to true to merge them)");
                    cx.problem(path.clone(), msg);
                }
            }
            for f in &input.fields {
                match out.fields.iter_mut().find(|o| o.name == f.name) {
                    None => out.fields.push(f.clone()),
                    Some(o) => match (&mut o.ty, &f.ty) {
                        (
                            FieldType::Numeric { precision: p1, scale: s1 },
                            FieldType::Numeric { precision: p2, scale: s2 },
                        ) => {
                            *s1 = (*s1).max(*s2);
                            *p1 = (*p1).max(*p2).max(*s1);
                        }
                        (a, b) if a.kind_name() == b.kind_name() => {}
                        // a dimension with one value where another input has several (a
                        // LookupMultiValue): the field is multi-value, a single value a list of
                        // one. INFERRED: both are dimensions in CRM Analytics, and a public
                        // org's append stacks such inputs
                        (a @ FieldType::Text, FieldType::MultiValue) => *a = FieldType::MultiValue,
                        (FieldType::MultiValue, FieldType::Text) => {}
                        // a type not known before the data is seen takes the one declared
                        // elsewhere ("The Motivator" ran so in its org, to 2,320 rows)
                        (a @ FieldType::Unknown, b) => *a = b.clone(),
                        (_, FieldType::Unknown) => {}
                        (a, b) => cx.problem(
                            path.clone(),
                            format!(
                                "field '{}' is {} here but {} in an earlier source",
                                f.name,
                                b.kind_name(),
                                a.kind_name()
                            ),
                        ),
                    },
                }
            }
        }
        Some(out)
    }

    async fn plan(
        &self,
        _cx: &PlanCx<'_>,
        inputs: Vec<DataFrame>,
        in_schemas: &[&Schema],
        out: &Schema,
    ) -> DFResult<DataFrame> {
        let mut result: Option<DataFrame> = None;
        for (df, schema) in inputs.into_iter().zip(in_schemas) {
            let exprs = out
                .fields
                .iter()
                .map(|f| {
                    let name = f.name.as_str();
                    let e = if schema.type_of(name) == Some(FieldType::Text) && f.ty == FieldType::MultiValue {
                        let one = datafusion::functions_nested::expr_fn::make_array(vec![ident(name)]);
                        let null = lit(ScalarValue::try_from(f.ty.run_type()).expect("typed null"));
                        cast(when(ident(name).is_null(), null).otherwise(one)?, f.ty.run_type())
                    } else if schema.get(name).is_some() {
                        cast(ident(name), f.ty.run_type())
                    } else {
                        lit(ScalarValue::try_from(f.ty.run_type()).expect("typed null"))
                    };
                    Ok(e.alias(name))
                })
                .collect::<DFResult<Vec<Expr>>>()?;
            let df = df.select(exprs)?;
            result = Some(match result {
                None => df,
                Some(acc) => acc.union(df)?,
            });
        }
        Ok(result.expect("at least one source"))
    }
}
