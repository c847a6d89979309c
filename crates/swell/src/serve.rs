//! `swell serve`: the Wave REST API, the job runner and the scheduler in one process.

use anyhow::{Context, Result, bail};
use clap::Args;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use swell_engine::DataDir;

use swell_scheduler::{CatchUp, FolderPolicy, Limits, Runner, RunnerSettings, Scheduler, SystemClock};
use swell_server::AppState;
use swell_store::Store;

#[derive(Args, Clone)]
pub struct ServeArgs {
    /// Where metadata (SQLite), dataset versions, connected-object data and the key of
    /// connection secrets (secret.key, unless --secret-key gives one) live.
    #[arg(long, env = "SWELL_DATA_DIR", default_value = "./swell-data")]
    pub data_dir: PathBuf,
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, env = "SWELL_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Metadata database: sqlite://PATH (default: swell.db in the data dir) or postgres://USER@HOST/DB.
    #[arg(long, env = "SWELL_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Dataflow runs at once (CRM Analytics' default: 2).
    #[arg(long, env = "SWELL_MAX_DATAFLOW_JOBS", default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..))]
    pub max_dataflow_jobs: u16,
    /// Recipe runs at once (default 3).
    #[arg(long, env = "SWELL_MAX_RECIPE_JOBS", default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..))]
    pub max_recipe_jobs: u16,
    /// Data syncs at once (default 3).
    #[arg(long, env = "SWELL_MAX_SYNC_JOBS", default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..))]
    pub max_sync_jobs: u16,
    /// Schedule ticks missed while the server was down: `latest` runs the latest one once
    /// (it is less than one interval old), `skip` runs none that is over a minute late.
    #[arg(long, env = "SWELL_MISSED_RUNS", default_value = "latest")]
    pub missed_runs: CatchUp,
    /// Serve HTTPS with this PEM certificate (chain); needs --tls-key.
    #[arg(long, env = "SWELL_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, env = "SWELL_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Serve HTTPS with a self-signed certificate made once and kept in DATA_DIR/tls (trust
    /// DATA_DIR/tls/cert.pem in clients: REQUESTS_CA_BUNDLE, NODE_EXTRA_CA_CERTS, curl --cacert).
    #[arg(long, env = "SWELL_TLS_SELF_SIGNED", conflicts_with = "tls_cert")]
    pub tls_self_signed: bool,
    /// This server's identity among the servers sharing one database (default: one made once
    /// and kept in DATA_DIR/server-id). Give each server its own when they share a data dir.
    #[arg(long, env = "SWELL_SERVER_ID", value_parser = server_id_arg)]
    pub server_id: Option<String>,
    /// A folder that local-folder connections (FolderPath) may read, with everything under it;
    /// repeat for several. Without one, no local folder can be read (`swell demo` allows its
    /// sample folder by itself).
    #[arg(long = "allow-folder", env = "SWELL_ALLOW_FOLDERS", value_name = "DIR", value_delimiter = ':')]
    pub allow_folders: Vec<PathBuf>,
    /// Seconds between this server's heartbeats on the jobs it runs.
    #[arg(long, env = "SWELL_HEARTBEAT_SECS", default_value_t = 5.0, value_parser = seconds_arg)]
    pub heartbeat_secs: f64,
    /// Seconds after which a running job whose server stopped its heartbeats is failed (by any
    /// server sharing the database); more than twice --heartbeat-secs.
    #[arg(long, env = "SWELL_STALE_AFTER_SECS", default_value_t = 30.0, value_parser = seconds_arg)]
    pub stale_after_secs: f64,
    /// Seconds between looks for jobs of servers gone silent.
    #[arg(long, env = "SWELL_SWEEP_SECS", default_value_t = 10.0, value_parser = seconds_arg)]
    pub sweep_secs: f64,
    /// Megabytes of disk that runs and syncs leave free under the data dir: a job fails when
    /// less is left, before the disk fills (default: 1024, or 5 % of a disk under 20 GiB).
    #[arg(long, env = "SWELL_MIN_FREE_MB", value_name = "MB", value_parser = clap::value_parser!(u64).range(0..=1_000_000_000))]
    pub min_free_mb: Option<u64>,
    /// Megabytes of memory each run's operators may use before they spill to disk (default
    /// 1536).
    #[arg(long, env = "SWELL_RUN_MEMORY_MB", value_name = "MB", value_parser = clap::value_parser!(u64).range(16..=16_777_216))]
    pub memory_mb: Option<u64>,
    /// The key of connection secrets, 64 hex digits, for servers that share a database but not
    /// a data dir (default: DATA_DIR/secret.key, made on first use).
    #[arg(long, env = "SWELL_SECRET_KEY", hide_env_values = true, value_name = "HEX")]
    pub secret_key: Option<String>,
    /// The API token clients send as `Authorization: Bearer` (default: the one kept in
    /// DATA_DIR/api-token, made and printed on first start).
    #[arg(long, env = "SWELL_API_TOKEN", hide_env_values = true, value_name = "TOKEN")]
    pub api_token: Option<String>,
    /// Runs of dataflows and recipes a day that the Data Manager's Monitor counts against (an
    /// org allows 60 in 24 hours; swell shows the count and refuses no run past it).
    #[arg(long, env = "SWELL_DAILY_RUN_BUDGET", default_value_t = 60, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub daily_run_budget: u32,
}

