//! What search reads from the database: the change log, articles to index,
//! and the editors' spelling variants.

use crate::store::{with_pool, Store, StoreError};

/// An article as the index needs it (published or not: the caller decides).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct IndexedArticle {
    pub id: i64,
    pub title: String,
    pub summary: String,
    pub body_markdown: String,
    pub section_id: i64,
    pub status: String,
    pub published_at: Option<i64>,
}

const ARTICLE_COLUMNS: &str = "id, title, summary, body_markdown, section_id, status, published_at";

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct VariantGroup {
    pub id: i64,
    pub words: String,
    pub created_by: String,
    pub created_at: i64,
}

impl Store {
    /// The newest change, and the oldest still kept (0, 0 when the log is
    /// empty). Two queries: each is one step down the primary key, where
    /// MAX and MIN together would read the whole log.
    pub async fn search_log_bounds(&self) -> Result<(i64, i64), StoreError> {
        let newest: Option<i64> = with_pool!(self, pool => sqlx::query_scalar("SELECT MAX(id) FROM search_log")
            .fetch_one(pool)
            .await)?;
        let oldest: Option<i64> = with_pool!(self, pool => sqlx::query_scalar("SELECT MIN(id) FROM search_log")
            .fetch_one(pool)
            .await)?;
        Ok((newest.unwrap_or(0), oldest.unwrap_or(0)))
    }

    /// Changes after `cursor`, oldest first.
    pub async fn search_changes(&self, cursor: i64, limit: i64) -> Result<Vec<(i64, i64)>, StoreError> {
        let rows: Vec<(i64, i64)> = with_pool!(self, pool => sqlx::query_as(
            "SELECT id, article_id FROM search_log WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .bind(cursor)
        .bind(limit)
        .fetch_all(pool)
        .await)?;
        Ok(rows)
    }

    /// The changes among `ids` that exist now: ids skipped earlier because
    /// their transaction had not committed yet (PostgreSQL hands out ids
    /// before commit, so a lower one can appear after a higher one).
    pub async fn search_changes_among(&self, ids: &[i64]) -> Result<Vec<(i64, i64)>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (1..=ids.len()).map(|index| format!("${index}")).collect();
        let sql =
            format!("SELECT id, article_id FROM search_log WHERE id IN ({}) ORDER BY id", placeholders.join(", "));
        let rows: Vec<(i64, i64)> = with_pool!(self, pool => {
            let mut query = sqlx::query_as(&sql);
            for id in ids {
                query = query.bind(*id);
            }
            query.fetch_all(pool).await
        })?;
        Ok(rows)
    }

    pub async fn prune_search_log(&self, before: i64) -> Result<u64, StoreError> {
        let removed = with_pool!(self, pool => sqlx::query("DELETE FROM search_log WHERE changed_at < $1")
            .bind(before)
            .execute(pool)
            .await
            .map(|result| result.rows_affected()))?;
        Ok(removed)
    }

    pub async fn article_for_index(&self, id: i64) -> Result<Option<IndexedArticle>, StoreError> {
        let sql = format!("SELECT {ARTICLE_COLUMNS} FROM articles WHERE id = $1");
        let row =
            with_pool!(self, pool => sqlx::query_as::<_, IndexedArticle>(&sql).bind(id).fetch_optional(pool).await)?;
        Ok(row)
    }

    /// Published articles after an id, in id order: a rebuild reads them in batches.
    pub async fn articles_for_index(&self, after_id: i64, limit: i64) -> Result<Vec<IndexedArticle>, StoreError> {
        let sql = format!(
            "SELECT {ARTICLE_COLUMNS} FROM articles WHERE status = 'published' AND id > $1 ORDER BY id LIMIT $2"
        );
        let rows = with_pool!(self, pool => sqlx::query_as::<_, IndexedArticle>(&sql)
            .bind(after_id)
            .bind(limit)
            .fetch_all(pool)
            .await)?;
        Ok(rows)
    }

    pub async fn count_published_articles(&self) -> Result<i64, StoreError> {
        let count = with_pool!(self, pool => sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM articles WHERE status = 'published'",
        )
        .fetch_one(pool)
        .await)?;
        Ok(count)
    }

    pub async fn search_variants(&self) -> Result<Vec<VariantGroup>, StoreError> {
        let rows = with_pool!(self, pool => sqlx::query_as::<_, VariantGroup>(
            "SELECT id, words, created_by, created_at FROM search_variants ORDER BY id",
        )
        .fetch_all(pool)
        .await)?;
        Ok(rows)
    }

    pub async fn add_search_variants(&self, words: &str, by: &str, now: i64) -> Result<i64, StoreError> {
        let id = with_pool!(self, pool => sqlx::query_scalar::<_, i64>(
            "INSERT INTO search_variants (words, created_by, created_at) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(words)
        .bind(by)
        .bind(now)
        .fetch_one(pool)
        .await)?;
        Ok(id)
    }

    pub async fn delete_search_variants(&self, id: i64) -> Result<bool, StoreError> {
        let removed = with_pool!(self, pool => sqlx::query("DELETE FROM search_variants WHERE id = $1")
            .bind(id)
            .execute(pool)
            .await
            .map(|result| result.rows_affected()))?;
        Ok(removed > 0)
    }
}
