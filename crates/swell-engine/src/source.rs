//! Where digest and edgemart nodes read from, and how a file becomes a typed table.
//!
//! A [`Catalog`] locates connected objects and datasets: in an objects folder of CSV/Parquet
//! files named after them (`Account.csv`, `Opportunity.parquet`, `MyDataset.csv`) or in the
//! data dir's versioned tables. Loading maps the file's Arrow types onto the dataset model
//! (see [`crate::schema`]) and adds the generated date columns a date field carries.

use crate::dates::with_companions;
use crate::schema::{Field, FieldType, Schema};
use crate::storage::{DataDir, Layers, VersionMetadata};
use datafusion::arrow::datatypes::DataType;
use datafusion::logical_expr::{Expr, cast, ident};
use datafusion::prelude::{CsvReadOptions, DataFrame, ParquetReadOptions, SessionContext};
use std::path::{Path, PathBuf};

/// A table a node reads.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SourceRef {
    /// A connected object (sfdcDigest, digest).
    Object { connection: String, object: String },
    /// The current version of a dataset (edgemart).
    Dataset(String),
}

impl std::fmt::Display for SourceRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SourceRef::Object { connection, object } => write!(f, "object '{object}' of connection '{connection}'"),
            SourceRef::Dataset(alias) => write!(f, "dataset '{alias}'"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    Csv,
    Parquet,
}

/// A located table: its files and, for stored versions, its metadata.
#[derive(Debug, Clone)]
pub struct Located {
    pub files: Vec<PathBuf>,
    pub format: FileFormat,
    pub metadata: Option<VersionMetadata>,
    /// Layers of changes merged onto `files` when read (see [`crate::storage::read_version`]).
    pub layers: Option<Layers>,
}

/// Finds source tables.
pub trait Catalog: Send + Sync {
    fn locate(&self, source: &SourceRef) -> Result<Located, String>;
}

/// Files in an objects folder first, then the data dir.
#[derive(Debug, Clone, Default)]
pub struct FileCatalog {
    pub objects_dir: Option<PathBuf>,
    pub data_dir: Option<DataDir>,
}

fn file_in(dir: &Path, name: &str) -> Option<Located> {
    for (ext, format) in [("parquet", FileFormat::Parquet), ("csv", FileFormat::Csv)] {
        let path = dir.join(format!("{name}.{ext}"));
        if path.is_file() {
            return Some(Located { files: vec![path], format, metadata: None, layers: None });
        }
    }
    None
}

impl Catalog for FileCatalog {
    fn locate(&self, source: &SourceRef) -> Result<Located, String> {
        let name = match source {
            SourceRef::Object { object, .. } => object,
            SourceRef::Dataset(alias) => alias,
        };
        // names become file names: one that could leave a folder is refused before any lookup
        swell_core::PathName::parse(name).map_err(|e| format!("{source}: {e}"))?;
        if let Some(dir) = &self.objects_dir
            && let Some(found) = file_in(dir, name)
        {
            return Ok(found);
        }
        if let Some(data) = &self.data_dir {
            let table = match source {
                SourceRef::Object { connection, object } => data.connected_object(connection, object),
                SourceRef::Dataset(alias) => data.dataset(alias),
            }
            .map_err(|e| format!("{source}: {e}"))?;
            if let Some(version) = table.current().map_err(|e| format!("cannot read {source}: {e}"))? {
                let unreadable = |e: std::io::Error| format!("cannot read {source}: {e}");
                let files = version.files().map_err(unreadable)?;
                let layers = version.layers().map_err(unreadable)?;
                return Ok(Located { files, format: FileFormat::Parquet, metadata: Some(version.metadata), layers });
            }
        }
        let mut places = Vec::new();
        if let Some(dir) = &self.objects_dir {
            places.push(format!("{0}/{name}.csv or {0}/{name}.parquet", dir.display()));
        }
        if self.data_dir.is_some() {
            // the server's own paths are not shown to its API clients
            places.push("the data dir".to_string());
        }
        let hint = match source {
            SourceRef::Object { .. } => "it has never been synced",
            SourceRef::Dataset(_) => "no dataflow has registered it",
        };
        Err(if places.is_empty() {
            format!("{source} not found: no objects folder or data dir was given")
        } else {
            format!("{source} not found ({hint}); looked in {}", places.join(" and "))
        })
    }
}

/// How many rows a CSV file's column types are inferred from.
const INFER_ROWS: usize = 10_000;

