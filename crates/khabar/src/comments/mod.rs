//! Readers' comments under articles (التعليقات): first-party, one level of
//! replies, moderated. The article page carries the approved comments and a
//! form that is the same for every reader, so it stays in the page cache;
//! whatever is per reader comes with the answer to their own post.

pub mod admin;
pub mod api;
pub mod format;
pub mod notify;
pub mod pages;
pub mod reader;
pub mod store;

use axum::routing::{get, post};
use axum::Router;
use rand::RngCore;

use crate::app::AppState;
use crate::store::{Store, StoreError};

pub const MAX_NAME_CHARS: usize = 60;
pub const MAX_BODY_CHARS: usize = 5000;
/// The window of the per-email and per-address limits (khabar.toml's comments_per_*).
pub const RATE_WINDOW_SECONDS: i64 = 600;
/// The same text from the same reader within this time is a repeat.
pub const REPEAT_WINDOW_SECONDS: i64 = 24 * 3600;
/// How long the writer's browser may edit or delete a comment.
pub const EDIT_WINDOW_SECONDS: i64 = 600;
/// Top-level comments per page of a thread. With at most REPLIES_SHOWN
/// replies each, a page of a long thread stays a few times the size of the
/// article itself, so rendering it stays cheap.
pub const COMMENTS_PER_PAGE: i64 = 20;
/// Replies shown under a comment in the thread; the rest are on its reply page.
pub const REPLIES_SHOWN: usize = 3;
/// A form ticket older than this is stale (the reader left the tab open for a day).
pub const TICKET_LIFETIME_SECONDS: i64 = 24 * 3600;

#[derive(Debug, thiserror::Error)]
pub enum CommentsError {
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<CommentsError> for crate::error::AppError {
    fn from(error: CommentsError) -> Self {
        match error {
            CommentsError::Store(error) => crate::error::AppError::Store(error),
        }
    }
}

/// How comments reach the page, as set in the admin's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Every comment waits for an editor.
    Moderated,
    /// A reader's first comment waits; once one is approved, the next appear at once.
    FirstModerated,
    /// Comments appear at once (links and banned words still wait).
    Open,
}

impl Mode {
    pub fn from_setting(value: Option<&str>) -> Mode {
        match value {
            Some("moderated") => Mode::Moderated,
            Some("open") => Mode::Open,
            _ => Mode::FirstModerated,
        }
    }
}

/// Signing keys of the feature.
pub struct Comments {
    keyed: crate::signing::Keyed,
}

impl Comments {
    pub async fn new(store: &Store) -> Result<Comments, CommentsError> {
        Ok(Comments { keyed: crate::signing::Keyed::for_site(store, "comments").await? })
    }

    fn tag(&self, parts: &[&str]) -> String {
        self.keyed.tag(parts)
    }

    /// The token in an article's comment form: the same for every reader
    /// (the page is cached) and good for that article only. The Origin
    /// check is what stops other sites; this stops forms made up elsewhere.
    pub fn form_token(&self, article_id: i64) -> String {
        self.tag(&["comment-form", &article_id.to_string()])
    }

    /// A reader's email as the database knows it: a keyed hash, enough to
    /// recognise the same reader again, useless to anyone who steals it.
    pub fn email_hash(&self, normalized_email: &str) -> String {
        self.tag(&["comment-email", normalized_email])
    }

    /// A client address, hashed: for bans and rate limits, never kept raw.
    pub fn address_hash(&self, address: &std::net::IpAddr) -> String {
        self.tag(&["comment-address", &address.to_string()])
    }

    /// A new key for the writer's browser (edit and delete for a while), and its hash to store.
    pub fn new_edit_key(&self) -> (String, String) {
        let mut bytes = [0u8; 16];
        rand::rng().fill_bytes(&mut bytes);
        let key = hex::encode(bytes);
        let hash = self.edit_key_hash(&key);
        (key, hash)
    }

    pub fn edit_key_hash(&self, key: &str) -> String {
        self.tag(&["comment-edit", key])
    }

    /// A ticket the page script fetches when a reader starts writing: the
    /// time the form was opened, signed. The cached form cannot carry it.
    pub fn ticket(&self, article_id: i64, issued_at: i64) -> String {
        let issued = issued_at.to_string();
        format!("{issued}.{}", self.tag(&["comment-ticket", &article_id.to_string(), &issued]))
    }

    /// Seconds since a ticket of this article was issued; None when it is forged, foreign or stale.
    pub fn ticket_age(&self, article_id: i64, ticket: &str, now: i64) -> Option<i64> {
        let (issued, _) = ticket.split_once('.')?;
        let issued_at: i64 = issued.parse().ok()?;
        let age = now - issued_at;
        let genuine = crate::admin::session::same_secret(ticket, &self.ticket(article_id, issued_at));
        (genuine && (0..=TICKET_LIFETIME_SECONDS).contains(&age)).then_some(age)
    }

    /// The signature in a reply-email's unsubscribe link.
    pub fn unsubscribe_tag(&self, email_hash: &str) -> String {
        self.tag(&["comment-unsubscribe", email_hash])
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/news/{id}/comments", post(pages::post_comment).get(reader::thread_page))
        .route("/news/{id}/comments/ticket", get(reader::ticket))
        .route("/news/{id}/comments/mine", get(reader::mine))
        .route("/news/{id}/comments/{comment}", get(reader::own_comment_page))
        .route("/news/{id}/comments/{comment}/edit", post(reader::edit_own))
        .route("/news/{id}/comments/{comment}/delete", post(reader::delete_own))
        .route("/news/{id}/comments/{comment}/report", get(reader::report_page).post(reader::report))
        .route("/news/{id}/comments/{comment}/reply", get(pages::reply_page))
        .route("/comments/unsubscribe", get(notify::unsubscribe_page).post(notify::unsubscribe))
        .route("/api/content/articles/{id}/comments", get(pages::content_api))
        .route("/api/admin/comments", get(api::list))
        .route("/api/admin/comments/erase", post(api::erase))
        .route("/api/admin/comments/{id}", axum::routing::delete(api::delete))
        .route("/api/admin/comments/{id}/{action}", post(api::act))
}
