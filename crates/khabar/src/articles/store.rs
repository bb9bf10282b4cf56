//! Article queries. Visible means published with a publication time that has
//! come; a future `published_at` is how an article is scheduled.

use sqlx::FromRow;

use crate::store::reads::{placeholders, sqlite_row};
use crate::store::{with_pool, Arg, Store, StoreError};

/// The columns every article list needs; a macro so queries stay `&'static str`.
macro_rules! card_columns {
    () => {
        "a.id, a.slug, a.title, a.summary, s.name AS section_name, s.slug AS section_slug, \
         a.breaking, a.featured_image, a.featured_caption, \
         COALESCE(a.published_at, a.created_at) AS published_at, a.word_count"
    };
}

macro_rules! visible {
    ($now:literal) => {
        concat!("a.status = 'published' AND a.published_at <= ", $now)
    };
}

#[derive(Debug, Clone, FromRow)]
pub struct ArticleCard {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub section_name: String,
    pub section_slug: String,
    pub breaking: bool,
    pub featured_image: Option<String>,
    pub featured_caption: String,
    pub published_at: i64,
    pub word_count: i64,
}

sqlite_row!(ArticleCard {
    id,
    slug,
    title,
    summary,
    section_name,
    section_slug,
    breaking,
    featured_image,
    featured_caption,
    published_at,
    word_count,
});

#[derive(Debug, Clone, FromRow)]
pub struct ArticleRow {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub body_markdown: String,
    pub body_html: String,
    pub word_count: i64,
    pub status: String,
    pub section_id: i64,
    pub section_name: String,
    pub section_slug: String,
    pub breaking: bool,
    pub featured_image: Option<String>,
    pub featured_caption: String,
    pub featured_credit: String,
    pub seo_description: String,
    pub social_image: Option<String>,
    pub published_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub created_by: Option<i64>,
    pub review_requested_at: Option<i64>,
    pub revision: i64,
    pub comments_closed: bool,
}

sqlite_row!(ArticleRow {
    id,
    slug,
    title,
    summary,
    body_markdown,
    body_html,
    word_count,
    status,
    section_id,
    section_name,
    section_slug,
    breaking,
    featured_image,
    featured_caption,
    featured_credit,
    seo_description,
    social_image,
    published_at,
    created_at,
    updated_at,
    created_by,
    review_requested_at,
    revision,
    comments_closed,
});

impl ArticleRow {
    pub fn is_visible(&self, now: i64) -> bool {
        self.status == "published" && self.published_at.is_some_and(|at| at <= now)
    }
}

/// A list's articles: visible, of a section, tag or author when given ($1 now, $2-$4 slugs).
const LIST_WHERE: &str = concat!(
    " FROM articles a JOIN sections s ON s.id = a.section_id WHERE ",
    visible!("$1"),
    " AND ($2 IS NULL OR s.slug = $2)",
    " AND ($3 IS NULL OR EXISTS (SELECT 1 FROM article_tags l JOIN tags t ON t.id = l.tag_id \
       WHERE l.article_id = a.id AND t.slug = $3))",
    " AND ($4 IS NULL OR EXISTS (SELECT 1 FROM article_authors l JOIN authors t ON t.id = l.author_id \
       WHERE l.article_id = a.id AND t.slug = $4))"
);

/// The most-read list: `$1` now, `$2` first day, `$3` limit, `$4` today.
/// The day's totals come through `article_reads_by_day`; both bounds on the
/// day matter: with only the first, SQLite (without statistics) expects most
/// of the table to match and groups along the primary key, reading every row
/// ever recorded. The totals drive the join (CROSS JOIN fixes SQLite's
/// order), so there is no walk over every visible article either.
const MOST_READ_SQL: &str = concat!(
    "SELECT ",
    card_columns!(),
    ", r.total_reads FROM (SELECT article_id, CAST(SUM(reads) AS BIGINT) AS total_reads FROM article_reads \
       WHERE day >= $2 AND day <= $4 GROUP BY article_id) r \
     CROSS JOIN articles a JOIN sections s ON s.id = a.section_id WHERE a.id = r.article_id AND ",
    visible!("$1"),
    " ORDER BY r.total_reads DESC, a.published_at DESC LIMIT $3"
);

