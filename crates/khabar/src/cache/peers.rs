//! Several khabar nodes on one PostgreSQL database each keep their own page
//! cache: a change made through one must reach the others. Every change is
//! announced with `NOTIFY khabar_changes`; each node LISTENs and, on a
//! neighbour's announcement, drops its cached pages and re-reads what it
//! keeps in memory (settings, search spellings). A node that loses its
//! listening connection may have missed announcements, so it does the same
//! when it reconnects. SQLite sites are one node: nothing to do.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::watch;

use crate::app::AppState;
use crate::store::Pool;

const CHANNEL: &str = "khabar_changes";
/// Wait before listening again after the connection failed to come up.
const RECONNECT_DELAY: Duration = Duration::from_millis(500);

pub struct Peers {
    /// This node, so it can tell its own announcements from its neighbours'.
    node: String,
    /// What to announce next, gathered until the announcer runs.
    pending: Mutex<Option<Pending>>,
    wake: tokio::sync::Notify,
}

enum Pending {
    Everything,
    Tags(Vec<String>),
}

const EVERYTHING: &str = "*";
/// PostgreSQL refuses payloads from 8000 bytes: more tags than that means everything.
const MAX_PAYLOAD_BYTES: usize = 7000;

impl Default for Peers {
    fn default() -> Self {
        Peers { node: hex::encode(rand::random::<[u8; 8]>()), pending: Mutex::new(None), wake: Default::default() }
    }
}

impl Peers {
    /// Asks for an announcement of `tags` (None: everything changed);
    /// several changes in a burst make one.
    pub fn announce(&self, tags: Option<Vec<String>>) {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        *pending = match (pending.take(), tags) {
            (Some(Pending::Tags(mut kept)), Some(tags)) => {
                kept.extend(tags);
                Some(Pending::Tags(kept))
            }
            (None, Some(tags)) => Some(Pending::Tags(tags)),
            _ => Some(Pending::Everything),
        };
        drop(pending);
        self.wake.notify_one();
    }

    /// The NOTIFY payload: this node, a tab, then the tags (tab-separated) or `*`.
    fn take_payload(&self) -> Option<String> {
        let pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner).take()?;
        let body = match pending {
            Pending::Everything => EVERYTHING.to_owned(),
            Pending::Tags(mut tags) => {
                tags.sort();
                tags.dedup();
                tags.join("\t")
            }
        };
        let body = if body.len() > MAX_PAYLOAD_BYTES { EVERYTHING.to_owned() } else { body };
        Some(format!("{}\t{body}", self.node))
    }
}

/// Announces this node's changes and applies its neighbours'.
pub async fn run(state: AppState, mut shutdown: watch::Receiver<bool>) {
    let Pool::Postgres(pool) = state.store.pool().clone() else {
        return;
    };
    let announcer = {
        let state = state.clone();
        let pool = pool.clone();
        let mut shutdown = shutdown.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = state.peers.wake.notified() => {}
                    _ = shutdown.changed() => break,
                }
                if let Some(payload) = state.peers.take_payload() {
                    let sent = sqlx::query("SELECT pg_notify($1, $2)").bind(CHANNEL).bind(payload).execute(&pool).await;
                    if let Err(error) = sent {
                        tracing::warn!(%error, "could not tell the other nodes about a change");
                    }
                }
            }
        })
    };
    loop {
        let mut listener = match sqlx::postgres::PgListener::connect_with(&pool).await {
            Ok(listener) => listener,
            Err(error) => {
                tracing::warn!(%error, "cannot listen for other nodes' changes; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(RECONNECT_DELAY) => continue,
                    _ = shutdown.changed() => break,
                }
            }
        };
        if let Err(error) = listener.listen(CHANNEL).await {
            tracing::warn!(%error, "cannot listen for other nodes' changes; retrying");
            tokio::time::sleep(RECONNECT_DELAY).await;
            continue;
        }
        // Whatever was announced while this node was not listening is lost: start afresh.
        refresh(&state, None).await;
        loop {
            let received = tokio::select! {
                received = listener.try_recv() => received,
                _ = shutdown.changed() => {
                    announcer.abort();
                    return;
                }
            };
            match received {
                Ok(Some(notification)) => {
                    let (node, body) = notification.payload().split_once('\t').unwrap_or(("", EVERYTHING));
                    if node != state.peers.node {
                        let tags: Vec<String> = body.split('\t').map(str::to_owned).collect();
                        refresh(&state, (body != EVERYTHING).then_some(tags)).await;
                    }
                }
                // The connection dropped: listen again, then refresh.
                Ok(None) => break,
                Err(error) => {
                    tracing::warn!(%error, "lost the connection that listens for other nodes' changes");
                    break;
                }
            }
        }
    }
    announcer.abort();
}

/// Applies a neighbour's change: only the pages tagged with what it
/// touched, or (`None`) everything kept in memory.
async fn refresh(state: &AppState, tags: Option<Vec<String>>) {
    if let Some(tags) = tags {
        if tags.iter().any(|tag| tag == crate::cache::tags::LAYOUT) {
            if let Err(error) = state.reload_footer().await {
                tracing::warn!(%error, "could not re-read the footer's pages after another node's change");
            }
        }
        state.pages.invalidate_tags(&tags);
        state.search.index.wake();
        return;
    }
    if let Err(error) = state.reload_settings().await {
        tracing::warn!(%error, "could not re-read the settings after another node's change");
    }
    if let Err(error) = state.reload_footer().await {
        tracing::warn!(%error, "could not re-read the footer's pages after another node's change");
    }
    if let Err(error) = state.search.reload_variants(&state.store).await {
        tracing::warn!(%error, "could not re-read the search spellings after another node's change");
    }
    state.polls.forget_definitions();
    if let Err(error) = state.polls.refresh_sidebar(state).await {
        tracing::warn!(%error, "could not re-read the sidebar poll after another node's change");
    }
    state.pages.invalidate_all();
    state.search.index.wake();
}
