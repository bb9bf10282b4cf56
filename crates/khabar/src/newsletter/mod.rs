//! The mailing list: a free signup with name and email on every page,
//! double opt-in, a daily digest and breaking-news alerts, one-click
//! unsubscribe, and sending that mails every confirmed subscriber exactly
//! once per issue, even across a crash.

pub mod addresses;
pub mod admin;
pub mod import;
pub mod issues;
pub mod links;
pub mod relay;
pub mod sender;
pub mod signup;
pub mod store;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use axum::routing::{get, post};
use axum::Router;
use tokio::sync::{watch, Notify};
use tokio::task::JoinSet;

use crate::app::AppState;
use crate::config::Config;
use crate::store::{now_seconds, Store, StoreError};
use links::Signer;
use sender::{Ending, Running, LEASE_SECONDS};

#[derive(Debug, thiserror::Error)]
pub enum NewsletterError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("could not render a newsletter email: {0}")]
    Template(#[from] minijinja::Error),
    #[error("no smtp_url is configured, so newsletters cannot be sent")]
    NotConfigured,
    #[error(transparent)]
    Mail(#[from] crate::mail::MailError),
    #[error("'{0}' cannot be mailed")]
    Address(String),
    #[error("could not build a newsletter message: {0}")]
    Build(String),
    #[error("cannot read or write {path}: {source}")]
    File { path: String, source: std::io::Error },
}

impl From<NewsletterError> for crate::error::AppError {
    fn from(error: NewsletterError) -> Self {
        match error {
            NewsletterError::Store(error) => crate::error::AppError::Store(error),
            NewsletterError::Template(error) => crate::error::AppError::Template(error),
            NewsletterError::NotConfigured => crate::error::AppError::BadRequest(
                "لا يمكن الإرسال: لم يُضبط خادم البريد (smtp_url في khabar.toml).".to_owned(),
            ),
            other => crate::error::AppError::Internal(other.to_string()),
        }
    }
}

/// Signups per client address within `SIGNUP_WINDOW_SECONDS`.
const SIGNUPS_PER_CLIENT: u32 = 10;
const SIGNUP_WINDOW_SECONDS: i64 = 600;

/// Counts signups per client address, in memory: a node forgets on restart,
/// which only gives a flooder a fresh window, never a reader a wrong refusal.
#[derive(Default)]
pub struct SignupLimiter {
    windows: std::sync::Mutex<HashMap<String, (i64, u32)>>,
}

impl SignupLimiter {
    /// True when this client may sign up now; counts the attempt.
    pub fn allow(&self, client: &str, now: i64) -> bool {
        let mut windows = self.windows.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if windows.len() > 100_000 {
            windows.retain(|_, (start, _)| now - *start < SIGNUP_WINDOW_SECONDS);
        }
        let entry = windows.entry(client.to_owned()).or_insert((now, 0));
        if now - entry.0 >= SIGNUP_WINDOW_SECONDS {
            *entry = (now, 0);
        }
        entry.1 += 1;
        entry.1 <= SIGNUPS_PER_CLIENT
    }
}

pub struct Newsletter {
    pub signer: Signer,
    /// Names this process in send leases. Kept in the data folder, so a
    /// server restarted after a crash takes its own sends back at once.
    pub holder: String,
    pub running: Running,
    /// Woken when a send is created, so it starts without waiting for the tick.
    pub wake: Notify,
    pub limiter: SignupLimiter,
    relay: Option<Arc<relay::Relay>>,
    /// The last local date the scheduler made (or found) a digest for.
    digest_checked: std::sync::Mutex<Option<jiff::civil::Date>>,
}

impl Newsletter {
    pub async fn new(config: &Config, data_dir: &Path, store: &Store) -> Result<Self, NewsletterError> {
        let secret = store.site_secret("newsletter", &links::new_secret()).await?;
        let relay = match config.smtp_url.as_deref() {
            Some(url) => {
                let pooled = Arc::new(crate::mail::transport(url, config.newsletter_concurrency)?);
                Some(Arc::new(relay::Relay::new(url, pooled)?))
            }
            None => None,
        };
        Ok(Newsletter {
            signer: Signer::new(&secret),
            holder: node_name(data_dir)?,
            running: Running::default(),
            wake: Notify::new(),
            limiter: SignupLimiter::default(),
            relay,
            digest_checked: std::sync::Mutex::new(None),
        })
    }

    pub fn relay(&self) -> Result<Arc<relay::Relay>, NewsletterError> {
        self.relay.clone().ok_or(NewsletterError::NotConfigured)
    }

    pub fn can_send(&self) -> bool {
        self.relay.is_some()
    }
}

/// This data folder's node name, made once.
fn node_name(data_dir: &Path) -> Result<String, NewsletterError> {
    let path = data_dir.join("node-id");
    match std::fs::read_to_string(&path) {
        Ok(name) if !name.trim().is_empty() => Ok(name.trim().to_owned()),
        _ => {
            let name = format!("node-{}", &links::new_link_key()[..12]);
            std::fs::write(&path, &name)
                .map_err(|source| NewsletterError::File { path: path.display().to_string(), source })?;
            Ok(name)
        }
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/newsletter", get(signup::signup_page))
        .route("/newsletter/subscribe", post(signup::subscribe))
        .route("/newsletter/form-token", get(signup::form_token))
        .route("/newsletter/confirm/{token}", get(signup::confirm_page).post(signup::confirm))
        .route("/newsletter/preferences/{token}", get(signup::preferences_page).post(signup::save_preferences))
        .route("/newsletter/unsubscribe/{token}", get(signup::unsubscribe_page).post(signup::unsubscribe))
}

/// The jobs loop's newsletter work: make today's digest when its time has
/// come, and deliver every unfinished send this node can take.
pub async fn tick(state: &AppState, sends: &mut JoinSet<()>, shutdown: &watch::Receiver<bool>) {
    if !state.newsletter.can_send() {
        return;
    }
    schedule_digest(state).await;
    let now = now_seconds();
    let claimed = match state.store.claim_sends(&state.newsletter.holder, now, LEASE_SECONDS).await {
        Ok(claimed) => claimed,
        Err(error) => {
            tracing::warn!(%error, "could not look for newsletter sends");
            return;
        }
    };
    for send_id in claimed {
        if !state.newsletter.running.start(send_id) {
            continue;
        }
        let state = state.clone();
        let stop = shutdown.clone();
        let task = async move {
            let outcome = match state.newsletter.relay() {
                Ok(relay) => {
                    let holder = state.newsletter.holder.clone();
                    sender::deliver_to_the_end(&state, send_id, &holder, relay, stop, None).await
                }
                Err(error) => Err(error),
            };
            match outcome {
                Ok(Ending::Finished) => tracing::info!(send_id, "newsletter send finished"),
                Ok(_) => tracing::info!(send_id, "newsletter send paused"),
                Err(error) => tracing::error!(%error, send_id, "newsletter send failed; will retry"),
            }
            let _ = state.store.release_lease(send_id, &state.newsletter.holder).await;
            state.newsletter.running.finish(send_id);
        };
        match low_priority_runtime() {
            Some(runtime) => sends.spawn_on(task, runtime),
            None => sends.spawn(task),
        };
    }
}

/// Sends run on a thread of their own at a lower CPU priority, so a digest
/// going out to the whole list never slows the pages readers are waiting
/// for: when both want the CPU, readers win; when the site is quiet, the
/// send takes what is left.
fn low_priority_runtime() -> Option<&'static tokio::runtime::Handle> {
    static RUNTIME: std::sync::OnceLock<Option<tokio::runtime::Handle>> = std::sync::OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            let (handle_sender, handle_receiver) = std::sync::mpsc::channel();
            let started = std::thread::Builder::new().name("newsletter".to_owned()).spawn(move || {
                #[cfg(unix)]
                if let Err(error) = rustix::process::setpriority_process(None, sender::SENDING_NICENESS) {
                    tracing::debug!(%error, "could not lower the newsletter thread's priority");
                }
                match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    Ok(runtime) => {
                        let _ = handle_sender.send(Some(runtime.handle().clone()));
                        runtime.block_on(std::future::pending::<()>());
                    }
                    Err(error) => {
                        tracing::warn!(%error, "no separate newsletter runtime; sending beside the site");
                        let _ = handle_sender.send(None);
                    }
                }
            });
            started.ok().and_then(|_| handle_receiver.recv().ok().flatten())
        })
        .as_ref()
}

async fn schedule_digest(state: &AppState) {
    let Some((hour, minute)) = state.config.digest_time() else {
        return;
    };
    let local = state.locale().zoned(now_seconds());
    let today = local.date();
    let checked = *state.newsletter.digest_checked.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if checked == Some(today) || (local.hour(), local.minute()) < (hour, minute) {
        return;
    }
    let key = format!("digest-{today}");
    match issues::create_digest(state, &key, "الجدولة").await {
        Ok(Some((send_id, articles))) => tracing::info!(send_id, articles, "daily digest created"),
        Ok(None) => tracing::info!("no daily digest today: sent already, or nothing new was published"),
        Err(error) => {
            tracing::warn!(%error, "could not make the daily digest; will retry");
            return;
        }
    }
    *state.newsletter.digest_checked.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(today);
}
