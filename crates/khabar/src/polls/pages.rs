//! Voting and results for readers, and the public JSON.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use serde::Serialize;

use super::store::{Ballot, Counted};
use super::{poll_state, results, Results, VOTER_COOKIE, VOTER_COOKIE_SECONDS};
use crate::app::AppState;
use crate::error::{AppError, PageForPeople};
use crate::store::now_seconds;
use crate::web::wants_json;

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Serialize)]
struct ErrorDetail<'a> {
    code: &'a str,
    message: &'a str,
}

/// A refusal in the client's language: JSON for scripts, an Arabic page for people.
async fn refuse(
    state: &AppState,
    json: bool,
    status: StatusCode,
    code: &str,
    message: &str,
    arabic: &str,
) -> Result<Response, AppError> {
    if json {
        let body = ErrorBody { error: ErrorDetail { code, message } };
        let mut response = (status, axum::Json(body)).into_response();
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response.extensions_mut().insert(PageForPeople);
        return Ok(response);
    }
    let html = state.templates.render_error(state, status.as_u16(), "تعذّر التصويت", arabic, None);
    let mut response = (status, [(header::CACHE_CONTROL, "no-store")], Html(html)).into_response();
    response.extensions_mut().insert(PageForPeople);
    Ok(response)
}

fn voter_cookie(state: &AppState, value: &str) -> HeaderValue {
    let cookie = cookie::Cookie::build((VOTER_COOKIE, value.to_owned()))
        .path("/")
        .http_only(true)
        .same_site(cookie::SameSite::Lax)
        .secure(state.base_url().starts_with("https://"))
        .max_age(cookie::time::Duration::seconds(VOTER_COOKIE_SECONDS))
        .build();
    HeaderValue::from_str(&cookie.to_string()).unwrap_or(HeaderValue::from_static("khabar_voter=; Max-Age=0; Path=/"))
}

fn read_voter(state: &AppState, headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|line| line.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == VOTER_COOKIE)
        .and_then(|(_, value)| state.polls.voter_of(value))
}

/// Whether a staff member is logged in on this browser (for staff-only polls).
async fn is_staff(state: &AppState, headers: &HeaderMap) -> Result<bool, AppError> {
    let Some(token) = crate::admin::session::read_cookie(state, headers, crate::admin::session::SESSION_COOKIE) else {
        return Ok(false);
    };
    Ok(state.store.session(&token, now_seconds()).await?.is_some())
}

