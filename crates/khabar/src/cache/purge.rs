//! Purging a CDN by tag: every invalidation this node makes is sent to the
//! configured endpoint (`cdn_purge_url`) as `POST {"tags": [...]}` with the
//! same tags in a `Surrogate-Key` header, and `Authorization: Bearer` when a
//! token is set. Sent in the background, in order, tried three times; a
//! failure is logged and the CDN's own expiry (`shared_cache_seconds`)
//! bounds how stale it can be.

use std::time::Duration;

use tokio::sync::mpsc;

use crate::cache::header_tag;

const ATTEMPTS: u32 = 3;
const TIMEOUT: Duration = Duration::from_secs(10);

pub struct Purger {
    queue: Option<mpsc::UnboundedSender<Vec<String>>>,
}

impl Purger {
    /// A purger for `url`, or one that does nothing when none is configured.
    pub fn start(url: Option<String>, token: Option<String>) -> Self {
        let Some(url) = url.filter(|url| !url.trim().is_empty()) else {
            return Purger { queue: None };
        };
        let (sender, mut receiver) = mpsc::unbounded_channel::<Vec<String>>();
        tokio::spawn(async move {
            let client = match reqwest::Client::builder().timeout(TIMEOUT).build() {
                Ok(client) => client,
                Err(error) => {
                    tracing::error!(%error, "cannot make the HTTP client for CDN purges");
                    return;
                }
            };
            while let Some(mut tags) = receiver.recv().await {
                // Purges that piled up while one was sent go out together.
                while let Ok(more) = receiver.try_recv() {
                    tags.extend(more);
                }
                tags.sort();
                tags.dedup();
                send(&client, &url, token.as_deref(), &tags).await;
            }
        });
        Purger { queue: Some(sender) }
    }

    /// Purges what is tagged with any of `tags` (`["all"]` for everything).
    pub fn purge(&self, tags: &[String]) {
        if let Some(queue) = &self.queue {
            let _ = queue.send(tags.iter().map(|tag| header_tag(tag)).collect());
        }
    }
}

async fn send(client: &reqwest::Client, url: &str, token: Option<&str>, tags: &[String]) {
    let body = serde_json::json!({ "tags": tags });
    for attempt in 1..=ATTEMPTS {
        let mut request = client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("surrogate-key", tags.join(" "))
            .body(body.to_string());
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        match request.send().await {
            Ok(response) if response.status().is_success() => return,
            Ok(response) => tracing::warn!(status = %response.status(), attempt, "the CDN refused a purge"),
            Err(error) => tracing::warn!(%error, attempt, "could not reach the CDN to purge"),
        }
        tokio::time::sleep(Duration::from_millis(500 * u64::from(attempt))).await;
    }
    tracing::error!(tags = tags.len(), "gave up purging the CDN; its copies expire by themselves");
}
