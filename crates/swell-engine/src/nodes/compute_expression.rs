//! computeExpression: adds fields computed per row with SAQL.
//!
//! Fields are computed in array order and a later one may use an earlier one. The result must
//! match the declared `type`: Text, Numeric (stored with `precision`/`scale`, default 18/0 as in
//! CRM Analytics) or Date (gets the generated date columns). `defaultValue` replaces a null
//! result. With `mergeWithSource: false` only the computed fields are output.

use super::digest::default_literal;
use super::{CheckCx, PlanCx, Transform, de_bool, parse};
use crate::dates::{companion_expr, companion_fields};
use crate::error::Problem;
use crate::saql::{self, SType, Scope};
use crate::schema::{Field, FieldType, MAX_PRECISION, Schema};
use datafusion::common::{DataFusionError, Result as DFResult};
use datafusion::functions::expr_fn::coalesce;
use datafusion::logical_expr::{Expr, ident};
use datafusion::prelude::DataFrame;
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Params {
    source: String,
    #[serde(default = "yes", deserialize_with = "de_bool")]
    merge_with_source: bool,
    computed_fields: Vec<ComputedField>,
}

fn yes() -> bool {
    true
}

/// A computed field of computeExpression (and the SAQL form of computeRelative).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ComputedField {
    pub name: String,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(rename = "type")]
    pub ty: String,
    pub saql_expression: String,
    #[serde(default)]
    pub precision: Option<u8>,
    #[serde(default)]
    pub scale: Option<u8>,
    #[serde(default, alias = "default")]
    pub default_value: Option<Value>,
    #[serde(default)]
    pub format: Option<String>,
    #[serde(default)]
    pub fiscal_month_offset: Option<u8>,
    #[serde(default)]
    pub first_day_of_week: Option<i8>,
    #[serde(default)]
    pub is_year_end_fiscal_year: Option<bool>,
}

impl ComputedField {
    /// The declared field, or a message about `type`/`precision`/`scale`.
    pub fn field(&self) -> Result<Field, (String, String)> {
        let ty = match self.ty.to_ascii_lowercase().as_str() {
            "text" => FieldType::Text,
            "numeric" => {
                let precision = self.precision.unwrap_or(MAX_PRECISION);
                let scale = self.scale.unwrap_or(0);
                if precision == 0 || precision > MAX_PRECISION {
                    return Err(("precision".into(), format!("must be between 1 and {MAX_PRECISION}")));
                }
                if scale > precision {
                    return Err(("scale".into(), "cannot be larger than the precision".into()));
                }
                FieldType::numeric(precision, scale)
            }
            "date" => {
                if let Some(f) = &self.format
                    && let Err(e) = crate::dateformat::DateFormat::parse(f)
                {
                    return Err(("format".into(), e));
                }
                FieldType::Date {
                    format: self.format.clone(),
                    fiscal_month_offset: self.fiscal_month_offset.unwrap_or(0).min(11),
                    is_year_end_fiscal_year: self.is_year_end_fiscal_year.unwrap_or(true),
                    first_day_of_week: self.first_day_of_week.filter(|d| (0..=6).contains(d)).unwrap_or(0) as u8,
                }
            }
            other => return Err(("type".into(), format!("unknown type '{other}' (Text, Numeric or Date)"))),
        };
        let mut f = Field::new(self.name.clone(), ty);
        f.label = self.label.clone();
        Ok(f)
    }

    /// Compiles the expression against `schema` and checks its type; the expression includes
    /// the default value.
    pub fn compile(&self, field: &Field, scope: &Scope) -> Result<Expr, (String, String)> {
        let typed = saql::compile(&self.saql_expression, scope).map_err(|m| ("saqlExpression".to_string(), m))?;
        let want = match field.ty {
            FieldType::Numeric { .. } => SType::Number,
            FieldType::Date { .. } => SType::Date,
            _ => SType::Text,
        };
        if !matches!(typed.ty, SType::Null | SType::Any) && typed.ty != want {
            let hint = match (typed.ty, want) {
                (SType::Number, SType::Text) => " (use number_to_string)",
                (SType::Text, SType::Number) => " (use string_to_number)",
                (SType::Text, SType::Date) => " (use toDate)",
                _ => "",
            };
            return Err((
                "saqlExpression".into(),
                format!(
                    "the expression gives a {} value but the field is {}{hint}",
                    typed.ty.name(),
                    field.ty.kind_name()
                ),
            ));
        }
        let mut e = datafusion::logical_expr::cast(typed.expr, field.ty.run_type());
        if let Some(d) = &self.default_value {
            let d = default_literal(d, &field.ty).map_err(|m| ("defaultValue".to_string(), m))?;
            e = coalesce(vec![e, d]);
        }
        Ok(e)
    }
}

