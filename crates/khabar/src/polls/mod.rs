//! Reader polls (التصويت): one vote per reader, exact counts under load, and
//! pages that stay cacheable. The page HTML is the same for everyone (the
//! question and a form); whether this reader voted and the current counts
//! come from an uncached request, or with the answer to the vote itself.

pub mod admin;
pub mod api;
pub mod ballots;
pub mod pages;
pub mod store;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use axum::routing::{get, post};
use axum::Router;
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::app::AppState;
use crate::store::{Store, StoreError};
use store::{OptionRow, PollRow};

pub const VOTER_COOKIE: &str = "khabar_voter";
/// Readers keep their voter id for a year.
pub const VOTER_COOKIE_SECONDS: i64 = 365 * 24 * 3600;

#[derive(Debug, thiserror::Error)]
pub enum PollsError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the vote could not be recorded: the ballot box stopped")]
    BallotBoxStopped,
}

impl From<PollsError> for crate::error::AppError {
    fn from(error: PollsError) -> Self {
        match error {
            PollsError::Store(error) => crate::error::AppError::Store(error),
            other => crate::error::AppError::Internal(other.to_string()),
        }
    }
}

/// The signing keys and the in-memory pieces of the polls feature.
pub struct Polls {
    keyed: crate::signing::Keyed,
    pub ballots: ballots::BallotBox,
    /// The sidebar poll as every page shows it, refreshed after each change.
    sidebar: Arc<RwLock<Option<minijinja::Value>>>,
    /// Polls as voting needs them (question, options, times), so a vote
    /// costs no query; forgotten after every change and every few seconds.
    definitions: RwLock<HashMap<i64, Arc<Definition>>>,
    /// Raised by every forget: a definition read before an edit is not kept after it.
    generation: std::sync::atomic::AtomicU64,
    /// One refresh of the sidebar at a time: a slow one that read before an
    /// edit must not overwrite a later one that read after it.
    refreshing: tokio::sync::Mutex<()>,
    /// Signing is cheap, but a vote storm checks the same few tokens and
    /// the same day's salt tens of thousands of times a second.
    form_tokens: RwLock<HashMap<i64, String>>,
    address_salt: std::sync::Mutex<(i64, String)>,
}

/// A poll and its options, without trusting the counts in it.
pub type Definition = (PollRow, Vec<OptionRow>);

/// What a page needs to draw a poll's form: the same for every reader.
#[derive(Debug, Clone, Serialize)]
pub struct PollForm {
    pub id: i64,
    pub question: String,
    pub multiple: bool,
    pub open: bool,
    pub csrf: String,
    pub options: Vec<FormOption>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FormOption {
    pub id: i64,
    pub label: String,
}

/// Results as shown to a reader who voted, or after the poll closed.
#[derive(Debug, Clone, Serialize)]
pub struct Results {
    pub id: i64,
    pub question: String,
    pub open: bool,
    pub state: &'static str,
    pub voters: i64,
    pub voters_text: String,
    pub options: Vec<ResultOption>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ResultOption {
    pub id: i64,
    pub label: String,
    pub votes: i64,
    pub votes_text: String,
    pub percent: i64,
    pub percent_text: String,
}

/// Open, not yet open, or closed, right now.
pub fn poll_state(poll: &PollRow, now: i64) -> &'static str {
    if poll.status != "open" {
        return "closed";
    }
    if poll.opens_at.is_some_and(|at| at > now) {
        return "not_open";
    }
    if poll.closes_at.is_some_and(|at| at <= now) {
        return "closed";
    }
    "open"
}

impl Polls {
    pub async fn new(store: &Store) -> Result<Polls, PollsError> {
        let keyed = crate::signing::Keyed::for_site(store, "polls").await?;
        Ok(Polls {
            keyed,
            ballots: ballots::BallotBox::start(store.clone()),
            sidebar: Arc::default(),
            definitions: RwLock::default(),
            refreshing: tokio::sync::Mutex::new(()),
            generation: std::sync::atomic::AtomicU64::new(0),
            form_tokens: RwLock::default(),
            address_salt: std::sync::Mutex::default(),
        })
    }

    pub async fn definition(&self, store: &Store, id: i64) -> Result<Option<Arc<Definition>>, PollsError> {
        if let Some(found) = self.definitions.read().unwrap_or_else(std::sync::PoisonError::into_inner).get(&id) {
            return Ok(Some(Arc::clone(found)));
        }
        let generation = self.generation.load(std::sync::atomic::Ordering::SeqCst);
        let Some(loaded) = store.poll(id).await? else {
            return Ok(None);
        };
        let loaded = Arc::new(loaded);
        let mut kept = self.definitions.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if self.generation.load(std::sync::atomic::Ordering::SeqCst) == generation {
            kept.insert(id, Arc::clone(&loaded));
        }
        Ok(Some(loaded))
    }

    /// After an edit here, or on the jobs tick (edits on other nodes).
    pub fn forget_definitions(&self) {
        let mut kept = self.definitions.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        self.generation.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        kept.clear();
    }

    /// The slot templates read the sidebar poll from.
    pub fn sidebar_slot(&self) -> Arc<RwLock<Option<minijinja::Value>>> {
        Arc::clone(&self.sidebar)
    }

    fn tag(&self, parts: &[&str]) -> String {
        self.keyed.tag(parts)
    }

