//! `swell run` and `swell validate`.

use clap::Args;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use swell_engine::{CancellationToken, DataDir, Dataflow, EngineError, FileCatalog, NodeReport, Run, RunOptions};

#[derive(Args)]
pub struct RunArgs {
    /// The dataflow or recipe definition (JSON, as CRM Analytics uses it).
    file: PathBuf,
    /// Data directory: connected objects are read from it and datasets are registered into it.
    #[arg(long, env = "SWELL_DATA_DIR", default_value = "./swell-data")]
    data_dir: PathBuf,
    /// Folder of CSV or Parquet files named after the objects (Account.csv, Opportunity.parquet),
    /// read instead of synced objects; edgemart datasets may be there too (ALIAS.csv).
    #[arg(long)]
    objects: Option<PathBuf>,
    /// Also write every registered dataset as DIR/ALIAS.parquet.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Fix the clock for now() (ISO-8601), for reproducible runs.
    #[arg(long, hide = true, env = "SWELL_NOW")]
    now: Option<String>,
    /// No progress bars, only the final table.
    #[arg(long)]
    quiet: bool,
    /// Megabytes of disk the run leaves free under the data dir: it fails when less is left
    /// (default: 1024, or 5 % of a disk under 20 GiB).
    #[arg(long, env = "SWELL_MIN_FREE_MB", value_name = "MB", value_parser = clap::value_parser!(u64).range(0..=1_000_000_000))]
    min_free_mb: Option<u64>,
    /// Megabytes of memory the run's operators may use before they spill to disk (default
    /// 1536).
    #[arg(long, env = "SWELL_RUN_MEMORY_MB", value_name = "MB", value_parser = clap::value_parser!(u64).range(16..=16_777_216))]
    memory_mb: Option<u64>,
}

/// The largest definition file read, as the server's body limit: the largest public
/// definition is about 1 MB, and `/dev/zero` must not fill the memory.
const MAX_DEFINITION_BYTES: u64 = 16 * 1024 * 1024;

fn read_definition(file: &Path) -> Result<String, ExitCode> {
    let fail = |m: String| {
        eprintln!("error: cannot read {}: {m}", file.display());
        ExitCode::from(2)
    };
    let meta = std::fs::metadata(file).map_err(|e| fail(e.to_string()))?;
    if !meta.is_file() {
        return Err(fail("not a regular file".into()));
    }
    if meta.len() > MAX_DEFINITION_BYTES {
        return Err(fail(format!("{} bytes; a definition is at most {MAX_DEFINITION_BYTES}", meta.len())));
    }
    let text = std::fs::read_to_string(file).map_err(|e| fail(format!("{e} (a definition is UTF-8 JSON)")))?;
    // editors on Windows start UTF-8 files with a byte-order mark; it is not part of the JSON
    Ok(text.strip_prefix('\u{feff}').map(str::to_string).unwrap_or(text))
}

pub fn validate(file: &Path) -> ExitCode {
    let text = match read_definition(file) {
        Ok(t) => t,
        Err(code) => return code,
    };
    // checking recurses with the definition's depth: on a thread with a deep stack
    let checked = swell_engine::on_deep_stack(move || swell_engine::validate(&text).map(|flow| flow.nodes.len()));
    let checked = match checked {
        Ok(c) => c,
        Err(panic) => {
            eprintln!("error: the definition could not be checked: {panic}");
            return ExitCode::from(2);
        }
    };
    match checked {
        Ok(nodes) => {
            println!("{}: valid ({nodes} nodes)", file.display());
            ExitCode::SUCCESS
        }
        Err(problems) => {
            eprintln!("{}: {} problem(s)", file.display(), problems.0.len());
            for p in &problems.0 {
                eprintln!("  {p}");
            }
            ExitCode::from(2)
        }
    }
}

