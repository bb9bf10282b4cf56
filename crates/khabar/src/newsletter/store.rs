//! Newsletter queries: subscribers, their counts, sends and recipients.

use sqlx::FromRow;

use crate::store::{with_pool, Store, StoreError};

/// A confirmation email goes to one address at most this often.
pub const CONFIRMATION_INTERVAL_SECONDS: i64 = 3600;

#[derive(Debug, Clone, FromRow)]
pub struct SubscriberRow {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub status: String,
    pub wants_digest: bool,
    pub wants_alerts: bool,
    pub link_key: String,
    pub source: String,
    pub bounces: i64,
    pub created_at: i64,
    pub confirmed_at: Option<i64>,
    pub unsubscribed_at: Option<i64>,
}

const SUBSCRIBER_COLUMNS: &str = "id, email, name, status, wants_digest, wants_alerts, link_key, source, bounces, \
     created_at, confirmed_at, unsubscribed_at";

/// What a signup found, and whether this request may send the email it calls for.
#[derive(Debug)]
pub struct Signup {
    pub subscriber: SubscriberRow,
    pub email_due: bool,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct StatusCounts {
    pub pending: i64,
    pub confirmed: i64,
    pub unsubscribed: i64,
    pub bounced: i64,
}

impl StatusCounts {
    pub fn total(&self) -> i64 {
        self.pending + self.confirmed + self.unsubscribed + self.bounced
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendKind {
    Digest,
    Alert,
    Confirmation,
}

impl SendKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SendKind::Digest => "digest",
            SendKind::Alert => "alert",
            SendKind::Confirmation => "confirmation",
        }
    }

    pub fn parse(text: &str) -> Option<SendKind> {
        match text {
            "digest" => Some(SendKind::Digest),
            "alert" => Some(SendKind::Alert),
            "confirmation" => Some(SendKind::Confirmation),
            _ => None,
        }
    }
}

/// A send as created: its content is frozen here, so a resumed send mails the same issue.
pub struct NewSend {
    pub kind: SendKind,
    pub dedupe_key: String,
    pub article_id: Option<i64>,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub requested_by: String,
    pub period_start: Option<i64>,
    pub period_end: Option<i64>,
}

/// Who a send goes to.
pub enum Audience<'a> {
    /// Confirmed subscribers who asked for the digest.
    Digest,
    /// Confirmed subscribers who asked for alerts.
    Alerts,
    /// These subscribers, while still unconfirmed.
    Pending(&'a [i64]),
}

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct SendRow {
    pub id: i64,
    pub kind: String,
    pub article_id: Option<i64>,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub status: String,
    pub requested_by: String,
    pub period_start: Option<i64>,
    pub period_end: Option<i64>,
    pub total: i64,
    pub created_at: i64,
    pub finished_at: Option<i64>,
}

const SEND_COLUMNS: &str = "id, kind, article_id, subject, body_text, body_html, status, requested_by, \
     period_start, period_end, total, created_at, finished_at";

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct SendProgress {
    pub queued: i64,
    pub sent: i64,
    pub failed: i64,
    pub skipped: i64,
}

impl SendProgress {
    pub fn done(&self) -> i64 {
        self.sent + self.failed + self.skipped
    }
}

/// A recipient waiting for this send, with what the sender needs to know about them now.
#[derive(Debug, Clone, FromRow)]
pub struct QueuedRecipient {
    pub subscriber_id: i64,
    pub email: String,
    pub name: String,
    pub status: String,
    pub wants_digest: bool,
    pub wants_alerts: bool,
    pub link_key: String,
    pub bounces: i64,
    pub attempts: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Sent,
    /// The subscriber left, or turned this kind of mail off, after the send began.
    Skipped,
    /// Try again at this time.
    Retry {
        at: i64,
        reply: String,
    },
    /// Given up: a permanent refusal (`bounced` counts toward the bounce limit) or too many tries.
    Failed {
        reply: String,
        bounced: bool,
    },
}

#[derive(Debug, Clone)]
pub struct Outcome {
    pub subscriber_id: i64,
    pub delivery: Delivery,
}

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct FailureRow {
    pub email: String,
    pub status: String,
    pub attempts: i64,
    pub smtp_reply: Option<String>,
}

/// One imported line, already checked.
pub struct ImportRow {
    pub email: String,
    pub name: String,
}

