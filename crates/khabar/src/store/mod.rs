//! The database seam. Every query is written once, in SQL that SQLite and
//! PostgreSQL both accept (numbered `$N` parameters, `RETURNING`, `ON CONFLICT`),
//! and runs against whichever pool the site was opened with. Feature modules
//! own their queries; this module owns connecting, migrating and the dispatch.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

pub mod reads;
pub use reads::Arg;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database error: {0}")]
    SqliteRead(#[from] rusqlite::Error),
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL '{0}': use sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
}

#[derive(Clone, Debug)]
pub enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs the same generic body against whichever backend the store holds.
/// The body is expanded once per backend, so it must type-check for both.
macro_rules! with_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match $store.pool() {
            $crate::store::Pool::Sqlite($pool) => $body,
            $crate::store::Pool::Postgres($pool) => $body,
        }
    };
}
pub(crate) use with_pool;

tokio::task_local! {
    static QUERIES_IN_TASK: std::cell::Cell<u32>;
}

/// Runs `work` and says how many store queries it made (in its own task;
/// work it spawns is not counted). For the tests that keep renders free of
/// N+1 queries.
pub async fn counting_queries<F: std::future::Future>(work: F) -> (F::Output, u32) {
    QUERIES_IN_TASK
        .scope(std::cell::Cell::new(0), async move {
            let output = work.await;
            (output, QUERIES_IN_TASK.with(std::cell::Cell::get))
        })
        .await
}

#[derive(Clone, Debug)]
pub struct Store {
    pool: Pool,
    /// SQLite sites' render reads, on the caller's thread (see `reads`).
    readers: Option<std::sync::Arc<reads::SqliteReaders>>,
}

impl Store {
    /// Opens (creating if needed) the site's embedded SQLite database.
    pub async fn open_sqlite(path: &Path) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL makes an acknowledged write survive a power cut, not just a crash of khabar.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        // Each sqlx SQLite connection is a thread of its own: on a small
        // machine more of them than cores spent their time switching between
        // threads (uncached renders: 8 served 1,289 pages/s, 4 ~1,540, before
        // those renders' reads moved to `reads`). The pool now serves writes
        // and the reads that grow with the site.
        let pool = SqlitePoolOptions::new().max_connections(4).min_connections(1).connect_with(options).await?;
        let readers = Some(std::sync::Arc::new(reads::SqliteReaders::new(path)));
        let store = Store { pool: Pool::Sqlite(pool), readers };
        store.migrate().await?;
        Ok(store)
    }

    pub async fn open_postgres(url: &str) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        let store = Store { pool: Pool::Postgres(pool), readers: None };
        store.migrate().await?;
        Ok(store)
    }

    /// Chooses the backend from the URL's scheme.
    pub async fn open_url(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Self::open_postgres(url).await
        } else if let Some(path) = url.strip_prefix("sqlite://") {
            Self::open_sqlite(Path::new(path)).await
        } else {
            Err(StoreError::UnsupportedUrl(url.to_owned()))
        }
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        match &self.pool {
            Pool::Sqlite(pool) => SQLITE_MIGRATIONS.run(pool).await?,
            Pool::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await?,
        }
        Ok(())
    }

    /// The same database through a connection that only its caller uses:
    /// for a writer that should keep SQLite's page cache warm (a shared
    /// connection's cache is dropped whenever another one wrote) and whose
    /// connection thread should be made on the caller's own thread, so it
    /// runs at that thread's priority. PostgreSQL connections do their work
    /// in the server, so the shared pool serves there.
    pub async fn connection_of_its_own(&self) -> Result<Store, StoreError> {
        match &self.pool {
            Pool::Sqlite(pool) => {
                let options = (*pool.connect_options()).clone();
                let own = SqlitePoolOptions::new()
                    .max_connections(1)
                    .min_connections(1)
                    .idle_timeout(None)
                    .max_lifetime(None)
                    .connect_with(options)
                    .await?;
                Ok(Store { pool: Pool::Sqlite(own), readers: self.readers.clone() })
            }
            Pool::Postgres(_) => Ok(self.clone()),
        }
    }

    /// Every store method reaches the database through here (`with_pool!`),
    /// so this is where a task counting its queries counts them.
    pub fn pool(&self) -> &Pool {
        let _ = QUERIES_IN_TASK.try_with(|count| count.set(count.get() + 1));
        &self.pool
    }

    pub fn backend_name(&self) -> &'static str {
        match self.pool {
            Pool::Sqlite(_) => "sqlite",
            Pool::Postgres(_) => "postgres",
        }
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        with_pool!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(|_| ()))?;
        Ok(())
    }

    pub async fn close(&self) {
        with_pool!(self, pool => pool.close().await)
    }
}

/// Seconds since the Unix epoch, the one time representation in the database.
pub fn now_seconds() -> i64 {
    jiff::Timestamp::now().as_second()
}
