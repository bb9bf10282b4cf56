//! "Forgot your password?": a single-use link by email. The answer is the
//! same whether or not the address belongs to anyone, and the email goes out
//! in the background so the timing says nothing either.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::Response;
use serde::Deserialize;

use crate::accounts::passwords;
use crate::admin::session::{read_cookie, same_secret, set_cookie, LOGIN_COOKIE};
use crate::admin::{page_with_status, see_other, PageForm};
use crate::app::AppState;
use crate::error::AppError;
use crate::store::now_seconds;
use crate::web::query_params;

const FORM_COOKIE_SECONDS: i64 = 3600;

fn render_page(
    state: &AppState,
    status: StatusCode,
    csrf: &str,
    stage: &str,
    token: &str,
    problem: Option<&str>,
) -> Result<Response, AppError> {
    let html = state.templates.render(
        "admin/forgot.html",
        minijinja::context! { site => state.site_view(), csrf => csrf, stage => stage, token => token, problem => problem },
    )?;
    let mut response = page_with_status(status, html);
    response.headers_mut().append(header::SET_COOKIE, set_cookie(state, LOGIN_COOKIE, csrf, FORM_COOKIE_SECONDS));
    Ok(response)
}

fn form_token(state: &AppState, headers: &HeaderMap) -> String {
    read_cookie(state, headers, LOGIN_COOKIE).unwrap_or_else(crate::accounts::sessions::random_token)
}

fn checked(state: &AppState, headers: &HeaderMap, given: &str) -> bool {
    read_cookie(state, headers, LOGIN_COOKIE).is_some_and(|token| same_secret(given, &token))
}

pub async fn forgot_page(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, AppError> {
    render_page(&state, StatusCode::OK, &form_token(&state, &headers), "ask", "", None)
}

#[derive(Deserialize)]
pub struct ForgotForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    csrf: String,
}

pub async fn send_link(
    State(state): State<AppState>,
    headers: HeaderMap,
    PageForm(form): PageForm<ForgotForm>,
) -> Result<Response, AppError> {
    let csrf = form_token(&state, &headers);
    if !checked(&state, &headers, &form.csrf) {
        return render_page(&state, StatusCode::FORBIDDEN, &csrf, "ask", "", Some("انتهت صلاحية الصفحة. أعد المحاولة."));
    }
    let background = state.clone();
    tokio::spawn(async move {
        if let Err(error) = email_reset_link(&background, &form.email).await {
            tracing::error!(%error, "could not send a password reset email");
        }
    });
    render_page(&state, StatusCode::OK, &csrf, "sent", "", None)
}

async fn email_reset_link(state: &AppState, email: &str) -> Result<(), AppError> {
    let now = now_seconds();
    let Some(staff) = state.store.staff_by_email(email).await?.filter(|staff| !staff.disabled) else { return Ok(()) };
    let Some(token) = state.store.create_password_reset(staff.id, now).await? else {
        tracing::warn!(staff = staff.id, "password reset asked too often; no email sent");
        return Ok(());
    };
    let link = state.absolute_url(&format!("/admin/reset?token={token}"));
    let context = minijinja::context! { name => staff.name, site_name => state.site_view().name, link => link };
    state
        .mailer
        .send(&state.templates, "password_reset", &staff.name, &staff.email, context)
        .await
        .map_err(|error| AppError::Internal(error.to_string()))?;
    state.store.record_audit(Some(staff.id), &staff.name, "account.reset_requested", "", now).await?;
    Ok(())
}

pub async fn reset_page(State(state): State<AppState>, headers: HeaderMap, uri: Uri) -> Result<Response, AppError> {
    let token = query_params(&uri).get("token").cloned().unwrap_or_default();
    let csrf = form_token(&state, &headers);
    if state.store.password_reset_owner(&token, now_seconds()).await?.is_none() {
        return render_page(&state, StatusCode::GONE, &csrf, "expired", "", None);
    }
    render_page(&state, StatusCode::OK, &csrf, "choose", &token, None)
}

#[derive(Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm: String,
    #[serde(default)]
    csrf: String,
}

pub async fn choose_password(
    State(state): State<AppState>,
    headers: HeaderMap,
    PageForm(form): PageForm<ResetForm>,
) -> Result<Response, AppError> {
    let csrf = form_token(&state, &headers);
    let now = now_seconds();
    if !checked(&state, &headers, &form.csrf) {
        return render_page(
            &state,
            StatusCode::FORBIDDEN,
            &csrf,
            "choose",
            &form.token,
            Some("انتهت صلاحية الصفحة. أعد المحاولة."),
        );
    }
    let Some(staff_id) = state.store.password_reset_owner(&form.token, now).await? else {
        return render_page(&state, StatusCode::GONE, &csrf, "expired", "", None);
    };
    let staff = state.store.staff_by_id(staff_id).await?.ok_or(AppError::NotFound)?;
    let problem = passwords::new_password_problem(&form.new_password, &form.confirm, &staff.email, &staff.name);
    if let Some(problem) = problem {
        return render_page(&state, StatusCode::UNPROCESSABLE_ENTITY, &csrf, "choose", &form.token, Some(&problem));
    }
    if !state.store.use_password_reset(&form.token, now).await? {
        return render_page(&state, StatusCode::GONE, &csrf, "expired", "", None);
    }
    let hash = passwords::hash(form.new_password).await.map_err(|error| AppError::Internal(error.to_string()))?;
    state.store.set_password(staff.id, &hash, None, now).await?;
    state.store.record_audit(Some(staff.id), &staff.name, "account.reset", "", now).await?;
    Ok(see_other("/admin/login?reset=1"))
}
