//! Comment emails: a reader who asked is told when someone replies (with a
//! link that stops these emails), and editors get a digest of the comments
//! waiting for them.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};

use super::format::plain_excerpt;
use crate::app::AppState;
use crate::error::{AppError, PageForPeople};
use crate::store::now_seconds;

const DIGEST_JOB: &str = "comments-digest";
/// Comments listed in one digest at most (the queue has the rest).
const DIGEST_LIMIT: i64 = 50;

/// Tells the writer of the comment a newly visible reply answers, when they
/// asked to be told. Runs by itself: the reply's writer does not wait for it.
pub fn reply_approved(state: &AppState, reply_id: i64) {
    let state = state.clone();
    tokio::spawn(async move {
        if let Err(error) = send_reply_email(&state, reply_id).await {
            tracing::warn!(%error, reply_id, "could not email the writer of the comment replied to");
        }
    });
}

async fn send_reply_email(state: &AppState, reply_id: i64) -> Result<(), AppError> {
    let Some(reply) = state.store.comment(reply_id).await?.filter(|row| row.status == "approved") else {
        return Ok(());
    };
    let Some(parent) = (match reply.parent_id {
        Some(parent_id) => state.store.comment(parent_id).await?,
        None => None,
    }) else {
        return Ok(());
    };
    let to = state.store.comment_notify_email(parent.id).await?;
    // Nobody is told of their own replies.
    if to.is_empty() || parent.email_hash == reply.email_hash || parent.status != "approved" {
        return Ok(());
    }
    if !state.store.claim_reply_notification(reply_id).await? {
        return Ok(());
    }
    let Some(article) = state.store.article_by_id(reply.article_id).await? else {
        return Ok(());
    };
    let base = state.base_url();
    let base = base.trim_end_matches('/');
    let link = format!("{base}{}#comment-{}", crate::web::article_path(article.id, &article.slug), reply.id);
    let unsubscribe = format!(
        "{base}/comments/unsubscribe?reader={}&signature={}",
        parent.email_hash,
        state.comments.unsubscribe_tag(&parent.email_hash)
    );
    let context = serde_json::json!({
        "site_name": state.site_view().name,
        "name": parent.name,
        "replier": reply.name,
        "article_title": article.title,
        "excerpt": plain_excerpt(&reply.body_markdown, 300),
        "link": link,
        "unsubscribe": unsubscribe,
    });
    state
        .mailer
        .send(&state.templates, "comment_reply", &parent.name, &to, context)
        .await
        .map_err(|error| AppError::Internal(error.to_string()))?;
    Ok(())
}

fn signed_reader(state: &AppState, reader: &str, signature: &str) -> bool {
    !reader.is_empty() && crate::admin::session::same_secret(signature, &state.comments.unsubscribe_tag(reader))
}

fn page(state: &AppState, status: StatusCode, reader: &str, signature: &str, done: bool) -> Result<Response, AppError> {
    let html = state.templates.render(
        "comment_unsubscribe.html",
        minijinja::context! {
            site => state.site_view(),
            sections => Vec::<()>::new(),
            current_section => "none",
            reader => reader,
            signature => signature,
            done => done,
            view => "comment-unsubscribe",
        },
    )?;
    let mut response = (status, Html(html)).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response.headers_mut().insert("x-robots-tag", HeaderValue::from_static("noindex"));
    response.extensions_mut().insert(PageForPeople);
    Ok(response)
}

/// `GET /comments/unsubscribe`: asks first, since mail scanners follow links.
pub async fn unsubscribe_page(State(state): State<AppState>, uri: Uri) -> Result<Response, AppError> {
    let query = crate::web::query_params(&uri);
    let reader = query.get("reader").map(String::as_str).unwrap_or("");
    let signature = query.get("signature").map(String::as_str).unwrap_or("");
    if !signed_reader(&state, reader, signature) {
        return Err(AppError::NotFound);
    }
    page(&state, StatusCode::OK, reader, signature, false)
}

/// `POST /comments/unsubscribe`: no more reply emails for this reader, on any comment.
pub async fn unsubscribe(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Result<Response, AppError> {
    let fields: std::collections::HashMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
    let reader = fields.get("reader").map(String::as_str).unwrap_or("");
    let signature = fields.get("signature").map(String::as_str).unwrap_or("");
    if !crate::admin::same_origin(&state, &headers) || !signed_reader(&state, reader, signature) {
        return Err(AppError::Forbidden("invalid unsubscribe link".to_owned()));
    }
    let stopped = state.store.stop_reply_emails(reader).await?;
    tracing::info!(stopped, "a reader stopped reply emails");
    page(&state, StatusCode::OK, reader, signature, true)
}

/// The jobs loop's comment work: when new comments wait and the last digest
/// is old enough, one node emails the editors a list of them.
pub async fn pending_digest(state: &AppState) -> Result<(), AppError> {
    let hours = i64::from(state.config.comments_digest_hours);
    if hours == 0 || !state.mailer.is_configured() {
        return Ok(());
    }
    let now = now_seconds();
    let last = state.store.job_done_at(DIGEST_JOB).await?;
    if now - last < hours * 3600 {
        return Ok(());
    }
    let pending = state.store.pending_comments_since(last, DIGEST_LIMIT).await?;
    if pending.is_empty() || !state.store.claim_job(DIGEST_JOB, last, now).await? {
        return Ok(());
    }
    let total = state.store.comment_status_counts().await?.get("pending").copied().unwrap_or(0);
    let base = state.base_url();
    let base = base.trim_end_matches('/');
    let comments: Vec<serde_json::Value> = pending
        .iter()
        .map(|queued| {
            serde_json::json!({
                "name": queued.comment.name,
                "article_title": queued.article_title,
                "excerpt": plain_excerpt(&queued.comment.body_markdown, 200),
                "reason": super::admin::hold_reason_text(&queued.comment.held_for),
            })
        })
        .collect();
    let locale = state.locale();
    let context = serde_json::json!({
        "site_name": state.site_view().name,
        "comments": comments,
        "count_text": locale.count(pending.len() as u64, &khabar_arabic::plural::COMMENTS),
        "total_text": locale.count(total.unsigned_abs(), &khabar_arabic::plural::COMMENTS),
        "link": format!("{base}/admin/comments"),
    });
    for staff in state.store.list_staff().await? {
        if staff.disabled || !staff.role().edits_all_articles() {
            continue;
        }
        if let Err(error) =
            state.mailer.send(&state.templates, "comments_digest", &staff.name, &staff.email, &context).await
        {
            tracing::warn!(%error, staff = staff.id, "could not send the pending comments digest");
        }
    }
    Ok(())
}
