//! Several khabar nodes on one PostgreSQL database each keep their own page
//! cache: a change made through one must reach the others. Every change is
//! announced with `NOTIFY khabar_changes`; each node LISTENs and, on a
//! neighbour's announcement, drops its cached pages and re-reads what it
//! keeps in memory (settings, search spellings). A node that loses its
//! listening connection may have missed announcements, so it does the same
//! when it reconnects. SQLite sites are one node: nothing to do.

use std::sync::atomic::{AtomicBool, Ordering};
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
    pending: AtomicBool,
    wake: tokio::sync::Notify,
}

impl Default for Peers {
    fn default() -> Self {
        Peers {
            node: hex::encode(rand::random::<[u8; 8]>()),
            pending: AtomicBool::new(false),
            wake: Default::default(),
        }
    }
}

impl Peers {
    /// Asks for an announcement; several changes in a burst make one.
    pub fn announce(&self) {
        self.pending.store(true, Ordering::SeqCst);
        self.wake.notify_one();
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
                if state.peers.pending.swap(false, Ordering::SeqCst) {
                    let sent = sqlx::query("SELECT pg_notify($1, $2)")
                        .bind(CHANNEL)
                        .bind(&state.peers.node)
                        .execute(&pool)
                        .await;
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
        refresh(&state).await;
        loop {
            let received = tokio::select! {
                received = listener.try_recv() => received,
                _ = shutdown.changed() => {
                    announcer.abort();
                    return;
                }
            };
            match received {
                Ok(Some(notification)) if notification.payload() == state.peers.node => {}
                Ok(Some(_)) => refresh(&state).await,
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

async fn refresh(state: &AppState) {
    if let Err(error) = state.reload_settings().await {
        tracing::warn!(%error, "could not re-read the settings after another node's change");
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
