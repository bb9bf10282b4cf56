//! What a reader does with comments besides posting: the later pages of a
//! thread, the form ticket, their own comments (seen, edited or deleted for
//! ten minutes from the browser that wrote them), and reports (إبلاغ).
//! Everything here that depends on the reader is `no-store`: the shared,
//! cached article page never carries it.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use serde::Serialize;

use super::format::format;
use super::pages::{article_comments, comments_open, hold_reason, refuse, thread};
use super::store::{CommentRow, CommentTextChange};
use super::{EDIT_WINDOW_SECONDS, MAX_BODY_CHARS};
use crate::app::AppState;
use crate::cache::render::{cached_or_render, RenderedPage};
use crate::error::AppError;
use crate::store::now_seconds;
use crate::web::{article_path, wants_json};

fn private(mut response: Response) -> Response {
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response.headers_mut().insert("x-robots-tag", HeaderValue::from_static("noindex"));
    response
}

fn redirect(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    private(response)
}

/// `GET /news/{id}/comments?page=N`: a later page of the thread (page 1 is the article itself).
pub async fn thread_page(
    State(state): State<AppState>,
    Path(article_id): Path<i64>,
    uri: Uri,
    request_headers: HeaderMap,
) -> Result<Response, AppError> {
    let page = match crate::web::query_params(&uri).get("page").map(|page| page.parse::<i64>()) {
        None => 1,
        Some(Ok(page)) if page >= 1 => page,
        Some(_) => return Err(AppError::BadRequest("page must be a whole number from 1".to_owned())),
    };
    let now = now_seconds();
    let article =
        state.store.article_by_id(article_id).await?.filter(|row| row.is_visible(now)).ok_or(AppError::NotFound)?;
    let path = article_path(article.id, &article.slug);
    if page == 1 {
        return Ok(redirect(&format!("{path}#comments")));
    }
    let rendered = cached_or_render(&state, format!("comments:{article_id}:{page}"), || async {
        let comments = article_comments(&state, &(&article).into(), page, now).await?.ok_or(AppError::NotFound)?;
        if comments.page != page {
            return Err(AppError::NotFound);
        }
        let html = state.templates.render(
            "comments_page.html",
            minijinja::context! {
                site => state.site_view(),
                sections => crate::sections::navigation(&state, now).await?,
                current_section => article.section_slug,
                article_title => article.title,
                article_path => path,
                comments => comments,
                view => "comments-page",
            },
        )?;
        Ok(RenderedPage::new(html).tagged(vec![crate::cache::tags::article(article_id)]))
    })
    .await?;
    Ok(rendered.respond(&request_headers))
}

/// `GET /news/{id}/comments/ticket`: the signed time the reader began writing.
pub async fn ticket(State(state): State<AppState>, Path(article_id): Path<i64>) -> Response {
    let ticket = state.comments.ticket(article_id, now_seconds());
    private(axum::Json(serde_json::json!({ "ticket": ticket })).into_response())
}

/// The comment, when this browser holds the key it was written with and the
/// ten minutes are not over.
async fn own_comment(
    state: &AppState,
    headers: &HeaderMap,
    article_id: i64,
    comment_id: i64,
) -> Result<Option<CommentRow>, AppError> {
    let wanted = format!("khabar_comment_{comment_id}");
    let Some(key) = cookies(headers).into_iter().find(|(name, _)| *name == wanted).map(|(_, value)| value) else {
        return Ok(None);
    };
    let Some(comment) = state.store.comment(comment_id).await?.filter(|row| row.article_id == article_id) else {
        return Ok(None);
    };
    let Some(stored) = state.store.comment_edit_key_hash(comment_id).await? else {
        return Ok(None);
    };
    let within_window = now_seconds() - comment.created_at < EDIT_WINDOW_SECONDS;
    let genuine = crate::admin::session::same_secret(&state.comments.edit_key_hash(&key), &stored);
    Ok((genuine && within_window && comment.status != "spam").then_some(comment))
}

fn cookies(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| cookie::Cookie::split_parse(value.to_owned()).filter_map(Result::ok).collect::<Vec<_>>())
        .map(|cookie| (cookie.name().to_owned(), cookie.value().to_owned()))
        .collect()
}

#[derive(Serialize)]
struct Mine {
    id: i64,
    parent_id: Option<i64>,
    status: String,
    name: String,
    html: String,
    markdown: String,
    editable_until: i64,
}

/// `GET /news/{id}/comments/mine`: this browser's comments under the article
/// that it may still edit (the page script shows them, pending ones too).
pub async fn mine(
    State(state): State<AppState>,
    Path(article_id): Path<i64>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let ids: Vec<i64> = cookies(&headers)
        .iter()
        .filter_map(|(name, _)| name.strip_prefix("khabar_comment_").and_then(|id| id.parse().ok()))
        .take(20)
        .collect();
    let mut comments = Vec::new();
    for id in ids {
        if let Some(row) = own_comment(&state, &headers, article_id, id).await? {
            comments.push(Mine {
                id: row.id,
                parent_id: row.parent_id,
                status: row.status,
                name: row.name,
                html: row.body_html,
                markdown: row.body_markdown,
                editable_until: row.created_at + EDIT_WINDOW_SECONDS,
            });
        }
    }
    Ok(private(axum::Json(serde_json::json!({ "comments": comments })).into_response()))
}

