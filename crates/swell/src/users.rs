//! `swell user`: users, roles and tokens from the shell, for the operator who holds the data
//! dir (or the database URL). The commands act as the server's administrator and go through
//! the same use cases as the API (swell-app), so their checks are the same.

use anyhow::{Context, Result, anyhow};
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::sync::Arc;
use swell_app::{Actor, App, AuditQuery, NewUser};
use swell_core::Role;
use swell_engine::DataDir;
use swell_scheduler::{CatchUp, Runner, RunnerSettings, Scheduler, SystemClock};
use swell_store::{Store, TokenRecord, UserRecord};

/// Where the server keeps its metadata.
#[derive(Args)]
pub struct StoreArgs {
    /// The server's data dir (its metadata database is swell.db there).
    #[arg(long, env = "SWELL_DATA_DIR", default_value = "./swell-data", global = true)]
    pub data_dir: PathBuf,
    /// The metadata database, when the server uses another: sqlite://PATH or postgres://USER@HOST/DB.
    #[arg(long, env = "SWELL_DATABASE_URL", global = true)]
    pub database_url: Option<String>,
}

#[derive(Args)]
pub struct UserArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(subcommand)]
    pub command: UserCommand,
}

/// `swell audit`: the audit log, newest first, one event a line.
#[derive(Args)]
pub struct AuditArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Events of this user (id or username).
    #[arg(long)]
    pub user: Option<String>,
    /// Events about this asset (id).
    #[arg(long)]
    pub asset: Option<String>,
    /// Events of this action ("start job"; docs/roles.md lists them).
    #[arg(long)]
    pub action: Option<String>,
    /// success, refused or failed.
    #[arg(long)]
    pub outcome: Option<String>,
    /// Events at or after this date or instant (2026-12-01, 2026-12-01T10:00:00Z).
    #[arg(long)]
    pub since: Option<String>,
    /// At most this many events.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(i64).range(1..=100_000))]
    pub limit: i64,
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Add a user with a role (viewer, operator, editor, admin) and print a first token.
    Add {
        username: String,
        #[arg(long, value_parser = role_arg)]
        role: Role,
        /// The name records show (default: the username).
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        email: Option<String>,
    },
    /// List users with their role and whether they may sign in.
    List,
    /// Change a user's role.
    SetRole {
        user: String,
        #[arg(value_parser = role_arg)]
        role: Role,
    },
    /// Set a user's password (for the web UI's sign-in form and the OAuth password grant). It
    /// is asked for twice on a terminal, or read as one line from standard input; never from
    /// the command line, where other users of the machine could read it.
    SetPassword { user: String },
    /// Stop a user from signing in: their tokens stop working at once.
    Deactivate { user: String },
    /// Let a deactivated user sign in again.
    Activate { user: String },
    /// A user's API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Connected apps that sign a user in without a password (client credentials, JWT).
    #[command(subcommand)]
    Client(ClientCommand),
}

#[derive(Subcommand)]
pub enum ClientCommand {
    /// Register a client for a user; print its id and secret (the secret is shown this once).
    Create {
        user: String,
        /// A certificate (PEM file) with an RSA key: JWT assertions signed by its key sign the
        /// user in (`sf org login jwt --client-id ID --jwt-key-file KEY --username USER`).
        #[arg(long)]
        certificate: Option<PathBuf>,
    },
    /// List a user's clients (never their secrets).
    List { user: String },
    /// Revoke a client and the tokens it signed in.
    Revoke { id: String },
}

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Make a token for a user and print it (it is shown this once).
    Create {
        user: String,
        /// Days until it stops working (default: never).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=36_500))]
        expires_days: Option<u32>,
    },
    /// List a user's tokens (never their text).
    List { user: String },
    /// Revoke a token by its id (tok_...): it stops working at once.
    Revoke { id: String },
}

fn role_arg(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| format!("'{s}' is not a role (viewer, operator, editor, admin)"))
}

