//! Polls in the newsroom (editors and admins): create, edit, close, reopen,
//! archive, watch the counts, export them, delete.

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::api::{changed, validate, Placement, PollInput};
use super::results;
use super::store::PollRow;
use crate::admin::session::Staff;
use crate::admin::{page_with_status, render, see_other, PageForm};
use crate::app::AppState;
use crate::error::AppError;
use crate::store::now_seconds;

#[derive(Debug, Default, Clone, Deserialize, serde::Serialize)]
pub struct PollForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    question: String,
    /// One answer per line.
    #[serde(default)]
    options: String,
    multiple: Option<String>,
    #[serde(default)]
    placement: String,
    #[serde(default)]
    article_id: String,
    #[serde(default)]
    opens_at: String,
    #[serde(default)]
    closes_at: String,
    #[serde(default)]
    address_allowance: String,
    staff_only: Option<String>,
}

fn arabic_problem(field: &str) -> &'static str {
    match field {
        "question" => "اكتب السؤال (حتى ٣٠٠ حرف).",
        "options" => "اكتب من إجابتين إلى عشر، كل إجابة في سطر، دون تكرار.",
        "placement" => "اختر مكان الاستطلاع: الشريط الجانبي أو رقم مقال موجود.",
        "opens_at" => "موعد البدء غير مفهوم.",
        "closes_at" => "موعد الانتهاء غير مفهوم أو يسبق موعد البدء.",
        "address_allowance" => "حد الأصوات من العنوان الواحد بين ٠ (بلا حد) و١٠٠٠٠٠.",
        _ => "قيمة غير صحيحة.",
    }
}

/// A `datetime-local` value in the site's time zone, as RFC 3339.
fn local_time(state: &AppState, value: &str) -> Option<String> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    Some(
        value
            .parse::<jiff::civil::DateTime>()
            .ok()
            .and_then(|local| local.to_zoned(state.locale().time_zone().clone()).ok())
            .map(|zoned| zoned.timestamp().to_string())
            .unwrap_or_else(|| value.to_owned()),
    )
}

fn input_time(state: &AppState, seconds: Option<i64>) -> String {
    seconds.map(|at| state.locale().zoned(at).datetime().strftime("%Y-%m-%dT%H:%M").to_string()).unwrap_or_default()
}

fn form_of(state: &AppState, poll: &PollRow, labels: &[String]) -> PollForm {
    PollForm {
        csrf: String::new(),
        question: poll.question.clone(),
        options: labels.join("\n"),
        multiple: poll.multiple.then(|| "on".to_owned()),
        placement: poll.placement.clone(),
        article_id: poll.article_id.map(|id| id.to_string()).unwrap_or_default(),
        opens_at: input_time(state, poll.opens_at),
        closes_at: input_time(state, poll.closes_at),
        address_allowance: poll.address_allowance.to_string(),
        staff_only: poll.staff_only.then(|| "on".to_owned()),
    }
}

fn to_input(state: &AppState, form: &PollForm) -> PollInput {
    let placement = if form.placement == "article" {
        Placement::Article { article: form.article_id.trim().parse().unwrap_or(0) }
    } else {
        Placement::Named(form.placement.clone())
    };
    PollInput {
        question: form.question.clone(),
        options: form.options.lines().map(str::trim).filter(|line| !line.is_empty()).map(str::to_owned).collect(),
        multiple: form.multiple.is_some(),
        opens_at: local_time(state, &form.opens_at),
        closes_at: local_time(state, &form.closes_at),
        placement,
        staff_only: form.staff_only.is_some(),
        address_allowance: Some(
            form.address_allowance.trim().parse().unwrap_or(if form.address_allowance.trim().is_empty() {
                0
            } else {
                -1
            }),
        ),
    }
}

#[derive(serde::Serialize)]
struct ListedPoll {
    id: i64,
    question: String,
    status: &'static str,
    voters: String,
    placement: String,
}

async fn show_list(
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    form: PollForm,
    problems: Vec<&'static str>,
) -> Result<Response, AppError> {
    let now = now_seconds();
    let locale = state.locale();
    let polls: Vec<ListedPoll> = state
        .store
        .polls_list(200)
        .await?
        .into_iter()
        .map(|poll| ListedPoll {
            id: poll.id,
            question: poll.question.clone(),
            status: match (poll.status.as_str(), super::poll_state(&poll, now)) {
                ("archived", _) => "مؤرشف",
                (_, "open") => "مفتوح",
                (_, "not_open") => "لم يبدأ",
                _ => "مغلق",
            },
            voters: locale.count(poll.voters.unsigned_abs(), &khabar_arabic::plural::VOTES),
            placement: match poll.article_id {
                Some(article) if poll.placement == "article" => format!("تحت المقال {article}"),
                _ => "الشريط الجانبي".to_owned(),
            },
        })
        .collect();
    let context = minijinja::context! { polls => polls, form => form, problems => problems };
    Ok(page_with_status(status, render(state, staff, "admin/polls.html", "polls", context)?))
}

pub async fn list(State(state): State<AppState>, staff: Staff) -> Result<Response, AppError> {
    staff.require(staff.role().edits_all_articles())?;
    let form = PollForm { placement: "sidebar".to_owned(), address_allowance: "0".to_owned(), ..PollForm::default() };
    show_list(&state, &staff, StatusCode::OK, form, Vec::new()).await
}

async fn checked(
    state: &AppState,
    form: &PollForm,
) -> Result<Result<super::store::PollWrite, Vec<&'static str>>, AppError> {
    match validate(state, to_input(state, form)).await {
        Ok(write) => Ok(Ok(write)),
        Err(AppError::Validation { fields, .. }) => Ok(Err(fields.keys().map(|field| arabic_problem(field)).collect())),
        Err(other) => Err(other),
    }
}

