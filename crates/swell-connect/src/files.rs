//! Files: `AmazonS3` connections over a folder, and the offline stand-in for a Salesforce org
//! (an `SfdcLocal` connection with a `FolderPath` and no `instanceUrl`, which the demo uses).
//!
//! Each object is `NAME.csv` or `NAME.parquet` in the folder, or a sub-folder `NAME/` whose
//! CSV or Parquet files are read together (a prefix). CSV files have a header row; column
//! types are inferred from the first 10,000 rows (numbers, ISO dates and date-times, the
//! rest text; `true`/`false` columns stay text). A field named `Id` is the primary key.
//! `passThroughFilter` is a SQL condition over the file's columns.
//!
//! Only local folders are read: `FolderPath` is a directory path (or a `file://` URL). Reading
//! S3 buckets themselves needs object_store's `aws` feature and is not built yet; a connection
//! with an `AccessKey` says so instead of pretending.

use crate::source::{BatchStream, Read, Source, SourceField, SourceObject, finish_batch};
use crate::{ConnectError, Properties, Result};
use async_trait::async_trait;
use datafusion::logical_expr::{cast, col, lit};
use datafusion::prelude::{CsvReadOptions, DataFrame, ParquetReadOptions, SessionContext};
use futures::StreamExt;
use std::path::{Path, PathBuf};
use swell_engine::schema::FieldType;

pub struct FileSource {
    folder: PathBuf,
    /// What the connection stands for, in messages ("AmazonS3", "Salesforce").
    kind: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Format {
    Csv,
    Parquet,
}

fn format_of(path: &Path) -> Option<Format> {
    match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
        "csv" => Some(Format::Csv),
        "parquet" => Some(Format::Parquet),
        _ => None,
    }
}

impl FileSource {
    pub fn from_properties(p: &Properties, kind: &'static str) -> Result<Self> {
        if p.get("AccessKey").is_some() {
            return Err(ConnectError::Config(
                "reading S3 buckets is not supported yet: set FolderPath to a local folder and leave AccessKey empty"
                    .to_string(),
            ));
        }
        let raw = p.require("FolderPath", kind)?;
        let folder = PathBuf::from(raw.strip_prefix("file://").unwrap_or(raw));
        Ok(FileSource { folder, kind })
    }

    pub fn new(folder: impl Into<PathBuf>) -> Self {
        FileSource { folder: folder.into(), kind: "AmazonS3" }
    }

    fn check_folder(&self) -> Result<()> {
        if self.folder.is_dir() {
            Ok(())
        } else {
            Err(ConnectError::Source(format!("{}: the folder {} does not exist", self.kind, self.folder.display())))
        }
    }

    /// The files of an object and their format.
    fn locate(&self, object: &str) -> Result<(Vec<PathBuf>, Format)> {
        self.check_folder()?;
        for (ext, format) in [("csv", Format::Csv), ("parquet", Format::Parquet)] {
            let file = self.folder.join(format!("{object}.{ext}"));
            if file.is_file() {
                return Ok((vec![file], format));
            }
        }
        let dir = self.folder.join(object);
        if dir.is_dir() && !object.contains("..") {
            let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
                .map_err(|e| ConnectError::Source(format!("{}: {e}", dir.display())))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && format_of(p).is_some())
                .collect();
            files.sort();
            if let Some(format) = files.first().and_then(|f| format_of(f)) {
                files.retain(|f| format_of(f) == Some(format));
                return Ok((files, format));
            }
        }
        Err(ConnectError::NotFound(format!(
            "{}: no object '{object}' ({folder}/{object}.csv, {folder}/{object}.parquet or a folder {folder}/{object}/)",
            self.kind,
            folder = self.folder.display()
        )))
    }

    async fn frame(&self, object: &str) -> Result<(SessionContext, DataFrame)> {
        let (files, format) = self.locate(object)?;
        // passThroughFilter names fields as they are spelt (Revenue, not revenue)
        let config = datafusion::prelude::SessionConfig::new()
            .set_bool("datafusion.sql_parser.enable_ident_normalization", false);
        let ctx = SessionContext::new_with_config(config);
        let paths: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
        let df = match format {
            Format::Csv => {
                ctx.read_csv(paths, CsvReadOptions::new().has_header(true).schema_infer_max_records(10_000)).await
            }
            Format::Parquet => ctx.read_parquet(paths, ParquetReadOptions::default()).await,
        }
        .map_err(|e| ConnectError::Source(format!("{}: cannot read {object}: {e}", self.kind)))?;
        Ok((ctx, df))
    }
}

