//! The command line: one file per subcommand.

mod admin;
mod demo;
mod import;
mod newsletter;
mod reindex;
mod serve;
mod token;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "khabar", version, about = "An Arabic-first news publishing platform")]
pub struct Command {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(Debug, Subcommand)]
pub enum Action {
    /// Create a demo news site in DIR (when DIR is new) and serve it.
    Demo(demo::Options),
    /// Serve a site; a new DIR becomes an empty site.
    Serve(serve::Options),
    /// Manage admin API tokens.
    #[command(subcommand)]
    Token(token::Action),
    /// Manage newsroom staff accounts.
    #[command(subcommand)]
    Admin(admin::Action),
    /// The mailing list: import subscribers, send the digest now.
    #[command(subcommand)]
    Newsletter(newsletter::Action),
    /// Move a site in from elsewhere: `khabar import wordpress`.
    #[command(subcommand)]
    Import(import::Action),
    /// Rebuild the search index from the database (the server must be stopped).
    Reindex(reindex::Options),
}

/// Where a site lives and which database it uses.
#[derive(Debug, clap::Args)]
pub struct SiteOptions {
    /// The site's data folder (khabar.toml, khabar.db, media/).
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,
    /// Keep the site's data in this database instead of DIR/khabar.db (postgres://…).
    #[arg(long, value_name = "URL", env = "KHABAR_DATABASE_URL")]
    pub database: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Start(#[from] crate::app::StartError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Demo(#[from] crate::demo::DemoError),
    #[error("cannot listen on {address}: {source}")]
    Listen { address: String, source: std::io::Error },
    #[error("server failed: {0}")]
    Serve(std::io::Error),
    #[error("{0}")]
    Usage(String),
}

impl Command {
    /// Bulk work from the shell (sending a newsletter, importing a list)
    /// runs at a lower CPU priority, so a server on the same machine keeps
    /// answering readers first. Called before the runtime's threads exist,
    /// which inherit it.
    pub fn yield_to_readers(&self) {
        if matches!(self.action, Action::Newsletter(_) | Action::Reindex(_) | Action::Import(_)) {
            #[cfg(unix)]
            if let Err(error) = rustix::process::setpriority_process(None, BULK_NICENESS) {
                tracing::debug!(%error, "could not lower the CPU priority");
            }
        }
    }
}

/// Niceness of bulk shell commands: below interactive work, above idle.
const BULK_NICENESS: i32 = 10;

pub async fn run(command: Command) -> Result<(), CliError> {
    match command.action {
        Action::Demo(options) => demo::run(options).await,
        Action::Serve(options) => serve::run(options).await,
        Action::Token(action) => token::run(action).await,
        Action::Admin(action) => admin::run(action).await,
        Action::Newsletter(action) => newsletter::run(action).await,
        Action::Reindex(options) => reindex::run(options).await,
        Action::Import(action) => import::run(action).await,
    }
}

/// Request and job logs go to stderr; `KHABAR_LOG_FORMAT=json` for log shippers,
/// `RUST_LOG` to choose levels.
pub fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let json = std::env::var("KHABAR_LOG_FORMAT").is_ok_and(|format| format == "json");
    let _ = if json { builder.json().try_init() } else { builder.try_init() };
}
