//! The moderation API (bearer token, as for articles), so comments can be
//! worked from scripts and apps as well as from the admin.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use crate::accounts::tokens::ApiCaller;
use crate::app::AppState;
use crate::error::AppError;
use crate::store::now_seconds;

const STATUSES: [&str; 4] = ["pending", "approved", "rejected", "spam"];

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    status: Option<String>,
    limit: Option<i64>,
}

pub async fn list(
    _caller: ApiCaller,
    State(state): State<AppState>,
    Query(query): Query<ListQuery>,
) -> Result<Json<serde_json::Value>, AppError> {
    let status = query.status.as_deref().unwrap_or("pending");
    if !STATUSES.contains(&status) {
        return Err(AppError::invalid_field("status", "must be pending, approved, rejected or spam"));
    }
    let limit = query.limit.unwrap_or(100).clamp(1, 500);
    let comments = state.store.comments_with_status(status, limit).await?;
    let counts = state.store.comment_status_counts().await?;
    Ok(Json(serde_json::json!({ "status": status, "counts": counts, "comments": comments })))
}

/// What an editor can do to a comment, from the admin or the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moderation {
    Approve,
    Reject,
    Spam,
    /// Marks it spam and refuses further comments from its email.
    BanEmail,
    /// Marks it spam and refuses further comments from its address.
    BanAddress,
    Delete,
}

impl Moderation {
    pub fn parse(action: &str) -> Option<Moderation> {
        Some(match action {
            "approve" => Moderation::Approve,
            "reject" => Moderation::Reject,
            "spam" => Moderation::Spam,
            "ban-email" => Moderation::BanEmail,
            "ban-address" => Moderation::BanAddress,
            "delete" => Moderation::Delete,
            _ => return None,
        })
    }
}

/// Applies a moderation action; None when there is no such comment. The
/// new status is returned ("deleted" for a deletion).
pub async fn moderate(
    state: &AppState,
    id: i64,
    action: Moderation,
    by: &str,
) -> Result<Option<&'static str>, AppError> {
    let Some(before) = state.store.comment(id).await? else {
        return Ok(None);
    };
    let now = now_seconds();
    let status = match action {
        Moderation::Approve => "approved",
        Moderation::Reject => "rejected",
        Moderation::Spam | Moderation::BanEmail | Moderation::BanAddress => "spam",
        Moderation::Delete => "deleted",
    };
    match action {
        Moderation::BanEmail => state.store.ban_commenter("email", &before.email_hash, by, now).await?,
        Moderation::BanAddress => state.store.ban_commenter("address", &before.address_hash, by, now).await?,
        _ => {}
    }
    let found = if action == Moderation::Delete {
        state.store.delete_comment(id).await?
    } else {
        state.store.set_comment_status(id, status, now).await?
    };
    if found.is_none() {
        return Ok(None);
    }
    // Pages change when a comment appears there or leaves it.
    if before.status == "approved" || status == "approved" {
        state.changed(vec![crate::cache::tags::article(before.article_id)]);
    }
    if status == "approved" && before.status != "approved" && before.parent_id.is_some() {
        super::notify::reply_approved(state, id);
    }
    Ok(Some(status))
}

/// approve, reject or spam; ban-email and ban-address also mark the comment spam.
pub async fn act(
    caller: ApiCaller,
    State(state): State<AppState>,
    Path((id, action)): Path<(i64, String)>,
) -> Result<Response, AppError> {
    let action = match Moderation::parse(&action) {
        Some(Moderation::Delete) | None => return Err(AppError::NotFound),
        Some(action) => action,
    };
    let by = format!("token:{}", caller.token_name);
    let status = moderate(&state, id, action, &by).await?.ok_or(AppError::NotFound)?;
    let banned = match action {
        Moderation::BanEmail => Some("email"),
        Moderation::BanAddress => Some("address"),
        _ => None,
    };
    Ok(Json(serde_json::json!({ "id": id, "status": status, "banned": banned })).into_response())
}

/// `POST /api/admin/comments/erase` with `{"email": "..."}`: deletes every
/// comment written with that email (a reader's erasure request).
pub async fn erase(
    caller: ApiCaller,
    State(state): State<AppState>,
    Json(request): Json<EraseRequest>,
) -> Result<Response, AppError> {
    let erased = erase_reader(&state, &request.email).await?;
    tracing::info!(erased, by = caller.token_name, "a reader's comments were erased");
    Ok(Json(serde_json::json!({ "erased": erased })).into_response())
}

#[derive(Debug, Deserialize)]
pub struct EraseRequest {
    email: String,
}

/// Deletes every comment written with an email; how many there were.
pub async fn erase_reader(state: &AppState, email: &str) -> Result<usize, AppError> {
    let email = crate::newsletter::addresses::normalize_email(email)
        .map_err(|error| AppError::invalid_field("email", error.to_string()))?;
    let articles = state.store.erase_commenter(&state.comments.email_hash(&email)).await?;
    if !articles.is_empty() {
        state.changed(articles.iter().map(|id| crate::cache::tags::article(*id)).collect());
    }
    Ok(articles.len())
}

pub async fn delete(
    caller: ApiCaller,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let by = format!("token:{}", caller.token_name);
    moderate(&state, id, Moderation::Delete, &by).await?.ok_or(AppError::NotFound)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
