//! Sections, tags and authors: the ways readers browse the news.

use sqlx::FromRow;

use crate::store::{with_pool, Store, StoreError};

#[derive(Debug, Clone, FromRow)]
pub struct SectionRow {
    pub id: i64,
    pub name: String,
    pub slug: String,
    pub description: String,
    pub position: i64,
    pub article_count: i64,
}

#[derive(Debug, Clone, FromRow)]
pub struct TagRow {
    pub id: i64,
    pub name: String,
    pub slug: String,
    pub article_count: i64,
}

#[derive(Debug, Clone, FromRow)]
pub struct AuthorRow {
    pub id: i64,
    pub name: String,
    pub slug: String,
    pub bio: String,
    pub article_count: i64,
}

/// Counts only what a reader can see at `$1`.
const VISIBLE_COUNT: &str = "a.status = 'published' AND a.published_at <= $1";

impl Store {
    pub async fn sections(&self, now: i64) -> Result<Vec<SectionRow>, StoreError> {
        let sql = format!(
            "SELECT s.id, s.name, s.slug, s.description, s.position, \
             (SELECT COUNT(*) FROM articles a WHERE a.section_id = s.id AND {VISIBLE_COUNT}) AS article_count \
             FROM sections s ORDER BY s.position, s.id"
        );
        let rows = with_pool!(self, pool => sqlx::query_as::<_, SectionRow>(&sql).bind(now).fetch_all(pool).await)?;
        Ok(rows)
    }

    pub async fn tags(&self, now: i64) -> Result<Vec<TagRow>, StoreError> {
        let sql = format!(
            "SELECT t.id, t.name, t.slug, \
             (SELECT COUNT(*) FROM article_tags l JOIN articles a ON a.id = l.article_id \
              WHERE l.tag_id = t.id AND {VISIBLE_COUNT}) AS article_count \
             FROM tags t ORDER BY t.name"
        );
        let rows = with_pool!(self, pool => sqlx::query_as::<_, TagRow>(&sql).bind(now).fetch_all(pool).await)?;
        Ok(rows)
    }

    pub async fn authors(&self, now: i64) -> Result<Vec<AuthorRow>, StoreError> {
        let sql = format!(
            "SELECT t.id, t.name, t.slug, t.bio, \
             (SELECT COUNT(*) FROM article_authors l JOIN articles a ON a.id = l.article_id \
              WHERE l.author_id = t.id AND {VISIBLE_COUNT}) AS article_count \
             FROM authors t ORDER BY t.name"
        );
        let rows = with_pool!(self, pool => sqlx::query_as::<_, AuthorRow>(&sql).bind(now).fetch_all(pool).await)?;
        Ok(rows)
    }

    pub async fn section_by_slug(&self, slug: &str) -> Result<Option<SectionRow>, StoreError> {
        let row = with_pool!(self, pool => sqlx::query_as::<_, SectionRow>(
            "SELECT id, name, slug, description, position, CAST(0 AS BIGINT) AS article_count FROM sections WHERE slug = $1",
        )
        .bind(slug)
        .fetch_optional(pool)
        .await)?;
        Ok(row)
    }

    pub async fn tag_by_slug(&self, slug: &str) -> Result<Option<TagRow>, StoreError> {
        let row = with_pool!(self, pool => sqlx::query_as::<_, TagRow>(
            "SELECT id, name, slug, CAST(0 AS BIGINT) AS article_count FROM tags WHERE slug = $1",
        )
        .bind(slug)
        .fetch_optional(pool)
        .await)?;
        Ok(row)
    }

    pub async fn author_by_slug(&self, slug: &str) -> Result<Option<AuthorRow>, StoreError> {
        let row = with_pool!(self, pool => sqlx::query_as::<_, AuthorRow>(
            "SELECT id, name, slug, bio, CAST(0 AS BIGINT) AS article_count FROM authors WHERE slug = $1",
        )
        .bind(slug)
        .fetch_optional(pool)
        .await)?;
        Ok(row)
    }

    /// Sets a section's place in the navigation and its description (demo and admin).
    pub async fn describe_section(&self, slug: &str, position: i64, description: &str) -> Result<(), StoreError> {
        with_pool!(self, pool => sqlx::query("UPDATE sections SET position = $1, description = $2 WHERE slug = $3")
            .bind(position)
            .bind(description)
            .bind(slug)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(())
    }

    pub async fn describe_author(&self, slug: &str, bio: &str) -> Result<(), StoreError> {
        with_pool!(self, pool => sqlx::query("UPDATE authors SET bio = $1 WHERE slug = $2")
            .bind(bio)
            .bind(slug)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(())
    }
}
