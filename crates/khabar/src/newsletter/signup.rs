//! The reader's side: signing up, confirming, choosing what to receive and
//! leaving. None of it needs an account or a cookie; links in emails carry
//! signed tokens instead. These pages are per person and never cached.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::addresses::{normalize_email, normalize_name, AddressError};
use super::links::{
    challenge, new_challenge_seed, new_link_key, FormKind, Purpose, Signer, CONFIRM_LINK_SECONDS, FORM_MAX_AGE_SECONDS,
    FORM_MIN_FILL_SECONDS,
};
use super::store::SubscriberRow;
use crate::admin::PageForm;
use crate::app::AppState;
use crate::error::{AppError, PageForPeople};
use crate::store::now_seconds;

#[derive(Debug, Default, Deserialize)]
pub struct SignupForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    /// The honeypot: hidden from people, filled by form-filling scripts.
    #[serde(default)]
    website: String,
    #[serde(default)]
    token: String,
    #[serde(default)]
    answer: String,
}

#[derive(Serialize, Default)]
struct SignupView {
    name: String,
    email: String,
    token: String,
    question: Option<String>,
    problems: Vec<String>,
    notice: Option<String>,
}

/// A reader page of this feature: the site's frame around one of the
/// newsletter views, never cached, with the status given.
async fn page(
    state: &AppState,
    status: StatusCode,
    view: &str,
    context: minijinja::Value,
) -> Result<Response, AppError> {
    let base = minijinja::context! {
        site => state.site_view(),
        sections => crate::sections::navigation(state, now_seconds()).await?,
        current_section => "none",
        view => view,
    };
    let html = state.templates.render("newsletter.html", minijinja::value::merge_maps([base, context]))?;
    let mut response =
        (status, [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))], axum::response::Html(html))
            .into_response();
    response.headers_mut().insert("x-robots-tag", HeaderValue::from_static("noindex"));
    response.extensions_mut().insert(PageForPeople);
    Ok(response)
}

fn visitor_form(state: &AppState, name: &str, email: &str, problems: Vec<String>, notice: Option<&str>) -> SignupView {
    let seed = if state.config.newsletter_challenge { new_challenge_seed() } else { 0 };
    SignupView {
        name: name.to_owned(),
        email: email.to_owned(),
        token: state.newsletter.signer.form_token(FormKind::Visitor, now_seconds(), seed),
        question: (seed != 0).then(|| challenge(seed).0),
        problems,
        notice: notice.map(str::to_owned),
    }
}

async fn show_form(state: &AppState, status: StatusCode, view: SignupView) -> Result<Response, AppError> {
    page(state, status, "signup", minijinja::context! { form => view }).await
}

pub async fn signup_page(State(state): State<AppState>, uri: Uri) -> Result<Response, AppError> {
    let params = crate::web::query_params(&uri);
    let email = params.get("email").map(String::as_str).unwrap_or("");
    let view = visitor_form(&state, "", email, Vec::new(), None);
    show_form(&state, StatusCode::OK, view).await
}

/// A fresh token for the signup box in the cached sidebar, fetched by its
/// script when a reader starts filling it in.
pub async fn form_token(State(state): State<AppState>) -> Response {
    let token = state.newsletter.signer.form_token(FormKind::Visitor, now_seconds(), 0);
    (
        [(header::CACHE_CONTROL, "no-store")],
        axum::Json(serde_json::json!({ "token": token, "challenge": state.config.newsletter_challenge })),
    )
        .into_response()
}

fn client_key(address: &SocketAddr) -> String {
    address.ip().to_string()
}

