//! Small reads that pages are rendered from, run where they are asked for.
//!
//! sqlx gives each SQLite connection a thread of its own and hands it every
//! query and every row through channels. An article page asks about ten
//! small questions, and the two thread switches each one costs were about
//! half of an uncached render's CPU on a 2-core machine. On SQLite sites
//! these reads go through rusqlite on the caller's thread instead: each is a
//! bounded lookup through an index (tens of microseconds), shorter than the
//! template the answers fill. Writes, migrations and the big scans (search
//! reindexing, imports, sitemaps' counts) stay on sqlx.
//!
//! The SQL is the same text for both backends: `$N` parameters are bound by
//! their number here as sqlx binds them, and a row type names its columns
//! once for sqlx (`FromRow`) and once for rusqlite (`sqlite_row!`).

use std::cell::RefCell;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{CachedStatement, OpenFlags};

use super::{Pool, Store, StoreError};

/// Read connections kept for reuse; more are opened when more threads read
/// at once (the runtime's workers, a few blocking tasks) and closed after.
const IDLE_READERS: usize = 8;

/// One statement per distinct query text: the render paths use a few dozen.
const STATEMENTS_PER_READER: usize = 128;

/// A reader waits this long for a lock; in WAL mode only a checkpoint that
/// resets the log makes it wait at all, for milliseconds.
const READER_BUSY_TIMEOUT: Duration = Duration::from_secs(2);

/// A value bound to a `$N` parameter, for either backend.
#[derive(Debug, Clone, Copy)]
pub enum Arg<'a> {
    Int(i64),
    Text(&'a str),
    OptionalText(Option<&'a str>),
}

/// A row type that can be read from a rusqlite row by column name.
pub trait FromSqliteRow: Sized {
    fn from_sqlite_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self>;
}

/// A row type every backend can read: what `Store::read_all` returns.
pub trait ReadRow:
    FromSqliteRow
    + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
    + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
    + Send
    + Unpin
{
}

impl<T> ReadRow for T where
    T: FromSqliteRow
        + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
        + Send
        + Unpin
{
}

/// Implements [`FromSqliteRow`] for a struct from its field names, which are
/// its columns' names, as `#[derive(sqlx::FromRow)]` reads them.
macro_rules! sqlite_row {
    ($type:ty { $($field:ident),+ $(,)? }) => {
        impl $crate::store::reads::FromSqliteRow for $type {
            fn from_sqlite_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
                Ok(Self { $($field: row.get(stringify!($field))?),+ })
            }
        }
    };
}
pub(crate) use sqlite_row;

impl FromSqliteRow for (i64,) {
    fn from_sqlite_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok((row.get(0)?,))
    }
}

impl FromSqliteRow for (i64, i64) {
    fn from_sqlite_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok((row.get(0)?, row.get(1)?))
    }
}

tokio::task_local! {
    static SNAPSHOT: Snapshot;
}

/// One read transaction for all the reads of one render, on one kept
/// connection, taken at the first read and ended when the render ends.
/// Beginning and ending a read transaction around each of a page's ten
/// statements was a fifth of SQLite's share of an uncached render; and a
/// page read from one snapshot cannot show an article beside a list from
/// after it was unpublished.
struct Snapshot {
    readers: Arc<SqliteReaders>,
    connection: RefCell<Option<rusqlite::Connection>>,
}

impl Snapshot {
    /// Runs `work` in the snapshot, beginning it on first use.
    fn run<T>(&self, work: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<T>) -> Result<T, StoreError> {
        let mut slot = self.connection.borrow_mut();
        let connection = match slot.take() {
            Some(connection) => connection,
            None => {
                let connection = self.readers.take()?;
                // Deferred: the snapshot is taken by the first SELECT.
                connection.prepare_cached("BEGIN")?.execute([])?;
                connection
            }
        };
        let result = work(&connection);
        *slot = Some(connection);
        Ok(result?)
    }
}

impl Drop for Snapshot {
    fn drop(&mut self) {
        if let Some(connection) = self.connection.get_mut().take() {
            // A connection whose transaction would not end is closed, not kept.
            let ended = connection.prepare_cached("COMMIT").and_then(|mut commit| commit.execute([]));
            if ended.is_ok() && connection.is_autocommit() {
                self.readers.keep(connection);
            }
        }
    }
}

