//! `khabar serve`: serve a site until SIGTERM or Ctrl-C.

use std::path::Path;
use std::time::Instant;

use crate::app::AppState;
use crate::cli::{CliError, SiteOptions};
use crate::server::{RunningServer, TerminationSignal};
use crate::site::{self, FolderState};

#[derive(Debug, clap::Args)]
pub struct Options {
    #[command(flatten)]
    pub site: SiteOptions,
    /// Address to listen on.
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:8080")]
    pub addr: String,
}

pub async fn run(options: Options) -> Result<(), CliError> {
    let started = Instant::now();
    match site::folder_state(&options.site.data)? {
        FolderState::Site => {}
        FolderState::New => {
            site::create_with_address(&options.site.data, Some(&options.addr))?;
            tracing::info!(data = %options.site.data.display(), "created a new, empty site");
        }
        FolderState::Foreign => {
            return Err(CliError::Usage(format!(
                "{} holds other files and no khabar.toml; choose an empty or new folder",
                options.site.data.display()
            )))
        }
    }
    serve_site(&options.site.data, options.site.database.as_deref(), &options.addr, started).await
}

/// Opens the site, binds, serves until a termination signal, then stops cleanly.
pub async fn serve_site(data: &Path, database: Option<&str>, address: &str, started: Instant) -> Result<(), CliError> {
    let (config, store) = site::open(data, database).await?;
    let backend = store.backend_name();
    let site_name = config.site_name.clone();
    let state = AppState::new(config, data, store.clone()).await?;
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|source| CliError::Listen { address: address.to_owned(), source })?;
    let termination = TerminationSignal::install();
    let server = RunningServer::start(state, listener).map_err(CliError::Serve)?;
    tracing::info!(
        site = %site_name,
        store = backend,
        ready_ms = started.elapsed().as_millis() as u64,
        "khabar is serving at http://{}",
        server.address
    );
    termination.received().await;
    tracing::info!("stopping: finishing requests in flight");
    server.stop().await.map_err(CliError::Serve)?;
    store.close().await;
    Ok(())
}
