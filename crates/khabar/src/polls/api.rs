//! The admin API for polls (bearer token, as for articles).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use super::store::PollWrite;
use crate::accounts::tokens::ApiCaller;
use crate::app::AppState;
use crate::error::{AppError, FieldErrors};
use crate::store::now_seconds;
use crate::web::ApiJson;

pub const MIN_OPTIONS: usize = 2;
pub const MAX_OPTIONS: usize = 10;
const MAX_QUESTION_CHARS: usize = 300;
const MAX_OPTION_CHARS: usize = 150;

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Placement {
    /// "sidebar"
    Named(String),
    /// {"article": ID}
    Article { article: i64 },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PollInput {
    pub question: String,
    pub options: Vec<String>,
    #[serde(default)]
    pub multiple: bool,
    pub opens_at: Option<String>,
    pub closes_at: Option<String>,
    pub placement: Placement,
    #[serde(default)]
    pub staff_only: bool,
    #[serde(default)]
    pub address_allowance: Option<i64>,
}

fn time_field(errors: &mut FieldErrors, name: &str, value: Option<&str>) -> Option<i64> {
    let value = value.map(str::trim).filter(|value| !value.is_empty())?;
    match value.parse::<jiff::Timestamp>() {
        Ok(at) => Some(at.as_second()),
        Err(_) => {
            errors.insert(
                name.to_owned(),
                "must be an RFC 3339 time with an offset, e.g. 2026-11-29T18:00:00+03:00".into(),
            );
            None
        }
    }
}

/// Checks a poll as the API or the admin form sent it.
pub async fn validate(state: &AppState, input: PollInput) -> Result<PollWrite, AppError> {
    let mut errors = FieldErrors::new();
    let question = input.question.split_whitespace().collect::<Vec<_>>().join(" ");
    if question.is_empty() {
        errors.insert("question".into(), "must not be empty".into());
    } else if question.chars().count() > MAX_QUESTION_CHARS {
        errors.insert("question".into(), format!("at most {MAX_QUESTION_CHARS} characters"));
    }
    let options: Vec<String> =
        input.options.iter().map(|option| option.split_whitespace().collect::<Vec<_>>().join(" ")).collect();
    if options.len() < MIN_OPTIONS || options.len() > MAX_OPTIONS {
        errors.insert("options".into(), format!("between {MIN_OPTIONS} and {MAX_OPTIONS} answers"));
    } else if options.iter().any(String::is_empty) {
        errors.insert("options".into(), "no answer may be empty".into());
    } else if options.iter().any(|option| option.chars().count() > MAX_OPTION_CHARS) {
        errors.insert("options".into(), format!("each answer at most {MAX_OPTION_CHARS} characters"));
    } else {
        let mut seen = std::collections::HashSet::new();
        if !options.iter().all(|option| seen.insert(khabar_arabic::normalize::fold(option))) {
            errors.insert("options".into(), "two answers are the same".into());
        }
    }
    let opens_at = time_field(&mut errors, "opens_at", input.opens_at.as_deref());
    let closes_at = time_field(&mut errors, "closes_at", input.closes_at.as_deref());
    if let (Some(opens), Some(closes)) = (opens_at, closes_at) {
        if closes <= opens {
            errors.insert("closes_at".into(), "must be after opens_at".into());
        }
    }
    let (placement, article_id) = match input.placement {
        Placement::Named(name) if name == "sidebar" => ("sidebar".to_owned(), None),
        Placement::Named(_) => {
            errors.insert("placement".into(), "must be \"sidebar\" or {\"article\": ID}".into());
            (String::new(), None)
        }
        Placement::Article { article } => {
            if state.store.article_by_id(article).await?.is_none() {
                errors.insert("placement".into(), format!("no article {article}"));
            }
            ("article".to_owned(), Some(article))
        }
    };
    let address_allowance = input.address_allowance.unwrap_or(0);
    if !(0..=100_000).contains(&address_allowance) {
        errors.insert("address_allowance".into(), "between 0 (no limit) and 100000".into());
    }
    if !errors.is_empty() {
        let message =
            errors.iter().map(|(field, problem)| format!("{field}: {problem}")).collect::<Vec<_>>().join("; ");
        return Err(AppError::Validation { message, fields: errors });
    }
    Ok(PollWrite {
        question,
        options,
        multiple: input.multiple,
        placement,
        article_id,
        opens_at,
        closes_at,
        staff_only: input.staff_only,
        address_allowance,
    })
}

/// After a poll changed: a new sidebar poll is on every page; otherwise
/// only the pages showing this poll, and the article it is now attached to.
pub async fn changed(state: &AppState, id: i64) -> Result<(), AppError> {
    state.polls.forget_definitions();
    if state.polls.refresh_sidebar(state).await? {
        state.content_changed();
        return Ok(());
    }
    let mut touched = vec![crate::cache::tags::poll(id)];
    if let Some(article) = state.store.poll(id).await?.and_then(|(poll, _)| poll.article_id) {
        touched.push(crate::cache::tags::article(article));
    }
    state.changed(touched);
    Ok(())
}

pub async fn create_poll(
    caller: ApiCaller,
    State(state): State<AppState>,
    ApiJson(input): ApiJson<PollInput>,
) -> Result<Response, AppError> {
    let write = validate(&state, input).await?;
    let id = state.store.create_poll(&write, &format!("api:{}", caller.token_name), now_seconds()).await?;
    changed(&state, id).await?;
    Ok((StatusCode::CREATED, Json(serde_json::json!({ "id": id }))).into_response())
}

pub async fn update_poll(
    _caller: ApiCaller,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<PollInput>,
) -> Result<Json<serde_json::Value>, AppError> {
    let write = validate(&state, input).await?;
    if !state.store.update_poll(id, &write, now_seconds()).await? {
        return Err(AppError::NotFound);
    }
    changed(&state, id).await?;
    Ok(Json(serde_json::json!({ "id": id })))
}

pub async fn delete_poll(
    _caller: ApiCaller,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<StatusCode, AppError> {
    if !state.store.delete_poll(id).await? {
        return Err(AppError::NotFound);
    }
    changed(&state, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn close_poll(
    _caller: ApiCaller,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<serde_json::Value>, AppError> {
    if !state.store.set_poll_status(id, "closed", now_seconds()).await? {
        return Err(AppError::NotFound);
    }
    changed(&state, id).await?;
    Ok(Json(serde_json::json!({ "id": id, "status": "closed" })))
}

pub async fn reopen_poll(
    _caller: ApiCaller,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<serde_json::Value>, AppError> {
    if !state.store.set_poll_status(id, "open", now_seconds()).await? {
        return Err(AppError::NotFound);
    }
    changed(&state, id).await?;
    Ok(Json(serde_json::json!({ "id": id, "status": "open" })))
}
