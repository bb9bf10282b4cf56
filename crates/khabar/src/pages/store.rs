//! Static pages in the database, on both backends.

use serde::Serialize;
use sqlx::FromRow;

use crate::store::{with_pool, Store, StoreError};

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct PageRow {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub body_markdown: String,
    pub body_html: String,
    pub status: String,
    pub in_footer: bool,
    pub position: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl PageRow {
    pub fn is_published(&self) -> bool {
        self.status == "published"
    }
}

/// What a save stores.
#[derive(Debug, Clone)]
pub struct PageWrite {
    pub slug: String,
    pub title: String,
    pub body_markdown: String,
    pub body_html: String,
    pub status: String,
    pub in_footer: bool,
    pub position: i64,
}

/// A footer link: a published page marked for the footer.
#[derive(Debug, Clone, FromRow, Serialize, PartialEq, Eq)]
pub struct FooterPage {
    pub slug: String,
    pub title: String,
}

#[derive(Debug, PartialEq, Eq)]
pub enum PageSave {
    Saved(i64),
    NotFound,
    /// Another page has that address.
    SlugTaken,
}

const COLUMNS: &str = "id, slug, title, body_markdown, body_html, status, in_footer, position, created_at, updated_at";

impl Store {
    pub async fn pages(&self) -> Result<Vec<PageRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM pages ORDER BY position, id");
        let rows = with_pool!(self, pool => sqlx::query_as::<_, PageRow>(&sql).fetch_all(pool).await)?;
        Ok(rows)
    }

    pub async fn published_pages(&self) -> Result<Vec<PageRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM pages WHERE status = 'published' ORDER BY position, id");
        let rows = with_pool!(self, pool => sqlx::query_as::<_, PageRow>(&sql).fetch_all(pool).await)?;
        Ok(rows)
    }

    pub async fn page_by_id(&self, id: i64) -> Result<Option<PageRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM pages WHERE id = $1");
        let row = with_pool!(self, pool => sqlx::query_as::<_, PageRow>(&sql).bind(id).fetch_optional(pool).await)?;
        Ok(row)
    }

    pub async fn page_by_slug(&self, slug: &str) -> Result<Option<PageRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM pages WHERE slug = $1");
        let row = with_pool!(self, pool => sqlx::query_as::<_, PageRow>(&sql).bind(slug).fetch_optional(pool).await)?;
        Ok(row)
    }

    pub async fn footer_pages(&self) -> Result<Vec<FooterPage>, StoreError> {
        let rows = with_pool!(self, pool => sqlx::query_as::<_, FooterPage>(
            "SELECT slug, title FROM pages WHERE in_footer AND status = 'published' ORDER BY position, id",
        )
        .fetch_all(pool)
        .await)?;
        Ok(rows)
    }

    async fn slug_taken(&self, slug: &str, except: Option<i64>) -> Result<bool, StoreError> {
        let taken: i64 = with_pool!(self, pool => sqlx::query_scalar(
            "SELECT COUNT(*) FROM pages WHERE slug = $1 AND ($2 IS NULL OR id <> $2)",
        )
        .bind(slug)
        .bind(except)
        .fetch_one(pool)
        .await)?;
        Ok(taken > 0)
    }

    pub async fn create_page(&self, write: &PageWrite, now: i64) -> Result<PageSave, StoreError> {
        if self.slug_taken(&write.slug, None).await? {
            return Ok(PageSave::SlugTaken);
        }
        let id = with_pool!(self, pool => sqlx::query_scalar::<_, i64>(
            "INSERT INTO pages (slug, title, body_markdown, body_html, status, in_footer, position, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
        )
        .bind(&write.slug)
        .bind(&write.title)
        .bind(&write.body_markdown)
        .bind(&write.body_html)
        .bind(&write.status)
        .bind(write.in_footer)
        .bind(write.position)
        .bind(now)
        .fetch_one(pool)
        .await)?;
        Ok(PageSave::Saved(id))
    }

    pub async fn update_page(&self, id: i64, write: &PageWrite, now: i64) -> Result<PageSave, StoreError> {
        if self.slug_taken(&write.slug, Some(id)).await? {
            return Ok(PageSave::SlugTaken);
        }
        let changed = with_pool!(self, pool => sqlx::query(
            "UPDATE pages SET slug = $1, title = $2, body_markdown = $3, body_html = $4, status = $5, \
             in_footer = $6, position = $7, updated_at = $8 WHERE id = $9",
        )
        .bind(&write.slug)
        .bind(&write.title)
        .bind(&write.body_markdown)
        .bind(&write.body_html)
        .bind(&write.status)
        .bind(write.in_footer)
        .bind(write.position)
        .bind(now)
        .bind(id)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        Ok(if changed > 0 { PageSave::Saved(id) } else { PageSave::NotFound })
    }

    pub async fn delete_page(&self, id: i64) -> Result<bool, StoreError> {
        let deleted = with_pool!(self, pool => sqlx::query("DELETE FROM pages WHERE id = $1")
            .bind(id)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(deleted > 0)
    }
}