pub fn user(args: UserArgs) -> std::process::ExitCode {
    block_on(run(args))
}

pub fn audit(args: AuditArgs) -> std::process::ExitCode {
    block_on(run_audit(args))
}

fn block_on(work: impl std::future::Future<Output = Result<()>>) -> std::process::ExitCode {
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    match rt.block_on(work) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}

/// The use cases over a server's store, without running anything.
async fn open(args: &StoreArgs) -> Result<App> {
    let url = crate::serve::store_url(&args.data_dir, args.database_url.as_deref())?;
    if url.starts_with("sqlite:") && !args.data_dir.join("swell.db").exists() && args.database_url.is_none() {
        return Err(anyhow!(
            "no swell data dir at {} (give --data-dir, or start `swell serve` there first)",
            args.data_dir.display()
        ));
    }
    let store = Store::open(&url).await.with_context(|| format!("opening the metadata store {url}"))?;
    let data_dir = DataDir::new(&args.data_dir);
    let runner = Runner::new(store.clone(), data_dir.clone(), RunnerSettings::new("swell-user"));
    let scheduler = Scheduler::new(store.clone(), runner.clone(), Arc::new(SystemClock), CatchUp::Latest);
    Ok(App::new(store, runner, scheduler, data_dir))
}

/// Text as a line of the terminal may show it: control characters (a newline, a tab, an
/// escape sequence a failed sign-in typed as its username) are written escaped, so that no
/// event can forge another line or drive the admin's terminal.
fn shown(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { c.escape_default().to_string() } else { c.to_string() }).collect()
}

async fn run_audit(args: AuditArgs) -> Result<()> {
    let app = open(&args.store).await?;
    let query = AuditQuery {
        user: args.user.as_deref(),
        asset: args.asset.as_deref(),
        action: args.action.as_deref(),
        outcome: args.outcome.as_deref(),
        since: args.since.as_deref(),
        before: None,
        limit: args.limit,
    };
    let (events, more) = app.audit_events(&Actor::admin(), &query).await.map_err(|e| anyhow!("{}", e.message))?;
    for e in &events {
        let asset = match (&e.asset_id, &e.asset_name) {
            (Some(id), Some(name)) => format!("{} ({id})", shown(name)),
            (Some(id), None) => id.to_string(),
            _ => "-".to_string(),
        };
        println!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}",
            e.seq,
            swell_core::dates::to_wire(&e.at),
            shown(&e.username),
            e.action,
            e.outcome.as_str(),
            asset,
            shown(e.detail.as_deref().unwrap_or(""))
        );
    }
    if more {
        eprintln!("(older events not shown: give --limit)");
    }
    Ok(())
}