/// An `ArticleRow`'s columns, with what stands for its Markdown.
macro_rules! article_row_select {
    ($markdown:literal) => {
        concat!(
            "SELECT a.id, a.slug, a.title, a.summary, ",
            $markdown,
            " AS body_markdown, a.body_html, \
             a.word_count, a.status, a.section_id, s.name AS section_name, s.slug AS section_slug, a.breaking, \
             a.featured_image, a.featured_caption, a.featured_credit, a.seo_description, a.social_image, \
             a.published_at, a.created_at, a.updated_at, a.created_by, a.review_requested_at, a.revision, \
             a.comments_closed FROM articles a JOIN sections s ON s.id = a.section_id"
        )
    };
}

const ARTICLE_ROW_SELECT: &str = article_row_select!("a.body_markdown");

/// What a sitemap lists of an article.
#[derive(Debug, Clone, FromRow)]
pub struct SitemapEntry {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub published_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct NamedRef {
    pub id: i64,
    pub name: String,
    pub slug: String,
}

#[derive(Debug, Clone, FromRow)]
pub struct AttachedName {
    pub article_id: i64,
    pub name: String,
    pub slug: String,
}

sqlite_row!(AttachedName { article_id, name, slug });

/// Which published articles a list shows; slugs as stored.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub section: Option<String>,
    pub tag: Option<String>,
    pub author: Option<String>,
}

/// A section's list, through (section_id, status, published_at).
const SECTION_LIST_WHERE: &str = concat!(
    " FROM articles a JOIN sections s ON s.id = a.section_id \
     WHERE a.section_id = (SELECT id FROM sections WHERE slug = $2) AND $3 IS NULL AND $4 IS NULL AND ",
    visible!("$1")
);

/// A tag's list, from the tag's links (CROSS JOIN keeps SQLite from walking
/// the whole site by date instead; PostgreSQL plans it as an inner join).
const TAG_LIST_WHERE: &str = concat!(
    " FROM article_tags l CROSS JOIN articles a JOIN sections s ON s.id = a.section_id \
     WHERE a.id = l.article_id AND l.tag_id = (SELECT id FROM tags WHERE slug = $3) \
     AND $2 IS NULL AND $4 IS NULL AND ",
    visible!("$1")
);

/// An author's list, from the author's links.
const AUTHOR_LIST_WHERE: &str = concat!(
    " FROM article_authors l CROSS JOIN articles a JOIN sections s ON s.id = a.section_id \
     WHERE a.id = l.article_id AND l.author_id = (SELECT id FROM authors WHERE slug = $4) \
     AND $2 IS NULL AND $3 IS NULL AND ",
    visible!("$1")
);

impl ListFilter {
    /// The list's FROM and WHERE, `$1` to `$4` as `args` gives them. The
    /// general form's `$N IS NULL OR …` tests hide from the planner which
    /// list it is, so it walked the whole site by date until a page of a
    /// section's, tag's or author's articles turned up, and its count
    /// walked the whole site every time: each single-subject list gets a
    /// form that starts from its subject.
    fn tables_and_conditions(&self) -> &'static str {
        match (&self.section, &self.tag, &self.author) {
            (Some(_), None, None) => SECTION_LIST_WHERE,
            (None, Some(_), None) => TAG_LIST_WHERE,
            (None, None, Some(_)) => AUTHOR_LIST_WHERE,
            _ => LIST_WHERE,
        }
    }

    /// The list's parameters, `$1` to `$4`, whichever form it takes.
    fn args(&self, now: i64) -> Vec<Arg<'_>> {
        vec![
            Arg::Int(now),
            Arg::OptionalText(self.section.as_deref()),
            Arg::OptionalText(self.tag.as_deref()),
            Arg::OptionalText(self.author.as_deref()),
        ]
    }
}

