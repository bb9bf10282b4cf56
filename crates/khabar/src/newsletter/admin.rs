//! The newsroom's side of the mailing list. Subscribers (personal data:
//! search, import, export, erase) are for admins; sends (alerts, the digest
//! on demand, their progress) are for editors and admins.

use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::import::{export_rows, import_csv};
use super::issues::{create_alert, create_confirmation_requests, create_digest};
use super::store::{SendProgress, SendRow, SubscriberRow};
use crate::admin::session::Staff;
use crate::admin::{page_with_status, render, see_other, PageForm};
use crate::app::AppState;
use crate::articles::store::ListFilter;
use crate::error::AppError;
use crate::store::now_seconds;

const PAGE_SIZE: i64 = 50;
const EXPORT_PAGE: i64 = 5000;
pub const MAX_IMPORT_BYTES: usize = 64 * 1024 * 1024;

#[derive(Serialize)]
struct SubscriberView {
    id: i64,
    email: String,
    name: String,
    status: &'static str,
    status_key: String,
    wants_digest: bool,
    wants_alerts: bool,
    source: String,
    bounces: i64,
    created: String,
}

pub fn status_label(status: &str) -> &'static str {
    match status {
        "pending" => "بانتظار التأكيد",
        "confirmed" => "مؤكَّد",
        "unsubscribed" => "ألغى اشتراكه",
        "bounced" => "بريد مرتد",
        _ => "غير معروف",
    }
}

fn subscriber_view(state: &AppState, row: SubscriberRow) -> SubscriberView {
    let created = state.locale().date(row.created_at).gregorian;
    SubscriberView {
        id: row.id,
        email: row.email,
        name: row.name,
        status: status_label(&row.status),
        status_key: row.status,
        wants_digest: row.wants_digest,
        wants_alerts: row.wants_alerts,
        source: if row.source == "import" { "استيراد".to_owned() } else { "النموذج".to_owned() },
        bounces: row.bounces,
        created,
    }
}

pub async fn subscribers(State(state): State<AppState>, staff: Staff, uri: Uri) -> Result<Response, AppError> {
    staff.require(staff.role().manages_site())?;
    let params = crate::web::query_params(&uri);
    let query = params.get("q").map(|value| value.trim().to_owned()).unwrap_or_default();
    let status = params
        .get("status")
        .cloned()
        .filter(|status| ["pending", "confirmed", "unsubscribed", "bounced"].contains(&status.as_str()));
    let before = params.get("before").and_then(|value| value.parse::<i64>().ok());
    let rows = state.store.find_subscribers(&query, status.as_deref(), before, PAGE_SIZE + 1).await?;
    let more = rows.len() as i64 > PAGE_SIZE;
    let rows: Vec<SubscriberRow> = rows.into_iter().take(PAGE_SIZE as usize).collect();
    let next = if more { rows.last().map(|row| row.id) } else { None };
    let counts = state.store.subscriber_counts().await?;
    let locale = state.locale();
    let notice = params.get("erased").map(|_| "حُذف المشترك وكل سجلات إرساله.");
    let context = minijinja::context! {
        counts => minijinja::context! {
            total => locale.number(counts.total()),
            pending => locale.number(counts.pending),
            confirmed => locale.number(counts.confirmed),
            unsubscribed => locale.number(counts.unsubscribed),
            bounced => locale.number(counts.bounced),
        },
        query => query,
        status => status,
        subscribers => rows.into_iter().map(|row| subscriber_view(&state, row)).collect::<Vec<_>>(),
        next => next,
        notice => notice,
        can_send => state.newsletter.can_send(),
    };
    Ok(Html(render(&state, &staff, "admin/newsletter.html", "newsletter", context)?).into_response())
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

pub async fn erase(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    PageForm(form): PageForm<CsrfForm>,
) -> Result<Response, AppError> {
    staff.require(staff.role().manages_site())?;
    staff.check_csrf(&form.csrf)?;
    if !state.store.erase_subscriber(id).await? {
        return Err(AppError::NotFound);
    }
    // The log keeps that someone was erased, not who: that is the point of erasing.
    staff.audit(&state, "newsletter.erase", &format!("#{id}")).await;
    Ok(see_other("/admin/newsletter?erased=1"))
}

pub async fn import(State(state): State<AppState>, staff: Staff, request: Request) -> Result<Response, AppError> {
    // The role is checked before the upload is read: others are refused without parsing it.
    staff.require(staff.role().manages_site())?;
    let mut form = Multipart::from_request(request, &state)
        .await
        .map_err(|rejection| AppError::BadRequest(rejection.body_text()))?;
    let (mut csrf, mut mode, mut file) = (String::new(), String::new(), None);
    while let Some(field) = form.next_field().await.map_err(|error| AppError::BadRequest(error.body_text()))? {
        let name = field.name().unwrap_or_default().to_owned();
        let bytes = field.bytes().await.map_err(|error| AppError::BadRequest(error.body_text()))?;
        match name.as_str() {
            "csrf" => csrf = String::from_utf8_lossy(&bytes).into_owned(),
            "mode" => mode = String::from_utf8_lossy(&bytes).into_owned(),
            "file" => file = Some(bytes),
            _ => {}
        }
    }
    staff.check_csrf(&csrf)?;
    let refused = |failure: String, confirmed: bool| -> Result<Response, AppError> {
        let context = minijinja::context! { failure => failure, confirmed => confirmed };
        Ok(page_with_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            render(&state, &staff, "admin/newsletter_import.html", "newsletter", context)?,
        ))
    };
    let confirmed = match mode.as_str() {
        "confirmed" => true,
        "pending" => false,
        _ => return refused("اختر حالة العناوين الجديدة: مؤكَّدة أو بانتظار التأكيد.".to_owned(), false),
    };
    let Some(file) = file.filter(|file| !file.is_empty()) else {
        return refused("اختر ملف CSV.".to_owned(), confirmed);
    };
    let outcome = import_csv(&state.store, file.as_ref(), confirmed, now_seconds(), |_| {}).await;
    let (status, context) = match outcome {
        Ok(report) => {
            let requests = if confirmed || report.added_ids.is_empty() {
                None
            } else if state.newsletter.can_send() {
                create_confirmation_requests(&state, &report.added_ids, staff.name()).await?
            } else {
                None
            };
            staff
                .audit(
                    &state,
                    "newsletter.import",
                    &format!(
                        "{} added, {} listed already, {} refused",
                        report.added, report.already_listed, report.refused
                    ),
                )
                .await;
            (StatusCode::OK, minijinja::context! { report => report, confirmed => confirmed, requests => requests })
        }
        Err(super::import::ImportError::Header) => {
            return refused("السطر الأول يجب أن يسمّي الأعمدة، وفيها email (وname إن وُجد).".to_owned(), confirmed)
        }
        Err(super::import::ImportError::Csv(error)) => {
            return refused(format!("الملف ليس CSV صالحًا ({error})."), confirmed)
        }
        Err(super::import::ImportError::Newsletter(error)) => return Err(error.into()),
    };
    Ok(page_with_status(status, render(&state, &staff, "admin/newsletter_import.html", "newsletter", context)?))
}

