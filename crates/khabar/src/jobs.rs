//! Work the server does by itself, on a timer: writing counted reads,
//! noticing scheduled articles whose time has come (their pages must change
//! even though nobody edited anything), and the newsletter's digest and sends.

use std::time::Duration;

use tokio::sync::watch;

use crate::app::AppState;
use crate::store::now_seconds;

const TICK: Duration = Duration::from_secs(5);

pub async fn run(state: AppState, mut shutdown: watch::Receiver<bool>) {
    let mut last_check = now_seconds();
    let mut epoch = crate::cache::epoch::read(&state.store).await.ok().flatten();
    let mut sends = tokio::task::JoinSet::new();
    let mut interval = tokio::time::interval(TICK);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            _ = state.media_waiting.notified() => {}
            _ = state.newsletter.wake.notified() => {}
            _ = shutdown.changed() => break,
        }
        while sends.try_join_next().is_some() {}
        // Content written from outside this server (an import from the shell).
        match crate::cache::epoch::read(&state.store).await {
            Ok(mark) if mark != epoch => {
                tracing::info!("the content changed outside this server; refreshing every page");
                epoch = mark;
                if let Err(error) = state.reload_footer().await {
                    tracing::warn!(%error, "could not re-read the footer's pages");
                }
                state.content_changed();
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "could not read the content mark"),
        }
        state.polls.forget_definitions();
        match state.polls.refresh_sidebar(&state).await {
            Ok(true) => state.content_changed(),
            Ok(false) => {}
            Err(error) => tracing::warn!(%error, "could not refresh the sidebar poll"),
        }
        crate::newsletter::tick(&state, &mut sends, &shutdown).await;
        if let Err(error) = crate::comments::notify::pending_digest(&state).await {
            tracing::warn!(%error, "could not send the pending comments digest; will retry");
        }
        match crate::media::make_pending_variants(&state).await {
            Ok(true) => state.content_changed(),
            Ok(false) => {}
            Err(error) => tracing::warn!(%error, "could not make image copies; will retry"),
        }
        let now = now_seconds();
        if let Err(error) = state.reads.flush(&state.store, now).await {
            tracing::warn!(%error, "could not record reads; will retry");
        }
        match state.store.went_live_between(last_check, now).await {
            Ok(ids) => {
                for id in ids {
                    tracing::info!(article = id, "a scheduled article went live; refreshing its pages");
                    crate::articles::changes::article_changed(&state, None, id).await;
                }
                last_check = now;
            }
            Err(error) => tracing::warn!(%error, "could not check scheduled articles"),
        }
    }
    if let Err(error) = state.reads.flush(&state.store, now_seconds()).await {
        tracing::warn!(%error, "could not record the last reads before stopping");
    }
    // Sends stop taking recipients at shutdown; the messages in flight are
    // finished and recorded, so nobody gets them twice after the restart.
    while sends.join_next().await.is_some() {}
}
