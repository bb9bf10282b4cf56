//! A mark in the database saying its content changed from outside a server:
//! `khabar import` run beside a live site (SQLite in WAL mode lets it write
//! while the server reads). Each server's jobs loop reads the mark every few
//! seconds, one tiny query, and on a new one refreshes everything it keeps
//! (cached pages, the footer, settings) as after a change of its own. On
//! PostgreSQL other nodes also hear it at once (the import is announced).

use crate::store::{with_pool, Store, StoreError};

const KEY: &str = "content_epoch";

/// Records that content changed now.
pub async fn bump(store: &Store) -> Result<(), StoreError> {
    let mark = format!("{}-{:08x}", crate::store::now_seconds(), rand::random::<u32>());
    with_pool!(store, pool => sqlx::query(
        "INSERT INTO site_settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .bind(KEY)
    .bind(&mark)
    .execute(pool)
    .await
    .map(|_| ()))?;
    if let crate::store::Pool::Postgres(pool) = store.pool() {
        // Running nodes drop their pages now rather than at their next tick.
        sqlx::query("SELECT pg_notify('khabar_changes', $1)").bind("import\t*").execute(pool).await?;
    }
    Ok(())
}

/// The current mark, if anything ever set one.
pub async fn read(store: &Store) -> Result<Option<String>, StoreError> {
    let mark = with_pool!(store, pool => sqlx::query_scalar::<_, String>("SELECT value FROM site_settings WHERE key = $1")
        .bind(KEY)
        .fetch_optional(pool)
        .await)?;
    Ok(mark)
}