pub fn run(args: RunArgs) -> ExitCode {
    let text = match read_definition(&args.file) {
        Ok(t) => t,
        Err(code) => return code,
    };
    let flow = match Dataflow::parse(&text) {
        Ok(f) => f,
        Err(problems) => {
            eprintln!("{}: {} problem(s)", args.file.display(), problems.0.len());
            for p in &problems.0 {
                eprintln!("  {p}");
            }
            return ExitCode::from(2);
        }
    };
    let now = match &args.now {
        None => chrono::Utc::now(),
        Some(s) => match chrono::DateTime::parse_from_rfc3339(s) {
            Ok(d) => d.with_timezone(&chrono::Utc),
            Err(e) => {
                eprintln!("error: --now {s}: {e}");
                return ExitCode::from(2);
            }
        },
    };
    let runtime = match swell_engine::runtime_builder().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    // the folders are made (or found) before the run: a run must not commit its datasets and
    // then fail on a folder it cannot write
    for (flag, dir) in [("--data-dir", Some(&args.data_dir)), ("--out", args.out.as_ref())] {
        if let Some(dir) = dir
            && let Err(e) = std::fs::create_dir_all(dir)
        {
            eprintln!("error: {flag} {}: cannot make the folder: {e}", dir.display());
            return ExitCode::from(2);
        }
    }
    let data_dir = DataDir::new(&args.data_dir);
    let catalog = FileCatalog { objects_dir: args.objects.clone(), data_dir: Some(data_dir.clone()) };
    let cancel = CancellationToken::new();
    let mut options = RunOptions::new(Arc::new(catalog));
    options.data_dir = Some(data_dir);
    options.out_dir = args.out.clone();
    options.now = now;
    options.cancel = cancel.clone();
    options.min_free_bytes = args.min_free_mb.map(|mb| mb.saturating_mul(1024 * 1024));
    if let Some(mb) = args.memory_mb {
        options.memory_limit = (mb as usize).saturating_mul(1024 * 1024);
    }
    options.dataflow_name = args.file.file_stem().map(|s| s.to_string_lossy().to_string());
    let run = Run::new(flow);
    let progress = run.progress();
    let quiet = args.quiet;
    let result = runtime.block_on(async {
        let ctrl_c = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                ctrl_c.cancel();
            }
        });
        let bars = (!quiet).then(|| Bars::new(&progress.snapshot()));
        let mut changed = progress.changed();
        let exec = run.execute(options);
        tokio::pin!(exec);
        loop {
            tokio::select! {
                r = &mut exec => break r,
                _ = changed.changed() => {
                    if let Some(b) = &bars { b.update(&progress.snapshot()); }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
        .inspect(|_| {
            if let Some(b) = &bars {
                b.finish(&progress.snapshot());
            }
        })
        .inspect_err(|_| {
            if let Some(b) = &bars {
                b.finish(&progress.snapshot());
            }
        })
    });
    print_table(&progress.snapshot());
    match result {
        Ok(outcome) => {
            for d in &outcome.datasets {
                println!("registered {} version {} ({} rows)", d.alias, d.version_id, d.row_count);
            }
            if let Some(out) = &args.out {
                println!("wrote {} dataset(s) to {}", outcome.datasets.len(), out.display());
            }
            for e in &outcome.exports {
                println!("exported to {}", e.display());
            }
            ExitCode::SUCCESS
        }
        Err(EngineError::Invalid(problems)) => {
            eprintln!("{}: {} problem(s)", args.file.display(), problems.0.len());
            for p in &problems.0 {
                eprintln!("  {p}");
            }
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

struct Bars {
    multi: MultiProgress,
    bars: Vec<ProgressBar>,
}

impl Bars {
    fn new(nodes: &[NodeReport]) -> Self {
        let multi = MultiProgress::new();
        let style = ProgressStyle::with_template("{spinner} {prefix:<32} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        let bars = nodes
            .iter()
            .map(|n| {
                let b = multi.add(ProgressBar::new_spinner());
                b.set_style(style.clone());
                b.set_prefix(format!("{} ({})", n.name, n.action));
                b.set_message("queued");
                b
            })
            .collect();
        Bars { multi, bars }
    }

    fn update(&self, nodes: &[NodeReport]) {
        for (b, n) in self.bars.iter().zip(nodes) {
            b.set_message(format!("{} {} rows", n.status.as_str(), n.output_rows));
            b.tick();
        }
    }

    fn finish(&self, nodes: &[NodeReport]) {
        for (b, n) in self.bars.iter().zip(nodes) {
            b.finish_with_message(format!("{} {} rows", n.status.as_str(), n.output_rows));
        }
        let _ = self.multi.clear();
    }
}

fn print_table(nodes: &[NodeReport]) {
    let w = nodes.iter().map(|n| n.name.len()).max().unwrap_or(4).max(4);
    let a = nodes.iter().map(|n| n.action.len()).max().unwrap_or(6).max(6);
    println!(
        "{:<w$}  {:<a$}  {:<9}  {:>12}  {:>12}  {:>10}",
        "NODE", "ACTION", "STATUS", "ROWS IN", "ROWS OUT", "DURATION"
    );
    for n in nodes {
        let dur = n.duration_ms.map_or("-".to_string(), |ms| format!("{:.3}s", ms as f64 / 1000.0));
        println!(
            "{:<w$}  {:<a$}  {:<9}  {:>12}  {:>12}  {:>10}",
            n.name,
            n.action,
            n.status.as_str(),
            n.input_rows,
            n.output_rows,
            dur
        );
        if let Some(m) = &n.message {
            println!("{:<w$}  {m}", "");
        }
    }
}