impl Store {
    /// A named secret shared by every node: made by whichever starts first.
    pub async fn site_secret(&self, name: &str, fresh: &str) -> Result<String, StoreError> {
        let value = with_pool!(self, pool => {
            sqlx::query("INSERT INTO site_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
                .bind(name)
                .bind(fresh)
                .execute(pool)
                .await?;
            sqlx::query_scalar::<_, String>("SELECT value FROM site_secrets WHERE name = $1")
                .bind(name)
                .fetch_one(pool)
                .await
        })?;
        Ok(value)
    }

    /// Records a signup (one row per address, whatever happens) and claims the
    /// right to send its email, at most once an hour per address.
    pub async fn sign_up(&self, email: &str, name: &str, link_key: &str, now: i64) -> Result<Signup, StoreError> {
        let select = format!("SELECT {SUBSCRIBER_COLUMNS} FROM subscribers WHERE email = $1");
        let signup = with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "INSERT INTO subscribers (email, name, status, link_key, source, created_at) \
                 VALUES ($1, $2, 'pending', $3, 'form', $4) ON CONFLICT (email) DO NOTHING",
            )
            .bind(email)
            .bind(name)
            .bind(link_key)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            // Someone not yet confirmed may correct the name they gave.
            sqlx::query("UPDATE subscribers SET name = $2 WHERE email = $1 AND status = 'pending' AND name <> $2")
                .bind(email)
                .bind(name)
                .execute(&mut *tx)
                .await?;
            let claimed = sqlx::query(
                "UPDATE subscribers SET confirmation_sent_at = $2 WHERE email = $1 \
                 AND (confirmation_sent_at IS NULL OR confirmation_sent_at <= $3)",
            )
            .bind(email)
            .bind(now)
            .bind(now - CONFIRMATION_INTERVAL_SECONDS)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            let subscriber = sqlx::query_as::<_, SubscriberRow>(&select).bind(email).fetch_one(&mut *tx).await?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>(Signup { subscriber, email_due: claimed == 1 })
        })?;
        Ok(signup)
    }

    pub async fn subscriber(&self, id: i64) -> Result<Option<SubscriberRow>, StoreError> {
        let sql = format!("SELECT {SUBSCRIBER_COLUMNS} FROM subscribers WHERE id = $1");
        let row =
            with_pool!(self, pool => sqlx::query_as::<_, SubscriberRow>(&sql).bind(id).fetch_optional(pool).await)?;
        Ok(row)
    }

    pub async fn subscriber_by_email(&self, email: &str) -> Result<Option<SubscriberRow>, StoreError> {
        let sql = format!("SELECT {SUBSCRIBER_COLUMNS} FROM subscribers WHERE email = $1");
        let row =
            with_pool!(self, pool => sqlx::query_as::<_, SubscriberRow>(&sql).bind(email).fetch_optional(pool).await)?;
        Ok(row)
    }

    /// Confirms an address (again, after unsubscribing or bouncing, if it proves it reads its mail).
    pub async fn confirm_subscriber(&self, id: i64, now: i64) -> Result<(), StoreError> {
        with_pool!(self, pool => sqlx::query(
            "UPDATE subscribers SET status = 'confirmed', confirmed_at = $2, unsubscribed_at = NULL, bounces = 0 \
             WHERE id = $1 AND status <> 'confirmed'",
        )
        .bind(id)
        .bind(now)
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    pub async fn save_preferences(&self, id: i64, name: &str, digest: bool, alerts: bool) -> Result<(), StoreError> {
        with_pool!(self, pool => sqlx::query(
            "UPDATE subscribers SET name = $2, wants_digest = $3, wants_alerts = $4 WHERE id = $1",
        )
        .bind(id)
        .bind(name)
        .bind(digest)
        .bind(alerts)
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// Takes effect at once: the sender checks the status before every message.
    pub async fn unsubscribe(&self, id: i64, now: i64) -> Result<(), StoreError> {
        with_pool!(self, pool => sqlx::query(
            "UPDATE subscribers SET status = 'unsubscribed', unsubscribed_at = $2 \
             WHERE id = $1 AND status <> 'unsubscribed'",
        )
        .bind(id)
        .bind(now)
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// Removes the subscriber and every trace of their deliveries.
    pub async fn erase_subscriber(&self, id: i64) -> Result<bool, StoreError> {
        let removed = with_pool!(self, pool => sqlx::query("DELETE FROM subscribers WHERE id = $1")
            .bind(id)
            .execute(pool)
            .await
        .map(|result| result.rows_affected()))?;
        Ok(removed == 1)
    }

    pub async fn subscriber_counts(&self) -> Result<StatusCounts, StoreError> {
        let rows: Vec<(String, i64)> = with_pool!(self, pool => sqlx::query_as(
            "SELECT status, total FROM subscriber_counts",
        )
        .fetch_all(pool)
        .await)?;
        let mut counts = StatusCounts::default();
        for (status, total) in rows {
            match status.as_str() {
                "pending" => counts.pending = total,
                "confirmed" => counts.confirmed = total,
                "unsubscribed" => counts.unsubscribed = total,
                "bounced" => counts.bounced = total,
                _ => {}
            }
        }
        Ok(counts)
    }

    /// Newest first; `query` matches part of the address or the name.
    pub async fn find_subscribers(
        &self,
        query: &str,
        status: Option<&str>,
        before_id: Option<i64>,
        limit: i64,
    ) -> Result<Vec<SubscriberRow>, StoreError> {
        let sql = format!(
            "SELECT {SUBSCRIBER_COLUMNS} FROM subscribers WHERE ($1 = '' OR email LIKE $2 OR name LIKE $2) \
             AND ($3 IS NULL OR status = $3) AND ($4 IS NULL OR id < $4) ORDER BY id DESC LIMIT $5"
        );
        // A % or _ the admin types only widens their own search.
        let pattern = format!("%{query}%");
        let rows = with_pool!(self, pool => sqlx::query_as::<_, SubscriberRow>(&sql)
            .bind(query)
            .bind(&pattern)
            .bind(status)
            .bind(before_id)
            .bind(limit)
            .fetch_all(pool)
            .await)?;
        Ok(rows)
    }

    /// Subscribers in id order after `after_id`: export in pages of any size.
    pub async fn subscribers_after(&self, after_id: i64, limit: i64) -> Result<Vec<SubscriberRow>, StoreError> {
        let sql = format!("SELECT {SUBSCRIBER_COLUMNS} FROM subscribers WHERE id > $1 ORDER BY id LIMIT $2");
        let rows = with_pool!(self, pool => sqlx::query_as::<_, SubscriberRow>(&sql)
            .bind(after_id)
            .bind(limit)
            .fetch_all(pool)
            .await)?;
        Ok(rows)
    }

    /// Adds the rows whose address is new; returns the ids added. Addresses
    /// already on the list keep their status: an import never re-subscribes
    /// someone who left.
    pub async fn import_subscribers(
        &self,
        rows: &[ImportRow],
        confirmed: bool,
        link_keys: &[String],
        now: i64,
    ) -> Result<Vec<i64>, StoreError> {
        let status = if confirmed { "confirmed" } else { "pending" };
        let confirmed_at = confirmed.then_some(now);
        let added = with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let mut added = Vec::new();
            for (row, link_key) in rows.iter().zip(link_keys) {
                let id: Option<i64> = sqlx::query_scalar(
                    "INSERT INTO subscribers (email, name, status, link_key, source, created_at, confirmed_at) \
                     VALUES ($1, $2, $3, $4, 'import', $5, $6) ON CONFLICT (email) DO NOTHING RETURNING id",
                )
                .bind(&row.email)
                .bind(&row.name)
                .bind(status)
                .bind(link_key)
                .bind(now)
                .bind(confirmed_at)
                .fetch_optional(&mut *tx)
                .await?;
                added.extend(id);
            }
            tx.commit().await?;
            Ok::<_, sqlx::Error>(added)
        })?;
        Ok(added)
    }

    /// Creates a send and its recipient rows in one transaction; `None` when
    /// a send with the same key exists (the digest of that day, that article's alert).
    pub async fn create_send(
        &self,
        send: &NewSend,
        audience: Audience<'_>,
        now: i64,
    ) -> Result<Option<i64>, StoreError> {
        let created = with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let id: Option<i64> = sqlx::query_scalar(
                "INSERT INTO newsletter_sends (kind, dedupe_key, article_id, subject, body_text, body_html, status, \
                 requested_by, period_start, period_end, total, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, 'sending', $7, $8, $9, 0, $10) \
                 ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
            )
            .bind(send.kind.as_str())
            .bind(&send.dedupe_key)
            .bind(send.article_id)
            .bind(&send.subject)
            .bind(&send.body_text)
            .bind(&send.body_html)
            .bind(&send.requested_by)
            .bind(send.period_start)
            .bind(send.period_end)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(id) = id else {
                return Ok(None);
            };
            let total = match audience {
                Audience::Digest | Audience::Alerts => {
                    let column = if matches!(audience, Audience::Digest) { "wants_digest" } else { "wants_alerts" };
                    sqlx::query(&format!(
                        "INSERT INTO newsletter_recipients (send_id, subscriber_id, status) \
                         SELECT $1, id, 'queued' FROM subscribers WHERE status = 'confirmed' AND {column}"
                    ))
                    .bind(id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
                }
                Audience::Pending(ids) => {
                    let mut total = 0;
                    for subscriber_id in ids {
                        total += sqlx::query(
                            "INSERT INTO newsletter_recipients (send_id, subscriber_id, status) \
                             SELECT $1, id, 'queued' FROM subscribers WHERE id = $2 AND status = 'pending'",
                        )
                        .bind(id)
                        .bind(subscriber_id)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    }
                    total
                }
            };
            let total = i64::try_from(total).unwrap_or(i64::MAX);
            sqlx::query(
                "UPDATE newsletter_sends SET total = $2, \
                 status = CASE WHEN $2 = 0 THEN 'done' ELSE status END, \
                 finished_at = CASE WHEN $2 = 0 THEN $3 ELSE NULL END WHERE id = $1",
            )
            .bind(id)
            .bind(total)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>(Some(id))
        })?;
        Ok(created)
    }

    /// Where the last digest stopped: the next covers what was published after.
    pub async fn last_digest_end(&self) -> Result<Option<i64>, StoreError> {
        let end: Option<i64> = with_pool!(self, pool => sqlx::query_scalar(
            "SELECT MAX(period_end) FROM newsletter_sends WHERE kind = 'digest'",
        )
        .fetch_one(pool)
        .await)?;
        Ok(end)
    }

    pub async fn send_exists(&self, dedupe_key: &str) -> Result<bool, StoreError> {
        let found: Option<i64> = with_pool!(self, pool => sqlx::query_scalar(
            "SELECT id FROM newsletter_sends WHERE dedupe_key = $1",
        )
        .bind(dedupe_key)
        .fetch_optional(pool)
        .await)?;
        Ok(found.is_some())
    }

    /// Takes every unfinished send whose lease is free, expired or already ours.
    pub async fn claim_sends(&self, holder: &str, now: i64, lease_seconds: i64) -> Result<Vec<i64>, StoreError> {
        let ids: Vec<i64> = with_pool!(self, pool => sqlx::query_scalar(
            "UPDATE newsletter_sends SET lease_holder = $1, lease_until = $3 \
             WHERE status = 'sending' AND (lease_holder IS NULL OR lease_holder = $1 OR lease_until < $2) \
             RETURNING id",
        )
        .bind(holder)
        .bind(now)
        .bind(now + lease_seconds)
        .fetch_all(pool)
        .await)?;
        Ok(ids)
    }

    /// Takes one send's lease, when it is free, expired or already ours.
    pub async fn claim_send(
        &self,
        send_id: i64,
        holder: &str,
        now: i64,
        lease_seconds: i64,
    ) -> Result<bool, StoreError> {
        let claimed = with_pool!(self, pool => sqlx::query(
            "UPDATE newsletter_sends SET lease_holder = $2, lease_until = $4 \
             WHERE id = $1 AND status = 'sending' AND (lease_holder IS NULL OR lease_holder = $2 OR lease_until < $3)",
        )
        .bind(send_id)
        .bind(holder)
        .bind(now)
        .bind(now + lease_seconds)
        .execute(pool)
        .await
        .map(|result| result.rows_affected()))?;
        Ok(claimed == 1)
    }

    /// False when another node has taken the send over (our lease lapsed).
    pub async fn renew_lease(&self, send_id: i64, holder: &str, until: i64) -> Result<bool, StoreError> {
        let renewed = with_pool!(self, pool => sqlx::query(
            "UPDATE newsletter_sends SET lease_until = $3 WHERE id = $1 AND lease_holder = $2 AND status = 'sending'",
        )
        .bind(send_id)
        .bind(holder)
        .bind(until)
        .execute(pool)
        .await
        .map(|result| result.rows_affected()))?;
        Ok(renewed == 1)
    }

    pub async fn release_lease(&self, send_id: i64, holder: &str) -> Result<(), StoreError> {
        with_pool!(self, pool => sqlx::query(
            "UPDATE newsletter_sends SET lease_holder = NULL, lease_until = 0 WHERE id = $1 AND lease_holder = $2",
        )
        .bind(send_id)
        .bind(holder)
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    pub async fn send_by_id(&self, id: i64) -> Result<Option<SendRow>, StoreError> {
        let sql = format!("SELECT {SEND_COLUMNS} FROM newsletter_sends WHERE id = $1");
        let row = with_pool!(self, pool => sqlx::query_as::<_, SendRow>(&sql).bind(id).fetch_optional(pool).await)?;
        Ok(row)
    }

    pub async fn recent_sends(&self, limit: i64) -> Result<Vec<SendRow>, StoreError> {
        let sql = format!("SELECT {SEND_COLUMNS} FROM newsletter_sends ORDER BY id DESC LIMIT $1");
        let rows = with_pool!(self, pool => sqlx::query_as::<_, SendRow>(&sql).bind(limit).fetch_all(pool).await)?;
        Ok(rows)
    }

    pub async fn send_progress(&self, send_id: i64) -> Result<SendProgress, StoreError> {
        let rows: Vec<(String, i64)> = with_pool!(self, pool => sqlx::query_as(
            "SELECT status, COUNT(*) FROM newsletter_recipients WHERE send_id = $1 GROUP BY status",
        )
        .bind(send_id)
        .fetch_all(pool)
        .await)?;
        let mut progress = SendProgress::default();
        for (status, count) in rows {
            match status.as_str() {
                "queued" => progress.queued = count,
                "sent" => progress.sent = count,
                "failed" => progress.failed = count,
                "skipped" => progress.skipped = count,
                _ => {}
            }
        }
        Ok(progress)
    }

    pub async fn send_failures(&self, send_id: i64, limit: i64) -> Result<Vec<FailureRow>, StoreError> {
        let rows = with_pool!(self, pool => sqlx::query_as::<_, FailureRow>(
            "SELECT s.email, r.status, r.attempts, r.smtp_reply FROM newsletter_recipients r \
             JOIN subscribers s ON s.id = r.subscriber_id \
             WHERE r.send_id = $1 AND (r.status = 'failed' OR (r.status = 'queued' AND r.attempts > 0)) \
             ORDER BY r.subscriber_id LIMIT $2",
        )
        .bind(send_id)
        .bind(limit)
        .fetch_all(pool)
        .await)?;
        Ok(rows)
    }

    /// The next recipients due, in subscriber order after `after`.
    pub async fn queued_recipients(
        &self,
        send_id: i64,
        after: i64,
        now: i64,
        limit: i64,
    ) -> Result<Vec<QueuedRecipient>, StoreError> {
        let rows = with_pool!(self, pool => sqlx::query_as::<_, QueuedRecipient>(
            "SELECT r.subscriber_id, s.email, s.name, s.status, s.wants_digest, s.wants_alerts, s.link_key, \
             s.bounces, r.attempts FROM newsletter_recipients r JOIN subscribers s ON s.id = r.subscriber_id \
             WHERE r.send_id = $1 AND r.status = 'queued' AND r.subscriber_id > $2 AND r.next_attempt_at <= $3 \
             ORDER BY r.subscriber_id LIMIT $4",
        )
        .bind(send_id)
        .bind(after)
        .bind(now)
        .bind(limit)
        .fetch_all(pool)
        .await)?;
        Ok(rows)
    }

    /// When the earliest retry of this send is due, if any recipient is still queued.
    pub async fn next_retry(&self, send_id: i64) -> Result<Option<i64>, StoreError> {
        let at: Option<i64> = with_pool!(self, pool => sqlx::query_scalar(
            "SELECT MIN(next_attempt_at) FROM newsletter_recipients WHERE send_id = $1 AND status = 'queued'",
        )
        .bind(send_id)
        .fetch_one(pool)
        .await)?;
        Ok(at)
    }

    /// Writes a batch of delivery outcomes in one transaction (one disk flush
    /// for many messages), counting permanent failures toward each address's
    /// bounce limit and clearing the count after a delivery.
    pub async fn record_outcomes(
        &self,
        send_id: i64,
        outcomes: &[Outcome],
        bounce_limit: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        // Deliveries, the bulk of every batch, are one statement; the ids are
        // integers from our own rows, so writing them into the SQL is safe.
        let delivered: Vec<String> = outcomes
            .iter()
            .filter(|outcome| outcome.delivery == Delivery::Sent)
            .map(|outcome| outcome.subscriber_id.to_string())
            .collect();
        let delivered_sql = format!(
            "UPDATE newsletter_recipients SET status = 'sent', smtp_reply = NULL, finished_at = $2, \
             attempts = attempts + 1 WHERE send_id = $1 AND subscriber_id IN ({})",
            delivered.join(",")
        );
        let cleared_sql =
            format!("UPDATE subscribers SET bounces = 0 WHERE bounces > 0 AND id IN ({})", delivered.join(","));
        with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            if !delivered.is_empty() {
                sqlx::query(&delivered_sql).bind(send_id).bind(now).execute(&mut *tx).await?;
                sqlx::query(&cleared_sql).execute(&mut *tx).await?;
            }
            for outcome in outcomes.iter().filter(|outcome| outcome.delivery != Delivery::Sent) {
                let (status, reply, next_attempt_at) = match &outcome.delivery {
                    Delivery::Sent => ("sent", None, 0),
                    Delivery::Skipped => ("skipped", None, 0),
                    Delivery::Retry { at, reply } => ("queued", Some(reply.as_str()), *at),
                    Delivery::Failed { reply, .. } => ("failed", Some(reply.as_str()), 0),
                };
                let finished_at = (status != "queued").then_some(now);
                sqlx::query(
                    "UPDATE newsletter_recipients SET status = $3, smtp_reply = $4, next_attempt_at = $5, \
                     finished_at = $6, attempts = attempts + CASE WHEN $3 = 'skipped' THEN 0 ELSE 1 END \
                     WHERE send_id = $1 AND subscriber_id = $2",
                )
                .bind(send_id)
                .bind(outcome.subscriber_id)
                .bind(status)
                .bind(reply)
                .bind(next_attempt_at)
                .bind(finished_at)
                .execute(&mut *tx)
                .await?;
                if let Delivery::Failed { bounced: true, .. } = &outcome.delivery {
                        sqlx::query(
                            "UPDATE subscribers SET bounces = bounces + 1, \
                             status = CASE WHEN bounces + 1 >= $2 AND status = 'confirmed' THEN 'bounced' ELSE status END \
                             WHERE id = $1",
                        )
                        .bind(outcome.subscriber_id)
                        .bind(bounce_limit)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            tx.commit().await
        })?;
        Ok(())
    }

    /// Marks the send done once nobody is left queued.
    pub async fn finish_send_if_complete(&self, send_id: i64, now: i64) -> Result<bool, StoreError> {
        let finished = with_pool!(self, pool => sqlx::query(
            "UPDATE newsletter_sends SET status = 'done', finished_at = $2, lease_holder = NULL, lease_until = 0 \
             WHERE id = $1 AND status = 'sending' AND NOT EXISTS \
             (SELECT 1 FROM newsletter_recipients WHERE send_id = $1 AND status = 'queued')",
        )
        .bind(send_id)
        .bind(now)
        .execute(pool)
        .await
        .map(|result| result.rows_affected()))?;
        Ok(finished == 1)
    }

    /// Stops a send: recipients not yet mailed are skipped.
    pub async fn cancel_send(&self, send_id: i64, now: i64) -> Result<bool, StoreError> {
        let cancelled = with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let changed = sqlx::query(
                "UPDATE newsletter_sends SET status = 'cancelled', finished_at = $2 WHERE id = $1 AND status = 'sending'",
            )
            .bind(send_id)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            sqlx::query(
                "UPDATE newsletter_recipients SET status = 'skipped', finished_at = $2 \
                 WHERE send_id = $1 AND status = 'queued'",
            )
            .bind(send_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>(changed == 1)
        })?;
        Ok(cancelled)
    }

    pub async fn send_status(&self, send_id: i64) -> Result<Option<String>, StoreError> {
        let status = with_pool!(self, pool => sqlx::query_scalar::<_, String>(
            "SELECT status FROM newsletter_sends WHERE id = $1",
        )
        .bind(send_id)
        .fetch_optional(pool)
        .await)?;
        Ok(status)
    }
}
