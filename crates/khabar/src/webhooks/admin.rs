//! `/admin/webhooks` (admins only): add, pause, test and remove webhooks,
//! choose the hosts the SSRF guard lets through, and read the delivery log.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use serde::Serialize;

use super::guard::{self, GuardError};
use super::store::NewWebhook;
use super::EVENTS;
use crate::admin::session::Staff;
use crate::admin::{page_with_status, render, see_other};
use crate::app::AppState;
use crate::error::AppError;
use crate::store::now_seconds;

/// Deliveries shown in the log.
const LOG_LENGTH: i64 = 100;
const MIN_SECRET_CHARS: usize = 16;
const MAX_SECRET_CHARS: usize = 200;

fn fields(body: &[u8]) -> HashMap<String, Vec<String>> {
    let mut fields: HashMap<String, Vec<String>> = HashMap::new();
    for (key, value) in form_urlencoded::parse(body).into_owned() {
        fields.entry(key).or_default().push(value);
    }
    fields
}

fn field<'a>(fields: &'a HashMap<String, Vec<String>>, name: &str) -> &'a str {
    fields.get(name).and_then(|values| values.last()).map(String::as_str).unwrap_or("")
}

#[derive(Serialize)]
struct WebhookView {
    id: i64,
    url: String,
    secret: String,
    events: Vec<&'static str>,
    description: String,
    active: bool,
    created_by: String,
    created: String,
    pending: i64,
    delivered: i64,
    failed: i64,
}

#[derive(Serialize)]
struct DeliveryView {
    id: i64,
    webhook_id: i64,
    url: String,
    event: String,
    status: String,
    status_name: &'static str,
    attempts: i32,
    last_status: Option<i32>,
    last_error: String,
    created: String,
    next_attempt: Option<String>,
}

fn status_name(status: &str) -> &'static str {
    match status {
        "delivered" => "سُلّم",
        "failed" => "فشل نهائيًا",
        _ => "في الانتظار",
    }
}

#[derive(Default)]
struct Shown<'a> {
    notice: Option<&'a str>,
    problem: Option<String>,
    url: &'a str,
    description: &'a str,
}

async fn show(state: &AppState, staff: &Staff, status: StatusCode, shown: Shown<'_>) -> Result<Response, AppError> {
    let locale = state.locale();
    let when = |seconds: i64| {
        let date = locale.date(seconds);
        format!("{} {}", date.gregorian, date.time)
    };
    let counts = state.store.delivery_counts().await?;
    let count = |id: i64, status: &str| {
        counts.iter().filter(|(webhook, kind, _)| *webhook == id && kind == status).map(|(_, _, n)| *n).sum::<i64>()
    };
    let webhooks: Vec<WebhookView> = state
        .store
        .webhooks()
        .await?
        .into_iter()
        .map(|row| WebhookView {
            events: EVENTS.iter().filter(|(key, _)| row.wants(key)).map(|(_, name)| *name).collect(),
            pending: count(row.id, "pending"),
            delivered: count(row.id, "delivered"),
            failed: count(row.id, "failed"),
            created: when(row.created_at),
            id: row.id,
            url: row.url,
            secret: row.secret,
            description: row.description,
            active: row.active,
            created_by: row.created_by,
        })
        .collect();
    let deliveries: Vec<DeliveryView> = state
        .store
        .deliveries(None, LOG_LENGTH)
        .await?
        .into_iter()
        .map(|row| DeliveryView {
            status_name: status_name(&row.status),
            next_attempt: (row.status == "pending").then(|| when(row.next_attempt_at)),
            created: when(row.created_at),
            id: row.id,
            webhook_id: row.webhook_id,
            url: row.url,
            event: row.event,
            status: row.status,
            attempts: row.attempts,
            last_status: row.last_status,
            last_error: row.last_error,
        })
        .collect();
    let events: Vec<minijinja::Value> =
        EVENTS.iter().map(|(key, name)| minijinja::context! { key => key, name => name }).collect();
    let html = render(
        state,
        staff,
        "admin/webhooks.html",
        "webhooks",
        minijinja::context! {
            webhooks => webhooks,
            deliveries => deliveries,
            events => events,
            allowed_hosts => state.settings().webhook_allowed_hosts.join("\n"),
            notice => shown.notice,
            problem => shown.problem,
            form_url => shown.url,
            form_description => shown.description,
        },
    )?;
    Ok(page_with_status(status, html))
}

pub async fn page(State(state): State<AppState>, staff: Staff, uri: Uri) -> Result<Response, AppError> {
    staff.require(staff.role().manages_site())?;
    let params = crate::web::query_params(&uri);
    let notice = match params.get("done").map(String::as_str) {
        Some("added") => Some("أُضيف الخطاف. ستصله الأحداث التي اخترتها."),
        Some("pinged") => Some("أُرسل حدث تجريبي؛ تابع نتيجته في السجل أدناه."),
        Some("saved") => Some("حُفظ."),
        Some("retried") => Some("أعيد التسليم إلى قائمة الانتظار."),
        _ => None,
    };
    show(&state, &staff, StatusCode::OK, Shown { notice, ..Default::default() }).await
}

fn guard_problem(error: &GuardError) -> String {
    match error {
        GuardError::BadUrl(_) => "العنوان يجب أن يكون رابط http:// أو https:// كاملًا.".to_owned(),
        GuardError::Unresolvable(host) => format!("تعذّر العثور على الخادم «{host}»: تحقق من العنوان."),
        GuardError::Forbidden { host, address, .. } => format!(
            "«{host}» يشير إلى عنوان داخلي ({address}): لا تُرسل الخطافات إلى عناوين الشبكة الداخلية أو الجهاز نفسه \
             أو خدمة بيانات السحابة إلا إن أضفت الخادم إلى قائمة المسموح بها أدناه."
        ),
    }
}

