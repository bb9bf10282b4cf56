//! A site is one data folder: `khabar.toml`, `khabar.db` (unless the site
//! lives in PostgreSQL) and `media/`. This module opens, creates and checks it.

use std::path::{Path, PathBuf};

use crate::app::StartError;
use crate::config::{Config, CONFIG_FILE};
use crate::store::Store;

pub const DATABASE_FILE: &str = "khabar.db";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FolderState {
    /// Missing or empty: a new site may be made here.
    New,
    /// Holds a khabar.toml.
    Site,
    /// Holds other files: never write into it.
    Foreign,
}

pub fn folder_state(data_dir: &Path) -> Result<FolderState, StartError> {
    if data_dir.join(CONFIG_FILE).is_file() {
        return Ok(FolderState::Site);
    }
    match std::fs::read_dir(data_dir) {
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(FolderState::New),
        Err(error) => Err(StartError::DataDir(format!("cannot read {}: {error}", data_dir.display()))),
        Ok(mut entries) => Ok(if entries.next().is_none() { FolderState::New } else { FolderState::Foreign }),
    }
}

/// Makes the folder a site with the default configuration.
pub fn create(data_dir: &Path) -> Result<(), StartError> {
    create_with_address(data_dir, None)
}

/// Makes the folder a site whose base URL is the address it will first be
/// served on (edit khabar.toml once it has a real domain).
pub fn create_with_address(data_dir: &Path, address: Option<&str>) -> Result<(), StartError> {
    std::fs::create_dir_all(data_dir.join("media"))
        .map_err(|error| StartError::DataDir(format!("cannot create {}: {error}", data_dir.display())))?;
    let mut config = Config::default();
    if let Some(address) =
        address.filter(|address| address.parse::<std::net::SocketAddr>().is_ok_and(|socket| socket.port() != 0))
    {
        config.base_url = format!("http://{address}");
    }
    config.write_new(data_dir)?;
    Ok(())
}

pub fn require_site(data_dir: &Path) -> Result<(), StartError> {
    match folder_state(data_dir)? {
        FolderState::Site => Ok(()),
        FolderState::New => Err(StartError::DataDir(format!(
            "{} is not a khabar site yet (no {CONFIG_FILE}); create one with `khabar serve --data {}`",
            data_dir.display(),
            data_dir.display()
        ))),
        FolderState::Foreign => Err(StartError::DataDir(format!(
            "{} holds other files and no {CONFIG_FILE}: it is not a khabar site",
            data_dir.display()
        ))),
    }
}

/// Reads the configuration and opens the store the site uses.
pub async fn open(data_dir: &Path, database_override: Option<&str>) -> Result<(Config, Store), StartError> {
    let config = Config::load(data_dir)?;
    std::fs::create_dir_all(data_dir.join("media"))
        .map_err(|error| StartError::DataDir(format!("cannot create {}/media: {error}", data_dir.display())))?;
    let store = match database_override.or(config.database_url.as_deref()) {
        Some(url) => Store::open_url(url).await?,
        None => Store::open_sqlite(&database_path(data_dir)).await?,
    };
    Ok((config, store))
}

pub fn database_path(data_dir: &Path) -> PathBuf {
    data_dir.join(DATABASE_FILE)
}
