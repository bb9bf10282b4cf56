//! Posting a comment, and the comments as readers see them.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use serde::Serialize;

use super::format::{format, LINKS_BEFORE_REVIEW};
use super::store::{ArticleForComments, CommentRow, NewComment};
use super::{
    Mode, COMMENTS_PER_PAGE, MAX_BODY_CHARS, MAX_NAME_CHARS, RATE_WINDOW_SECONDS, REPEAT_WINDOW_SECONDS, REPLIES_SHOWN,
};
use crate::app::AppState;
use crate::error::{AppError, PageForPeople};
use crate::newsletter::addresses::{normalize_email, normalize_name, AddressError};
use crate::store::now_seconds;
use crate::web::wants_json;

/// A refusal in the client's language: JSON for scripts, an Arabic page for people.
pub(super) fn refuse(
    state: &AppState,
    json: bool,
    status: StatusCode,
    code: &str,
    message: &str,
    arabic: &str,
) -> Response {
    let mut response = if json {
        let body = serde_json::json!({ "error": { "code": code, "message": message, "arabic": arabic } });
        (status, axum::Json(body)).into_response()
    } else {
        let html = state.templates.render_error(state, status.as_u16(), "تعذّر نشر التعليق", arabic, None);
        (status, Html(html)).into_response()
    };
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response.extensions_mut().insert(PageForPeople);
    response
}

/// Whether an article takes comments now: visible, not closed by an
/// editor, comments on for the site, and not past the site's time limit.
pub fn comments_open(state: &AppState, article: &ArticleForComments, now: i64) -> bool {
    let settings = state.settings();
    let published = article.status == "published" && article.published_at.is_some_and(|at| at <= now);
    let within_limit = match (settings.comments_close_after_days, article.published_at) {
        (Some(days), Some(at)) => now - at < days * 86_400,
        _ => true,
    };
    published && !settings.comments_off && !article.comments_closed && within_limit
}

/// A banned word (or phrase) in the text, compared after Arabic folding and
/// light stemming, so diacritics, tatweel, alef forms or a prefix like "وال"
/// do not slip one past.
pub fn banned_word_in(text: &str, banned: &[String]) -> bool {
    if banned.is_empty() {
        return false;
    }
    let comparable = |word: &str| {
        let folded = khabar_arabic::normalize::fold_for_stemming(word);
        let stemmed = khabar_arabic::stem::stem(&folded);
        (folded, stemmed)
    };
    let words: Vec<(String, String)> =
        khabar_arabic::normalize::tokens(text).into_iter().map(|token| comparable(&token.to_lowercase())).collect();
    banned.iter().any(|phrase| {
        let wanted: Vec<(String, String)> = khabar_arabic::normalize::tokens(phrase)
            .into_iter()
            .map(|token| comparable(&token.to_lowercase()))
            .collect();
        !wanted.is_empty()
            && words.windows(wanted.len()).any(|window| {
                window.iter().zip(&wanted).all(|((folded, stemmed), (want_folded, want_stemmed))| {
                    folded == want_folded || (stemmed.chars().count() >= 2 && stemmed == want_stemmed)
                })
            })
    })
}

#[derive(Debug, Default)]
struct CommentForm {
    name: String,
    email: String,
    body: String,
    parent: Option<String>,
    csrf: String,
    website: String,
    notify: bool,
    ticket: String,
}

fn read_form(body: &[u8]) -> CommentForm {
    let mut form = CommentForm::default();
    for (key, value) in form_urlencoded::parse(body) {
        match key.as_ref() {
            "name" => form.name = value.into_owned(),
            "email" => form.email = value.into_owned(),
            "body" => form.body = value.into_owned(),
            "parent" => form.parent = Some(value.into_owned()),
            "csrf" => form.csrf = value.into_owned(),
            "website" => form.website = value.into_owned(),
            "notify" => form.notify = !value.is_empty(),
            "ticket" => form.ticket = value.into_owned(),
            _ => {}
        }
    }
    form
}

#[derive(Serialize)]
struct Posted<'a> {
    id: i64,
    status: &'a str,
    /// The comment as it will appear (also while it waits, for its writer only).
    html: &'a str,
    message: &'a str,
}