/// A positive number of seconds, at most a day.
fn seconds_arg(s: &str) -> std::result::Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v > 0.0 && v <= 86_400.0 => Ok(v),
        _ => Err("a number of seconds above 0 and at most 86400".into()),
    }
}

/// A server id: 1 to 64 letters, digits, `-`, `_` or `.`.
fn server_id_arg(s: &str) -> std::result::Result<String, String> {
    let ok = !s.is_empty() && s.len() <= 64 && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if ok { Ok(s.to_string()) } else { Err("use 1 to 64 letters, digits, '-', '_' or '.'".into()) }
}

/// The metadata database: `--database-url`, else swell.db in the data dir.
pub fn store_url(data_dir: &Path, given: Option<&str>) -> Result<String> {
    Ok(match given {
        Some(u) if u.starts_with("sqlite:") || u.starts_with("postgres://") || u.starts_with("postgresql://") => {
            u.to_string()
        }
        Some(u) => bail!("--database-url {u}: expected sqlite://PATH or postgres://USER@HOST/DB"),
        None => format!("sqlite://{}", data_dir.join("swell.db").display()),
    })
}

/// A started server.
pub struct Server {
    pub addr: SocketAddr,
    /// The token was made now (print it: it is shown once).
    pub new_token: bool,
    pub state: AppState,
    /// The Data Manager in the browser, under `/ui`.
    pub web: swell_web::Web,
    pub runner: Arc<Runner>,
    pub scheduler: Arc<Scheduler>,
    listener: tokio::net::TcpListener,
    /// HTTPS: the acceptor and the certificate file clients should trust.
    pub tls: Option<(tokio_rustls::TlsAcceptor, PathBuf)>,
    /// Held while the server runs: no second server takes its id on this data dir.
    _id_lock: std::fs::File,
}

/// Locks `DATA_DIR/.server-<id>.lock` for as long as the server runs. A second server started
/// on the same data dir with the same id (both reading `server-id`) would take the first
/// one's running jobs for its own interrupted ones and fail them: it is refused instead.
fn lock_server_id(data_dir: &Path, id: &str) -> Result<std::fs::File> {
    let path = data_dir.join(format!(".server-{id}.lock"));
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("writing {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => bail!(
            "another swell server with the id '{id}' runs on this data dir; give each server sharing it its own \
             --server-id (SWELL_SERVER_ID)"
        ),
        Err(std::fs::TryLockError::Error(e)) => Err(e).with_context(|| format!("locking {}", path.display())),
    }
}