/// `$1, $2, …` for a list bound after `first - 1` other parameters.
pub fn placeholders(first: usize, count: usize) -> String {
    (first..first + count).map(|number| format!("${number}")).collect::<Vec<_>>().join(", ")
}

/// The site's SQLite file, opened once per reading thread at a time.
#[derive(Debug)]
pub struct SqliteReaders {
    path: PathBuf,
    idle: Mutex<Vec<rusqlite::Connection>>,
}

impl SqliteReaders {
    pub fn new(path: &Path) -> Self {
        SqliteReaders { path: path.to_owned(), idle: Mutex::new(Vec::new()) }
    }

    fn open(&self) -> rusqlite::Result<rusqlite::Connection> {
        // Read-write without create: a read-only handle could not take part
        // in WAL's shared-memory index when it is the last one open.
        let connection = rusqlite::Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        connection.busy_timeout(READER_BUSY_TIMEOUT)?;
        connection.pragma_update(None, "query_only", true)?;
        connection.set_prepared_statement_cache_capacity(STATEMENTS_PER_READER);
        Ok(connection)
    }

    fn take(&self) -> rusqlite::Result<rusqlite::Connection> {
        let kept = self.idle.lock().unwrap_or_else(std::sync::PoisonError::into_inner).pop();
        match kept {
            Some(connection) => Ok(connection),
            None => self.open(),
        }
    }

    fn keep(&self, connection: rusqlite::Connection) {
        let mut idle = self.idle.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if idle.len() < IDLE_READERS {
            idle.push(connection);
        }
    }

    fn run<T>(&self, work: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<T>) -> Result<T, StoreError> {
        let connection = self.take()?;
        let result = work(&connection);
        self.keep(connection);
        Ok(result?)
    }
}

/// Runs a read in the render's snapshot when there is one for these readers,
/// else on a kept connection of its own.
fn run_read<T>(
    readers: &Arc<SqliteReaders>,
    work: impl Fn(&rusqlite::Connection) -> rusqlite::Result<T>,
) -> Result<T, StoreError> {
    match SNAPSHOT.try_with(|snapshot| Arc::ptr_eq(&snapshot.readers, readers).then(|| snapshot.run(&work))) {
        Ok(Some(result)) => result,
        _ => readers.run(&work),
    }
}

fn bind(statement: &mut CachedStatement<'_>, args: &[Arg<'_>]) -> rusqlite::Result<()> {
    for index in 1..=statement.parameter_count() {
        let number = statement
            .parameter_name(index)
            .and_then(|name| name.strip_prefix('$'))
            .and_then(|number| number.parse::<usize>().ok())
            .ok_or_else(|| rusqlite::Error::InvalidParameterName(format!("parameter {index} is not $N")))?;
        let arg = number
            .checked_sub(1)
            .and_then(|position| args.get(position))
            .ok_or_else(|| rusqlite::Error::InvalidParameterName(format!("${number} has no value")))?;
        match *arg {
            Arg::Int(value) => statement.raw_bind_parameter(index, value)?,
            Arg::Text(value) => statement.raw_bind_parameter(index, value)?,
            Arg::OptionalText(value) => statement.raw_bind_parameter(index, value)?,
        }
    }
    Ok(())
}

