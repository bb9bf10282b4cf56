//! Webhooks and their delivery queue.

use sqlx::FromRow;

use crate::store::{with_pool, Store, StoreError};

#[derive(Debug, Clone, FromRow)]
pub struct WebhookRow {
    pub id: i64,
    pub url: String,
    pub secret: String,
    pub events: String,
    pub description: String,
    pub active: bool,
    pub created_by: String,
    pub created_at: i64,
}

impl WebhookRow {
    pub fn wants(&self, event: &str) -> bool {
        self.events.split_whitespace().any(|wanted| wanted == event)
    }
}

/// A delivery as the sender needs it: with its webhook's address and key.
#[derive(Debug, Clone, FromRow)]
pub struct DueDelivery {
    pub id: i64,
    pub webhook_id: i64,
    pub url: String,
    pub secret: String,
    pub event: String,
    pub payload: String,
    pub attempts: i32,
}

/// A line of the delivery log.
#[derive(Debug, Clone, FromRow)]
pub struct DeliveryRow {
    pub id: i64,
    pub webhook_id: i64,
    pub url: String,
    pub event: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: i64,
    pub last_status: Option<i32>,
    pub last_error: String,
    pub created_at: i64,
    pub finished_at: Option<i64>,
}

pub struct NewWebhook<'a> {
    pub url: &'a str,
    pub secret: &'a str,
    pub events: &'a str,
    pub description: &'a str,
    pub created_by: &'a str,
}

const DELIVERY_COLUMNS: &str = "d.id, d.webhook_id, w.url, d.event, d.status, d.attempts, d.next_attempt_at, \
     d.last_status, d.last_error, d.created_at, d.finished_at";

