//! Files: `AmazonS3` connections over a folder, and the offline stand-in for a Salesforce org
//! (an `SfdcLocal` connection with a `FolderPath` and no `instanceUrl`, which the demo uses).
//!
//! Each object is `NAME.csv` or `NAME.parquet` in the folder, or a sub-folder `NAME/` whose
//! CSV or Parquet files are read together (a prefix). CSV files have a header row; column
//! types are inferred from the first 10,000 rows (numbers, ISO dates and date-times, the
//! rest text; `true`/`false` columns and numbers with leading zeros or exponents, such as ids
//! and zip codes, stay text: `swell_engine::source::read_csv`). A field named `Id` is the
//! primary key.
//! `passThroughFilter` is a SQL condition over the file's columns.
//!
//! `FolderPath` is a local directory (or a `file://` URL), or, for `AmazonS3`, `bucket/prefix`
//! (or `s3://bucket/prefix`) read with `AccessKey`, `SecretKey` and `RegionName`; `Endpoint`
//! points at an S3-compatible store instead of AWS (MinIO, Ceph, moto; plain http allowed).
//! Both go through object_store, so listing and reading work the same.

use crate::source::{BatchStream, Read, Source, SourceField, SourceObject, finish_batch};
use crate::{ConnectError, FolderPolicy, Properties, Result};
use async_trait::async_trait;
use datafusion::logical_expr::{cast, col, lit};
use datafusion::prelude::{DataFrame, ParquetReadOptions, SessionContext};
use futures::StreamExt;
use object_store::path::Path as ObjPath;
use object_store::{ObjectStore, ObjectStoreExt};
use std::path::PathBuf;
use std::sync::Arc;
use swell_engine::schema::FieldType;

pub struct FileSource {
    store: Arc<dyn ObjectStore>,
    /// The URL that object paths are appended to for DataFusion (`file:///`, `s3://bucket/`).
    base: url::Url,
    /// The folder: a local directory, or a key prefix in the bucket.
    prefix: ObjPath,
    /// A local folder (checked to exist), or `None` for a bucket.
    local: Option<PathBuf>,
    /// What the connection stands for, in messages ("AmazonS3", "Salesforce").
    kind: &'static str,
    /// Where, in messages: the folder as given or `s3://bucket/prefix`.
    place: String,
    /// What a local folder may reach (files behind symbolic links included).
    folders: FolderPolicy,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Format {
    Csv,
    Parquet,
}

fn format_of(name: &str) -> Option<Format> {
    let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
    match ext.as_str() {
        "csv" => Some(Format::Csv),
        "parquet" => Some(Format::Parquet),
        _ => None,
    }
}

impl FileSource {
    pub fn from_properties(p: &Properties, kind: &'static str, folders: &FolderPolicy) -> Result<Self> {
        let raw = p.require("FolderPath", kind)?;
        if let Some(path) = raw.strip_prefix("s3://") {
            return Self::bucket(p, path, kind);
        }
        if p.get("AccessKey").is_some() {
            return Self::bucket(p, raw, kind);
        }
        Self::folder(PathBuf::from(raw.strip_prefix("file://").unwrap_or(raw)), kind, folders)
    }

    /// A local folder, when `folders` allows it.
    pub fn folder(folder: PathBuf, kind: &'static str, folders: &FolderPolicy) -> Result<Self> {
        let canonical = folders.check(&folder)?;
        let prefix = ObjPath::from_absolute_path(&canonical)
            .map_err(|e| ConnectError::Config(format!("FolderPath '{}': {e}", folder.display())))?;
        Ok(FileSource {
            store: Arc::new(object_store::local::LocalFileSystem::new()),
            base: url::Url::parse("file:///").expect("a URL"),
            prefix,
            place: folder.display().to_string(),
            local: Some(canonical),
            kind,
            folders: folders.clone(),
        })
    }

    /// `bucket/prefix` of an S3 (or S3-compatible) store.
    fn bucket(p: &Properties, path: &str, kind: &'static str) -> Result<Self> {
        let path = path.trim_matches('/');
        let (bucket, prefix) = path.split_once('/').unwrap_or((path, ""));
        if bucket.is_empty() {
            return Err(ConnectError::Config("FolderPath: name the bucket: bucket/prefix".to_string()));
        }
        let mut builder = object_store::aws::AmazonS3Builder::new()
            .with_bucket_name(bucket)
            .with_region(p.get("RegionName").unwrap_or("us-east-1"))
            .with_access_key_id(p.require("AccessKey", kind)?)
            .with_secret_access_key(p.require("SecretKey", kind)?);
        if let Some(endpoint) = p.get("Endpoint") {
            builder = builder
                .with_endpoint(endpoint.trim_end_matches('/'))
                .with_allow_http(true)
                .with_virtual_hosted_style_request(false);
        }
        let store = builder.build().map_err(|e| ConnectError::Config(format!("the S3 connection: {e}")))?;
        let base = url::Url::parse(&format!("s3://{bucket}/"))
            .map_err(|e| ConnectError::Config(format!("bucket '{bucket}': {e}")))?;
        Ok(FileSource {
            store: Arc::new(store),
            base,
            prefix: ObjPath::from(prefix),
            local: None,
            kind,
            place: format!("s3://{bucket}/{prefix}"),
            folders: FolderPolicy::default(),
        })
    }