    /// The token in a poll's form: the same for every reader (pages are
    /// cached), never stale, and only good for this poll. The Origin check is
    /// what stops other sites; this stops forms made up elsewhere.
    pub fn form_token(&self, poll_id: i64) -> String {
        let kept = self.form_tokens.read().unwrap_or_else(std::sync::PoisonError::into_inner).get(&poll_id).cloned();
        if let Some(token) = kept {
            return token;
        }
        let token = self.tag(&["poll-form", &poll_id.to_string()]);
        let mut kept = self.form_tokens.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        // Any id can be posted to; only so many are remembered.
        if kept.len() < 1000 {
            kept.insert(poll_id, token.clone());
        }
        token
    }

    /// A new voter: the cookie value to set, and the voter id inside it.
    /// The id starts with its creation time in milliseconds, so the voters
    /// of a storm, nearly all new, are appended to the end of the votes'
    /// index: a batch then dirties a few pages of it, where random ids would
    /// scatter one page per vote (and write each to the log at commit).
    pub fn new_voter(&self) -> (String, String) {
        let milliseconds = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_millis() as u64);
        let mut random = [0u8; 10];
        rand::rng().fill_bytes(&mut random);
        let id = format!("{milliseconds:012x}{}", hex::encode(random));
        let cookie = format!("{id}.{}", self.tag(&["voter", &id]));
        (cookie, id)
    }

    /// The voter id in a cookie value, when the cookie is ours.
    pub fn voter_of(&self, cookie: &str) -> Option<String> {
        let (id, tag) = cookie.split_once('.')?;
        let expected = self.tag(&["voter", id]);
        (id.len() == 32 && crate::admin::session::same_secret(tag, &expected)).then(|| id.to_owned())
    }

    /// A client address, hashed with a salt that changes every day: enough
    /// to count votes from one address within the hour, never the address.
    pub fn address_hash(&self, address: &std::net::IpAddr, now: i64) -> String {
        let day = now / 86_400;
        let salt = {
            let mut kept = self.address_salt.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if kept.0 != day || kept.1.is_empty() {
                *kept = (day, self.tag(&["address-salt", &day.to_string()]));
            }
            kept.1.clone()
        };
        let digest = Sha256::digest(format!("{salt}:{address}").as_bytes());
        hex::encode(&digest[..16])
    }

    /// Re-reads the sidebar poll; true when what pages show of it changed
    /// (another node edited it, or its closing time passed).
    pub async fn refresh_sidebar(&self, state: &AppState) -> Result<bool, PollsError> {
        let _one_at_a_time = self.refreshing.lock().await;
        let form = match state.store.sidebar_poll_id().await? {
            Some(id) => state.store.poll(id).await?.map(|(poll, options)| {
                minijinja::Value::from_serialize(self.form(&poll, &options, crate::store::now_seconds()))
            }),
            None => None,
        };
        let mut shown = self.sidebar.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        let changed = *shown != form;
        *shown = form;
        Ok(changed)
    }

    pub fn form(&self, poll: &PollRow, options: &[OptionRow], now: i64) -> PollForm {
        PollForm {
            id: poll.id,
            question: poll.question.clone(),
            multiple: poll.multiple,
            open: poll_state(poll, now) == "open",
            csrf: self.form_token(poll.id),
            options: options
                .iter()
                .filter(|option| !option.hidden)
                .map(|option| FormOption { id: option.id, label: option.label.clone() })
                .collect(),
        }
    }
}

/// The counts of a definition replaced by the ballot box's latest tally.
pub fn with_tally(definition: &Definition, tally: &ballots::Tally) -> Definition {
    let (poll, options) = definition;
    let mut poll = poll.clone();
    poll.voters = tally.voters;
    let options = options
        .iter()
        .map(|option| {
            let mut option = option.clone();
            option.votes = tally.votes.get(&option.id).copied().unwrap_or(0);
            option
        })
        .collect();
    (poll, options)
}

/// Counts as a reader sees them: digits per the site setting, Arabic plurals.
pub fn results(state: &AppState, poll: &PollRow, options: &[OptionRow], now: i64) -> Results {
    let locale = state.locale();
    let total: i64 = options.iter().filter(|option| !option.hidden).map(|option| option.votes).sum();
    Results {
        id: poll.id,
        question: poll.question.clone(),
        open: poll_state(poll, now) == "open",
        state: poll_state(poll, now),
        voters: poll.voters,
        voters_text: locale.count(poll.voters.unsigned_abs(), &khabar_arabic::plural::VOTES),
        options: options
            .iter()
            .filter(|option| !option.hidden)
            .map(|option| {
                let percent = if total > 0 { (option.votes * 100 + total / 2) / total } else { 0 };
                ResultOption {
                    id: option.id,
                    label: option.label.clone(),
                    votes: option.votes,
                    votes_text: locale.count(option.votes.unsigned_abs(), &khabar_arabic::plural::VOTES),
                    percent,
                    percent_text: format!("{}٪", locale.number(percent)),
                }
            })
            .collect(),
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/polls", get(pages::archive))
        .route("/polls/{id}", get(pages::results_page))
        .route("/polls/{id}/vote", post(pages::vote).get(pages::vote_by_get))
        .route("/polls/{id}/state", get(pages::reader_state))
        .route("/api/content/polls/{id}", get(pages::content_api))
        .route("/api/admin/polls", post(api::create_poll))
        .route("/api/admin/polls/{id}", axum::routing::put(api::update_poll).delete(api::delete_poll))
        .route("/api/admin/polls/{id}/close", post(api::close_poll))
        .route("/api/admin/polls/{id}/reopen", post(api::reopen_poll))
}