#[async_trait]
impl Source for FileSource {
    async fn test(&self) -> Result<String> {
        self.check_folder()?;
        Ok("Connection Successful".to_string())
    }

    async fn objects(&self) -> Result<Vec<SourceObject>> {
        self.check_folder()?;
        let mut names = Vec::new();
        let entries = std::fs::read_dir(&self.folder)
            .map_err(|e| ConnectError::Source(format!("{}: {}: {e}", self.kind, self.folder.display())))?;
        for entry in entries.flatten() {
            let path = entry.path();
            let stem = path.file_stem().and_then(|s| s.to_str()).map(str::to_string);
            let Some(stem) = stem else { continue };
            if (path.is_file() && format_of(&path).is_some()) || (path.is_dir() && self.locate(&stem).is_ok()) {
                names.push(stem);
            }
        }
        names.sort();
        names.dedup();
        Ok(names.into_iter().map(|n| SourceObject { label: n.clone(), name: n }).collect())
    }

    async fn fields(&self, object: &str) -> Result<Vec<SourceField>> {
        let (_, df) = self.frame(object).await?;
        Ok(df
            .schema()
            .fields()
            .iter()
            .map(|f| {
                let ty = FieldType::from_arrow(f.data_type())
                    .filter(|t| !matches!(t, FieldType::MultiValue))
                    .unwrap_or(FieldType::Text);
                let mut field = SourceField::new(f.name().clone(), ty, f.data_type().to_string());
                field.date_only = matches!(f.data_type(), datafusion::arrow::datatypes::DataType::Date32);
                field.primary_key = f.name().eq_ignore_ascii_case("Id");
                field
            })
            .collect())
    }

    async fn read(&self, read: &Read) -> Result<BatchStream> {
        let (_ctx, mut df) = self.frame(&read.object).await?;
        let fail = |e: datafusion::error::DataFusionError| {
            ConnectError::Source(format!(
                "{}: {}: {}",
                self.kind,
                read.object,
                swell_engine::error::clean_df_message(&e.to_string())
            ))
        };
        if let Some((field, since)) = &read.since {
            let millis = datafusion::scalar::ScalarValue::TimestampMillisecond(
                Some(since.timestamp_millis()),
                Some("UTC".into()),
            );
            let stamp = cast(col(field.as_str()), FieldType::plain_date().storage_type());
            df = df.filter(stamp.gt_eq(lit(millis))).map_err(fail)?;
        }
        if let Some(filter) = &read.filter {
            let expr = df
                .parse_sql_expr(filter)
                .map_err(|e| ConnectError::Config(format!("passThroughFilter '{filter}' does not parse: {e}")))?;
            df = df.filter(expr).map_err(fail)?;
        }
        // cast in Arrow (finish_batch), not in the plan: a value that does not fit is an error
        df = df
            .select(
                read.fields
                    .iter()
                    .map(|f| col(datafusion::common::Column::from_name(f.name.as_str())))
                    .collect::<Vec<_>>(),
            )
            .map_err(fail)?;
        if let Some(n) = read.limit {
            df = df.limit(0, Some(n)).map_err(fail)?;
        }
        let stream = df.execute_stream().await.map_err(fail)?;
        let fields = read.fields.clone();
        let object = read.object.clone();
        let kind = self.kind;
        Ok(Box::pin(stream.map(move |b| match b {
            Ok(b) => finish_batch(b.columns().to_vec(), &fields, &object),
            Err(e) => Err(ConnectError::Source(format!(
                "{kind}: {object}: {}",
                swell_engine::error::clean_df_message(&e.to_string())
            ))),
        })))
    }
}
