//! Comments in the database, on both backends.

use serde::Serialize;

use crate::store::reads::{placeholders, sqlite_row};
use crate::store::{with_pool, Arg, Store, StoreError};

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct CommentRow {
    pub id: i64,
    pub article_id: i64,
    pub parent_id: Option<i64>,
    pub name: String,
    #[serde(skip)]
    pub email_hash: String,
    #[serde(skip)]
    pub address_hash: String,
    #[serde(skip)]
    pub body_markdown: String,
    pub body_html: String,
    pub status: String,
    pub held_for: String,
    pub reports: i64,
    pub editor_note: String,
    pub created_at: i64,
    pub updated_at: i64,
}

sqlite_row!(CommentRow {
    id,
    article_id,
    parent_id,
    name,
    email_hash,
    address_hash,
    body_markdown,
    body_html,
    status,
    held_for,
    reports,
    editor_note,
    created_at,
    updated_at,
});

const COLUMNS: &str = "id, article_id, parent_id, name, email_hash, address_hash, body_markdown, body_html, status, \
                       held_for, reports, editor_note, created_at, updated_at";

// Every comment query names the article. Without it SQLite, which has no
// statistics to tell it that nearly every comment is approved, chose the
// (status, created_at) index and walked every approved comment of the whole
// site on each article render. A reply is always on its parent's article.

/// A page of top-level comments and their replies: `$1` article, `$2` limit, `$3` offset.
fn comments_page_sql() -> String {
    format!(
        "WITH page AS (SELECT id FROM comments WHERE article_id = $1 AND status = 'approved' \
         AND parent_id IS NULL ORDER BY created_at, id LIMIT $2 OFFSET $3) \
         SELECT {COLUMNS} FROM comments WHERE article_id = $1 AND status = 'approved' \
         AND (id IN (SELECT id FROM page) OR parent_id IN (SELECT id FROM page)) ORDER BY created_at, id"
    )
}

/// A comment's approved replies: `$1` article, `$2` the comment.
fn replies_sql() -> String {
    format!(
        "SELECT {COLUMNS} FROM comments WHERE article_id = $1 AND parent_id = $2 AND status = 'approved' \
         ORDER BY created_at, id"
    )
}

pub struct NewComment<'a> {
    pub article_id: i64,
    pub parent_id: Option<i64>,
    pub name: &'a str,
    pub email_hash: &'a str,
    pub notify_email: &'a str,
    pub address_hash: &'a str,
    pub body_markdown: &'a str,
    pub body_html: &'a str,
    pub status: &'a str,
    pub held_for: &'a str,
    pub edit_key_hash: &'a str,
}

/// What the article needs to take comments: whether it can be seen, and
/// whether an editor closed its comments.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ArticleForComments {
    pub id: i64,
    pub status: String,
    pub published_at: Option<i64>,
    pub comments_closed: bool,
}

sqlite_row!(ArticleForComments { id, status, published_at, comments_closed });

impl From<&crate::articles::store::ArticleRow> for ArticleForComments {
    fn from(row: &crate::articles::store::ArticleRow) -> Self {
        ArticleForComments {
            id: row.id,
            status: row.status.clone(),
            published_at: row.published_at,
            comments_closed: row.comments_closed,
        }
    }
}

impl Store {
    pub async fn article_for_comments(&self, article_id: i64) -> Result<Option<ArticleForComments>, StoreError> {
        self.read_optional(
            "SELECT id, status, published_at, comments_closed FROM articles WHERE id = $1",
            &[Arg::Int(article_id)],
        )
        .await
    }

    pub async fn set_comments_closed(&self, article_id: i64, closed: bool) -> Result<bool, StoreError> {
        let changed = with_pool!(self, pool => sqlx::query("UPDATE articles SET comments_closed = $2 WHERE id = $1")
            .bind(article_id)
            .bind(closed)
            .execute(pool)
            .await
            .map(|result| result.rows_affected()))?;
        Ok(changed > 0)
    }