pub async fn subscribe(
    State(state): State<AppState>,
    ConnectInfo(address): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    PageForm(form): PageForm<SignupForm>,
) -> Result<Response, AppError> {
    if !crate::admin::same_origin(&state, &headers) {
        return Err(AppError::Forbidden("cross-site request refused".to_owned()));
    }
    let now = now_seconds();
    if !form.website.trim().is_empty() {
        tracing::info!("newsletter signup refused: the honeypot field was filled");
        return page(&state, StatusCode::OK, "check_email", minijinja::context! {}).await;
    }
    let name = normalize_name(&form.name);
    let email = normalize_email(&form.email);
    let problems: Vec<String> = [name.as_ref().err(), email.as_ref().err()]
        .into_iter()
        .flatten()
        .map(|problem: &AddressError| problem.arabic().to_owned())
        .collect();
    let (Ok(name), Ok(email)) = (name, email) else {
        let view = visitor_form(&state, form.name.trim(), form.email.trim(), problems, None);
        return show_form(&state, StatusCode::UNPROCESSABLE_ENTITY, view).await;
    };
    // The cached sidebar cannot carry a per-visitor token; without one (no
    // script ran), the reader confirms on the signup page, one more click.
    let token = state.newsletter.signer.read_form_token(form.token.trim());
    let Some(token) = token.filter(|token| token.kind == FormKind::Visitor) else {
        let view =
            visitor_form(&state, &name, &email, Vec::new(), Some("خطوة أخيرة: تأكد من اسمك وبريدك ثم اضغط «اشترك»."));
        return show_form(&state, StatusCode::OK, view).await;
    };
    if now - token.issued_at > FORM_MAX_AGE_SECONDS {
        let view = visitor_form(&state, &name, &email, Vec::new(), Some("انتهت صلاحية النموذج. اضغط «اشترك» مرة أخرى."));
        return show_form(&state, StatusCode::OK, view).await;
    }
    if now - token.issued_at < FORM_MIN_FILL_SECONDS {
        let view = visitor_form(&state, &name, &email, Vec::new(), Some("تمهّل لحظة ثم اضغط «اشترك» مرة أخرى."));
        return show_form(&state, StatusCode::OK, view).await;
    }
    if state.config.newsletter_challenge {
        let expected = (token.challenge_seed != 0).then(|| challenge(token.challenge_seed).1);
        let given = khabar_arabic::digits::to_ascii(form.answer.trim()).parse::<u32>().ok();
        if expected.is_none() || given != expected {
            let problems = if form.answer.trim().is_empty() || expected.is_none() {
                Vec::new()
            } else {
                vec!["الجواب غير صحيح. اكتب الناتج بالأرقام.".to_owned()]
            };
            let status = if problems.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
            let view = visitor_form(&state, &name, &email, problems, None);
            return show_form(&state, status, view).await;
        }
    }
    if !state.newsletter.limiter.allow(&client_key(&address), now) {
        let view =
            visitor_form(&state, &name, &email, vec!["محاولات كثيرة من عنوانك. حاول بعد دقائق.".to_owned()], None);
        return show_form(&state, StatusCode::TOO_MANY_REQUESTS, view).await;
    }
    let signup = state.store.sign_up(&email, &name, &new_link_key(), now).await?;
    if signup.email_due {
        // Sent after the answer, which is the same whoever the address belongs
        // to: neither its text nor its timing tells whether it was subscribed.
        let state = state.clone();
        tokio::spawn(async move { send_signup_email(&state, &signup.subscriber).await });
    }
    page(&state, StatusCode::OK, "check_email", minijinja::context! {}).await
}

fn link(state: &AppState, purpose: Purpose, subscriber: &SubscriberRow, expires_at: Option<i64>) -> String {
    let path = match purpose {
        Purpose::Confirm => "confirm",
        Purpose::Preferences => "preferences",
        Purpose::Unsubscribe => "unsubscribe",
    };
    let token = state.newsletter.signer.link(purpose, subscriber.id, &subscriber.link_key, expires_at);
    state.absolute_url(&format!("/newsletter/{path}/{token}"))
}

