//! The engine's own limit (bench/run.sh): runs one SQL file on the engine's DataFusion session
//! (same settings as a run: partitions, memory pool, spill directory, Parquet writer) with
//! every `*.parquet` file of a folder registered as a table of its stem.
//!
//!   cargo build --release -p swell -p swell-engine --bin swell --example sql  (not -p swell-engine alone:
//!   cargo then unifies DataFusion's features differently and rebuilds it)
//!   target/release/examples/sql FILE.sql OBJECTS_DIR OUT.parquet [THREADS]
//!
//! The file holds one statement; `{out}` in it is replaced with OUT.parquet. Prints the wall
//! time of the statement.

use std::time::Instant;
use swell_engine::datafusion;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [sql, objects, out, rest @ ..] = args.as_slice() else {
        return Err("usage: sql FILE.sql OBJECTS_DIR OUT.parquet [THREADS]".into());
    };
    let threads = rest.first().map(|t| t.parse::<usize>()).transpose()?;
    let sql = std::fs::read_to_string(sql)?.replace("{out}", out);
    let spill = tempfile_dir()?;
    swell_engine::runtime_builder().build()?.block_on(async {
        let ctx = swell_engine::new_context(threads, swell_engine::run::DEFAULT_MEMORY_LIMIT, &spill);
        for entry in std::fs::read_dir(objects)? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "parquet") {
                let name = path.file_stem().unwrap_or_default().to_string_lossy().to_string();
                ctx.register_parquet(
                    datafusion::common::TableReference::bare(name),
                    path.display().to_string(),
                    Default::default(),
                )
                .await?;
            }
        }
        let start = Instant::now();
        let batches = ctx.sql(&sql).await?.collect().await?;
        if sql.trim_start().to_ascii_uppercase().starts_with("EXPLAIN") {
            println!("{}", datafusion::arrow::util::pretty::pretty_format_batches(&batches)?);
        }
        println!("datafusion sql: {:.2} s", start.elapsed().as_secs_f64());
        let _ = std::fs::remove_dir_all(&spill);
        Ok::<_, Box<dyn std::error::Error>>(())
    })
}

fn tempfile_dir() -> std::io::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("swell-sql-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
