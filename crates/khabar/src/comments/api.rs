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

/// approve, reject or spam; ban-email and ban-address also mark the comment spam.
pub async fn act(
    caller: ApiCaller,
    State(state): State<AppState>,
    Path((id, action)): Path<(i64, String)>,
) -> Result<Response, AppError> {
    let (status, ban) = match action.as_str() {
        "approve" => ("approved", None),
        "reject" => ("rejected", None),
        "spam" => ("spam", None),
        "ban-email" => ("spam", Some("email")),
        "ban-address" => ("spam", Some("address")),
        _ => return Err(AppError::NotFound),
    };
    let before = state.store.comment(id).await?.ok_or(AppError::NotFound)?;
    if let Some(kind) = ban {
        let value = if kind == "email" { &before.email_hash } else { &before.address_hash };
        state.store.ban_commenter(kind, value, &format!("token:{}", caller.token_name), now_seconds()).await?;
    }
    state.store.set_comment_status(id, status, now_seconds()).await?.ok_or(AppError::NotFound)?;
    // Pages change when a comment appears there or leaves it.
    if before.status == "approved" || status == "approved" {
        state.content_changed();
    }
    Ok(Json(serde_json::json!({ "id": id, "status": status, "banned": ban })).into_response())
}

pub async fn delete(
    _caller: ApiCaller,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let before = state.store.comment(id).await?.ok_or(AppError::NotFound)?;
    state.store.delete_comment(id).await?.ok_or(AppError::NotFound)?;
    if before.status == "approved" {
        state.content_changed();
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}
