//! Redirect rows, on both backends.

use serde::Serialize;
use sqlx::FromRow;

use crate::store::{with_pool, Store, StoreError};

/// A redirect's target as it is now: the row and whatever it names.
#[derive(Debug, Clone, FromRow)]
pub struct Target {
    pub target_kind: String,
    pub target_path: String,
    pub article_id: Option<i64>,
    pub article_slug: Option<String>,
    pub article_visible: Option<bool>,
    pub page_slug: Option<String>,
    pub page_visible: Option<bool>,
    pub section_slug: Option<String>,
    pub tag_slug: Option<String>,
    pub author_slug: Option<String>,
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct RedirectRow {
    pub id: i64,
    pub from_path: String,
    pub target_kind: String,
    pub target_id: Option<i64>,
    pub target_path: String,
    pub source: String,
    pub created_by: String,
    pub created_at: i64,
}

/// A redirect to write: `from_path` already in key form (see `redirects::key`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRedirect {
    pub from_path: String,
    pub target_kind: &'static str,
    pub target_id: Option<i64>,
    pub target_path: String,
}

/// Writes one redirect inside a transaction; a later one for the same path replaces it.
macro_rules! upsert_redirect {
    ($executor:expr, $redirect:expr, $source:expr, $by:expr, $now:expr) => {
        sqlx::query(
            "INSERT INTO redirects (from_path, target_kind, target_id, target_path, source, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (from_path) DO UPDATE SET \
             target_kind = excluded.target_kind, target_id = excluded.target_id, \
             target_path = excluded.target_path, source = excluded.source \
             WHERE redirects.target_kind <> excluded.target_kind OR redirects.target_path <> excluded.target_path \
             OR redirects.target_id IS DISTINCT FROM excluded.target_id",
        )
        .bind(&$redirect.from_path)
        .bind($redirect.target_kind)
        .bind($redirect.target_id)
        .bind(&$redirect.target_path)
        .bind($source)
        .bind($by)
        .bind($now)
        .execute($executor)
        .await
    };
}
pub(crate) use upsert_redirect;

impl Store {
    /// The target of the redirect from `key`, with what it names, in one query.
    pub async fn redirect_target(&self, key: &str, now: i64) -> Result<Option<Target>, StoreError> {
        const SQL: &str = "SELECT r.target_kind, r.target_path, a.id AS article_id, a.slug AS article_slug, \
             (a.status = 'published' AND a.published_at <= $2) AS article_visible, \
             p.slug AS page_slug, (p.status = 'published') AS page_visible, \
             s.slug AS section_slug, t.slug AS tag_slug, w.slug AS author_slug \
             FROM redirects r \
             LEFT JOIN articles a ON r.target_kind = 'article' AND a.id = r.target_id \
             LEFT JOIN pages p ON r.target_kind = 'page' AND p.id = r.target_id \
             LEFT JOIN sections s ON r.target_kind = 'section' AND s.id = r.target_id \
             LEFT JOIN tags t ON r.target_kind = 'tag' AND t.id = r.target_id \
             LEFT JOIN authors w ON r.target_kind = 'author' AND w.id = r.target_id \
             WHERE r.from_path = $1";
        let target = with_pool!(self, pool => sqlx::query_as::<_, Target>(SQL)
            .bind(key)
            .bind(now)
            .fetch_optional(pool)
            .await)?;
        Ok(target)
    }

    pub async fn add_redirect(
        &self,
        redirect: &NewRedirect,
        source: &str,
        by: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        with_pool!(self, pool => upsert_redirect!(pool, redirect, source, by, now).map(|_| ()))?;
        Ok(())
    }

    pub async fn delete_redirect(&self, id: i64) -> Result<bool, StoreError> {
        let deleted = with_pool!(self, pool => sqlx::query("DELETE FROM redirects WHERE id = $1")
            .bind(id)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(deleted > 0)
    }

    /// Newest first, those whose old address contains `containing` (all when empty), and how many match.
    pub async fn redirects(&self, containing: &str, limit: i64) -> Result<(Vec<RedirectRow>, i64), StoreError> {
        let pattern = format!("%{}%", containing.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
        let rows = with_pool!(self, pool => {
            let rows = sqlx::query_as::<_, RedirectRow>(
                "SELECT id, from_path, target_kind, target_id, target_path, source, created_by, created_at \
                 FROM redirects WHERE from_path LIKE $1 ESCAPE '\\' ORDER BY id DESC LIMIT $2",
            )
            .bind(&pattern)
            .bind(limit)
            .fetch_all(pool)
            .await?;
            let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM redirects WHERE from_path LIKE $1 ESCAPE '\\'")
                .bind(&pattern)
                .fetch_one(pool)
                .await?;
            Ok::<_, sqlx::Error>((rows, total))
        })?;
        Ok(rows)
    }
}