/// Confirmation for a new or returning address; a reminder of the
/// preferences link for one already confirmed.
async fn send_signup_email(state: &AppState, subscriber: &SubscriberRow) {
    let result = if subscriber.status == "confirmed" {
        let preferences = link(state, Purpose::Preferences, subscriber, None);
        let context = super::issues::already_context(state, &subscriber.name, &preferences);
        state.mailer.send(&state.templates, "newsletter_already", &subscriber.name, &subscriber.email, context).await
    } else {
        let confirm = link(state, Purpose::Confirm, subscriber, Some(now_seconds() + CONFIRM_LINK_SECONDS));
        let context = super::issues::confirmation_context(state, &subscriber.name, &confirm);
        state.mailer.send(&state.templates, "newsletter_confirm", &subscriber.name, &subscriber.email, context).await
    };
    if let Err(error) = result {
        tracing::warn!(%error, subscriber = subscriber.id, "could not send the signup email");
    }
}

/// The subscriber a link names, when the link is genuine and current.
async fn linked_subscriber(state: &AppState, purpose: Purpose, token: &str) -> Result<Option<SubscriberRow>, AppError> {
    let Some(claim) = Signer::parse_link(token) else {
        return Ok(None);
    };
    let Some(subscriber) = state.store.subscriber(claim.subscriber_id).await? else {
        return Ok(None);
    };
    let genuine = state.newsletter.signer.verify_link(purpose, &claim, &subscriber.link_key, now_seconds());
    // Leaving cancels the confirmation links sent before: coming back takes a
    // new one. Within the same second counts as before (links carry seconds),
    // which a person cannot hit: signing up again takes over two seconds.
    let issued_at = claim.expires_at.map(|expires| expires - CONFIRM_LINK_SECONDS);
    let predates_leaving = purpose == Purpose::Confirm
        && subscriber.status == "unsubscribed"
        && matches!((issued_at, subscriber.unsubscribed_at), (Some(issued), Some(left)) if issued <= left);
    Ok((genuine && !predates_leaving).then_some(subscriber))
}

async fn invalid_link(state: &AppState, purpose: Purpose) -> Result<Response, AppError> {
    let explanation = match purpose {
        Purpose::Confirm => {
            "رابط التأكيد غير صالح أو انتهت صلاحيته (يعمل سبعة أيام). اشترك من جديد لتصلك رسالة تأكيد جديدة."
        }
        Purpose::Preferences | Purpose::Unsubscribe => {
            "هذا الرابط غير صالح. استعمل الرابط الموجود في آخر رسالة وصلتك منّا، أو اكتب لنا."
        }
    };
    page(state, StatusCode::BAD_REQUEST, "invalid", minijinja::context! { explanation => explanation }).await
}

pub async fn confirm_page(State(state): State<AppState>, Path(token): Path<String>) -> Result<Response, AppError> {
    match linked_subscriber(&state, Purpose::Confirm, &token).await? {
        Some(subscriber) => {
            let context = minijinja::context! { name => subscriber.name, token => token, status => subscriber.status };
            page(&state, StatusCode::OK, "confirm", context).await
        }
        None => invalid_link(&state, Purpose::Confirm).await,
    }
}

pub async fn confirm(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    if !crate::admin::same_origin(&state, &headers) {
        return Err(AppError::Forbidden("cross-site request refused".to_owned()));
    }
    let Some(subscriber) = linked_subscriber(&state, Purpose::Confirm, &token).await? else {
        return invalid_link(&state, Purpose::Confirm).await;
    };
    state.store.confirm_subscriber(subscriber.id, now_seconds()).await?;
    let preferences = state.newsletter.signer.link(Purpose::Preferences, subscriber.id, &subscriber.link_key, None);
    Ok(crate::admin::see_other(&format!("/newsletter/preferences/{preferences}?welcome=1")))
}

