//! The first rows of a stored version, for people to look at (the web UI's dataset page):
//! each field with its kind, and values written as text the way the API writes them (numbers
//! with their scale, dates in ISO form). Reads only as many row groups as the rows need.

use crate::schema::FieldType;
use crate::storage::{Version, read_version};
use datafusion::arrow::array::{Array, RecordBatch, RecordBatchReader};
use datafusion::arrow::datatypes::Schema;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::io;
use std::path::PathBuf;

/// The most characters of one value shown; longer values end in `…`.
pub const MAX_VALUE_CHARS: usize = 500;

/// A value as shown: cut at [`MAX_VALUE_CHARS`].
fn shown(text: String) -> String {
    match text.char_indices().nth(MAX_VALUE_CHARS) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    }
}

/// A version's fields and first rows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Head {
    /// Name and kind (`Text`, `Numeric`, `Date`, `MultiValue`).
    pub fields: Vec<(String, &'static str)>,
    /// Each row's values in field order; `None` is null.
    pub rows: Vec<Vec<Option<String>>>,
}

/// The fields and first `limit` rows of a stored version: its files, or with layers the rows
/// they merge to ([`read_version`]). It blocks: call it off the async threads
/// (`spawn_blocking`), as every file read.
pub fn head_version(version: &Version, limit: usize) -> io::Result<Head> {
    if version.layers()?.is_none() {
        return head(&version.files()?, limit);
    }
    let damaged = |e: datafusion::error::DataFusionError| {
        io::Error::new(io::ErrorKind::InvalidData, format!("{}: {e}", version.dir.display()))
    };
    // a preview reads a few rows past a hash of the removed keys: small work, on this thread
    let runtime = tokio::runtime::Builder::new_current_thread().build()?;
    let batches = runtime
        .block_on(async {
            // strings as Utf8, as stored and as the kinds know them
            let mut config = datafusion::prelude::SessionConfig::new().with_target_partitions(1);
            config.options_mut().execution.parquet.schema_force_view_types = false;
            let ctx = datafusion::prelude::SessionContext::new_with_config(config);
            read_version(&ctx, version).await?.limit(0, Some(limit))?.collect().await
        })
        .map_err(damaged)?;
    let mut out = Head::default();
    if let Some(first) = batches.first() {
        out.fields = fields_of(&first.schema());
    }
    for batch in &batches {
        if take_rows(&mut out, batch, limit)? {
            break;
        }
    }
    Ok(out)
}

fn fields_of(schema: &Schema) -> Vec<(String, &'static str)> {
    schema
        .fields()
        .iter()
        .map(|f| (f.name().clone(), FieldType::from_arrow(f.data_type()).map_or("Unknown", |t| t.kind_name())))
        .collect()
}

/// Adds the rows of `batch` to `out` up to `limit` rows; whether `out` is full.
fn take_rows(out: &mut Head, batch: &RecordBatch, limit: usize) -> io::Result<bool> {
    let options = FormatOptions::default();
    let columns: Vec<ArrayFormatter<'_>> = batch
        .columns()
        .iter()
        .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
        .collect::<Result<_, _>>()
        .map_err(io::Error::other)?;
    for row in 0..batch.num_rows() {
        if out.rows.len() >= limit {
            return Ok(true);
        }
        out.rows.push(
            columns
                .iter()
                .zip(batch.columns())
                .map(|(c, array)| (!array.is_null(row)).then(|| shown(c.value(row).to_string())))
                .collect(),
        );
    }
    Ok(out.rows.len() >= limit)
}

/// The fields and first `limit` rows of the Parquet `files` of a version, in file order.
pub fn head(files: &[PathBuf], limit: usize) -> io::Result<Head> {
    let mut out = Head::default();
    for file in files {
        // a file that is not whole Parquet is damaged data (InvalidData), not a server fault
        let damaged = |e| io::Error::new(io::ErrorKind::InvalidData, format!("{}: {e}", file.display()));
        let reader = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(file)?)
            .map_err(damaged)?
            .with_batch_size(limit.clamp(1, 8192))
            .with_limit(limit.saturating_sub(out.rows.len()))
            .build()
            .map_err(damaged)?;
        if out.fields.is_empty() {
            out.fields = fields_of(&reader.schema());
        }
        for batch in reader {
            let batch =
                batch.map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("{}: {e}", file.display())))?;
            if take_rows(&mut out, &batch, limit)? {
                return Ok(out);
            }
        }
        if out.rows.len() >= limit {
            break;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_values_are_cut_at_a_character_boundary() {
        assert_eq!(shown("short".into()), "short");
        let long = "é".repeat(MAX_VALUE_CHARS + 10);
        let cut = shown(long);
        assert_eq!(cut.chars().count(), MAX_VALUE_CHARS + 1);
        assert!(cut.ends_with('…'));
    }
}
