//! The conformance suite: one folder per case under `tests/fixtures/`, found by glob, each its
//! own test.
//!
//! A case holds `definition.json`, optional input files in `objects/` (`Account.csv`, ...), and
//! either `expected/<ALIAS>.csv` for every dataset the run registers, or `expected_error.txt`
//! whose every line must appear in the error. Output rows are sorted (dataflow row order is not
//! defined); null renders as `\N`. The clock is fixed at 2025-01-01T00:00:00Z.
//!
//! Bless mode regenerates expectations from the current behaviour; review the diff by hand:
//! `SWELL_BLESS=1 cargo test -p swell-engine --test conformance`.

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use libtest_mimic::{Arguments, Failed, Trial};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use swell_engine::datafusion;
use swell_engine::{DataDir, Dataflow, FileCatalog, Run, RunOptions};

fn main() {
    let args = Arguments::from_args();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("fixtures folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("definition.json").is_file())
        .collect();
    cases.sort();
    let trials = cases
        .into_iter()
        .map(|dir| {
            let name = dir.file_name().unwrap().to_string_lossy().to_string();
            Trial::test(name, move || run_case(&dir))
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}

fn run_case(dir: &Path) -> Result<(), Failed> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    runtime.block_on(case(dir))
}

async fn case(dir: &Path) -> Result<(), Failed> {
    let bless = std::env::var_os("SWELL_BLESS").is_some();
    let text = std::fs::read_to_string(dir.join("definition.json"))?;
    let data = tempfile::tempdir()?;
    let result = match Dataflow::parse(&text) {
        Err(problems) => Err(problems.to_string()),
        Ok(flow) => {
            let objects = dir.join("objects");
            let catalog = FileCatalog {
                objects_dir: objects.is_dir().then_some(objects),
                data_dir: Some(DataDir::new(data.path())),
            };
            let mut options = RunOptions::new(Arc::new(catalog));
            options.data_dir = Some(DataDir::new(data.path()));
            options.now = "2025-01-01T00:00:00Z".parse().unwrap();
            options.target_partitions = Some(2);
            Run::new(flow).execute(options).await.map_err(|e| e.to_string())
        }
    };
    let error_file = dir.join("expected_error.txt");
    let expected_dir = dir.join("expected");
    match result {
        Err(message) => {
            if bless && !expected_dir.exists() && !error_file.exists() {
                std::fs::write(&error_file, format!("{message}\n"))?;
                return Ok(());
            }
            if !error_file.exists() {
                return Err(format!("the run failed:\n{message}").into());
            }
            let want = std::fs::read_to_string(&error_file)?;
            for line in want.lines().filter(|l| !l.trim().is_empty()) {
                if !message.contains(line.trim()) {
                    return Err(format!("the error lacks {line:?}; it was:\n{message}").into());
                }
            }
            Ok(())
        }
        Ok(outcome) => {
            if error_file.exists() {
                return Err(format!(
                    "expected a failure ({}) but the run succeeded",
                    std::fs::read_to_string(&error_file)?.trim()
                )
                .into());
            }
            let mut seen = Vec::new();
            for ds in &outcome.datasets {
                let actual = render(&ds.dir.join("part-0.parquet")).await?;
                let file = expected_dir.join(format!("{}.csv", ds.alias));
                seen.push(file.clone());
                if bless {
                    std::fs::create_dir_all(&expected_dir)?;
                    std::fs::write(&file, &actual)?;
                    continue;
                }
                let want = std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
                if want != actual {
                    return Err(format!(
                        "dataset {} differs from {}\n{}",
                        ds.alias,
                        file.display(),
                        diff(&want, &actual)
                    )
                    .into());
                }
            }
            if expected_dir.is_dir() {
                for e in std::fs::read_dir(&expected_dir)? {
                    let p = e?.path();
                    if !seen.contains(&p) {
                        return Err(format!("{} was expected but no such dataset was registered", p.display()).into());
                    }
                }
            } else if !bless {
                return Err("the case has neither expected/ nor expected_error.txt".into());
            }
            Ok(())
        }
    }
}

fn diff(want: &str, got: &str) -> String {
    let mut out = String::new();
    let (w, g): (Vec<&str>, Vec<&str>) = (want.lines().collect(), got.lines().collect());
    for i in 0..w.len().max(g.len()) {
        let (a, b) = (w.get(i).copied().unwrap_or("<none>"), g.get(i).copied().unwrap_or("<none>"));
        if a != b {
            out.push_str(&format!("line {}:\n  expected: {a}\n  actual:   {b}\n", i + 1));
        }
    }
    out
}

/// Renders a Parquet file as CSV text with sorted rows.
async fn render(path: &Path) -> Result<String, Failed> {
    let ctx = SessionContext::new();
    let df = ctx.read_parquet(path.display().to_string(), ParquetReadOptions::default()).await?;
    let header: Vec<String> = df.schema().fields().iter().map(|f| f.name().clone()).collect();
    let batches = df.collect().await?;
    let mut rows = Vec::new();
    for b in &batches {
        let cols: Vec<&ArrayRef> = b.columns().iter().collect();
        for r in 0..b.num_rows() {
            rows.push(cols.iter().map(|c| cell(c, r)).collect::<Vec<_>>().join(","));
        }
    }
    rows.sort();
    Ok(format!("{}\n{}", header.join(","), rows.iter().map(|r| format!("{r}\n")).collect::<String>()))
}

fn cell(a: &ArrayRef, row: usize) -> String {
    if a.is_null(row) {
        return "\\N".to_string();
    }
    let text = match a.data_type() {
        DataType::List(_) => {
            let list = a.as_list::<i32>().value(row);
            let items: Vec<String> = (0..list.len()).map(|i| cell(&list, i)).collect();
            format!("[{}]", items.join(";"))
        }
        DataType::Timestamp(..) => {
            let f = ArrayFormatter::try_new(
                a.as_ref(),
                &FormatOptions::default().with_timestamp_tz_format(Some("%Y-%m-%dT%H:%M:%S%.3fZ")),
            )
            .unwrap();
            f.value(row).to_string()
        }
        _ => ArrayFormatter::try_new(a.as_ref(), &FormatOptions::default()).unwrap().value(row).to_string(),
    };
    if text.contains([',', '"', '\n']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text }
}