/// The API token: `--api-token`, else the one kept in the data dir, else a new one
/// (returned with `true` so that it is printed once).
fn token(data_dir: &Path, given: Option<&str>) -> Result<(String, bool)> {
    if let Some(t) = given
        && !t.trim().is_empty()
    {
        return Ok((t.trim().to_string(), false));
    }
    let file = data_dir.join("api-token");
    if let Ok(t) = std::fs::read_to_string(&file) {
        return Ok((t.trim().to_string(), false));
    }
    // shaped like a Salesforce access token (org id, '!', secret) so that clients accept it
    let secret = uuid::Uuid::new_v4().simple().to_string() + &uuid::Uuid::new_v4().simple().to_string();
    let t = format!("{}{secret}", swell_app::TOKEN_PREFIX);
    std::fs::write(&file, &t).with_context(|| format!("writing {}", file.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600));
    }
    Ok((t, true))
}

/// This server's identity for the job store: the one given, or one kept in the data dir so
/// that a restarted server recognises the jobs it was running.
fn server_id(given: Option<&str>, data_dir: &Path) -> Result<String> {
    if let Some(id) = given {
        return Ok(id.to_string());
    }
    let file = data_dir.join("server-id");
    if let Ok(id) = std::fs::read_to_string(&file)
        && !id.trim().is_empty()
    {
        return Ok(id.trim().to_string());
    }
    let id = uuid::Uuid::new_v4().to_string();
    std::fs::write(&file, &id).with_context(|| format!("writing {}", file.display()))?;
    Ok(id)
}

impl Server {
    pub async fn start(args: &ServeArgs) -> Result<Server> {
        std::fs::create_dir_all(&args.data_dir)
            .with_context(|| format!("creating the data dir {}", args.data_dir.display()))?;
        let url = store_url(&args.data_dir, args.database_url.as_deref())?;
        let store = Store::open(&url).await.with_context(|| format!("opening the metadata store {url}"))?;
        let (token, new_token) = token(&args.data_dir, args.api_token.as_deref())?;
        let data_dir = DataDir::new(&args.data_dir);
        if args.stale_after_secs <= 2.0 * args.heartbeat_secs {
            bail!(
                "--stale-after-secs ({}) must be more than twice --heartbeat-secs ({}): a live server would be taken \
                 for dead",
                args.stale_after_secs,
                args.heartbeat_secs
            );
        }
        let id = server_id(args.server_id.as_deref(), &args.data_dir)?;
        let id_lock = lock_server_id(&args.data_dir, &id)?;
        let mut settings = RunnerSettings::new(id);
        settings.limits = Limits {
            dataflows: args.max_dataflow_jobs as usize,
            recipes: args.max_recipe_jobs as usize,
            syncs: args.max_sync_jobs as usize,
        };
        settings.heartbeat_every = Duration::from_secs_f64(args.heartbeat_secs);
        settings.stale_after = Duration::from_secs_f64(args.stale_after_secs);
        settings.sweep_every = Duration::from_secs_f64(args.sweep_secs);
        settings.min_free_bytes = args.min_free_mb.map(|mb| mb.saturating_mul(1024 * 1024));
        settings.memory_limit = args.memory_mb.map(|mb| (mb as usize).saturating_mul(1024 * 1024));
        settings.secret_key = args.secret_key.clone();
        settings.folders = FolderPolicy::roots(args.allow_folders.iter().cloned())
            .with_context(|| "--allow-folder: the folder must exist")?;
        // an allowed folder may hold the data dir: a connection never reads it
        settings.folders.deny(&args.data_dir).with_context(|| format!("{}", args.data_dir.display()))?;
        let runner = Runner::new(store.clone(), data_dir.clone(), settings);
        // the key of connection secrets: a bad --secret-key stops the start, not a sync later
        runner.vault().map_err(anyhow::Error::msg)?;
        let scheduler = Scheduler::new(store.clone(), runner.clone(), Arc::new(SystemClock), args.missed_runs);
        let app = swell_app::App::new(store, runner.clone(), scheduler.clone(), data_dir);
        let https = args.tls_self_signed || args.tls_cert.is_some();
        let state = AppState { app, token: Arc::new(token), https };
        let web = swell_web::Web::new(
            state.app.clone(),
            state.token.clone(),
            swell_web::Settings { https, daily_run_budget: args.daily_run_budget, ..swell_web::Settings::default() },
        );
        let listener = tokio::net::TcpListener::bind(&args.listen)
            .await
            .with_context(|| format!("listening on {}", args.listen))?;
        let addr = listener.local_addr()?;
        let tls = match (&args.tls_cert, &args.tls_key) {
            (Some(cert), Some(key)) => Some(crate::tls::acceptor(crate::tls::Source::Files { cert, key })?),
            _ if args.tls_self_signed => {
                let dir = args.data_dir.join("tls");
                Some(crate::tls::acceptor(crate::tls::Source::SelfSigned { dir: &dir, host: &addr.ip().to_string() })?)
            }
            _ => None,
        };
        Ok(Server { addr, new_token, state, web, runner, scheduler, listener, tls, _id_lock: id_lock })
    }

