//! The first rows of a stored version, for people to look at (the web UI's dataset page):
//! each field with its kind, and values written as text the way the API writes them (numbers
//! with their scale, dates in ISO form). Reads only as many row groups as the rows need.

use crate::schema::FieldType;
use datafusion::arrow::array::{Array, RecordBatchReader};
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

/// The fields and first `limit` rows of the Parquet `files` of a version, in file order.
pub fn head(files: &[PathBuf], limit: usize) -> io::Result<Head> {
    let mut out = Head::default();
    let options = FormatOptions::default();
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
            out.fields = reader
                .schema()
                .fields()
                .iter()
                .map(|f| (f.name().clone(), FieldType::from_arrow(f.data_type()).map_or("Unknown", |t| t.kind_name())))
                .collect();
        }
        for batch in reader {
            let batch =
                batch.map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("{}: {e}", file.display())))?;
            let columns: Vec<ArrayFormatter<'_>> = batch
                .columns()
                .iter()
                .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
                .collect::<Result<_, _>>()
                .map_err(io::Error::other)?;
            for row in 0..batch.num_rows() {
                if out.rows.len() >= limit {
                    return Ok(out);
                }
                out.rows.push(
                    columns
                        .iter()
                        .zip(batch.columns())
                        .map(|(c, array)| (!array.is_null(row)).then(|| shown(c.value(row).to_string())))
                        .collect(),
                );
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