pub async fn create(
    State(state): State<AppState>,
    staff: Staff,
    PageForm(form): PageForm<PollForm>,
) -> Result<Response, AppError> {
    staff.require(staff.role().edits_all_articles())?;
    staff.check_csrf(&form.csrf)?;
    match checked(&state, &form).await? {
        Ok(write) => {
            let id = state.store.create_poll(&write, staff.name(), now_seconds()).await?;
            changed(&state, id).await?;
            staff.audit(&state, "poll.create", &format!("#{id}")).await;
            Ok(see_other(&format!("/admin/polls/{id}")))
        }
        Err(problems) => show_list(&state, &staff, StatusCode::UNPROCESSABLE_ENTITY, form, problems).await,
    }
}

async fn show_poll(
    state: &AppState,
    staff: &Staff,
    id: i64,
    status: StatusCode,
    form: Option<PollForm>,
    problems: Vec<&'static str>,
    notice: Option<&str>,
) -> Result<Response, AppError> {
    let (poll, options) = state.store.poll(id).await?.ok_or(AppError::NotFound)?;
    let labels: Vec<String> =
        options.iter().filter(|option| !option.hidden).map(|option| option.label.clone()).collect();
    let has_votes = poll.voters > 0;
    let form = form.unwrap_or_else(|| form_of(state, &poll, &labels));
    let context = minijinja::context! {
        poll => poll,
        results => results(state, &poll, &options, now_seconds()),
        form => form,
        problems => problems,
        notice => notice,
        has_votes => has_votes,
    };
    let mut response = page_with_status(status, render(state, staff, "admin/poll.html", "polls", context)?);
    if poll.status == "open" {
        // Live counts: the page refreshes itself while the poll is open.
        response.headers_mut().insert("refresh", HeaderValue::from_static("15"));
    }
    Ok(response)
}

pub async fn edit(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    uri: axum::http::Uri,
) -> Result<Response, AppError> {
    staff.require(staff.role().edits_all_articles())?;
    let notice = crate::web::query_params(&uri).get("saved").map(|_| "حُفظ الاستطلاع وظهر على الموقع.");
    show_poll(&state, &staff, id, StatusCode::OK, None, Vec::new(), notice).await
}

pub async fn save(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    PageForm(form): PageForm<PollForm>,
) -> Result<Response, AppError> {
    staff.require(staff.role().edits_all_articles())?;
    staff.check_csrf(&form.csrf)?;
    match checked(&state, &form).await? {
        Ok(write) => {
            if !state.store.update_poll(id, &write, now_seconds()).await? {
                return Err(AppError::NotFound);
            }
            changed(&state, id).await?;
            staff.audit(&state, "poll.edit", &format!("#{id}")).await;
            Ok(see_other(&format!("/admin/polls/{id}?saved=1")))
        }
        Err(problems) => {
            show_poll(&state, &staff, id, StatusCode::UNPROCESSABLE_ENTITY, Some(form), problems, None).await
        }
    }
}

#[derive(Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    action: String,
}

pub async fn act(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    PageForm(form): PageForm<ActionForm>,
) -> Result<Response, AppError> {
    staff.require(staff.role().edits_all_articles())?;
    staff.check_csrf(&form.csrf)?;
    let now = now_seconds();
    let done = match form.action.as_str() {
        "close" => state.store.set_poll_status(id, "closed", now).await?,
        "reopen" => state.store.set_poll_status(id, "open", now).await?,
        "archive" => state.store.set_poll_status(id, "archived", now).await?,
        "delete" => {
            if !state.store.delete_poll(id).await? {
                return Err(AppError::NotFound);
            }
            changed(&state, id).await?;
            staff.audit(&state, "poll.delete", &format!("#{id}")).await;
            return Ok(see_other("/admin/polls"));
        }
        _ => return Err(AppError::invalid_field("action", "close, reopen, archive or delete")),
    };
    if !done {
        return Err(AppError::NotFound);
    }
    changed(&state, id).await?;
    staff.audit(&state, &format!("poll.{}", form.action), &format!("#{id}")).await;
    Ok(see_other(&format!("/admin/polls/{id}")))
}

/// The results as CSV; `?format=json` for the same as JSON.
pub async fn export(State(state): State<AppState>, staff: Staff, Path(id): Path<i64>) -> Result<Response, AppError> {
    staff.require(staff.role().edits_all_articles())?;
    let (poll, options) = state.store.poll(id).await?.ok_or(AppError::NotFound)?;
    let mut writer = csv::Writer::from_writer(Vec::new());
    let csv_error = |error: csv::Error| AppError::Internal(error.to_string());
    writer.write_record(["poll", "question", "option_id", "option", "hidden", "votes", "voters"]).map_err(csv_error)?;
    for option in &options {
        writer
            .write_record([
                poll.id.to_string(),
                poll.question.clone(),
                option.id.to_string(),
                option.label.clone(),
                option.hidden.to_string(),
                option.votes.to_string(),
                poll.voters.to_string(),
            ])
            .map_err(csv_error)?;
    }
    let bytes = writer.into_inner().map_err(|error| AppError::Internal(error.to_string()))?;
    let mut response = (StatusCode::OK, bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    if let Ok(disposition) = HeaderValue::from_str(&format!("attachment; filename=\"poll-{id}.csv\"")) {
        headers.insert(header::CONTENT_DISPOSITION, disposition);
    }
    Ok(response)
}

pub async fn export_json(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    staff.require(staff.role().edits_all_articles())?;
    let (poll, options) = state.store.poll(id).await?.ok_or(AppError::NotFound)?;
    Ok(axum::Json(serde_json::json!({ "poll": poll, "options": options })).into_response())
}