pub async fn export(State(state): State<AppState>, staff: Staff) -> Result<Response, AppError> {
    staff.require(staff.role().manages_site())?;
    staff.audit(&state, "newsletter.export", "").await;
    // Streamed a page at a time: a million rows never sit in memory together.
    let stream = export_stream(state.clone());
    let mut response = Response::new(Body::from_stream(stream));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    headers.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"subscribers.csv\""));
    Ok(response)
}

fn export_stream(
    state: AppState,
) -> impl futures_util::Stream<Item = Result<bytes::Bytes, std::io::Error>> + Send + 'static {
    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<bytes::Bytes, std::io::Error>>(2);
    tokio::spawn(async move {
        let mut after = 0;
        let mut first = true;
        loop {
            let rows = match state.store.subscribers_after(after, EXPORT_PAGE).await {
                Ok(rows) => rows,
                Err(error) => {
                    let _ = sender.send(Err(std::io::Error::other(error.to_string()))).await;
                    return;
                }
            };
            if rows.is_empty() && !first {
                return;
            }
            let chunk = export_rows(&rows, first).map_err(|error| std::io::Error::other(error.to_string()));
            first = false;
            if sender.send(chunk.map(bytes::Bytes::from)).await.is_err() {
                return;
            }
            match rows.last() {
                Some(last) => after = last.id,
                None => return,
            }
        }
    });
    tokio_stream_from(receiver)
}

/// A receiver as a stream, without pulling in a stream utilities crate.
fn tokio_stream_from<T: Send + 'static>(
    mut receiver: tokio::sync::mpsc::Receiver<T>,
) -> impl futures_util::Stream<Item = T> + Send + 'static {
    futures_util::stream::poll_fn(move |context| receiver.poll_recv(context))
}

#[derive(Serialize)]
struct SendView {
    id: i64,
    kind: &'static str,
    subject: String,
    status: &'static str,
    status_key: String,
    requested_by: String,
    created: String,
    finished: Option<String>,
    total: String,
    sent: String,
    failed: String,
    skipped: String,
    queued: String,
    percent: i64,
}

