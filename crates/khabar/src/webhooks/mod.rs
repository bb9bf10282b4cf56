//! Webhooks: other systems (a Telegram bot, an app backend, a CDN) told when
//! an article is published, updated or unpublished.
//!
//! An event becomes one queued delivery per webhook, in the database, before
//! anything is sent: the editor's request never waits on a receiver, and a
//! restart or a receiver that is down loses nothing. A background sender
//! POSTs each delivery as JSON signed with HMAC-SHA256 and tries again with
//! doubling delays. Several nodes share the queue: a node holds a delivery
//! while it sends it.
//!
//! The signature header is `X-Khabar-Signature: t=<unix seconds>,v1=<hex>`,
//! where `<hex>` is HMAC-SHA256 with the webhook's secret over
//! `<t>.<body>`; receivers should also refuse an old `t` (replays).

pub mod admin;
pub mod guard;
pub mod store;

use std::time::Duration;

use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;
use tokio::sync::watch;

use crate::app::AppState;
use crate::articles::store::ArticleRow;
use crate::store::{now_seconds, StoreError};
use crate::web::article_path;
use store::DueDelivery;

pub const ARTICLE_PUBLISHED: &str = "article.published";
pub const ARTICLE_UPDATED: &str = "article.updated";
pub const ARTICLE_UNPUBLISHED: &str = "article.unpublished";
/// Sent from the admin to check a receiver; every webhook takes it.
pub const PING: &str = "ping";

/// The events a webhook may choose, with their Arabic names.
pub const EVENTS: &[(&str, &str)] =
    &[(ARTICLE_PUBLISHED, "نشر خبر"), (ARTICLE_UPDATED, "تعديل خبر منشور"), (ARTICLE_UNPUBLISHED, "سحب خبر أو حذفه")];

pub const SIGNATURE_HEADER: &str = "x-khabar-signature";
/// Deliveries sent at once by one node.
const BATCH: i64 = 8;
/// The longest wait between two attempts.
const MAX_RETRY_DELAY_SECONDS: i64 = 6 * 3600;
/// How long the sender sleeps when nothing is due (a new event wakes it).
const IDLE_WAKE: Duration = Duration::from_secs(5);
/// Characters of a receiver's error answer kept in the log.
const KEPT_ERROR_CHARS: usize = 300;

#[derive(Default)]
pub struct Webhooks {
    pub wake: tokio::sync::Notify,
}