impl Store {
    pub async fn create_webhook(&self, webhook: &NewWebhook<'_>, now: i64) -> Result<i64, StoreError> {
        let id = with_pool!(self, pool => sqlx::query_scalar::<_, i64>(
            "INSERT INTO webhooks (url, secret, events, description, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(webhook.url)
        .bind(webhook.secret)
        .bind(webhook.events)
        .bind(webhook.description)
        .bind(webhook.created_by)
        .bind(now)
        .fetch_one(pool)
        .await)?;
        Ok(id)
    }

    pub async fn webhooks(&self) -> Result<Vec<WebhookRow>, StoreError> {
        let rows = with_pool!(self, pool => sqlx::query_as::<_, WebhookRow>(
            "SELECT id, url, secret, events, description, active, created_by, created_at FROM webhooks ORDER BY id",
        )
        .fetch_all(pool)
        .await)?;
        Ok(rows)
    }

    pub async fn set_webhook_active(&self, id: i64, active: bool) -> Result<bool, StoreError> {
        let changed = with_pool!(self, pool => sqlx::query("UPDATE webhooks SET active = $2 WHERE id = $1")
            .bind(id)
            .bind(active)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(changed > 0)
    }

    pub async fn delete_webhook(&self, id: i64) -> Result<bool, StoreError> {
        let deleted = with_pool!(self, pool => sqlx::query("DELETE FROM webhooks WHERE id = $1")
            .bind(id)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(deleted > 0)
    }

    /// Queues one delivery of an event for every active webhook that wants
    /// it (or for one webhook); a key already queued is not queued again.
    /// Returns how many deliveries were queued.
    pub async fn queue_deliveries(
        &self,
        only_webhook: Option<i64>,
        event: &str,
        event_key: &str,
        payload: &str,
        now: i64,
    ) -> Result<u64, StoreError> {
        let queued = with_pool!(self, pool => sqlx::query(
            "INSERT INTO webhook_deliveries (webhook_id, event, event_key, payload, next_attempt_at, created_at) \
             SELECT id, $1, $2, $3, $4, $4 FROM webhooks \
             WHERE active AND ($5 IS NULL OR id = $5) AND ($5 IS NOT NULL OR (' ' || events || ' ') LIKE $6) \
             ON CONFLICT (webhook_id, event_key) DO NOTHING",
        )
        .bind(event)
        .bind(event_key)
        .bind(payload)
        .bind(now)
        .bind(only_webhook)
        .bind(format!("% {event} %"))
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        Ok(queued)
    }

    /// Takes up to `limit` deliveries that are due and that no node holds,
    /// holding each until `hold_until`; a row another node took first is skipped.
    pub async fn claim_due_deliveries(
        &self,
        now: i64,
        hold_until: i64,
        limit: i64,
    ) -> Result<Vec<DueDelivery>, StoreError> {
        let candidates: Vec<i64> = with_pool!(self, pool => sqlx::query_scalar(
            "SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= $1 \
             AND claimed_until <= $1 ORDER BY next_attempt_at, id LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(pool)
        .await)?;
        let mut claimed = Vec::with_capacity(candidates.len());
        for id in candidates {
            let taken = with_pool!(self, pool => sqlx::query(
                "UPDATE webhook_deliveries SET claimed_until = $2 \
                 WHERE id = $1 AND status = 'pending' AND claimed_until <= $3",
            )
            .bind(id)
            .bind(hold_until)
            .bind(now)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
            if taken == 0 {
                continue;
            }
            let row = with_pool!(self, pool => sqlx::query_as::<_, DueDelivery>(
                "SELECT d.id, d.webhook_id, w.url, w.secret, d.event, d.payload, d.attempts \
                 FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id WHERE d.id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await)?;
            claimed.extend(row);
        }
        Ok(claimed)
    }

    /// Records an attempt: delivered, to be tried again at `retry_at`, or given up (`retry_at` None).
    pub async fn record_attempt(
        &self,
        id: i64,
        delivered: bool,
        response_status: Option<u16>,
        error: &str,
        retry_at: Option<i64>,
        now: i64,
    ) -> Result<(), StoreError> {
        let status = match (delivered, retry_at) {
            (true, _) => "delivered",
            (false, Some(_)) => "pending",
            (false, None) => "failed",
        };
        let finished = (status != "pending").then_some(now);
        with_pool!(self, pool => sqlx::query(
            "UPDATE webhook_deliveries SET status = $2, attempts = attempts + 1, last_status = $3, \
             last_error = $4, next_attempt_at = $5, claimed_until = 0, finished_at = $6 WHERE id = $1",
        )
        .bind(id)
        .bind(status)
        .bind(response_status.map(i32::from))
        .bind(error)
        .bind(retry_at.unwrap_or(now))
        .bind(finished)
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// A failed delivery goes back in the queue, due now (the admin's "try again").
    pub async fn retry_delivery(&self, id: i64, now: i64) -> Result<bool, StoreError> {
        let changed = with_pool!(self, pool => sqlx::query(
            "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = $2, claimed_until = 0, \
             finished_at = NULL WHERE id = $1 AND status = 'failed'",
        )
        .bind(id)
        .bind(now)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        Ok(changed > 0)
    }

    /// When the next pending delivery falls due, if any.
    pub async fn next_delivery_due(&self) -> Result<Option<i64>, StoreError> {
        let due = with_pool!(self, pool => sqlx::query_scalar::<_, Option<i64>>(
            "SELECT MIN(CASE WHEN claimed_until > next_attempt_at THEN claimed_until ELSE next_attempt_at END) \
             FROM webhook_deliveries WHERE status = 'pending'",
        )
        .fetch_one(pool)
        .await)?;
        Ok(due)
    }

    /// The newest deliveries, of every webhook or of one.
    pub async fn deliveries(&self, webhook_id: Option<i64>, limit: i64) -> Result<Vec<DeliveryRow>, StoreError> {
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id \
             WHERE ($1 IS NULL OR d.webhook_id = $1) ORDER BY d.id DESC LIMIT $2"
        );
        let rows = with_pool!(self, pool => sqlx::query_as::<_, DeliveryRow>(&sql)
            .bind(webhook_id)
            .bind(limit)
            .fetch_all(pool)
            .await)?;
        Ok(rows)
    }

    /// Deliveries per webhook and status: (webhook id, status, count).
    pub async fn delivery_counts(&self) -> Result<Vec<(i64, String, i64)>, StoreError> {
        let rows = with_pool!(self, pool => sqlx::query_as::<_, (i64, String, i64)>(
            "SELECT webhook_id, status, COUNT(*) FROM webhook_deliveries GROUP BY webhook_id, status",
        )
        .fetch_all(pool)
        .await)?;
        Ok(rows)
    }
}