fn send_view(state: &AppState, send: &SendRow, progress: &SendProgress) -> SendView {
    let locale = state.locale();
    let when = |seconds: i64| {
        let date = locale.date(seconds);
        format!("{} {}", date.gregorian, date.time)
    };
    let percent = if send.total > 0 { progress.done() * 100 / send.total } else { 100 };
    SendView {
        id: send.id,
        kind: match send.kind.as_str() {
            "digest" => "النشرة اليومية",
            "alert" => "تنبيه عاجل",
            _ => "طلبات تأكيد",
        },
        subject: send.subject.clone(),
        status: match send.status.as_str() {
            "sending" => "قيد الإرسال",
            "done" => "اكتمل",
            _ => "أُوقف",
        },
        status_key: send.status.clone(),
        requested_by: send.requested_by.clone(),
        created: when(send.created_at),
        finished: send.finished_at.map(when),
        total: locale.number(send.total),
        sent: locale.number(progress.sent),
        failed: locale.number(progress.failed),
        skipped: locale.number(progress.skipped),
        queued: locale.number(progress.queued),
        percent,
    }
}

pub async fn sends(State(state): State<AppState>, staff: Staff, uri: Uri) -> Result<Response, AppError> {
    staff.require(staff.role().edits_all_articles())?;
    let mut views = Vec::new();
    for send in state.store.recent_sends(50).await? {
        let progress = state.store.send_progress(send.id).await?;
        views.push(send_view(&state, &send, &progress));
    }
    let (recent, _) = state.store.list_articles(&ListFilter::default(), now_seconds(), 0, 30).await?;
    let articles: Vec<_> = recent
        .iter()
        .map(|card| minijinja::context! { id => card.id, title => card.title, breaking => card.breaking })
        .collect();
    let params = crate::web::query_params(&uri);
    let notice = match params.get("notice").map(String::as_str) {
        Some("nothing") => Some("لا نشرة: لم يُنشر جديد منذ النشرة السابقة."),
        Some("already") => Some("أُرسل تنبيه لهذا المقال من قبل؛ لا يُرسل التنبيه مرتين."),
        Some("unpublished") => Some("لا يُرسل تنبيه إلا لمقال منشور."),
        _ => None,
    };
    let counts = state.store.subscriber_counts().await?;
    let context = minijinja::context! {
        sends => views,
        articles => articles,
        notice => notice,
        can_send => state.newsletter.can_send(),
        confirmed => state.locale().count(counts.confirmed.unsigned_abs(), &khabar_arabic::plural::SUBSCRIBERS),
    };
    Ok(Html(render(&state, &staff, "admin/newsletter_sends.html", "sends", context)?).into_response())
}

pub async fn send_details(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    staff.require(staff.role().edits_all_articles())?;
    let send = state.store.send_by_id(id).await?.ok_or(AppError::NotFound)?;
    let progress = state.store.send_progress(id).await?;
    let failures = state.store.send_failures(id, 200).await?;
    let context = minijinja::context! {
        send => send_view(&state, &send, &progress),
        failures => failures,
    };
    Ok(Html(render(&state, &staff, "admin/newsletter_send.html", "sends", context)?).into_response())
}

#[derive(Deserialize)]
pub struct AlertForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    article_id: String,
}

pub async fn send_alert(
    State(state): State<AppState>,
    staff: Staff,
    PageForm(form): PageForm<AlertForm>,
) -> Result<Response, AppError> {
    staff.require(staff.role().edits_all_articles())?;
    staff.check_csrf(&form.csrf)?;
    state.newsletter.relay()?;
    let article_id = form
        .article_id
        .trim()
        .parse::<i64>()
        .map_err(|_| AppError::invalid_field("article_id", "choose an article"))?;
    match create_alert(&state, article_id, staff.name()).await? {
        Ok(send_id) => {
            staff.audit(&state, "newsletter.alert", &format!("#{article_id}")).await;
            Ok(see_other(&format!("/admin/newsletter/sends/{send_id}")))
        }
        Err(super::issues::AlertRefusal::AlreadySent) => Ok(see_other("/admin/newsletter/sends?notice=already")),
        Err(super::issues::AlertRefusal::NotPublished) => Ok(see_other("/admin/newsletter/sends?notice=unpublished")),
    }
}

pub async fn send_digest_now(
    State(state): State<AppState>,
    staff: Staff,
    PageForm(form): PageForm<CsrfForm>,
) -> Result<Response, AppError> {
    staff.require(staff.role().edits_all_articles())?;
    staff.check_csrf(&form.csrf)?;
    state.newsletter.relay()?;
    match create_digest(&state, &format!("digest-now-{}", now_seconds()), staff.name()).await? {
        Some((send_id, _)) => {
            staff.audit(&state, "newsletter.digest", "").await;
            Ok(see_other(&format!("/admin/newsletter/sends/{send_id}")))
        }
        None => Ok(see_other("/admin/newsletter/sends?notice=nothing")),
    }
}

pub async fn cancel(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    PageForm(form): PageForm<CsrfForm>,
) -> Result<Response, AppError> {
    staff.require(staff.role().edits_all_articles())?;
    staff.check_csrf(&form.csrf)?;
    if state.store.cancel_send(id, now_seconds()).await? {
        staff.audit(&state, "newsletter.cancel", &format!("#{id}")).await;
    }
    Ok(see_other(&format!("/admin/newsletter/sends/{id}")))
}
