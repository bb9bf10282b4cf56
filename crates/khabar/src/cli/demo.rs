//! `khabar demo`: make a demo site when the folder is new, then serve it.

use std::path::PathBuf;
use std::time::Instant;

use crate::cli::serve::serve_site;
use crate::cli::CliError;
use crate::site::{self, FolderState};

#[derive(Debug, clap::Args)]
pub struct Options {
    /// The demo site's data folder; created and filled when missing or empty.
    #[arg(long, value_name = "DIR", default_value = "khabar-demo")]
    pub data: PathBuf,
    /// Keep the demo's data in this database instead of DIR/khabar.db (postgres://…).
    #[arg(long, value_name = "URL", env = "KHABAR_DATABASE_URL")]
    pub database: Option<String>,
    /// Address to listen on.
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:8080")]
    pub addr: String,
}

pub async fn run(options: Options) -> Result<(), CliError> {
    let started = Instant::now();
    match site::folder_state(&options.data)? {
        FolderState::Site => {
            tracing::info!(data = %options.data.display(), "serving the existing site unchanged");
        }
        FolderState::New => {
            site::create_with_address(&options.data, Some(&options.addr))?;
            let (_, store) = site::open(&options.data, options.database.as_deref()).await?;
            let count = crate::demo::seed(&store, &options.data).await?;
            store.close().await;
            tracing::info!(articles = count, data = %options.data.display(), "created the demo site");
        }
        FolderState::Foreign => {
            return Err(CliError::Usage(format!(
                "{} holds other files and no khabar.toml; choose an empty or new folder for the demo",
                options.data.display()
            )))
        }
    }
    serve_site(&options.data, options.database.as_deref(), &options.addr, started).await
}