pub async fn post_comment(
    State(state): State<AppState>,
    ConnectInfo(address): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(article_id): Path<i64>,
    body: Bytes,
) -> Result<Response, AppError> {
    let json = wants_json(&headers);
    if !crate::admin::same_origin(&state, &headers) {
        return Ok(refuse(
            &state,
            json,
            StatusCode::FORBIDDEN,
            "forbidden",
            "cross-site comment refused",
            "لا يُقبل التعليق من موقع آخر.",
        ));
    }
    let form = read_form(&body);
    if !crate::admin::session::same_secret(&form.csrf, &state.comments.form_token(article_id)) {
        return Ok(refuse(
            &state,
            json,
            StatusCode::FORBIDDEN,
            "forbidden",
            "missing or invalid csrf token",
            "انتهت صلاحية النموذج. أعد تحميل الصفحة واكتب تعليقك مجددًا.",
        ));
    }
    let now = now_seconds();
    let article = state.store.article_for_comments(article_id).await?.ok_or(AppError::NotFound)?;
    if !(article.status == "published" && article.published_at.is_some_and(|at| at <= now)) {
        return Err(AppError::NotFound);
    }
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
    // A filled honeypot is a script: answered like a held comment, stored nowhere.
    if !form.website.trim().is_empty() {
        let message = "شكرًا، تعليقك بانتظار مراجعة المحررين.";
        return Ok(answer(&state, json, article_id, 0, "pending", "", message));
    }

    let invalid = |field: &str, message: &str, arabic: &str| {
        let mut response = refuse(&state, json, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", message, arabic);
        if json {
            response
                .headers_mut()
                .insert("x-khabar-field", HeaderValue::from_str(field).unwrap_or(HeaderValue::from_static("form")));
        }
        response
    };
    let name = match normalize_name(&form.name) {
        Ok(name) if name.chars().count() <= MAX_NAME_CHARS => name,
        Ok(_) | Err(AddressError::LongName) => {
            return Ok(invalid("name", "the name is longer than 60 characters", "الاسم أطول من ٦٠ حرفًا."))
        }
        Err(error) => return Ok(invalid("name", &error.to_string(), error.arabic())),
    };
    let email = match normalize_email(&form.email) {
        Ok(email) => email,
        Err(error) => return Ok(invalid("email", &error.to_string(), error.arabic())),
    };
    let text = form.body.trim();
    if text.is_empty() {
        return Ok(invalid("body", "the comment is empty", "اكتب تعليقك."));
    }
    if text.chars().count() > MAX_BODY_CHARS {
        return Ok(invalid("body", "the comment is longer than 5000 characters", "التعليق أطول من ٥٠٠٠ حرف."));
    }
    let parent_id = match form.parent.as_deref().map(str::trim).filter(|parent| !parent.is_empty()) {
        None => None,
        Some(raw) => {
            let parent = match raw.parse::<i64>() {
                Ok(id) => state.store.comment(id).await?,
                Err(_) => None,
            };
            match parent {
                Some(parent)
                    if parent.article_id == article_id && parent.status == "approved" && parent.parent_id.is_none() =>
                {
                    Some(parent.id)
                }
                _ => {
                    return Ok(invalid(
                        "parent",
                        "parent must be an approved top-level comment on this article",
                        "التعليق الذي تردّ عليه غير موجود تحت هذا الخبر.",
                    ))
                }
            }
        }
    };

    let email_hash = state.comments.email_hash(&email);
    let address_hash = state.comments.address_hash(&address.ip());
    if state.store.is_banned_commenter(&email_hash, &address_hash).await? {
        return Ok(refuse(
            &state,
            json,
            StatusCode::FORBIDDEN,
            "banned",
            "this reader may not comment",
            "لا يمكنك التعليق على هذا الموقع.",
        ));
    }
    let (by_email, by_address) =
        state.store.comments_since(&email_hash, &address_hash, now - RATE_WINDOW_SECONDS).await?;
    if by_email >= i64::from(state.config.comments_per_email)
        || by_address >= i64::from(state.config.comments_per_address)
    {
        let mut response = refuse(
            &state,
            json,
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many comments in a short time; try again in a few minutes",
            "كتبت تعليقات كثيرة في وقت قصير. حاول بعد دقائق.",
        );
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("600"));
        return Ok(response);
    }
    if state.store.same_comment_since(&email_hash, text, now - REPEAT_WINDOW_SECONDS).await? {
        return Ok(refuse(
            &state,
            json,
            StatusCode::CONFLICT,
            "repeated",
            "the same comment was already posted",
            "نشرت هذا التعليق نفسه من قبل.",
        ));
    }

    let formatted = format(text);
    // Too quick to be typed by a person, or posted without the page script
    // (which fetches the ticket): held, not refused, so no reader loses a comment.
    let unhurried = state
        .comments
        .ticket_age(article_id, form.ticket.trim(), now)
        .is_some_and(|age| age >= i64::from(state.config.comments_min_seconds));
    let held_for = hold_reason(&state, text, &name, formatted.links, unhurried).await?;
    let held_for = match held_for {
        "" if Mode::from_setting(state.settings().comments_mode.as_deref()) == Mode::FirstModerated
            && !state.store.is_trusted_commenter(&email_hash).await? =>
        {
            "first_comment"
        }
        reason => reason,
    };
    let status = if held_for.is_empty() { "approved" } else { "pending" };
    let (edit_key, edit_key_hash) = state.comments.new_edit_key();
    let id = state
        .store
        .insert_comment(
            &NewComment {
                article_id,
                parent_id,
                name: &name,
                email_hash: &email_hash,
                notify_email: if form.notify { &email } else { "" },
                address_hash: &address_hash,
                body_markdown: text,
                body_html: &formatted.html,
                status,
                held_for,
                edit_key_hash: &edit_key_hash,
            },
            now,
        )
        .await?;
    if status == "approved" {
        state.changed(vec![crate::cache::tags::article(article_id)]);
        if parent_id.is_some() {
            super::notify::reply_approved(&state, id);
        }
    }
    let message = if status == "approved" {
        "شكرًا، نُشر تعليقك."
    } else {
        "شكرًا، تعليقك بانتظار مراجعة المحررين."
    };
    let mut response = answer(&state, json, article_id, id, status, &formatted.html, message);
    // The key that lets this browser edit or delete the comment for a while.
    let cookie = cookie::Cookie::build((format!("khabar_comment_{id}"), edit_key))
        .path(format!("/news/{article_id}/comments"))
        .http_only(true)
        .same_site(cookie::SameSite::Strict)
        .secure(state.base_url().starts_with("https://"))
        .max_age(cookie::time::Duration::minutes(10))
        .build();
    if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    // A hint the page script can read (the key itself stays HttpOnly): this
    // browser has comments here worth asking /mine about.
    let hint = cookie::Cookie::build(("khabar_commented", "1"))
        .path(format!("/news/{article_id}"))
        .same_site(cookie::SameSite::Strict)
        .secure(state.base_url().starts_with("https://"))
        .max_age(cookie::time::Duration::minutes(10))
        .build();
    if let Ok(value) = HeaderValue::from_str(&hint.to_string()) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    Ok(response)
}