    fn error(&self, e: impl std::fmt::Display) -> ConnectError {
        ConnectError::Source(format!("{}: {}: {e}", self.kind, self.place))
    }

    fn check_folder(&self) -> Result<()> {
        match &self.local {
            Some(dir) if !dir.is_dir() => {
                Err(ConnectError::Source(format!("{}: the folder {} does not exist", self.kind, self.place)))
            }
            _ => Ok(()),
        }
    }

    fn child(&self, name: &str) -> ObjPath {
        self.prefix.clone().join(name)
    }

    /// The data files of an object and their format; a local file that resolves outside the
    /// allowed folders (a symbolic link) is refused.
    async fn locate(&self, object: &str) -> Result<(Vec<ObjPath>, Format)> {
        let (files, format) = self.locate_files(object).await?;
        if self.local.is_some() {
            for f in &files {
                let path = PathBuf::from(format!("/{f}"));
                let inside = std::fs::canonicalize(&path).is_ok_and(|c| self.folders.contains(&c));
                if !inside {
                    return Err(ConnectError::NotFound(format!(
                        "{}: '{object}' leads outside the allowed folders (a symbolic link)",
                        self.kind
                    )));
                }
            }
        }
        Ok((files, format))
    }

    async fn locate_files(&self, object: &str) -> Result<(Vec<ObjPath>, Format)> {
        self.check_folder()?;
        if object.is_empty() || object.contains('/') || object.contains("..") {
            return Err(ConnectError::NotFound(format!("{}: '{object}' is not an object name", self.kind)));
        }
        for (ext, format) in [("csv", Format::Csv), ("parquet", Format::Parquet)] {
            let file = self.child(&format!("{object}.{ext}"));
            match self.store.head(&file).await {
                Ok(_) => return Ok((vec![file], format)),
                Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(self.error(e)),
            }
        }
        let folder = self.child(object);
        let listed = self.store.list_with_delimiter(Some(&folder)).await.map_err(|e| self.error(e))?;
        let mut files: Vec<ObjPath> =
            listed.objects.into_iter().map(|m| m.location).filter(|p| format_of(p.as_ref()).is_some()).collect();
        files.sort();
        if let Some(format) = files.first().and_then(|f| format_of(f.as_ref())) {
            files.retain(|f| format_of(f.as_ref()) == Some(format));
            return Ok((files, format));
        }
        Err(ConnectError::NotFound(format!(
            "{}: no object '{object}' ({place}/{object}.csv, {place}/{object}.parquet or a folder {place}/{object}/)",
            self.kind,
            place = self.place
        )))
    }

    async fn frame(&self, object: &str) -> Result<(SessionContext, DataFrame)> {
        let (files, format) = self.locate(object).await?;
        // passThroughFilter names fields as they are spelt (Revenue, not revenue)
        let config = datafusion::prelude::SessionConfig::new()
            .set_bool("datafusion.sql_parser.enable_ident_normalization", false);
        let ctx = SessionContext::new_with_config(config);
        if self.local.is_none() {
            ctx.register_object_store(&self.base, self.store.clone());
        }
        let paths: Vec<String> = files.iter().map(|p| format!("{}{}", self.base, p)).collect();
        let df = match format {
            Format::Csv => swell_engine::source::read_csv(&ctx, paths).await,
            Format::Parquet => ctx.read_parquet(paths, ParquetReadOptions::default()).await,
        }
        .map_err(|e| ConnectError::Source(format!("{}: cannot read {object}: {e}", self.kind)))?;
        Ok((ctx, df))
    }
}

#[async_trait]
impl Source for FileSource {
    fn local_folder(&self) -> Option<&std::path::Path> {
        self.local.as_deref()
    }

    async fn test(&self) -> Result<String> {
        self.check_folder()?;
        // lists the folder: wrong keys, a missing bucket or an unreachable endpoint show here
        self.store.list_with_delimiter(Some(&self.prefix)).await.map_err(|e| self.error(e))?;
        Ok("Connection Successful".to_string())
    }

    async fn objects(&self) -> Result<Vec<SourceObject>> {
        self.check_folder()?;
        let listed = self.store.list_with_delimiter(Some(&self.prefix)).await.map_err(|e| self.error(e))?;
        let mut names: Vec<String> = listed
            .objects
            .iter()
            .filter_map(|m| {
                let file = m.location.filename()?;
                format_of(file)?;
                Some(file.rsplit_once('.')?.0.to_string())
            })
            .collect();
        for folder in listed.common_prefixes {
            if let Some(name) = folder.filename()
                && self.locate(name).await.is_ok()
            {
                names.push(name.to_string());
            }
        }
        // a file whose name cannot be an object's (`Star*.csv`) is not offered as one
        names.retain(|n| swell_core::PathName::parse(n).is_ok());
        names.sort();
        names.dedup();
        Ok(names.into_iter().map(SourceObject::named).collect())
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
            // the name as it is (a mixed-case `LastModifiedDate`), not parsed as SQL, which
            // would fold it to lower case
            let stamp = cast(
                col(datafusion::common::Column::from_name(field.as_str())),
                FieldType::plain_date().storage_type(),
            );
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
