//! The newsroom's view of articles: every state, not just what readers see.

use sqlx::FromRow;

use crate::store::{with_pool, Store, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    All,
    Drafts,
    Review,
    Scheduled,
    Published,
}

impl StatusFilter {
    pub fn parse(text: &str) -> StatusFilter {
        match text {
            "drafts" => StatusFilter::Drafts,
            "review" => StatusFilter::Review,
            "scheduled" => StatusFilter::Scheduled,
            "published" => StatusFilter::Published,
            _ => StatusFilter::All,
        }
    }

    /// SQL over `a` with the current time as `$1`.
    fn condition(self) -> &'static str {
        match self {
            StatusFilter::All => "TRUE",
            StatusFilter::Drafts => "a.status = 'draft' AND a.review_requested_at IS NULL",
            StatusFilter::Review => "a.status = 'draft' AND a.review_requested_at IS NOT NULL",
            StatusFilter::Scheduled => "a.status = 'published' AND a.published_at > $1",
            StatusFilter::Published => "a.status = 'published' AND a.published_at <= $1",
        }
    }
}

#[derive(Debug, Clone)]
pub struct AdminFilter {
    pub status: StatusFilter,
    /// Only articles this staff member created (authors and contributors).
    pub created_by: Option<i64>,
}

#[derive(Debug, Clone, FromRow)]
pub struct AdminArticleRow {
    pub id: i64,
    pub title: String,
    pub slug: String,
    pub status: String,
    pub published_at: Option<i64>,
    pub updated_at: i64,
    pub review_requested_at: Option<i64>,
    pub section_name: String,
    pub created_by: Option<i64>,
    pub creator_name: Option<String>,
    pub revision: i64,
}

#[derive(Debug, Clone, Default)]
pub struct ArticleCounts {
    pub published: i64,
    pub scheduled: i64,
    pub review: i64,
    pub drafts: i64,
}

impl Store {
    pub async fn admin_articles(
        &self,
        filter: &AdminFilter,
        now: i64,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<AdminArticleRow>, i64), StoreError> {
        let from = format!(
            " FROM articles a JOIN sections s ON s.id = a.section_id LEFT JOIN staff t ON t.id = a.created_by \
             WHERE ({}) AND ($2 IS NULL OR a.created_by = $2)",
            filter.status.condition()
        );
        let list = format!(
            "SELECT a.id, a.title, a.slug, a.status, a.published_at, a.updated_at, a.review_requested_at, \
             s.name AS section_name, a.created_by, t.name AS creator_name, a.revision{from} \
             ORDER BY a.updated_at DESC, a.id DESC LIMIT $3 OFFSET $4"
        );
        let count = format!("SELECT COUNT(*){from}");
        let result = with_pool!(self, pool => {
            let rows = sqlx::query_as::<_, AdminArticleRow>(&list)
                .bind(now)
                .bind(filter.created_by)
                .bind(limit)
                .bind(offset)
                .fetch_all(pool)
                .await?;
            let total: i64 = sqlx::query_scalar(&count)
                .bind(now)
                .bind(filter.created_by)
                .fetch_one(pool)
                .await?;
            Ok::<_, sqlx::Error>((rows, total))
        })?;
        Ok(result)
    }

    pub async fn article_counts(&self, created_by: Option<i64>, now: i64) -> Result<ArticleCounts, StoreError> {
        let (published, scheduled, review, drafts): (i64, i64, i64, i64) = with_pool!(self, pool => sqlx::query_as(
            "SELECT \
             COALESCE(SUM(CASE WHEN status = 'published' AND published_at <= $1 THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN status = 'published' AND published_at > $1 THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN status = 'draft' AND review_requested_at IS NOT NULL THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN status = 'draft' AND review_requested_at IS NULL THEN 1 ELSE 0 END), 0) \
             FROM articles WHERE $2 IS NULL OR created_by = $2",
        )
        .bind(now)
        .bind(created_by)
        .fetch_one(pool)
        .await)?;
        Ok(ArticleCounts { published, scheduled, review, drafts })
    }
}