#[derive(Debug)]
pub struct ComputeExpression {
    params: Params,
}

impl ComputeExpression {
    pub fn parse(node: &str, params: &Value) -> Result<Self, Vec<Problem>> {
        let params: Params = parse(node, params).map_err(|p| vec![p])?;
        Ok(ComputeExpression { params })
    }

    /// Walks the computed fields in order, growing the schema; calls `each` with the schema the
    /// field is computed from, the field and its compiled expression.
    fn walk(
        &self,
        input: &Schema,
        now_millis: i64,
        mut on_error: impl FnMut(usize, String, String),
        mut each: impl FnMut(&Schema, &Field, Expr),
    ) -> Schema {
        let mut schema = input.clone();
        let mut computed: Vec<String> = Vec::new();
        for (i, cf) in self.params.computed_fields.iter().enumerate() {
            let field = match cf.field() {
                Ok(f) => f,
                Err((p, m)) => {
                    on_error(i, p, m);
                    continue;
                }
            };
            // without merging, a computed field may reuse a source field's name: it replaces it
            let clash =
                computed.contains(&cf.name) || (self.params.merge_with_source && schema.get(&cf.name).is_some());
            if clash {
                on_error(i, "name".into(), format!("field '{}' already exists; choose another name", cf.name));
                continue;
            }
            let scope = Scope { schema: &schema, now_millis, relative: None };
            match cf.compile(&field, &scope) {
                Ok(e) => each(&schema, &field, e),
                Err((p, m)) => on_error(i, p, m),
            }
            // later fields may use this one even when its expression is wrong
            let companions = if field.ty.is_date() { companion_fields(&field) } else { vec![] };
            schema.fields.retain(|f| f.name != field.name && f.derived_from.as_deref() != Some(&field.name));
            computed.push(field.name.clone());
            computed.extend(companions.iter().map(|c| c.name.clone()));
            schema.fields.push(field);
            schema.fields.extend(companions);
        }
        if !self.params.merge_with_source {
            schema.fields.retain(|f| computed.contains(&f.name));
            schema.open = false;
        }
        schema
    }
}

#[async_trait::async_trait]
impl Transform for ComputeExpression {
    fn inputs(&self) -> Vec<(String, String)> {
        vec![("parameters.source".into(), self.params.source.clone())]
    }

    fn check(&self, cx: &mut CheckCx, inputs: &[&Schema]) -> Option<Schema> {
        if self.params.computed_fields.is_empty() {
            cx.problem("parameters.computedFields", "must list at least one field");
        }
        let mut errors = Vec::new();
        let out = self.walk(inputs[0], cx.now_millis, |i, p, m| errors.push((i, p, m)), |_, _, _| {});
        for (i, p, m) in errors {
            cx.problem(format!("parameters.computedFields[{i}].{p}"), m);
        }
        Some(out)
    }

    fn defers_companions(&self) -> bool {
        true
    }

    async fn plan(
        &self,
        cx: &PlanCx<'_>,
        mut inputs: Vec<DataFrame>,
        in_schemas: &[&Schema],
        out: &Schema,
    ) -> DFResult<DataFrame> {
        let mut df = inputs.remove(0);
        let mut failure = None;
        let mut steps: Vec<(Vec<Expr>, Field)> = Vec::new();
        self.walk(
            in_schemas[0],
            cx.now_millis,
            |i, p, m| failure = Some(format!("computedFields[{i}].{p}: {m}")),
            |schema, field, e| {
                let mut exprs: Vec<Expr> = schema
                    .fields
                    .iter()
                    .filter(|f| f.name != field.name && f.derived_from.as_deref() != Some(&field.name))
                    .map(|f| ident(f.name.as_str()))
                    .collect();
                exprs.push(e.alias(field.name.as_str()));
                steps.push((exprs, field.clone()));
            },
        );
        if let Some(f) = failure {
            return Err(DataFusionError::Plan(f));
        }
        for (exprs, field) in steps {
            df = df.select(exprs)?;
            if field.ty.is_date() {
                let mut all: Vec<Expr> = df.schema().fields().iter().map(|f| ident(f.name().as_str())).collect();
                for (part, d) in crate::schema::derived_date_fields(&field) {
                    all.push(companion_expr(&field, part).alias(d.name.as_str()));
                }
                df = df.select(all)?;
            }
        }
        super::project_to(df, out)
    }
}
