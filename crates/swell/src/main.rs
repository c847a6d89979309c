//! The `swell` binary: `serve` and `demo` (the server), `run` and `validate` (the engine alone),
//! `user` (users, roles and tokens of a data dir).
//!
//! Exit codes: 0 success, 1 the job failed, 2 usage, configuration or validation error.

mod demo;
mod http;
mod run;
mod serve;
mod tls;
mod users;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "swell", version, about = "Self-hosted data pipelines for CRM Analytics dataflows and recipes")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the Wave REST API and run jobs.
    Serve(serve::ServeArgs),
    /// Like serve, with a bundled sample connection, dataflow (started once) and recipe.
    Demo(serve::ServeArgs),
    /// Run a dataflow or recipe definition without a server.
    Run(run::RunArgs),
    /// Check a definition without touching data; prints every problem.
    Validate {
        /// The dataflow or recipe definition (JSON, as CRM Analytics uses it).
        file: PathBuf,
    },
    /// Users, roles and API tokens of a server's data dir.
    User(users::UserArgs),
    /// The audit log of a server's data dir: every change, refused change and failed sign-in.
    Audit(users::AuditArgs),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { ExitCode::from(2) } else { ExitCode::SUCCESS };
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SWELL_LOG").unwrap_or_else(|_| "warn,swell_app=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match cli.command {
        Command::Serve(args) => serve::serve(args),
        Command::Demo(args) => demo::demo(args),
        Command::Run(args) => run::run(args),
        Command::Validate { file } => run::validate(&file),
        Command::User(args) => users::user(args),
        Command::Audit(args) => users::audit(args),
    }
}
