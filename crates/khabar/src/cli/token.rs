//! `khabar token create`: a bearer token for the admin API, printed once.

use crate::cli::{CliError, SiteOptions};
use crate::site;

#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Create a token and print it on stdout (only its hash is stored).
    Create {
        #[command(flatten)]
        site: SiteOptions,
        /// What the token is for, e.g. the script that uses it.
        #[arg(long)]
        name: String,
    },
}

pub async fn run(action: Action) -> Result<(), CliError> {
    match action {
        Action::Create { site: options, name } => {
            let name = name.trim();
            if name.is_empty() {
                return Err(CliError::Usage("--name must not be empty".to_owned()));
            }
            site::require_site(&options.data)?;
            let (_, store) = site::open(&options.data, options.database.as_deref()).await?;
            let token = store.create_api_token(name).await?;
            store.close().await;
            println!("{token}");
            Ok(())
        }
    }
}
