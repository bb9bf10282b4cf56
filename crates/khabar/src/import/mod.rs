//! Moving in from other systems. `khabar import wordpress` reads a WordPress
//! export (WXR) as a stream and brings in its posts, pages, categories, tags,
//! authors, comments and images, and writes a redirect for every address the
//! old site had. Every item is keyed by its WordPress id, so a re-run updates
//! what changed and adds what is new.

pub mod content;
pub mod report;
pub mod wordpress;
pub mod wxr;

pub use report::Report;

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Wxr(#[from] wxr::WxrError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("{0}")]
    Io(String),
    #[error("{0}")]
    Usage(String),
}

impl From<sqlx::Error> for ImportError {
    fn from(error: sqlx::Error) -> Self {
        ImportError::Store(crate::store::StoreError::Database(error))
    }
}

/// What an import is told.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// A copy of the old site's `wp-content/uploads`: images are read from it.
    pub uploads: Option<std::path::PathBuf>,
    /// Count and check everything, write nothing.
    pub dry_run: bool,
    /// The old site's permalink structure (`/%postname%/`,
    /// `/%year%/%monthnum%/%postname%/`, `/archives/%post_id%`), when its
    /// posts answered at more than the links the export gives.
    pub permalink: Option<String>,
}

/// Where an import is, for a progress bar: the phase, and done of total
/// (bytes of the file while reading it, items otherwise).
pub trait Progress: Sync {
    fn phase(&self, name: &'static str, total: u64);
    fn set(&self, done: u64);
}

/// Progress nobody watches (tests).
pub struct Quiet;

impl Progress for Quiet {
    fn phase(&self, _name: &'static str, _total: u64) {}
    fn set(&self, _done: u64) {}
}