/// Why a comment must wait for an editor whatever the site's mode ('' when
/// nothing holds it): links, banned words, or a form sent too fast.
pub(super) async fn hold_reason(
    state: &AppState,
    text: &str,
    name: &str,
    links: usize,
    unhurried: bool,
) -> Result<&'static str, AppError> {
    let settings = state.settings();
    Ok(if links >= LINKS_BEFORE_REVIEW {
        "links"
    } else if banned_word_in(text, &settings.comment_banned_words)
        || banned_word_in(name, &settings.comment_banned_words)
    {
        "banned_words"
    } else if Mode::from_setting(settings.comments_mode.as_deref()) == Mode::Moderated {
        "moderated"
    } else if !unhurried {
        "unverified"
    } else {
        ""
    })
}

pub(super) fn answer(
    state: &AppState,
    json: bool,
    article_id: i64,
    id: i64,
    status: &str,
    html: &str,
    message: &str,
) -> Response {
    let mut response = if json {
        let code = if status == "approved" { StatusCode::CREATED } else { StatusCode::ACCEPTED };
        (code, axum::Json(Posted { id, status, html, message })).into_response()
    } else {
        // To the writer's own view of the comment: its status, and editing
        // for ten minutes. A honeypot catch (id 0) goes back to the article.
        let location = if id > 0 {
            format!("/news/{article_id}/comments/{id}")
        } else {
            format!("/news/{article_id}#comments-held")
        };
        let _ = state;
        let mut response = StatusCode::SEE_OTHER.into_response();
        if let Ok(value) = HeaderValue::from_str(&location) {
            response.headers_mut().insert(header::LOCATION, value);
        }
        response
    };
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response.extensions_mut().insert(PageForPeople);
    response
}

/// A comment as pages and the content API show it.
#[derive(Debug, Clone, Serialize)]
pub struct CommentView {
    pub id: i64,
    pub name: String,
    pub html: String,
    pub created_at: String,
    pub date: crate::locale::ShownDate,
    /// Why an editor changed the text, shown under it ('' when untouched).
    pub editor_note: String,
    pub replies: Vec<CommentView>,
    /// Replies left off this view (they are on the comment's reply page), in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub more_replies: Option<String>,
}