/// The signature header's value for a body sent at `timestamp`.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of every length"));
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("t={timestamp},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// A fresh random secret for a webhook the admin did not give one.
pub fn new_secret() -> String {
    hex::encode(rand::random::<[u8; 24]>())
}

/// After an article was written: queues the event its visibility change
/// means (published, updated, unpublished), if any. `before` is the row as it
/// was, None for a new article. Failures are logged: the article is saved.
pub async fn article_written(state: &AppState, before: Option<&ArticleRow>, id: i64) {
    let now = now_seconds();
    let after = match state.store.article_by_id(id).await {
        Ok(row) => row,
        Err(error) => {
            tracing::error!(%error, article = id, "could not read the article to queue its webhooks");
            return;
        }
    };
    let was_visible = before.is_some_and(|row| row.is_visible(now));
    let event = match (was_visible, after.as_ref().filter(|row| row.is_visible(now))) {
        (false, Some(row)) => {
            Some((ARTICLE_PUBLISHED, format!("published:{id}:{}", row.published_at.unwrap_or(now)), row))
        }
        (true, Some(row)) => Some((ARTICLE_UPDATED, format!("updated:{id}:{}", row.revision), row)),
        (true, None) => match (&after, before) {
            (Some(row), _) | (None, Some(row)) => {
                Some((ARTICLE_UNPUBLISHED, format!("unpublished:{id}:{}:{now}", row.revision), row))
            }
            (None, None) => None,
        },
        (false, None) => None,
    };
    if let Some((event, key, row)) = event {
        queue_article_event(state, event, &key, row, now).await;
    }
}

async fn queue_article_event(state: &AppState, event: &str, key: &str, row: &ArticleRow, now: i64) {
    let payload = match article_payload(state, event, row, now).await {
        Ok(payload) => payload,
        Err(error) => {
            tracing::error!(%error, article = row.id, event, "could not build the webhook payload");
            return;
        }
    };
    match state.store.queue_deliveries(None, event, key, &payload, now).await {
        Ok(0) => {}
        Ok(queued) => {
            tracing::info!(article = row.id, event, queued, "webhook deliveries queued");
            state.webhooks.wake.notify_one();
        }
        Err(error) => tracing::error!(%error, article = row.id, event, "could not queue webhook deliveries"),
    }
}

async fn article_payload(state: &AppState, event: &str, row: &ArticleRow, now: i64) -> Result<String, StoreError> {
    let authors = state.store.authors_of(&[row.id]).await?;
    let tags = state.store.tags_of(&[row.id]).await?;
    let site = state.site_view();
    let payload = json!({
        "event": event,
        "occurred_at": crate::xml::rfc3339(now),
        "site": {"name": site.name, "url": state.absolute_url("/")},
        "article": {
            "id": row.id,
            "title": row.title,
            "summary": row.summary,
            "url": state.absolute_url(&article_path(row.id, &row.slug)),
            "short_url": state.absolute_url(&crate::sharing::short_path(row.id)),
            "section": {"name": row.section_name, "slug": row.section_slug},
            "tags": tags.iter().map(|tag| tag.name.as_str()).collect::<Vec<_>>(),
            "authors": authors.iter().map(|author| author.name.as_str()).collect::<Vec<_>>(),
            "image": row.featured_image.as_deref().map(|image| state.absolute_link(image)),
            "breaking": row.breaking,
            "published_at": row.published_at.map(crate::xml::rfc3339),
            "updated_at": crate::xml::rfc3339(row.updated_at),
        },
    });
    Ok(payload.to_string())
}

/// Queues a ping for one webhook (the admin's "send a test").
pub async fn ping(state: &AppState, webhook_id: i64) -> Result<bool, StoreError> {
    let now = now_seconds();
    let site = state.site_view();
    let payload = json!({
        "event": PING,
        "occurred_at": crate::xml::rfc3339(now),
        "site": {"name": site.name, "url": state.absolute_url("/")},
    })
    .to_string();
    let key = format!("ping:{}", new_secret());
    let queued = state.store.queue_deliveries(Some(webhook_id), PING, &key, &payload, now).await?;
    state.webhooks.wake.notify_one();
    Ok(queued > 0)
}

/// The sender: takes due deliveries, sends them, records each attempt, and
/// sleeps until the next one is due or a new event wakes it.
pub async fn run(state: AppState, mut shutdown: watch::Receiver<bool>) {
    loop {
        if *shutdown.borrow() {
            break;
        }
        let now = now_seconds();
        let hold_until = now + i64::from(state.config.webhook_timeout_seconds) + 30;
        let batch = match state.store.claim_due_deliveries(now, hold_until, BATCH).await {
            Ok(batch) => batch,
            Err(error) => {
                tracing::warn!(%error, "could not read the webhook queue; will retry");
                Vec::new()
            }
        };
        let busy = !batch.is_empty();
        let mut sending = tokio::task::JoinSet::new();
        for delivery in batch {
            let state = state.clone();
            sending.spawn(async move { send_and_record(&state, delivery).await });
        }
        while sending.join_next().await.is_some() {}
        if busy {
            continue;
        }
        let wait = match state.store.next_delivery_due().await {
            Ok(Some(due)) => Duration::from_secs((due - now_seconds()).clamp(0, 5).unsigned_abs()).min(IDLE_WAKE),
            _ => IDLE_WAKE,
        };
        tokio::select! {
            _ = tokio::time::sleep(wait.max(Duration::from_millis(200))) => {}
            _ = state.webhooks.wake.notified() => {}
            _ = shutdown.changed() => break,
        }
    }
}

async fn send_and_record(state: &AppState, delivery: DueDelivery) {
    let outcome = send(state, &delivery).await;
    let now = now_seconds();
    let attempts = i64::from(delivery.attempts) + 1;
    let (delivered, status, error, retry_at) = match outcome {
        Ok(status) => (true, Some(status), String::new(), None),
        Err(Failure { status, error, permanent }) => {
            let retry_at = (!permanent && attempts < i64::from(state.config.webhook_attempts))
                .then(|| now + retry_delay(i64::from(state.config.webhook_retry_seconds), attempts));
            (false, status, error, retry_at)
        }
    };
    if delivered {
        tracing::info!(delivery = delivery.id, webhook = delivery.webhook_id, event = %delivery.event, "webhook delivered");
    } else {
        tracing::warn!(delivery = delivery.id, webhook = delivery.webhook_id, %error, retry_at, "webhook delivery failed");
    }
    if let Err(store_error) = state.store.record_attempt(delivery.id, delivered, status, &error, retry_at, now).await {
        // The hold runs out and the delivery is sent again: a duplicate, never a loss.
        tracing::error!(%store_error, delivery = delivery.id, "could not record a webhook attempt");
    }
}

/// `base`, doubled after every failed attempt, at most six hours.
pub fn retry_delay(base: i64, attempts: i64) -> i64 {
    let doublings = u32::try_from((attempts - 1).clamp(0, 20)).unwrap_or(20);
    base.saturating_mul(1_i64 << doublings).min(MAX_RETRY_DELAY_SECONDS)
}

struct Failure {
    status: Option<u16>,
    error: String,
    /// Not worth trying again (the target is refused by the SSRF guard).
    permanent: bool,
}

impl Failure {
    fn temporary(status: Option<u16>, error: String) -> Self {
        Failure { status, error, permanent: false }
    }
}

async fn send(state: &AppState, delivery: &DueDelivery) -> Result<u16, Failure> {
    let (url, host, port) = guard::parse_target(&delivery.url).map_err(|error| Failure {
        status: None,
        error: error.to_string(),
        permanent: true,
    })?;
    let address = match guard::resolve(&host, port, &state.settings().webhook_allowed_hosts).await {
        Ok(address) => address,
        Err(error @ guard::GuardError::Forbidden { .. }) => {
            return Err(Failure { status: None, error: error.to_string(), permanent: true })
        }
        Err(error) => return Err(Failure::temporary(None, error.to_string())),
    };
    let client = reqwest::Client::builder()
        .resolve(&host, address)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(Duration::from_secs(u64::from(state.config.webhook_timeout_seconds)))
        .user_agent(concat!("khabar-webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|error| Failure::temporary(None, format!("cannot make an HTTP client: {error}")))?;
    let timestamp = now_seconds();
    let response = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(SIGNATURE_HEADER, signature(&delivery.secret, timestamp, &delivery.payload))
        .header("x-khabar-event", &delivery.event)
        .header("x-khabar-delivery", delivery.id.to_string())
        .body(delivery.payload.clone())
        .send()
        .await
        .map_err(|error| Failure::temporary(None, describe_request_error(&error)))?;
    let status = response.status();
    if status.is_success() {
        return Ok(status.as_u16());
    }
    let text = response.text().await.unwrap_or_default();
    let shown: String = text.chars().take(KEPT_ERROR_CHARS).collect();
    Err(Failure::temporary(Some(status.as_u16()), format!("the receiver answered {status}: {shown}")))
}

fn describe_request_error(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "the receiver did not answer in time".to_owned()
    } else if error.is_connect() {
        "cannot connect to the receiver".to_owned()
    } else {
        let mut text = error.to_string();
        let mut source = std::error::Error::source(error);
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_cover_the_timestamp_and_the_body() {
        let signed = signature("secret", 1_796_000_000, r#"{"event":"ping"}"#);
        assert!(signed.starts_with("t=1796000000,v1="), "{signed}");
        assert_eq!(signed.len(), "t=1796000000,v1=".len() + 64);
        assert_ne!(signed, signature("secret", 1_796_000_001, r#"{"event":"ping"}"#));
        assert_ne!(signed, signature("secret", 1_796_000_000, r#"{"event":"pong"}"#));
        assert_ne!(signed, signature("other", 1_796_000_000, r#"{"event":"ping"}"#));
    }

    #[test]
    fn retries_back_off_to_six_hours() {
        assert_eq!(retry_delay(30, 1), 30);
        assert_eq!(retry_delay(30, 2), 60);
        assert_eq!(retry_delay(30, 5), 480);
        assert_eq!(retry_delay(30, 14), 6 * 3600);
        assert_eq!(retry_delay(30, 1000), 6 * 3600);
    }
}