/// `POST /admin/webhooks`: fields `url`, `events` (repeated), `secret` (optional), `description`.
pub async fn create(State(state): State<AppState>, staff: Staff, body: Bytes) -> Result<Response, AppError> {
    staff.require(staff.role().manages_site())?;
    let fields = fields(&body);
    staff.check_csrf(field(&fields, "csrf"))?;
    let url = field(&fields, "url").trim();
    let description = field(&fields, "description").trim();
    let chosen: Vec<&str> = fields
        .get("events")
        .map(|values| {
            values.iter().map(String::as_str).filter(|event| EVENTS.iter().any(|(key, _)| key == event)).collect()
        })
        .unwrap_or_default();
    let secret = field(&fields, "secret").trim();
    let problem = if chosen.is_empty() {
        Some("اختر حدثًا واحدًا على الأقل.".to_owned())
    } else if !secret.is_empty() && !(MIN_SECRET_CHARS..=MAX_SECRET_CHARS).contains(&secret.chars().count()) {
        Some(format!("المفتاح السري من {MIN_SECRET_CHARS} إلى {MAX_SECRET_CHARS} حرفًا، أو اتركه فارغًا ليُولَّد."))
    } else if description.chars().count() > 200 {
        Some("الوصف طويل جدًا (٢٠٠ حرف على الأكثر).".to_owned())
    } else {
        match guard::parse_target(url) {
            Err(error) => Some(guard_problem(&error)),
            Ok((_, host, port)) => guard::resolve(&host, port, &state.settings().webhook_allowed_hosts)
                .await
                .err()
                .map(|error| guard_problem(&error)),
        }
    };
    if let Some(problem) = problem {
        let shown = Shown { problem: Some(problem), url, description, ..Default::default() };
        return show(&state, &staff, StatusCode::UNPROCESSABLE_ENTITY, shown).await;
    }
    let secret = if secret.is_empty() { super::new_secret() } else { secret.to_owned() };
    let events = chosen.join(" ");
    let id = state
        .store
        .create_webhook(
            &NewWebhook { url, secret: &secret, events: &events, description, created_by: staff.name() },
            now_seconds(),
        )
        .await?;
    staff.audit(&state, "webhook.add", &format!("#{id} {url}")).await;
    Ok(see_other("/admin/webhooks?done=added"))
}

/// `POST /admin/webhooks/{id}/action`: `action` = pause, resume, ping or delete.
pub async fn act(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    body: Bytes,
) -> Result<Response, AppError> {
    staff.require(staff.role().manages_site())?;
    let fields = fields(&body);
    staff.check_csrf(field(&fields, "csrf"))?;
    let action = field(&fields, "action");
    let (found, done) = match action {
        "pause" => (state.store.set_webhook_active(id, false).await?, "saved"),
        "resume" => (state.store.set_webhook_active(id, true).await?, "saved"),
        "delete" => (state.store.delete_webhook(id).await?, "saved"),
        "ping" => (super::ping(&state, id).await?, "pinged"),
        other => return Err(AppError::BadRequest(format!("unknown webhook action '{other}'"))),
    };
    if !found {
        return Err(AppError::NotFound);
    }
    staff.audit(&state, &format!("webhook.{action}"), &format!("#{id}")).await;
    Ok(see_other(&format!("/admin/webhooks?done={done}")))
}

/// `POST /admin/webhooks/deliveries/{id}/retry`: a failed delivery is queued again.
pub async fn retry(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    body: Bytes,
) -> Result<Response, AppError> {
    staff.require(staff.role().manages_site())?;
    let fields = fields(&body);
    staff.check_csrf(field(&fields, "csrf"))?;
    if !state.store.retry_delivery(id, now_seconds()).await? {
        return Err(AppError::NotFound);
    }
    state.webhooks.wake.notify_one();
    staff.audit(&state, "webhook.retry", &format!("delivery #{id}")).await;
    Ok(see_other("/admin/webhooks?done=retried"))
}

/// `POST /admin/webhooks/settings`: `allowed_hosts`, one per line.
pub async fn save_settings(State(state): State<AppState>, staff: Staff, body: Bytes) -> Result<Response, AppError> {
    staff.require(staff.role().manages_site())?;
    let fields = fields(&body);
    staff.check_csrf(field(&fields, "csrf"))?;
    let hosts: Vec<String> = field(&fields, "allowed_hosts")
        .split(['\n', ',', ' '])
        .map(|host| host.trim().trim_matches(['[', ']']).to_ascii_lowercase())
        .filter(|host| !host.is_empty())
        .collect();
    if hosts.len() > 50 || !hosts.iter().all(|host| is_host(host)) {
        let problem = "اكتب أسماء خوادم أو عناوين فقط (بلا http:// ولا مسارات)، خمسين على الأكثر.".to_owned();
        let shown = Shown { problem: Some(problem), ..Default::default() };
        return show(&state, &staff, StatusCode::UNPROCESSABLE_ENTITY, shown).await;
    }
    state.store.save_settings(&[("webhook_allowed_hosts".to_owned(), hosts.join("\n"))]).await?;
    state.reload_settings().await.map_err(|error| AppError::Internal(error.to_string()))?;
    state.peers.announce(None);
    staff.audit(&state, "webhook.allowed_hosts", &hosts.join(" ")).await;
    Ok(see_other("/admin/webhooks?done=saved"))
}

/// A host name or an IP address, as the allow list holds them.
fn is_host(host: &str) -> bool {
    host.parse::<std::net::IpAddr>().is_ok()
        || (host.len() <= 253
            && host.chars().all(|character| character.is_ascii_alphanumeric() || matches!(character, '.' | '-')))
}