/// An article's approved comments as a thread: top-level comments oldest
/// first, each with its replies.
pub fn thread(state: &AppState, rows: Vec<CommentRow>) -> Vec<CommentView> {
    let locale = state.locale();
    let view = |row: &CommentRow| CommentView {
        id: row.id,
        name: row.name.clone(),
        html: row.body_html.clone(),
        created_at: jiff::Timestamp::from_second(row.created_at).map(|at| at.to_string()).unwrap_or_default(),
        date: locale.date(row.created_at),
        editor_note: row.editor_note.clone(),
        replies: Vec::new(),
        more_replies: None,
    };
    let mut top: Vec<CommentView> = rows.iter().filter(|row| row.parent_id.is_none()).map(view).collect();
    for reply in rows.iter().filter(|row| row.parent_id.is_some()) {
        if let Some(parent) = top.iter_mut().find(|parent| Some(parent.id) == reply.parent_id) {
            parent.replies.push(view(reply));
        }
    }
    top
}

pub async fn content_api(State(state): State<AppState>, Path(article_id): Path<i64>) -> Result<Response, AppError> {
    let now = now_seconds();
    let article = state.store.article_for_comments(article_id).await?.ok_or(AppError::NotFound)?;
    if !(article.status == "published" && article.published_at.is_some_and(|at| at <= now)) {
        return Err(AppError::NotFound);
    }
    let comments = thread(&state, state.store.approved_comments(article_id).await?);
    let count: usize = comments.iter().map(|comment| 1 + comment.replies.len()).sum();
    let body = serde_json::json!({
        "article_id": article_id,
        "open": comments_open(&state, &article, now),
        "count": count,
        "comments": comments,
    });
    Ok(axum::Json(body).into_response())
}

/// What the article page shows of its comments: the same for every reader.
#[derive(Debug, Serialize)]
pub struct ArticleComments {
    pub article_id: i64,
    pub open: bool,
    pub csrf: String,
    pub count: i64,
    pub count_text: String,
    pub thread: Vec<CommentView>,
    /// 1-based page of top-level comments, and how many pages there are.
    pub page: i64,
    pub pages: i64,
}

/// One page of an article's thread (the article page shows the first).
/// None when comments are off for the site and the article has none to show.
pub async fn article_comments(
    state: &AppState,
    article: &ArticleForComments,
    page: i64,
    now: i64,
) -> Result<Option<ArticleComments>, AppError> {
    let article_id = article.id;
    let open = comments_open(state, article, now);
    let (count, top_level) = state.store.approved_comment_totals(article_id).await?;
    if !open && count == 0 && state.settings().comments_off {
        return Ok(None);
    }
    let pages = ((top_level + COMMENTS_PER_PAGE - 1) / COMMENTS_PER_PAGE).max(1);
    let page = page.clamp(1, pages);
    let rows =
        state.store.approved_comments_page(article_id, (page - 1) * COMMENTS_PER_PAGE, COMMENTS_PER_PAGE).await?;
    let mut thread = thread(state, rows);
    let locale = state.locale();
    for comment in &mut thread {
        let hidden = comment.replies.len().saturating_sub(REPLIES_SHOWN);
        if hidden > 0 {
            comment.replies.truncate(REPLIES_SHOWN);
            comment.more_replies = Some(locale.count(hidden as u64, &khabar_arabic::plural::REPLIES));
        }
    }
    Ok(Some(ArticleComments {
        article_id,
        open,
        csrf: state.comments.form_token(article_id),
        count,
        count_text: state.locale().count(count.unsigned_abs(), &khabar_arabic::plural::COMMENTS),
        thread,
        page,
        pages,
    }))
}

/// Replying without JavaScript: the comment answered, and a form for the reply.
pub async fn reply_page(
    State(state): State<AppState>,
    Path((article_id, comment_id)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    let now = now_seconds();
    let row = state.store.article_by_id(article_id).await?.ok_or(AppError::NotFound)?;
    let parent = state.store.comment(comment_id).await?.ok_or(AppError::NotFound)?;
    if !row.is_visible(now)
        || parent.article_id != article_id
        || parent.status != "approved"
        || parent.parent_id.is_some()
    {
        return Err(AppError::NotFound);
    }
    let article = ArticleForComments::from(&row);
    let mut rows = vec![parent];
    rows.extend(state.store.approved_replies(article_id, comment_id).await?);
    let parent = thread(&state, rows).into_iter().next().ok_or(AppError::NotFound)?;
    let html = state.templates.render(
        "comment_reply.html",
        minijinja::context! {
            site => state.site_view(),
            sections => crate::sections::navigation(&state, now).await?,
            current_section => "none",
            article_id => article_id,
            article_title => row.title,
            parent => parent,
            open => comments_open(&state, &article, now),
            csrf => state.comments.form_token(article_id),
            // This page is never cached, so it can carry the time it was opened.
            ticket => state.comments.ticket(article_id, now),
            view => "comment-reply",
        },
    )?;
    let mut response = Html(html).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response.headers_mut().insert("x-robots-tag", HeaderValue::from_static("noindex"));
    Ok(response)
}