/// Reads CSV files with a header, typed from their first rows as DataFusion infers them, except
/// that a column holding a number written with a leading zero (`02134`, `00e1`) or an exponent
/// (`1e5`) stays text: such values are zip codes, ids (Salesforce profile ids start `00e`) and
/// codes, and reading them as numbers would change them (`00e1` is 0 as a float).
pub async fn read_csv(ctx: &SessionContext, paths: Vec<String>) -> datafusion::common::Result<DataFrame> {
    use datafusion::arrow::array::AsArray;
    use datafusion::arrow::datatypes::{Field as ArrowField, Schema as ArrowSchema};
    let options = || CsvReadOptions::new().has_header(true).schema_infer_max_records(INFER_ROWS);
    let inferred = ctx.read_csv(paths.clone(), options()).await?;
    let schema = inferred.schema().as_arrow().clone();
    let numeric: Vec<usize> =
        schema.fields().iter().enumerate().filter(|(_, f)| f.data_type().is_numeric()).map(|(i, _)| i).collect();
    if numeric.is_empty() {
        return Ok(inferred);
    }
    let as_text = ArrowSchema::new(
        schema.fields().iter().map(|f| ArrowField::new(f.name(), DataType::Utf8, true)).collect::<Vec<_>>(),
    );
    let columns: Vec<Expr> = numeric.iter().map(|&i| ident(schema.field(i).name())).collect();
    let sample = ctx
        .read_csv(paths.clone(), options().schema(&as_text))
        .await?
        .select(columns)?
        .limit(0, Some(INFER_ROWS))?
        .collect()
        .await?;
    let looks_coded = |v: &str| {
        let t = v.trim().trim_start_matches(['-', '+']);
        (t.len() > 1 && t.starts_with('0') && t.as_bytes()[1].is_ascii_digit()) || t.contains(['e', 'E'])
    };
    let mut text_columns = std::collections::HashSet::new();
    for batch in &sample {
        for (k, &i) in numeric.iter().enumerate() {
            let values = batch.column(k).as_string::<i32>();
            if values.iter().flatten().any(looks_coded) {
                text_columns.insert(i);
            }
        }
    }
    if text_columns.is_empty() {
        return Ok(inferred);
    }
    let typed = ArrowSchema::new(
        schema
            .fields()
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let ty = if text_columns.contains(&i) { DataType::Utf8 } else { f.data_type().clone() };
                ArrowField::new(f.name(), ty, true)
            })
            .collect::<Vec<_>>(),
    );
    ctx.read_csv(paths, options().schema(&typed)).await
}

/// Reads a located table as a DataFrame in the run representation, with its schema.
pub async fn load(ctx: &SessionContext, located: &Located, what: &SourceRef) -> Result<(DataFrame, Schema), String> {
    let paths: Vec<String> = located.files.iter().map(|p| p.display().to_string()).collect();
    let df = match located.format {
        FileFormat::Parquet => {
            if paths.is_empty() {
                return Err(format!("{what} has no data files"));
            }
            match ctx.read_parquet(paths, ParquetReadOptions::default()).await {
                Ok(base) => match &located.layers {
                    Some(layers) => crate::storage::merge_layers(ctx, base, layers).await,
                    None => Ok(base),
                },
                Err(e) => Err(e),
            }
        }
        FileFormat::Csv => read_csv(ctx, paths).await,
    }
    .map_err(|e| format!("cannot read {what}: {}", crate::error::clean_df_message(&e.to_string())))?;
    let declared: Vec<Field> = located.metadata.as_ref().map(|m| m.fields.clone()).unwrap_or_default();
    let mut fields = Vec::new();
    let mut exprs: Vec<Expr> = Vec::new();
    for f in df.schema().fields() {
        let name = f.name();
        let field = match declared.iter().find(|d| &d.name == name) {
            Some(d) => d.clone(),
            None => {
                let ty = FieldType::from_arrow(f.data_type()).ok_or_else(|| {
                    format!("{what}: column '{name}' has type {} which swell cannot read", f.data_type())
                })?;
                Field::new(name.clone(), ty)
            }
        };
        exprs.push(to_run_type(ident(name.as_str()), f.data_type(), &field.ty).alias(name.as_str()));
        fields.push(field);
    }
    let df = df.select(exprs).map_err(|e| format!("cannot read {what}: {e}"))?;
    let (df, schema) = with_companions(df, Schema::new(fields)).map_err(|e| format!("cannot read {what}: {e}"))?;
    Ok((df, schema))
}

/// Casts a column read from a file to the run representation of its kind.
fn to_run_type(e: Expr, from: &DataType, ty: &FieldType) -> Expr {
    let target = ty.run_type();
    if from == &target {
        return e;
    }
    if let (DataType::Timestamp(_, Some(_)), FieldType::Date { .. }) = (from, ty) {
        // instants are UTC; drop the zone without shifting
        return cast(e, DataType::Int64).pipe_ts(from);
    }
    cast(e, target)
}

trait PipeTs {
    fn pipe_ts(self, from: &DataType) -> Expr;
}

impl PipeTs for Expr {
    /// Int64 in the unit of `from` -> Timestamp(ms) without zone.
    fn pipe_ts(self, from: &DataType) -> Expr {
        use datafusion::arrow::datatypes::TimeUnit;
        let DataType::Timestamp(unit, _) = from else { return self };
        let millis = match unit {
            TimeUnit::Second => self * datafusion::prelude::lit(1000i64),
            TimeUnit::Millisecond => self,
            TimeUnit::Microsecond => self / datafusion::prelude::lit(1000i64),
            TimeUnit::Nanosecond => self / datafusion::prelude::lit(1_000_000i64),
        };
        cast(millis, FieldType::plain_date().run_type())
    }
}