    pub async fn insert_comment(&self, comment: &NewComment<'_>, now: i64) -> Result<i64, StoreError> {
        let id = with_pool!(self, pool => sqlx::query_scalar::<_, i64>(
            "INSERT INTO comments (article_id, parent_id, name, email_hash, notify_email, address_hash, \
             body_markdown, body_html, status, held_for, edit_key_hash, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING id",
        )
        .bind(comment.article_id)
        .bind(comment.parent_id)
        .bind(comment.name)
        .bind(comment.email_hash)
        .bind(comment.notify_email)
        .bind(comment.address_hash)
        .bind(comment.body_markdown)
        .bind(comment.body_html)
        .bind(comment.status)
        .bind(comment.held_for)
        .bind(comment.edit_key_hash)
        .bind(now)
        .fetch_one(pool)
        .await)?;
        Ok(id)
    }

    pub async fn comment(&self, id: i64) -> Result<Option<CommentRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM comments WHERE id = $1");
        let row = with_pool!(self, pool => sqlx::query_as::<_, CommentRow>(&sql).bind(id).fetch_optional(pool).await)?;
        Ok(row)
    }

    /// An article's approved comments, oldest first (replies among them).
    pub async fn approved_comments(&self, article_id: i64) -> Result<Vec<CommentRow>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM comments WHERE article_id = $1 AND status = 'approved' ORDER BY created_at, id"
        );
        let rows =
            with_pool!(self, pool => sqlx::query_as::<_, CommentRow>(&sql).bind(article_id).fetch_all(pool).await)?;
        Ok(rows)
    }

    /// Approved comments per article, for lists of articles.
    pub async fn approved_comment_counts(
        &self,
        article_ids: &[i64],
    ) -> Result<std::collections::HashMap<i64, i64>, StoreError> {
        if article_ids.is_empty() {
            return Ok(std::collections::HashMap::new());
        }
        let sql = format!(
            "SELECT article_id, COUNT(*) FROM comments WHERE status = 'approved' AND article_id IN ({}) \
             GROUP BY article_id",
            placeholders(1, article_ids.len())
        );
        let ids: Vec<Arg> = article_ids.iter().map(|id| Arg::Int(*id)).collect();
        let rows: Vec<(i64, i64)> = self.read_all(&sql, &ids).await?;
        Ok(rows.into_iter().collect())
    }

    /// The moderation queue (or any status), newest first.
    pub async fn comments_with_status(&self, status: &str, limit: i64) -> Result<Vec<CommentRow>, StoreError> {
        let sql =
            format!("SELECT {COLUMNS} FROM comments WHERE status = $1 ORDER BY created_at DESC, id DESC LIMIT $2");
        let rows = with_pool!(self, pool => sqlx::query_as::<_, CommentRow>(&sql)
            .bind(status)
            .bind(limit)
            .fetch_all(pool)
            .await)?;
        Ok(rows)
    }

    pub async fn comment_status_counts(&self) -> Result<std::collections::HashMap<String, i64>, StoreError> {
        let rows: Vec<(String, i64)> = with_pool!(self, pool => sqlx::query_as(
            "SELECT status, COUNT(*) FROM comments GROUP BY status",
        )
        .fetch_all(pool)
        .await)?;
        Ok(rows.into_iter().collect())
    }

    /// Moves a comment to a status; the article it is under, when it existed.
    pub async fn set_comment_status(&self, id: i64, status: &str, now: i64) -> Result<Option<i64>, StoreError> {
        let article = with_pool!(self, pool => sqlx::query_scalar::<_, i64>(
            "UPDATE comments SET status = $2, updated_at = $3, \
             held_for = CASE WHEN $2 = 'approved' THEN '' ELSE held_for END, \
             reports = CASE WHEN $2 = 'approved' THEN 0 ELSE reports END \
             WHERE id = $1 RETURNING article_id",
        )
        .bind(id)
        .bind(status)
        .bind(now)
        .fetch_optional(pool)
        .await)?;
        Ok(article)
    }

    /// Deletes a comment and its replies; the article it was under.
    pub async fn delete_comment(&self, id: i64) -> Result<Option<i64>, StoreError> {
        let article = with_pool!(self, pool => sqlx::query_scalar::<_, i64>(
            "DELETE FROM comments WHERE id = $1 RETURNING article_id",
        )
        .bind(id)
        .fetch_optional(pool)
        .await)?;
        Ok(article)
    }

    /// Whether this reader (by email hash) had a comment approved before.
    pub async fn is_trusted_commenter(&self, email_hash: &str) -> Result<bool, StoreError> {
        let found: Option<i64> = with_pool!(self, pool => sqlx::query_scalar(
            "SELECT id FROM comments WHERE email_hash = $1 AND status = 'approved' LIMIT 1",
        )
        .bind(email_hash)
        .fetch_optional(pool)
        .await)?;
        Ok(found.is_some())
    }

    pub async fn is_banned_commenter(&self, email_hash: &str, address_hash: &str) -> Result<bool, StoreError> {
        let found: Option<String> = with_pool!(self, pool => sqlx::query_scalar(
            "SELECT kind FROM comment_bans WHERE (kind = 'email' AND value_hash = $1) \
             OR (kind = 'address' AND value_hash = $2) LIMIT 1",
        )
        .bind(email_hash)
        .bind(address_hash)
        .fetch_optional(pool)
        .await)?;
        Ok(found.is_some())
    }

    pub async fn ban_commenter(&self, kind: &str, value_hash: &str, by: &str, now: i64) -> Result<(), StoreError> {
        with_pool!(self, pool => sqlx::query(
            "INSERT INTO comment_bans (kind, value_hash, created_by, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (kind, value_hash) DO NOTHING",
        )
        .bind(kind)
        .bind(value_hash)
        .bind(by)
        .bind(now)
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// Comments since a time from one email hash or one address hash.
    pub async fn comments_since(
        &self,
        email_hash: &str,
        address_hash: &str,
        since: i64,
    ) -> Result<(i64, i64), StoreError> {
        let (by_email, by_address): (i64, i64) = with_pool!(self, pool => sqlx::query_as(
            "SELECT COALESCE(SUM(CASE WHEN email_hash = $1 THEN 1 ELSE 0 END), 0), \
                    COALESCE(SUM(CASE WHEN address_hash = $2 THEN 1 ELSE 0 END), 0) \
             FROM comments WHERE created_at > $3 AND (email_hash = $1 OR address_hash = $2)",
        )
        .bind(email_hash)
        .bind(address_hash)
        .bind(since)
        .fetch_one(pool)
        .await)?;
        Ok((by_email, by_address))
    }

    /// Whether this reader posted the very same text recently (a double
    /// submit, or a bot repeating itself).
    pub async fn same_comment_since(
        &self,
        email_hash: &str,
        body_markdown: &str,
        since: i64,
    ) -> Result<bool, StoreError> {
        let found: Option<i64> = with_pool!(self, pool => sqlx::query_scalar(
            "SELECT id FROM comments WHERE email_hash = $1 AND body_markdown = $2 AND created_at > $3 LIMIT 1",
        )
        .bind(email_hash)
        .bind(body_markdown)
        .bind(since)
        .fetch_optional(pool)
        .await)?;
        Ok(found.is_some())
    }

    /// One page of an article's approved thread: `limit` top-level comments
    /// from `offset` (oldest first), with all their replies.
    pub async fn approved_comments_page(
        &self,
        article_id: i64,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<CommentRow>, StoreError> {
        self.read_all(&comments_page_sql(), &[Arg::Int(article_id), Arg::Int(limit), Arg::Int(offset)]).await
    }

    /// The approved replies to a comment of an article, oldest first.
    pub async fn approved_replies(&self, article_id: i64, parent_id: i64) -> Result<Vec<CommentRow>, StoreError> {
        let rows = with_pool!(self, pool => sqlx::query_as::<_, CommentRow>(&replies_sql())
            .bind(article_id)
            .bind(parent_id)
            .fetch_all(pool)
            .await)?;
        Ok(rows)
    }

    /// An article's approved comments: all of them, and the top-level ones (pages count those).
    pub async fn approved_comment_totals(&self, article_id: i64) -> Result<(i64, i64), StoreError> {
        let totals: Option<(i64, i64)> = self
            .read_optional(
                "SELECT COUNT(*), COALESCE(SUM(CASE WHEN parent_id IS NULL THEN 1 ELSE 0 END), 0) \
                 FROM comments WHERE article_id = $1 AND status = 'approved'",
                &[Arg::Int(article_id)],
            )
            .await?;
        Ok(totals.unwrap_or((0, 0)))
    }

    /// The hash of the key that lets the writer's browser edit a comment.
    pub async fn comment_edit_key_hash(&self, id: i64) -> Result<Option<String>, StoreError> {
        let hash = with_pool!(self, pool => sqlx::query_scalar::<_, String>(
            "SELECT edit_key_hash FROM comments WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(pool)
        .await)?;
        Ok(hash)
    }

    /// New text for a comment (by its writer, or by an editor with a note).
    pub async fn update_comment_text(
        &self,
        id: i64,
        change: &CommentTextChange<'_>,
        now: i64,
    ) -> Result<bool, StoreError> {
        let changed = with_pool!(self, pool => sqlx::query(
            "UPDATE comments SET body_markdown = $2, body_html = $3, status = $4, held_for = $5, \
             editor_note = $6, updated_at = $7 WHERE id = $1",
        )
        .bind(id)
        .bind(change.body_markdown)
        .bind(change.body_html)
        .bind(change.status)
        .bind(change.held_for)
        .bind(change.editor_note)
        .bind(now)
        .execute(pool)
        .await
        .map(|result| result.rows_affected()))?;
        Ok(changed > 0)
    }

    /// Records one reader's report (a second from the same reader counts
    /// nothing). When an approved comment reaches `threshold` reports it goes
    /// back to the queue; true when that happened now.
    pub async fn report_comment(
        &self,
        id: i64,
        reporter_hash: &str,
        threshold: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        let inserted = with_pool!(self, pool => sqlx::query(
            "INSERT INTO comment_reports (comment_id, reporter_hash, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (comment_id, reporter_hash) DO NOTHING",
        )
        .bind(id)
        .bind(reporter_hash)
        .bind(now)
        .execute(pool)
        .await
        .map(|result| result.rows_affected()))?;
        if inserted == 0 {
            return Ok(false);
        }
        let requeued = with_pool!(self, pool => sqlx::query_scalar::<_, String>(
            "UPDATE comments SET reports = reports + 1, \
             status = CASE WHEN status = 'approved' AND reports + 1 >= $2 THEN 'pending' ELSE status END, \
             held_for = CASE WHEN status = 'approved' AND reports + 1 >= $2 THEN 'reported' ELSE held_for END \
             WHERE id = $1 RETURNING held_for",
        )
        .bind(id)
        .bind(threshold)
        .fetch_optional(pool)
        .await)?;
        Ok(requeued.as_deref() == Some("reported"))
    }

    /// Deletes every comment written with this email (and so the replies under
    /// them); the articles they were under.
    pub async fn erase_commenter(&self, email_hash: &str) -> Result<Vec<i64>, StoreError> {
        let articles = with_pool!(self, pool => sqlx::query_scalar::<_, i64>(
            "DELETE FROM comments WHERE email_hash = $1 RETURNING article_id",
        )
        .bind(email_hash)
        .fetch_all(pool)
        .await)?;
        Ok(articles)
    }

    /// Where to tell a comment's writer about replies ('' when they did not ask).
    pub async fn comment_notify_email(&self, id: i64) -> Result<String, StoreError> {
        let email = with_pool!(self, pool => sqlx::query_scalar::<_, String>(
            "SELECT notify_email FROM comments WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(pool)
        .await)?;
        Ok(email.unwrap_or_default())
    }

    /// Marks a reply's notification as sent; true for the one caller that should send it.
    pub async fn claim_reply_notification(&self, reply_id: i64) -> Result<bool, StoreError> {
        let changed = with_pool!(self, pool => sqlx::query(
            "UPDATE comments SET reply_notified = TRUE WHERE id = $1 AND NOT reply_notified",
        )
        .bind(reply_id)
        .execute(pool)
        .await
        .map(|result| result.rows_affected()))?;
        Ok(changed > 0)
    }

    /// Stops reply emails to a reader (by email hash) on all their comments.
    pub async fn stop_reply_emails(&self, email_hash: &str) -> Result<u64, StoreError> {
        let changed = with_pool!(self, pool => sqlx::query(
            "UPDATE comments SET notify_email = '' WHERE email_hash = $1 AND notify_email <> ''",
        )
        .bind(email_hash)
        .execute(pool)
        .await
        .map(|result| result.rows_affected()))?;
        Ok(changed)
    }

    /// The moderation queue with the article each comment is under, newest first.
    pub async fn moderation_queue(
        &self,
        status: &str,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<QueuedComment>, StoreError> {
        let columns: Vec<String> = COLUMNS.split(", ").map(|column| format!("c.{column}")).collect();
        let sql = format!(
            "SELECT {}, a.title AS article_title FROM comments c JOIN articles a ON a.id = c.article_id \
             WHERE c.status = $1 ORDER BY c.created_at DESC, c.id DESC LIMIT $2 OFFSET $3",
            columns.join(", ")
        );
        let rows = with_pool!(self, pool => sqlx::query_as::<_, QueuedComment>(&sql)
            .bind(status)
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await)?;
        Ok(rows)
    }

    /// Pending comments that arrived after a time, oldest first (for the editors' digest).
    pub async fn pending_comments_since(&self, since: i64, limit: i64) -> Result<Vec<QueuedComment>, StoreError> {
        let columns: Vec<String> = COLUMNS.split(", ").map(|column| format!("c.{column}")).collect();
        let sql = format!(
            "SELECT {}, a.title AS article_title FROM comments c JOIN articles a ON a.id = c.article_id \
             WHERE c.status = 'pending' AND c.created_at > $1 ORDER BY c.created_at, c.id LIMIT $2",
            columns.join(", ")
        );
        let rows = with_pool!(self, pool => sqlx::query_as::<_, QueuedComment>(&sql)
            .bind(since)
            .bind(limit)
            .fetch_all(pool)
            .await)?;
        Ok(rows)
    }

    /// When a once-per-period job was last done (0 when never).
    pub async fn job_done_at(&self, name: &str) -> Result<i64, StoreError> {
        let done = with_pool!(self, pool => sqlx::query_scalar::<_, i64>(
            "SELECT done_at FROM job_marks WHERE name = $1",
        )
        .bind(name)
        .fetch_optional(pool)
        .await)?;
        Ok(done.unwrap_or(0))
    }

    /// Claims a job for this period: true for exactly one caller among
    /// several nodes, when it was last done at `previous` (as read before).
    pub async fn claim_job(&self, name: &str, previous: i64, now: i64) -> Result<bool, StoreError> {
        let changed = with_pool!(self, pool => sqlx::query(
            "INSERT INTO job_marks (name, done_at) VALUES ($1, $3) \
             ON CONFLICT (name) DO UPDATE SET done_at = $3 WHERE job_marks.done_at = $2",
        )
        .bind(name)
        .bind(previous)
        .bind(now)
        .execute(pool)
        .await
        .map(|result| result.rows_affected()))?;
        Ok(changed > 0)
    }
}

/// A comment in the moderation queue, with the title of its article.
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct QueuedComment {
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub comment: CommentRow,
    pub article_title: String,
}

/// What changes when a comment's text is edited.
pub struct CommentTextChange<'a> {
    pub body_markdown: &'a str,
    pub body_html: &'a str,
    pub status: &'a str,
    pub held_for: &'a str,
    pub editor_note: &'a str,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::{comments_page_sql, replies_sql};
    use crate::store::reads::{sqlite_query_plan, Arg};

    /// The reader's comment queries go through the article's own index,
    /// never through one that spans every article's comments.
    #[tokio::test]
    async fn comment_queries_are_bounded_by_the_article() {
        let ids = [Arg::Int(1), Arg::Int(2), Arg::Int(3)];
        for (sql, arguments) in [(comments_page_sql(), 3), (replies_sql(), 2)] {
            let plan = sqlite_query_plan(&sql, &ids[..arguments]).await;
            let outer = plan.iter().find(|step| step.contains("comments USING")).unwrap();
            assert!(outer.contains("comments_by_article") || outer.contains("comments_by_parent"), "{sql}: {plan:?}");
            assert!(!plan.iter().any(|step| step.contains("comments_by_status")), "{sql}: {plan:?}");
        }
    }
}