fn sqlite_rows<T: FromSqliteRow>(
    connection: &rusqlite::Connection,
    sql: &str,
    args: &[Arg<'_>],
    limit: usize,
) -> rusqlite::Result<Vec<T>> {
    let mut statement = connection.prepare_cached(sql)?;
    bind(&mut statement, args)?;
    let mut rows = statement.raw_query();
    let mut found = Vec::new();
    while found.len() < limit {
        match rows.next()? {
            Some(row) => found.push(T::from_sqlite_row(row)?),
            None => break,
        }
    }
    Ok(found)
}

/// Binds `args` to a sqlx query in order (`$1` first).
macro_rules! bind_args {
    ($query:expr, $args:expr) => {{
        let mut query = $query;
        for arg in $args {
            query = match *arg {
                Arg::Int(value) => query.bind(value),
                Arg::Text(value) => query.bind(value),
                Arg::OptionalText(value) => query.bind(value),
            };
        }
        query
    }};
}

/// Runs a read through sqlx: one row fetched when one is wanted.
macro_rules! fetch {
    ($pool:expr, $sql:expr, $args:expr, $limit:expr) => {{
        let query = bind_args!(sqlx::query_as::<_, T>($sql), $args);
        if $limit == 1 {
            Ok(query.fetch_optional($pool).await?.into_iter().collect())
        } else {
            Ok(query.fetch_all($pool).await?.into_iter().take($limit).collect())
        }
    }};
}

impl Store {
    /// Runs `work` (a page's render) with all its reads on SQLite in one read
    /// transaction: one snapshot, begun and ended once. Reads in tasks it
    /// spawns run apart, as they would without it.
    pub async fn in_one_snapshot<F: Future>(&self, work: F) -> F::Output {
        match &self.readers {
            Some(readers) => {
                SNAPSHOT.scope(Snapshot { readers: readers.clone(), connection: RefCell::new(None) }, work).await
            }
            None => work.await,
        }
    }

    /// A COUNT(*) that grows with what it counts: on sqlx (its own thread on
    /// SQLite), so it does not hold up a runtime thread the way a small read may.
    pub async fn count(&self, sql: &str, args: &[Arg<'_>]) -> Result<i64, StoreError> {
        let total = match self.pool() {
            Pool::Sqlite(pool) => bind_args!(sqlx::query_scalar::<_, i64>(sql), args).fetch_one(pool).await?,
            Pool::Postgres(pool) => bind_args!(sqlx::query_scalar::<_, i64>(sql), args).fetch_one(pool).await?,
        };
        Ok(total)
    }

    /// Every row of a bounded read.
    pub async fn read_all<T: ReadRow>(&self, sql: &str, args: &[Arg<'_>]) -> Result<Vec<T>, StoreError> {
        self.read(sql, args, usize::MAX).await
    }

    /// The first row of a read, if there is one.
    pub async fn read_optional<T: ReadRow>(&self, sql: &str, args: &[Arg<'_>]) -> Result<Option<T>, StoreError> {
        Ok(self.read(sql, args, 1).await?.pop())
    }

    async fn read<T: ReadRow>(&self, sql: &str, args: &[Arg<'_>], limit: usize) -> Result<Vec<T>, StoreError> {
        match (self.pool(), &self.readers) {
            (Pool::Sqlite(_), Some(readers)) => {
                run_read(readers, |connection| sqlite_rows(connection, sql, args, limit))
            }
            (Pool::Sqlite(pool), None) => fetch!(pool, sql, args, limit),
            (Pool::Postgres(pool), _) => fetch!(pool, sql, args, limit),
        }
    }
}

/// The steps of SQLite's plan for `sql` with `args`, on a new empty site:
/// for the tests that keep render queries off indexes spanning the site.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) async fn sqlite_query_plan(sql: &str, args: &[Arg<'_>]) -> Vec<String> {
    let folder = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite(&folder.path().join("khabar.db")).await.unwrap();
    let Pool::Sqlite(pool) = store.pool() else { unreachable!("a SQLite store") };
    let explain = format!("EXPLAIN QUERY PLAN {sql}");
    let query = bind_args!(sqlx::query_as::<_, (i64, i64, i64, String)>(&explain), args);
    let plan = query.fetch_all(pool).await.unwrap().into_iter().map(|step| step.3).collect();
    store.close().await;
    plan
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::{placeholders, sqlite_rows, Arg};

    #[test]
    fn parameters_are_bound_by_their_number_not_their_order() {
        let connection = rusqlite::Connection::open_in_memory().unwrap();
        let rows: Vec<(i64, i64)> =
            sqlite_rows(&connection, "SELECT $2 - $1, $1", &[Arg::Int(1), Arg::Int(10)], usize::MAX).unwrap();
        assert_eq!(rows, vec![(9, 1)]);
        let rows: Vec<(i64,)> = sqlite_rows(
            &connection,
            "SELECT length($3) + COALESCE(length($2), 100) + $1",
            &[Arg::Int(1), Arg::OptionalText(None), Arg::Text("خبر")],
            usize::MAX,
        )
        .unwrap();
        assert_eq!(rows, vec![(104,)]);
    }

    #[test]
    fn a_parameter_without_a_value_is_an_error_not_a_null() {
        let connection = rusqlite::Connection::open_in_memory().unwrap();
        let missing = sqlite_rows::<(i64,)>(&connection, "SELECT $2", &[Arg::Int(1)], usize::MAX);
        assert!(missing.is_err());
        let unnumbered = sqlite_rows::<(i64,)>(&connection, "SELECT :name", &[Arg::Int(1)], usize::MAX);
        assert!(unnumbered.is_err());
    }

    /// A write through sqlx is seen by the very next read through rusqlite,
    /// and the read went through a kept rusqlite connection, not sqlx.
    #[tokio::test]
    async fn sqlite_reads_see_sqlx_writes_at_once_on_their_own_connection() {
        let folder = tempfile::tempdir().unwrap();
        let store = crate::store::Store::open_sqlite(&folder.path().join("khabar.db")).await.unwrap();
        let readers = store.readers.clone().unwrap();
        let before: Option<(i64,)> =
            store.read_optional("SELECT id FROM sections WHERE slug = $1", &[Arg::Text("علوم")]).await.unwrap();
        assert_eq!(before, None);
        assert_eq!(readers.idle.lock().unwrap().len(), 1, "the read used a rusqlite connection and kept it");
        crate::store::with_pool!(store, pool => sqlx::query("INSERT INTO sections (name, slug, created_at) VALUES ($1, $2, 0)")
            .bind("علوم")
            .bind("علوم")
            .execute(pool)
            .await
            .map(|_| ()))
        .unwrap();
        let after: Option<(i64,)> =
            store.read_optional("SELECT id FROM sections WHERE slug = $1", &[Arg::Text("علوم")]).await.unwrap();
        assert!(after.is_some(), "the committed write is seen by the next read");
        assert_eq!(readers.idle.lock().unwrap().len(), 1, "one connection served both reads");
    }

    /// Inside a snapshot every read sees the database as the first read
    /// found it, on one connection; after it, the next read sees what was
    /// committed meanwhile, and the connection is kept for reuse.
    #[tokio::test]
    async fn a_snapshot_reads_one_state_of_the_database_on_one_connection() {
        let folder = tempfile::tempdir().unwrap();
        let store = crate::store::Store::open_sqlite(&folder.path().join("khabar.db")).await.unwrap();
        let readers = store.readers.clone().unwrap();
        let count = || async {
            let found: Option<(i64,)> = store.read_optional("SELECT COUNT(*) FROM sections", &[]).await.unwrap();
            found.unwrap().0
        };
        let store_ref = &store;
        let add_section = |name: &'static str| async move {
            crate::store::with_pool!(store_ref, pool => sqlx::query("INSERT INTO sections (name, slug, created_at) VALUES ($1, $1, 0)")
                .bind(name)
                .execute(pool)
                .await
                .map(|_| ()))
        };
        let (first, second, idle_during) = store
            .in_one_snapshot(async {
                let first = count().await;
                add_section("علوم").await.unwrap();
                let second = count().await;
                (first, second, readers.idle.lock().unwrap().len())
            })
            .await;
        assert_eq!((first, second), (0, 0), "the write committed during the snapshot is not in it");
        assert_eq!(idle_during, 0, "the snapshot holds its connection");
        assert_eq!(readers.idle.lock().unwrap().len(), 1, "and gives it back when it ends");
        assert_eq!(count().await, 1, "the next read sees the write");
        let unchanged = store.in_one_snapshot(async { count().await }).await;
        assert_eq!(unchanged, 1);
        assert_eq!(readers.idle.lock().unwrap().len(), 1, "one connection served every read");
    }

    #[test]
    fn a_limit_stops_reading_rows() {
        let connection = rusqlite::Connection::open_in_memory().unwrap();
        let sql = "WITH RECURSIVE numbers(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM numbers WHERE n < $1) \
                   SELECT n FROM numbers";
        let rows: Vec<(i64,)> = sqlite_rows(&connection, sql, &[Arg::Int(50)], 3).unwrap();
        assert_eq!(rows, vec![(1,), (2,), (3,)]);
    }

    #[test]
    fn placeholders_number_on_from_the_first() {
        assert_eq!(placeholders(1, 3), "$1, $2, $3");
        assert_eq!(placeholders(4, 2), "$4, $5");
        assert_eq!(placeholders(1, 0), "");
    }
}