/// `GET /news/{id}/comments/{comment}`: where the writer lands after posting
/// without JavaScript: what became of the comment, and editing while allowed.
pub async fn own_comment_page(
    State(state): State<AppState>,
    Path((article_id, comment_id)): Path<(i64, i64)>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let now = now_seconds();
    let article =
        state.store.article_by_id(article_id).await?.filter(|row| row.is_visible(now)).ok_or(AppError::NotFound)?;
    let path = article_path(article.id, &article.slug);
    let Some(comment) = own_comment(&state, &headers, article_id, comment_id).await? else {
        // Anyone else is sent to the comment where everybody sees it, if it is there.
        return match state.store.comment(comment_id).await? {
            Some(row) if row.article_id == article_id && row.status == "approved" => {
                Ok(redirect(&format!("{path}#comment-{comment_id}")))
            }
            _ => Err(AppError::NotFound),
        };
    };
    let status = comment.status.clone();
    let markdown = comment.body_markdown.clone();
    let view = thread(&state, vec![CommentRow { parent_id: None, ..comment }]).into_iter().next();
    let html = state.templates.render(
        "comment_own.html",
        minijinja::context! {
            site => state.site_view(),
            sections => crate::sections::navigation(&state, now).await?,
            current_section => "none",
            article_id => article_id,
            article_title => article.title,
            article_path => path,
            comment => view,
            status => status,
            markdown => markdown,
            csrf => state.comments.form_token(article_id),
            view => "comment-own",
        },
    )?;
    Ok(private(Html(html).into_response()))
}

/// The fields of the small forms on these pages.
fn read_fields(body: &[u8]) -> std::collections::HashMap<String, String> {
    form_urlencoded::parse(body).into_owned().collect()
}

fn check_form(
    state: &AppState,
    headers: &HeaderMap,
    article_id: i64,
    fields: &std::collections::HashMap<String, String>,
    json: bool,
) -> Option<Response> {
    if !crate::admin::same_origin(state, headers) {
        return Some(refuse(
            state,
            json,
            StatusCode::FORBIDDEN,
            "forbidden",
            "cross-site request refused",
            "لا يُقبل الطلب من موقع آخر.",
        ));
    }
    let given = fields.get("csrf").map(String::as_str).unwrap_or("");
    if !crate::admin::session::same_secret(given, &state.comments.form_token(article_id)) {
        return Some(refuse(
            state,
            json,
            StatusCode::FORBIDDEN,
            "forbidden",
            "missing or invalid csrf token",
            "انتهت صلاحية النموذج. أعد تحميل الصفحة وحاول مجددًا.",
        ));
    }
    None
}

fn window_over(state: &AppState, json: bool) -> Response {
    refuse(
        state,
        json,
        StatusCode::FORBIDDEN,
        "edit_window_over",
        "this comment can no longer be changed from this browser (10 minutes after posting, same browser only)",
        "لا يمكن تعديل التعليق أو حذفه إلا من المتصفح الذي كُتب منه وخلال عشر دقائق من نشره.",
    )
}

/// A form about the reader's own comment, accepted: the comment, the form's
/// fields, and whether the client wants JSON.
struct OwnPost {
    comment: CommentRow,
    fields: std::collections::HashMap<String, String>,
    json: bool,
}

/// Same site, this article's form token, and this browser's key within the
/// ten minutes; otherwise the refusal to send.
async fn own_post(
    state: &AppState,
    headers: &HeaderMap,
    article_id: i64,
    comment_id: i64,
    body: &[u8],
) -> Result<Result<OwnPost, Response>, AppError> {
    let json = wants_json(headers);
    let fields = read_fields(body);
    if let Some(refusal) = check_form(state, headers, article_id, &fields, json) {
        return Ok(Err(refusal));
    }
    Ok(match own_comment(state, headers, article_id, comment_id).await? {
        Some(comment) => Ok(OwnPost { comment, fields, json }),
        None => Err(window_over(state, json)),
    })
}

