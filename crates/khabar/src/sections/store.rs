//! Sections, tags and authors: the ways readers browse the news.

use sqlx::FromRow;

use crate::store::reads::sqlite_row;
use crate::store::{with_pool, Arg, Store, StoreError};

#[derive(Debug, Clone, FromRow)]
pub struct SectionRow {
    pub id: i64,
    pub name: String,
    pub slug: String,
    pub description: String,
    pub position: i64,
    pub article_count: i64,
}

sqlite_row!(SectionRow { id, name, slug, description, position, article_count });

#[derive(Debug, Clone, FromRow)]
pub struct TagRow {
    pub id: i64,
    pub name: String,
    pub slug: String,
    pub article_count: i64,
}

sqlite_row!(TagRow { id, name, slug, article_count });

#[derive(Debug, Clone, FromRow)]
pub struct AuthorRow {
    pub id: i64,
    pub name: String,
    pub slug: String,
    pub bio: String,
    pub article_count: i64,
}

sqlite_row!(AuthorRow { id, name, slug, bio, article_count });

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
        self.read_optional(
            "SELECT id, name, slug, description, position, CAST(0 AS BIGINT) AS article_count FROM sections WHERE slug = $1",
            &[Arg::Text(slug)],
        )
        .await
    }

    pub async fn tag_by_slug(&self, slug: &str) -> Result<Option<TagRow>, StoreError> {
        self.read_optional(
            "SELECT id, name, slug, CAST(0 AS BIGINT) AS article_count FROM tags WHERE slug = $1",
            &[Arg::Text(slug)],
        )
        .await
    }

    pub async fn author_by_slug(&self, slug: &str) -> Result<Option<AuthorRow>, StoreError> {
        self.read_optional(
            "SELECT id, name, slug, bio, CAST(0 AS BIGINT) AS article_count FROM authors WHERE slug = $1",
            &[Arg::Text(slug)],
        )
        .await
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

    /// Creates a section unless one with the same slug exists.
    pub async fn ensure_section(
        &self,
        name: &crate::articles::store::NewName,
        description: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        with_pool!(self, pool => sqlx::query(
            "INSERT INTO sections (name, slug, description, position, created_at) \
             VALUES ($1, $2, $3, (SELECT COALESCE(MAX(position), 0) + 1 FROM sections), $4) ON CONFLICT DO NOTHING",
        )
        .bind(&name.name)
        .bind(&name.slug)
        .bind(description)
        .bind(now)
        .execute(pool)
        .await
        .map(|_| ()))?;
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

/// Which of the three browsing lists an admin edit touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taxonomy {
    Sections,
    Tags,
    Authors,
}

impl Taxonomy {
    pub fn table(self) -> &'static str {
        match self {
            Taxonomy::Sections => "sections",
            Taxonomy::Tags => "tags",
            Taxonomy::Authors => "authors",
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum TaxonomyChange {
    Done,
    NotFound,
    /// Another entry already has that name.
    NameTaken,
    /// A section that still holds articles cannot be removed.
    InUse,
}

impl Store {
    /// Renames an entry and sets its description (sections, authors) and
    /// position (sections). The slug stays, so links keep working.
    pub async fn edit_taxonomy(
        &self,
        kind: Taxonomy,
        id: i64,
        name: &str,
        description: &str,
        position: i64,
    ) -> Result<TaxonomyChange, StoreError> {
        let taken: i64 = with_pool!(self, pool => sqlx::query_scalar::<_, i64>(&format!(
            "SELECT COUNT(*) FROM {} WHERE name = $1 AND id <> $2",
            kind.table()
        ))
        .bind(name)
        .bind(id)
        .fetch_one(pool)
        .await)?;
        if taken > 0 {
            return Ok(TaxonomyChange::NameTaken);
        }
        let changed = with_pool!(self, pool => {
            let query = match kind {
                Taxonomy::Sections => sqlx::query("UPDATE sections SET name = $1, description = $2, position = $3 WHERE id = $4")
                    .bind(name)
                    .bind(description)
                    .bind(position),
                Taxonomy::Tags => sqlx::query("UPDATE tags SET name = $1 WHERE id = $2").bind(name),
                Taxonomy::Authors => sqlx::query("UPDATE authors SET name = $1, bio = $2 WHERE id = $3").bind(name).bind(description),
            };
            query.bind(id).execute(pool).await.map(|done| done.rows_affected())
        })?;
        Ok(if changed > 0 { TaxonomyChange::Done } else { TaxonomyChange::NotFound })
    }

    /// Removes a tag (from every article) or an empty section.
    pub async fn delete_taxonomy(&self, kind: Taxonomy, id: i64) -> Result<TaxonomyChange, StoreError> {
        if kind == Taxonomy::Sections {
            let used: i64 = with_pool!(self, pool => sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM articles WHERE section_id = $1",
            )
            .bind(id)
            .fetch_one(pool)
            .await)?;
            if used > 0 {
                return Ok(TaxonomyChange::InUse);
            }
        }
        let deleted = with_pool!(self, pool => sqlx::query(&format!("DELETE FROM {} WHERE id = $1", kind.table()))
            .bind(id)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(if deleted > 0 { TaxonomyChange::Done } else { TaxonomyChange::NotFound })
    }
}