    /// The base URL clients use: `http://HOST:PORT`, or `https://` with TLS.
    pub fn base_url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// Serves until Ctrl-C or SIGTERM, then shuts down gracefully.
    pub async fn run(self) -> Result<()> {
        let runner = self.runner.clone();
        let runner_task = tokio::spawn(runner.clone().run());
        let scheduler_task = tokio::spawn(self.scheduler.clone().run());
        let app = swell_server::app_with(self.state, swell_web::router(self.web.clone()));
        // live pages end their streams when the shutdown begins, so their connections close
        // at once instead of holding the shutdown for its whole grace period
        let web = self.web.clone();
        let signal = async move {
            shutdown_signal().await;
            web.shutdown();
        };
        match self.tls {
            Some((acceptor, _)) => {
                let listener = crate::tls::TlsListener::new(self.listener, acceptor)?;
                crate::http::serve(listener, app, signal).await
            }
            None => crate::http::serve(self.listener, app, signal).await,
        }
        self.scheduler.shutdown();
        let _ = scheduler_task.await;
        runner.shutdown();
        let _ = runner_task.await;
        Ok(())
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}

pub fn serve(args: ServeArgs) -> std::process::ExitCode {
    let runtime = match swell_engine::runtime_builder().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    runtime.block_on(async {
        let server = match Server::start(&args).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: {e:#}");
                return std::process::ExitCode::from(2);
            }
        };
        if server.new_token {
            println!("API token (kept in {}): {}", args.data_dir.join("api-token").display(), server.state.token);
        }
        if let Some((_, cert)) = &server.tls {
            println!("TLS certificate: {}", cert.display());
        }
        println!("Data Manager: {}{}/", server.base_url(), swell_web::BASE);
        println!("listening on {}", server.base_url());
        match server.run().await {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e:#}");
                std::process::ExitCode::from(1)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_given_server_id_wins_and_the_kept_one_is_stable() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(server_id(Some("server-a"), dir.path()).unwrap(), "server-a");
        assert!(!dir.path().join("server-id").exists(), "a given id is not written over the kept one");
        let kept = server_id(None, dir.path()).unwrap();
        assert_eq!(server_id(None, dir.path()).unwrap(), kept);
        assert_eq!(server_id(Some("server-b"), dir.path()).unwrap(), "server-b");
        assert!(server_id_arg("a b").is_err() && server_id_arg("").is_err() && server_id_arg("node-1.eu").is_ok());
    }
}