pub async fn vote(
    State(state): State<AppState>,
    ConnectInfo(address): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    body: Bytes,
) -> Result<Response, AppError> {
    let json = wants_json(&headers);
    if !crate::admin::same_origin(&state, &headers) {
        return refuse(
            &state,
            json,
            StatusCode::FORBIDDEN,
            "forbidden",
            "cross-site vote refused",
            "لا يُقبل التصويت من موقع آخر.",
        )
        .await;
    }
    let mut choices = Vec::new();
    let mut token = String::new();
    for (key, value) in form_urlencoded::parse(&body) {
        match key.as_ref() {
            "option" => match value.trim().parse::<i64>() {
                Ok(option) => choices.push(option),
                Err(_) => {
                    return refuse(
                        &state,
                        json,
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "validation_failed",
                        "option must be an option id",
                        "اختر إجابة من القائمة.",
                    )
                    .await
                }
            },
            "csrf" => token = value.into_owned(),
            _ => {}
        }
    }
    if !crate::admin::session::same_secret(&token, &state.polls.form_token(id)) {
        return refuse(
            &state,
            json,
            StatusCode::FORBIDDEN,
            "forbidden",
            "missing or invalid csrf token",
            "انتهت صلاحية النموذج. أعد تحميل الصفحة وصوّت مجددًا.",
        )
        .await;
    }
    let Some(definition) = state.polls.definition(&state.store, id).await? else {
        return Err(AppError::NotFound);
    };
    let (poll, options) = &*definition;
    let now = now_seconds();
    match poll_state(poll, now) {
        "not_open" => {
            return refuse(
                &state,
                json,
                StatusCode::CONFLICT,
                "poll_not_open",
                "the poll is not open yet",
                "لم يبدأ هذا التصويت بعد.",
            )
            .await
        }
        "closed" => {
            return refuse(
                &state,
                json,
                StatusCode::CONFLICT,
                "poll_closed",
                "the poll is closed",
                "انتهى هذا التصويت؛ النتائج معروضة في صفحته.",
            )
            .await
        }
        _ => {}
    }
    if poll.staff_only && !is_staff(&state, &headers).await? {
        return refuse(
            &state,
            json,
            StatusCode::FORBIDDEN,
            "forbidden",
            "this poll is for logged-in staff",
            "هذا التصويت لأعضاء غرفة الأخبار فقط.",
        )
        .await;
    }
    choices.sort_unstable();
    choices.dedup();
    let valid = !choices.is_empty()
        && (poll.multiple || choices.len() == 1)
        && choices.iter().all(|choice| options.iter().any(|option| option.id == *choice && !option.hidden));
    if !valid {
        let (message, arabic) = if choices.is_empty() {
            ("choose an option", "اختر إجابة قبل التصويت.")
        } else if !poll.multiple && choices.len() > 1 {
            ("this poll takes one option", "هذا التصويت يقبل إجابة واحدة.")
        } else {
            ("an option does not belong to this poll", "إحدى الإجابات لا تخص هذا التصويت.")
        };
        return refuse(&state, json, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", message, arabic).await;
    }
    let (voter, new_cookie) = match read_voter(&state, &headers) {
        Some(voter) => (voter, None),
        None => {
            let (cookie, voter) = state.polls.new_voter();
            (voter, Some(cookie))
        }
    };
    let ballot = Ballot {
        poll_id: id,
        voter,
        address_hash: if poll.address_allowance > 0 {
            state.polls.address_hash(&address.ip(), now)
        } else {
            String::new()
        },
        option_ids: choices,
        address_allowance: poll.address_allowance,
    };
    let (counted, snapshot) = state.polls.ballots.cast(ballot).await?;
    let (status, counted_code) = match counted {
        Counted::Accepted => (StatusCode::OK, "accepted"),
        Counted::AlreadyVoted => (StatusCode::OK, "already_voted"),
        Counted::OverAllowance => (StatusCode::TOO_MANY_REQUESTS, "over_allowance"),
    };
    let shown_with_counts = || {
        let (counted_poll, counted_options) = super::with_tally(&definition, &snapshot.tally);
        results(&state, &counted_poll, &counted_options, now)
    };
    let mut response = if json {
        let voted = counted != Counted::OverAllowance;
        let shown =
            snapshot.rendered(|| serde_json::to_vec(&shown_with_counts()).unwrap_or_else(|_| b"null".to_vec()).into());
        let mut answer = Vec::with_capacity(shown.len() + 64);
        answer.extend_from_slice(format!(r#"{{"counted":"{counted_code}","voted":{voted},"results":"#).as_bytes());
        answer.extend_from_slice(&shown);
        answer.push(b'}');
        let mut response = (status, answer).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        response
    } else {
        let shown = shown_with_counts();
        let notice = match counted {
            Counted::Accepted => "شكرًا، حُسب صوتك.",
            Counted::AlreadyVoted => "صوّتَّ في هذا الاستطلاع من قبل؛ صوتك الأول هو المحسوب.",
            Counted::OverAllowance => "وصلت من عنوانك أصوات كثيرة في هذا الاستطلاع خلال الساعة الأخيرة. حاول لاحقًا.",
        };
        let html = render_results(&state, &shown, Some(notice)).await?;
        (status, Html(html)).into_response()
    };
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(cookie) = new_cookie {
        headers.insert(header::SET_COOKIE, voter_cookie(&state, &cookie));
    }
    response.extensions_mut().insert(PageForPeople);
    Ok(response)
}

/// Votes are never taken by GET: a link or an image elsewhere must not vote.
pub async fn vote_by_get(Path(id): Path<i64>) -> Response {
    let mut response = (StatusCode::METHOD_NOT_ALLOWED, [(header::ALLOW, "POST")]).into_response();
    let _ = id;
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn render_results(state: &AppState, shown: &Results, notice: Option<&str>) -> Result<String, AppError> {
    let context = minijinja::context! {
        site => state.site_view(),
        sections => crate::sections::navigation(state, now_seconds()).await?,
        current_section => "none",
        results => shown,
        notice => notice,
        view => "poll",
    };
    Ok(state.templates.render("poll.html", context)?)
}

/// This reader's view of a poll, for the page script: never cached, since it
/// differs from reader to reader.
pub async fn reader_state(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let (poll, options) = state.store.poll(id).await?.ok_or(AppError::NotFound)?;
    let voted = match read_voter(&state, &headers) {
        Some(voter) => state.store.has_voted(id, &voter).await?,
        None => false,
    };
    let shown = results(&state, &poll, &options, now_seconds());
    let mut response = axum::Json(serde_json::json!({ "voted": voted, "results": shown })).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

pub async fn results_page(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Response, AppError> {
    let (poll, options) = state.store.poll(id).await?.ok_or(AppError::NotFound)?;
    let shown = results(&state, &poll, &options, now_seconds());
    let html = render_results(&state, &shown, None).await?;
    let mut response = Html(html).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// `/polls`: every poll that is not archived... and the archived ones too:
/// readers come back for past results.
pub async fn archive(State(state): State<AppState>) -> Result<Response, AppError> {
    let now = now_seconds();
    let mut shown = Vec::new();
    for poll in state.store.polls_list(100).await? {
        if let Some((poll, options)) = state.store.poll(poll.id).await? {
            shown.push(results(&state, &poll, &options, now));
        }
    }
    let context = minijinja::context! {
        site => state.site_view(),
        sections => crate::sections::navigation(&state, now).await?,
        current_section => "none",
        polls => shown,
        view => "polls",
    };
    let html = state.templates.render("polls.html", context)?;
    let mut response = Html(html).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

pub async fn content_api(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Response, AppError> {
    let (poll, options) = state.store.poll(id).await?.ok_or(AppError::NotFound)?;
    let now = now_seconds();
    let shown = results(&state, &poll, &options, now);
    let body = serde_json::json!({
        "id": poll.id,
        "question": poll.question,
        "multiple": poll.multiple,
        "state": shown.state,
        "open": shown.open,
        "opens_at": poll.opens_at,
        "closes_at": poll.closes_at,
        "voters": poll.voters,
        "options": shown.options.iter().map(|option| serde_json::json!({
            "id": option.id, "label": option.label, "votes": option.votes, "percent": option.percent,
        })).collect::<Vec<_>>(),
    });
    let mut response = axum::Json(body).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
