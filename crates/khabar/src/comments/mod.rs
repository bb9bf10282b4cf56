//! Readers' comments under articles (التعليقات): first-party, one level of
//! replies, moderated. The article page carries the approved comments and a
//! form that is the same for every reader, so it stays in the page cache;
//! whatever is per reader comes with the answer to their own post.

pub mod api;
pub mod format;
pub mod pages;
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
        let hash = self.tag(&["comment-edit", &key]);
        (key, hash)
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/news/{id}/comments", post(pages::post_comment).get(pages::comments_by_get))
        .route("/news/{id}/comments/{comment}/reply", get(pages::reply_page))
        .route("/api/content/articles/{id}/comments", get(pages::content_api))
        .route("/api/admin/comments", get(api::list))
        .route("/api/admin/comments/{id}", axum::routing::delete(api::delete))
        .route("/api/admin/comments/{id}/{action}", post(api::act))
}