/// `POST /news/{id}/comments/{comment}/edit` (field `body`).
pub async fn edit_own(
    State(state): State<AppState>,
    Path((article_id, comment_id)): Path<(i64, i64)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    let OwnPost { comment, fields, json } = match own_post(&state, &headers, article_id, comment_id, &body).await? {
        Ok(post) => post,
        Err(refusal) => return Ok(refusal),
    };
    let now = now_seconds();
    let article = state.store.article_for_comments(article_id).await?.ok_or(AppError::NotFound)?;
    if !comments_open(&state, &article, now) {
        return Ok(refuse(
            &state,
            json,
            StatusCode::CONFLICT,
            "comments_closed",
            "comments are closed on this article",
            "التعليقات مغلقة على هذا الخبر.",
        ));
    }
    let text = fields.get("body").map(|body| body.trim()).unwrap_or("");
    if text.is_empty() {
        return Ok(refuse(
            &state,
            json,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            "the comment is empty",
            "اكتب تعليقك.",
        ));
    }
    if text.chars().count() > MAX_BODY_CHARS {
        return Ok(refuse(
            &state,
            json,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            "the comment is longer than 5000 characters",
            "التعليق أطول من ٥٠٠٠ حرف.",
        ));
    }
    let formatted = format(text);
    // Editing never lets a held comment out: it keeps waiting, or starts
    // waiting when the new text has what holds any comment.
    let reason = hold_reason(&state, text, &comment.name, formatted.links, true).await?;
    let (status, held_for) = match (comment.status.as_str(), reason) {
        ("approved", "") => ("approved", ""),
        ("approved", reason) => ("pending", reason),
        (_, "") => ("pending", comment.held_for.as_str()),
        (_, reason) => ("pending", reason),
    };
    state
        .store
        .update_comment_text(
            comment_id,
            &CommentTextChange {
                body_markdown: text,
                body_html: &formatted.html,
                status,
                held_for,
                editor_note: &comment.editor_note,
            },
            now,
        )
        .await?;
    if comment.status == "approved" {
        state.changed(vec![crate::cache::tags::article(article_id)]);
    }
    if json {
        let body = serde_json::json!({ "id": comment_id, "status": status, "html": formatted.html });
        return Ok(private(axum::Json(body).into_response()));
    }
    Ok(redirect(&format!("/news/{article_id}/comments/{comment_id}")))
}

/// `POST /news/{id}/comments/{comment}/delete`.
pub async fn delete_own(
    State(state): State<AppState>,
    Path((article_id, comment_id)): Path<(i64, i64)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    let OwnPost { comment, json, .. } = match own_post(&state, &headers, article_id, comment_id, &body).await? {
        Ok(post) => post,
        Err(refusal) => return Ok(refusal),
    };
    state.store.delete_comment(comment_id).await?;
    if comment.status == "approved" {
        state.changed(vec![crate::cache::tags::article(article_id)]);
    }
    if json {
        return Ok(private(axum::Json(serde_json::json!({ "id": comment_id, "deleted": true })).into_response()));
    }
    Ok(redirect(&format!("/news/{article_id}#comments")))
}

async fn reportable(state: &AppState, article_id: i64, comment_id: i64) -> Result<(CommentRow, String), AppError> {
    let now = now_seconds();
    let article =
        state.store.article_by_id(article_id).await?.filter(|row| row.is_visible(now)).ok_or(AppError::NotFound)?;
    let comment = state
        .store
        .comment(comment_id)
        .await?
        .filter(|row| row.article_id == article_id && row.status == "approved")
        .ok_or(AppError::NotFound)?;
    Ok((comment, article_path(article.id, &article.slug)))
}

async fn report_view(
    state: &AppState,
    article_id: i64,
    comment: Option<CommentRow>,
    path: &str,
    done: bool,
) -> Result<Response, AppError> {
    let now = now_seconds();
    let html = state.templates.render(
        "comment_report.html",
        minijinja::context! {
            site => state.site_view(),
            sections => crate::sections::navigation(state, now).await?,
            current_section => "none",
            article_id => article_id,
            article_path => path,
            comment => comment.map(|row| thread(state, vec![CommentRow { parent_id: None, ..row }])).and_then(|views| views.into_iter().next()),
            done => done,
            csrf => state.comments.form_token(article_id),
            view => "comment-report",
        },
    )?;
    Ok(private(Html(html).into_response()))
}

/// `GET /news/{id}/comments/{comment}/report`: asks before reporting (links
/// are followed by scanners and prefetchers; only the POST counts).
pub async fn report_page(
    State(state): State<AppState>,
    Path((article_id, comment_id)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    let (comment, path) = reportable(&state, article_id, comment_id).await?;
    report_view(&state, article_id, Some(comment), &path, false).await
}

/// `POST /news/{id}/comments/{comment}/report`: one report per reader
/// (address hash); enough of them send the comment back to the queue.
pub async fn report(
    State(state): State<AppState>,
    ConnectInfo(address): ConnectInfo<SocketAddr>,
    Path((article_id, comment_id)): Path<(i64, i64)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    let json = wants_json(&headers);
    let fields = read_fields(&body);
    if let Some(refusal) = check_form(&state, &headers, article_id, &fields, json) {
        return Ok(refusal);
    }
    let (_, path) = reportable(&state, article_id, comment_id).await?;
    let reporter = state.comments.address_hash(&address.ip());
    let threshold = i64::from(state.config.comment_reports_to_queue);
    let requeued = state.store.report_comment(comment_id, &reporter, threshold, now_seconds()).await?;
    if requeued {
        tracing::info!(comment_id, "a reported comment went back to the moderation queue");
        state.changed(vec![crate::cache::tags::article(article_id)]);
    }
    if json {
        return Ok(private(axum::Json(serde_json::json!({ "id": comment_id, "reported": true })).into_response()));
    }
    report_view(&state, article_id, None, &path, true).await
}