async fn run(args: UserArgs) -> Result<()> {
    let app = open(&args.store).await?;
    let admin = Actor::admin();
    let fail = |e: swell_app::ApiError| anyhow!("{}", e.message);
    match args.command {
        UserCommand::Add { username, role, name, email } => {
            let u = app.create_user(&admin, NewUser { username, name, email, role }).await.map_err(fail)?;
            let t = app.create_token(&admin, u.id.as_str(), None).await.map_err(fail)?;
            println!("added {} ({}), role {}", u.username, u.id, u.role);
            println!("token {} (shown once): {}", t.record.id, t.text);
        }
        UserCommand::List => {
            for u in app.list_users(&admin).await.map_err(fail)? {
                println!("{}", user_line(&u));
            }
        }
        UserCommand::SetRole { user, role } => {
            let u = app.update_user(&admin, &user, Some(role), None).await.map_err(fail)?;
            println!("{}", user_line(&u));
        }
        UserCommand::SetPassword { user } => {
            let u = app.user(&user).await.map_err(fail)?;
            let password = read_password(&u.username)?;
            app.set_password(&admin, u.id.as_str(), &password).await.map_err(fail)?;
            println!("password set for {} ({})", u.username, u.id);
        }
        UserCommand::Deactivate { user } => {
            let u = app.update_user(&admin, &user, None, Some(false)).await.map_err(fail)?;
            println!("{}", user_line(&u));
        }
        UserCommand::Activate { user } => {
            let u = app.update_user(&admin, &user, None, Some(true)).await.map_err(fail)?;
            println!("{}", user_line(&u));
        }
        UserCommand::Token(TokenCommand::Create { user, expires_days }) => {
            let expires = expires_days.map(|d| chrono::Utc::now() + chrono::Duration::days(i64::from(d)));
            let t = app.create_token(&admin, &user, expires).await.map_err(fail)?;
            println!("token {} (shown once): {}", t.record.id, t.text);
        }
        UserCommand::Token(TokenCommand::List { user }) => {
            for t in app.tokens(&admin, &user).await.map_err(fail)? {
                println!("{}", token_line(&t));
            }
        }
        UserCommand::Client(ClientCommand::Create { user, certificate }) => {
            let pem = match &certificate {
                Some(path) => Some(
                    std::fs::read_to_string(path)
                        .with_context(|| format!("reading the certificate {}", path.display()))?,
                ),
                None => None,
            };
            let c = app.create_client(&admin, &user, pem.as_deref()).await.map_err(fail)?;
            println!("client id: {}", c.record.id);
            println!("client secret (shown once): {}", c.secret);
        }
        UserCommand::Client(ClientCommand::List { user }) => {
            for c in app.clients(&admin, &user).await.map_err(fail)? {
                let state = if c.revoked_date.is_some() { "revoked" } else { "active" };
                let jwt = if c.certificate.is_some() { "certificate" } else { "no certificate" };
                println!("{}\t{state}\t{jwt}\tcreated {}", c.id, swell_core::dates::to_wire(&c.created_date));
            }
        }
        UserCommand::Client(ClientCommand::Revoke { id }) => {
            let c = app.revoke_client(&admin, &id).await.map_err(fail)?;
            println!("{}\trevoked", c.id);
        }
        UserCommand::Token(TokenCommand::Revoke { id }) => {
            let t = app.revoke_token(&admin, &id).await.map_err(fail)?;
            println!("{}", token_line(&t));
        }
    }
    Ok(())
}

/// A new password: asked twice without echo on a terminal, else the first line of standard
/// input (its line ending removed).
fn read_password(username: &str) -> Result<String> {
    use std::io::{BufRead, IsTerminal};
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(format!("New password for {username}: "))?;
        let again = rpassword::prompt_password("Again: ")?;
        if first != again {
            return Err(anyhow!("the two passwords differ; nothing was changed"));
        }
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).context("reading the password from standard input")?;
        let password = line.strip_suffix('\n').unwrap_or(&line);
        let password = password.strip_suffix('\r').unwrap_or(password);
        if password.is_empty() {
            return Err(anyhow!("no password on standard input (one line); nothing was changed"));
        }
        Ok(password.to_string())
    }
}

fn user_line(u: &UserRecord) -> String {
    let state = if u.active { "active" } else { "deactivated" };
    format!("{}\t{}\t{}\t{}\t{}", u.id, u.username, u.role, state, u.name)
}

fn token_line(t: &TokenRecord) -> String {
    let date = |d: Option<chrono::DateTime<chrono::Utc>>| d.map_or("-".to_string(), |d| swell_core::dates::to_wire(&d));
    let state = if t.revoked_date.is_some() {
        "revoked"
    } else if t.expires.is_some_and(|e| e <= chrono::Utc::now()) {
        "expired"
    } else {
        "active"
    };
    format!(
        "{}\t{state}\tcreated {}\tlast used {}\texpires {}",
        t.id,
        swell_core::dates::to_wire(&t.created_date),
        date(t.last_used),
        date(t.expires)
    )
}