fn preferences_context(state: &AppState, subscriber: &SubscriberRow, token: &str) -> minijinja::Value {
    let unsubscribe = state.newsletter.signer.link(Purpose::Unsubscribe, subscriber.id, &subscriber.link_key, None);
    minijinja::context! {
        token => token,
        unsubscribe_token => unsubscribe,
        name => subscriber.name,
        email => subscriber.email,
        status => subscriber.status,
        wants_digest => subscriber.wants_digest,
        wants_alerts => subscriber.wants_alerts,
    }
}

pub async fn preferences_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
    uri: Uri,
) -> Result<Response, AppError> {
    let Some(subscriber) = linked_subscriber(&state, Purpose::Preferences, &token).await? else {
        return invalid_link(&state, Purpose::Preferences).await;
    };
    let params = crate::web::query_params(&uri);
    let notice = if params.contains_key("welcome") {
        Some("تم تأكيد اشتراكك. أهلًا بك! اختر ما تريد أن يصلك.")
    } else if params.contains_key("saved") {
        Some("حُفظت اختياراتك.")
    } else {
        None
    };
    let context = minijinja::value::merge_maps([
        preferences_context(&state, &subscriber, &token),
        minijinja::context! { notice => notice, problems => Vec::<String>::new() },
    ]);
    page(&state, StatusCode::OK, "preferences", context).await
}

#[derive(Debug, Default, Deserialize)]
pub struct PreferencesForm {
    #[serde(default)]
    name: String,
    digest: Option<String>,
    alerts: Option<String>,
}

pub async fn save_preferences(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
    PageForm(form): PageForm<PreferencesForm>,
) -> Result<Response, AppError> {
    if !crate::admin::same_origin(&state, &headers) {
        return Err(AppError::Forbidden("cross-site request refused".to_owned()));
    }
    let Some(subscriber) = linked_subscriber(&state, Purpose::Preferences, &token).await? else {
        return invalid_link(&state, Purpose::Preferences).await;
    };
    let name = match normalize_name(&form.name) {
        Ok(name) => name,
        Err(problem) => {
            let context = minijinja::value::merge_maps([
                preferences_context(&state, &subscriber, &token),
                minijinja::context! { problems => vec![problem.arabic()] },
            ]);
            return page(&state, StatusCode::UNPROCESSABLE_ENTITY, "preferences", context).await;
        }
    };
    let (digest, alerts) = (form.digest.is_some(), form.alerts.is_some());
    state.store.save_preferences(subscriber.id, &name, digest, alerts).await?;
    if !digest && !alerts && subscriber.status == "confirmed" {
        state.store.unsubscribe(subscriber.id, now_seconds()).await?;
        return page(&state, StatusCode::OK, "unsubscribed", minijinja::context! { email => subscriber.email }).await;
    }
    Ok(crate::admin::see_other(&format!("/newsletter/preferences/{token}?saved=1")))
}

pub async fn unsubscribe_page(State(state): State<AppState>, Path(token): Path<String>) -> Result<Response, AppError> {
    match linked_subscriber(&state, Purpose::Unsubscribe, &token).await? {
        Some(subscriber) => {
            let context =
                minijinja::context! { token => token, email => subscriber.email, status => subscriber.status };
            page(&state, StatusCode::OK, "unsubscribe", context).await
        }
        None => invalid_link(&state, Purpose::Unsubscribe).await,
    }
}

/// RFC 8058 one-click: mail providers POST `List-Unsubscribe=One-Click` here
/// from their own servers, without cookies or an Origin of ours. It answers
/// at once, without a redirect, and saying it twice changes nothing.
pub async fn unsubscribe(State(state): State<AppState>, Path(token): Path<String>) -> Result<Response, AppError> {
    let Some(subscriber) = linked_subscriber(&state, Purpose::Unsubscribe, &token).await? else {
        return invalid_link(&state, Purpose::Unsubscribe).await;
    };
    state.store.unsubscribe(subscriber.id, now_seconds()).await?;
    page(&state, StatusCode::OK, "unsubscribed", minijinja::context! { email => subscriber.email }).await
}