/// What a write stores; names are resolved (and created) inside the transaction.
#[derive(Debug, Clone)]
pub struct ArticleWrite {
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub body_markdown: String,
    pub body_html: String,
    pub word_count: i64,
    pub status: String,
    pub section: NewName,
    pub tags: Vec<NewName>,
    pub authors: Vec<NewName>,
    pub breaking: bool,
    pub featured_image: Option<String>,
    pub featured_caption: String,
    pub featured_credit: String,
    pub seo_description: String,
    pub social_image: Option<String>,
    pub published_at: Option<i64>,
    /// Drafts waiting for an editor.
    pub review_requested: bool,
    pub saved_by: Saver,
}

/// Who saved a version: a staff member, or a script through an API token.
#[derive(Debug, Clone)]
pub struct Saver {
    pub staff_id: Option<i64>,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateOutcome {
    Updated {
        revision: i64,
    },
    NotFound,
    /// Someone saved since the writer loaded the article: nothing was written.
    Conflict {
        current_revision: i64,
    },
}

#[derive(Debug, Clone, FromRow)]
pub struct RevisionRow {
    pub revision: i64,
    pub staff_id: Option<i64>,
    pub saved_by: String,
    pub title: String,
    pub summary: String,
    pub body_markdown: String,
    pub section_name: String,
    pub tag_names: String,
    pub status: String,
    pub published_at: Option<i64>,
    pub saved_at: i64,
}

/// Separates tag names in a revision row; no tag name contains it.
pub const TAG_SEPARATOR: &str = "\n";

/// A section, tag or author named by a writer: matched by slug so spelling
/// variants that fold alike ("الأسد", "الاسد") land on the same row.
#[derive(Debug, Clone)]
pub struct NewName {
    pub name: String,
    pub slug: String,
}

/// Inserts the name unless its slug exists, then returns the row's id.
macro_rules! resolve_name {
    ($tx:expr, $table:literal, $name:expr, $now:expr) => {{
        sqlx::query(concat!(
            "INSERT INTO ",
            $table,
            " (name, slug, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"
        ))
        .bind(&$name.name)
        .bind(&$name.slug)
        .bind($now)
        .execute(&mut *$tx)
        .await?;
        sqlx::query_scalar::<_, i64>(concat!("SELECT id FROM ", $table, " WHERE slug = $1 OR name = $2"))
            .bind(&$name.slug)
            .bind(&$name.name)
            .fetch_one(&mut *$tx)
            .await?
    }};
}

/// Writes the article's tag and author links, replacing any earlier ones.
macro_rules! write_links {
    ($tx:expr, $article_id:expr, $write:expr, $now:expr) => {{
        sqlx::query("DELETE FROM article_tags WHERE article_id = $1").bind($article_id).execute(&mut *$tx).await?;
        sqlx::query("DELETE FROM article_authors WHERE article_id = $1").bind($article_id).execute(&mut *$tx).await?;
        for (position, tag) in $write.tags.iter().enumerate() {
            let tag_id = resolve_name!($tx, "tags", tag, $now);
            sqlx::query(
                "INSERT INTO article_tags (article_id, tag_id, position) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            )
            .bind($article_id)
            .bind(tag_id)
            .bind(i64::try_from(position).unwrap_or(i64::MAX))
            .execute(&mut *$tx)
            .await?;
        }
        for (position, author) in $write.authors.iter().enumerate() {
            let author_id = resolve_name!($tx, "authors", author, $now);
            sqlx::query(
                "INSERT INTO article_authors (article_id, author_id, position) VALUES ($1, $2, $3) \
                 ON CONFLICT DO NOTHING",
            )
            .bind($article_id)
            .bind(author_id)
            .bind(i64::try_from(position).unwrap_or(i64::MAX))
            .execute(&mut *$tx)
            .await?;
        }
    }};
}

/// Keeps the version just written as revision `$revision`.
macro_rules! write_revision {
    ($tx:expr, $article_id:expr, $revision:expr, $write:expr, $now:expr) => {{
        let tag_names: Vec<&str> = $write.tags.iter().map(|tag| tag.name.as_str()).collect();
        sqlx::query(
            "INSERT INTO article_revisions (article_id, revision, staff_id, saved_by, title, summary, body_markdown, \
             section_name, tag_names, status, published_at, saved_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind($article_id)
        .bind($revision)
        .bind($write.saved_by.staff_id)
        .bind(&$write.saved_by.name)
        .bind(&$write.title)
        .bind(&$write.summary)
        .bind(&$write.body_markdown)
        .bind(&$write.section.name)
        .bind(tag_names.join(TAG_SEPARATOR))
        .bind(&$write.status)
        .bind($write.published_at)
        .bind($now)
        .execute(&mut *$tx)
        .await?;
    }};
}

impl Store {
    pub async fn create_article(&self, write: &ArticleWrite, now: i64) -> Result<i64, StoreError> {
        let id = with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let section_id = resolve_name!(tx, "sections", write.section, now);
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO articles (slug, title, summary, body_markdown, body_html, word_count, status, \
                 section_id, breaking, featured_image, featured_caption, featured_credit, published_at, \
                 created_at, updated_at, created_by, review_requested_at, revision, seo_description, social_image) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14, $15, $16, 1, $17, $18) \
                 RETURNING id",
            )
            .bind(&write.slug)
            .bind(&write.title)
            .bind(&write.summary)
            .bind(&write.body_markdown)
            .bind(&write.body_html)
            .bind(write.word_count)
            .bind(&write.status)
            .bind(section_id)
            .bind(write.breaking)
            .bind(&write.featured_image)
            .bind(&write.featured_caption)
            .bind(&write.featured_credit)
            .bind(write.published_at)
            .bind(now)
            .bind(write.saved_by.staff_id)
            .bind(write.review_requested.then_some(now))
            .bind(&write.seo_description)
            .bind(&write.social_image)
            .fetch_one(&mut *tx)
            .await?;
            write_links!(tx, id, write, now);
            write_revision!(tx, id, 1_i64, write, now);
            tx.commit().await?;
            Ok::<i64, sqlx::Error>(id)
        })?;
        Ok(id)
    }

    /// Replaces an article's content as a new revision. With `expected_revision`,
    /// writes only if nobody saved since that revision (optimistic locking).
    pub async fn update_article(
        &self,
        id: i64,
        write: &ArticleWrite,
        now: i64,
        expected_revision: Option<i64>,
    ) -> Result<UpdateOutcome, StoreError> {
        let outcome = with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let current: Option<i64> = sqlx::query_scalar("SELECT revision FROM articles WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            let Some(current) = current else {
                tx.rollback().await?;
                return Ok(UpdateOutcome::NotFound);
            };
            if expected_revision.is_some_and(|expected| expected != current) {
                tx.rollback().await?;
                return Ok(UpdateOutcome::Conflict { current_revision: current });
            }
            let section_id = resolve_name!(tx, "sections", write.section, now);
            let revision = current + 1;
            // The revision in the WHERE clause makes a concurrent save lose cleanly.
            let updated = sqlx::query(
                "UPDATE articles SET slug = $1, title = $2, summary = $3, body_markdown = $4, body_html = $5, \
                 word_count = $6, status = $7, section_id = $8, breaking = $9, featured_image = $10, \
                 featured_caption = $11, featured_credit = $12, published_at = $13, updated_at = $14, \
                 review_requested_at = $15, revision = $16, seo_description = $19, social_image = $20 \
                 WHERE id = $17 AND revision = $18",
            )
            .bind(&write.slug)
            .bind(&write.title)
            .bind(&write.summary)
            .bind(&write.body_markdown)
            .bind(&write.body_html)
            .bind(write.word_count)
            .bind(&write.status)
            .bind(section_id)
            .bind(write.breaking)
            .bind(&write.featured_image)
            .bind(&write.featured_caption)
            .bind(&write.featured_credit)
            .bind(write.published_at)
            .bind(now)
            .bind(write.review_requested.then_some(now))
            .bind(revision)
            .bind(id)
            .bind(current)
            .bind(&write.seo_description)
            .bind(&write.social_image)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if updated == 0 {
                tx.rollback().await?;
                return Ok(UpdateOutcome::Conflict { current_revision: current });
            }
            write_links!(tx, id, write, now);
            write_revision!(tx, id, revision, write, now);
            tx.commit().await?;
            Ok::<UpdateOutcome, sqlx::Error>(UpdateOutcome::Updated { revision })
        })?;
        Ok(outcome)
    }

    pub async fn revisions(&self, article_id: i64) -> Result<Vec<RevisionRow>, StoreError> {
        let rows = with_pool!(self, pool => sqlx::query_as::<_, RevisionRow>(
            "SELECT revision, staff_id, saved_by, title, summary, body_markdown, section_name, tag_names, status, \
             published_at, saved_at FROM article_revisions WHERE article_id = $1 ORDER BY revision DESC",
        )
        .bind(article_id)
        .fetch_all(pool)
        .await)?;
        Ok(rows)
    }

    pub async fn delete_article(&self, id: i64) -> Result<bool, StoreError> {
        let deleted = with_pool!(self, pool => sqlx::query("DELETE FROM articles WHERE id = $1")
            .bind(id)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(deleted > 0)
    }

    pub async fn article_by_id(&self, id: i64) -> Result<Option<ArticleRow>, StoreError> {
        let sql = format!("{ARTICLE_ROW_SELECT} WHERE a.id = $1");
        self.read_optional(&sql, &[Arg::Int(id)]).await
    }

    /// The article as its public page shows it: `body_markdown` is left
    /// empty. The page shows the HTML, and on SQLite the Markdown is the
    /// row's last column, so not reading it skips its overflow pages.
    pub async fn article_for_page(&self, id: i64) -> Result<Option<ArticleRow>, StoreError> {
        const SQL: &str = concat!(article_row_select!("''"), " WHERE a.id = $1");
        self.read_optional(SQL, &[Arg::Int(id)]).await
    }

    pub async fn tags_of(&self, article_ids: &[i64]) -> Result<Vec<AttachedName>, StoreError> {
        self.attached_names(
            "SELECT l.article_id, t.name, t.slug FROM article_tags l JOIN tags t ON t.id = l.tag_id \
             WHERE l.article_id IN (",
            ") ORDER BY l.position, t.name",
            article_ids,
        )
        .await
    }

    pub async fn authors_of(&self, article_ids: &[i64]) -> Result<Vec<AttachedName>, StoreError> {
        self.attached_names(
            "SELECT l.article_id, t.name, t.slug FROM article_authors l JOIN authors t ON t.id = l.author_id \
             WHERE l.article_id IN (",
            ") ORDER BY l.position",
            article_ids,
        )
        .await
    }

    async fn attached_names(
        &self,
        head: &'static str,
        tail: &'static str,
        article_ids: &[i64],
    ) -> Result<Vec<AttachedName>, StoreError> {
        if article_ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!("{head}{}{tail}", placeholders(1, article_ids.len()));
        let ids: Vec<Arg> = article_ids.iter().map(|id| Arg::Int(*id)).collect();
        self.read_all(&sql, &ids).await
    }

    /// The newest visible articles of a list, without counting them all (feeds).
    pub async fn latest_cards(
        &self,
        filter: &ListFilter,
        now: i64,
        limit: i64,
    ) -> Result<Vec<ArticleCard>, StoreError> {
        let sql = format!(
            "SELECT {}{} ORDER BY a.published_at DESC, a.id DESC LIMIT $5",
            card_columns!(),
            filter.tables_and_conditions()
        );
        let mut args = filter.args(now);
        args.push(Arg::Int(limit));
        self.read_all(&sql, &args).await
    }

    /// One page of visible articles, newest first, and how many there are in all.
    pub async fn list_articles(
        &self,
        filter: &ListFilter,
        now: i64,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<ArticleCard>, i64), StoreError> {
        let tables_and_conditions = filter.tables_and_conditions();
        let list_sql = format!(
            "SELECT {}{tables_and_conditions} ORDER BY a.published_at DESC, a.id DESC LIMIT $5 OFFSET $6",
            card_columns!()
        );
        let count_sql = format!("SELECT COUNT(*){tables_and_conditions}");
        let mut args = filter.args(now);
        let total = self.count(&count_sql, &args).await?;
        args.extend([Arg::Int(limit), Arg::Int(offset)]);
        let cards = self.read_all(&list_sql, &args).await?;
        Ok((cards, total))
    }

    /// Articles most read since `since_day` (days since the epoch).
    pub async fn most_read(&self, now: i64, since_day: i64, limit: i64) -> Result<Vec<(ArticleCard, i64)>, StoreError> {
        #[derive(FromRow)]
        struct Ranked {
            #[sqlx(flatten)]
            card: ArticleCard,
            total_reads: i64,
        }
        let rows = with_pool!(self, pool => sqlx::query_as::<_, Ranked>(MOST_READ_SQL)
            .bind(now)
            .bind(since_day)
            .bind(limit)
            .bind(crate::articles::readership::day_number(now))
            .fetch_all(pool)
            .await)?;
        Ok(rows.into_iter().map(|row| (row.card, row.total_reads)).collect())
    }

    /// Articles related to one: shared tags weigh most, then the same section,
    /// then closeness in time to the article itself.
    pub async fn related_articles(
        &self,
        article_id: i64,
        section_id: i64,
        reference_time: i64,
        now: i64,
        limit: i64,
    ) -> Result<Vec<ArticleCard>, StoreError> {
        // Scoring every visible article made each render O(site): 90 ms a
        // page at 7,000 articles. Only three kinds of article can make the
        // list, so only they are scored: those sharing a tag (3 points or
        // more), the section's nearest in time (2 to 3) and the site's
        // nearest in time (under 1) — `limit` on each side of the reference
        // time, through the (section, status, published_at) and (status,
        // published_at) indexes. Anything else scores below some candidate.
        // `IN` makes a set of the candidates already: UNION ALL spares the
        // four temporary tables UNION built to drop duplicates.
        const SQL: &str = concat!(
            "WITH candidates AS (\
               SELECT theirs.article_id AS id FROM article_tags mine \
                 JOIN article_tags theirs ON theirs.tag_id = mine.tag_id WHERE mine.article_id = $1 \
               UNION ALL SELECT id FROM (SELECT a.id FROM articles a WHERE a.id <> $1 AND a.section_id = $2 AND ",
            visible!("$4"),
            " AND a.published_at <= $3 ORDER BY a.published_at DESC LIMIT $5) section_before \
               UNION ALL SELECT id FROM (SELECT a.id FROM articles a WHERE a.id <> $1 AND a.section_id = $2 AND ",
            visible!("$4"),
            " AND a.published_at > $3 ORDER BY a.published_at ASC LIMIT $5) section_after \
               UNION ALL SELECT id FROM (SELECT a.id FROM articles a WHERE a.id <> $1 AND ",
            visible!("$4"),
            " AND a.published_at <= $3 ORDER BY a.published_at DESC LIMIT $5) site_before \
               UNION ALL SELECT id FROM (SELECT a.id FROM articles a WHERE a.id <> $1 AND ",
            visible!("$4"),
            " AND a.published_at > $3 ORDER BY a.published_at ASC LIMIT $5) site_after) \
             SELECT * FROM (SELECT ",
            card_columns!(),
            ", 3.0 * (SELECT COUNT(*) FROM article_tags mine JOIN article_tags theirs ON theirs.tag_id = mine.tag_id \
                    WHERE mine.article_id = $1 AND theirs.article_id = a.id) \
               + CASE WHEN a.section_id = $2 THEN 2.0 ELSE 0.0 END \
               + 1.0 / (1.0 + ABS(a.published_at - $3) / 604800.0) AS relevance \
             FROM articles a JOIN sections s ON s.id = a.section_id \
             WHERE a.id IN (SELECT id FROM candidates) AND a.id <> $1 AND ",
            visible!("$4"),
            ") ranked ORDER BY relevance DESC, published_at DESC, id DESC LIMIT $5"
        );
        self.read_all(
            SQL,
            &[Arg::Int(article_id), Arg::Int(section_id), Arg::Int(reference_time), Arg::Int(now), Arg::Int(limit)],
        )
        .await
    }

    /// Adds counted reads; reads of articles deleted meanwhile are dropped.
    pub async fn add_reads(&self, reads: &[(i64, i64, i64)]) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            for (article_id, day, count) in reads {
                sqlx::query(
                    "INSERT INTO article_reads (article_id, day, reads) \
                     SELECT $1, $2, $3 WHERE EXISTS (SELECT 1 FROM articles WHERE id = $1) \
                     ON CONFLICT (article_id, day) DO UPDATE SET reads = article_reads.reads + excluded.reads",
                )
                .bind(article_id)
                .bind(day)
                .bind(count)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await
        })?;
        Ok(())
    }

    /// Visible articles published in (after, until], newest first: what a digest covers.
    pub async fn published_in(&self, after: i64, until: i64, limit: i64) -> Result<Vec<ArticleCard>, StoreError> {
        const SQL: &str = concat!(
            "SELECT ",
            card_columns!(),
            " FROM articles a JOIN sections s ON s.id = a.section_id WHERE ",
            visible!("$2"),
            " AND a.published_at > $1 ORDER BY a.published_at DESC, a.id DESC LIMIT $3"
        );
        let cards = with_pool!(self, pool => sqlx::query_as::<_, ArticleCard>(SQL)
            .bind(after)
            .bind(until)
            .bind(limit)
            .fetch_all(pool)
            .await)?;
        Ok(cards)
    }

    /// One visible article as a card.
    pub async fn visible_card(&self, id: i64, now: i64) -> Result<Option<ArticleCard>, StoreError> {
        const SQL: &str = concat!(
            "SELECT ",
            card_columns!(),
            " FROM articles a JOIN sections s ON s.id = a.section_id WHERE ",
            visible!("$2"),
            " AND a.id = $1"
        );
        let card = with_pool!(self, pool => sqlx::query_as::<_, ArticleCard>(SQL)
            .bind(id)
            .bind(now)
            .fetch_optional(pool)
            .await)?;
        Ok(card)
    }

    /// Visible articles among `ids`, as cards, in no particular order (search hits).
    pub async fn visible_cards(&self, ids: &[i64], now: i64) -> Result<Vec<ArticleCard>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (2..ids.len() + 2).map(|index| format!("${index}")).collect();
        // The visibility test is written on expressions, not bare columns, so
        // SQLite looks the few ids up instead of walking every published
        // article through articles_by_publication (20 ms at 100k articles).
        let sql = format!(
            "SELECT {} FROM articles a JOIN sections s ON s.id = a.section_id WHERE a.id IN ({}) \
             AND (a.status || '') = 'published' AND a.published_at + 0 <= $1",
            card_columns!(),
            placeholders.join(", ")
        );
        let cards = with_pool!(self, pool => {
            let mut query = sqlx::query_as::<_, ArticleCard>(&sql).bind(now);
            for id in ids {
                query = query.bind(*id);
            }
            query.fetch_all(pool).await
        })?;
        Ok(cards)
    }

    /// Full rows for `ids`, visible or not (callers decide), in no particular order.
    pub async fn articles_by_ids(&self, ids: &[i64]) -> Result<Vec<ArticleRow>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (1..=ids.len()).map(|index| format!("${index}")).collect();
        let sql = format!("{ARTICLE_ROW_SELECT} WHERE a.id IN ({})", placeholders.join(", "));
        let rows = with_pool!(self, pool => {
            let mut query = sqlx::query_as::<_, ArticleRow>(&sql);
            for id in ids {
                query = query.bind(*id);
            }
            query.fetch_all(pool).await
        })?;
        Ok(rows)
    }

    /// When a visible article last changed: the list pages' `lastmod`.
    pub async fn sitemap_latest_change(&self, now: i64) -> Result<Option<i64>, StoreError> {
        // A scheduled article changes the lists when it goes live, after its last save.
        const SQL: &str = concat!(
            "SELECT MAX(CASE WHEN a.updated_at > a.published_at THEN a.updated_at ELSE a.published_at END) \
             FROM articles a WHERE ",
            visible!("$1")
        );
        let latest =
            with_pool!(self, pool => sqlx::query_scalar::<_, Option<i64>>(SQL).bind(now).fetch_one(pool).await)?;
        Ok(latest)
    }

    /// How many articles are visible at `now`.
    pub async fn visible_article_count(&self, now: i64) -> Result<i64, StoreError> {
        const SQL: &str = concat!("SELECT COUNT(*) FROM articles a WHERE ", visible!("$1"));
        let count = with_pool!(self, pool => sqlx::query_scalar::<_, i64>(SQL).bind(now).fetch_one(pool).await)?;
        Ok(count)
    }

    /// Visible articles in id order, for the paged sitemaps: a page keeps its
    /// URLs as new articles arrive (they land on the last page).
    pub async fn sitemap_entries(&self, now: i64, offset: i64, limit: i64) -> Result<Vec<SitemapEntry>, StoreError> {
        // Visibility is written on expressions so the planner walks
        // articles_for_sitemaps in id order instead of articles_by_publication.
        const SQL: &str = "SELECT a.id, a.slug, '' AS title, a.published_at, a.updated_at FROM articles a \
             WHERE (a.status || '') = 'published' AND a.published_at + 0 <= $1 ORDER BY a.id LIMIT $2 OFFSET $3";
        let rows = with_pool!(self, pool => sqlx::query_as::<_, SitemapEntry>(SQL)
            .bind(now)
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await)?;
        Ok(rows)
    }

    /// Visible articles published after `since`, newest first (the news sitemap).
    pub async fn recent_entries(&self, since: i64, now: i64, limit: i64) -> Result<Vec<SitemapEntry>, StoreError> {
        const SQL: &str = concat!(
            "SELECT a.id, a.slug, a.title, COALESCE(a.published_at, a.created_at) AS published_at, a.updated_at \
             FROM articles a WHERE ",
            visible!("$2"),
            " AND a.published_at > $1 ORDER BY a.published_at DESC, a.id DESC LIMIT $3"
        );
        let rows = with_pool!(self, pool => sqlx::query_as::<_, SitemapEntry>(SQL)
            .bind(since)
            .bind(now)
            .bind(limit)
            .fetch_all(pool)
            .await)?;
        Ok(rows)
    }

    /// Articles that became visible in (after, until], oldest first: scheduled publication.
    pub async fn went_live_between(&self, after: i64, until: i64) -> Result<Vec<i64>, StoreError> {
        let ids = with_pool!(self, pool => sqlx::query_scalar::<_, i64>(
            "SELECT id FROM articles WHERE status = 'published' AND published_at > $1 AND published_at <= $2 \
             ORDER BY published_at, id",
        )
        .bind(after)
        .bind(until)
        .fetch_all(pool)
        .await)?;
        Ok(ids)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::ListFilter;
    use crate::store::reads::{sqlite_query_plan, Arg};

    /// The most-read totals read only the days they sum, and drive the join.
    #[tokio::test]
    async fn most_read_reads_only_its_days() {
        let days = [Arg::Int(0), Arg::Int(20_000), Arg::Int(5), Arg::Int(20_007)];
        let steps = sqlite_query_plan(super::MOST_READ_SQL, &days).await;
        assert!(steps.iter().any(|step| step.contains("article_reads_by_day (day>? AND day<?)")), "{steps:?}");
        assert!(
            !steps.iter().any(|step| step.contains("SCAN a") || step.contains("articles_by_publication")),
            "{steps:?}"
        );
    }

    /// A section's, tag's or author's list starts from its subject: it never
    /// walks the whole site's articles by date.
    #[tokio::test]
    async fn single_subject_lists_start_from_their_subject() {
        let slug = Some("x".to_owned());
        let filters = [
            (ListFilter { section: slug.clone(), ..Default::default() }, "articles_by_section"),
            (ListFilter { tag: slug.clone(), ..Default::default() }, "article_tags_by_tag"),
            (ListFilter { author: slug, ..Default::default() }, "article_authors_by_author"),
        ];
        for (filter, index) in filters {
            for select in ["SELECT a.id", "SELECT COUNT(*)"] {
                let sql = format!("{select}{} ORDER BY 1", filter.tables_and_conditions());
                let plan = sqlite_query_plan(&sql, &filter.args(0)).await;
                assert!(plan.iter().any(|step| step.contains(index)), "{filter:?}: {plan:?}");
                assert!(!plan.iter().any(|step| step.contains("articles_by_publication")), "{filter:?}: {plan:?}");
            }
        }
    }
}
