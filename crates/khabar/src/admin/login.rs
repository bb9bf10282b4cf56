//! Logging in and out.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::Response;
use serde::Deserialize;

use crate::accounts::passwords;
use crate::accounts::staff::normalize_email;
use crate::accounts::staff::StaffRow;
use crate::accounts::throttle::Verdict;
use crate::accounts::two_factor::{matching_step, CHALLENGE_SECONDS, MAX_CODE_FAILURES};
use crate::admin::session::{
    client_hash, device_cookie, expired_cookie, read_cookie, safe_next, same_secret, session_cookie, set_cookie, Staff,
    CHALLENGE_COOKIE, DEVICE_COOKIE, LOGIN_COOKIE, SESSION_COOKIE,
};
use crate::admin::{page_with_status, see_other, PageForm};
use crate::app::AppState;
use crate::error::AppError;
use crate::store::now_seconds;
use crate::web::query_params;

/// The login form's CSRF token lives in a short cookie: there is no session yet.
const LOGIN_COOKIE_SECONDS: i64 = 3600;

fn render_login(
    state: &AppState,
    status: StatusCode,
    token: &str,
    next: &str,
    email: &str,
    problem: Option<String>,
) -> Result<Response, AppError> {
    let html = state.templates.render(
        "admin/login.html",
        minijinja::context! { site => state.site_view(), csrf => token, next => next, email => email, problem => problem },
    )?;
    let mut response = page_with_status(status, html);
    response.headers_mut().append(header::SET_COOKIE, set_cookie(state, LOGIN_COOKIE, token, LOGIN_COOKIE_SECONDS));
    Ok(response)
}

pub async fn login_page(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Result<Response, AppError> {
    let params = query_params(&uri);
    let next = safe_next(params.get("next").map(String::as_str));
    if let Some(token) = read_cookie(&state, &headers, SESSION_COOKIE) {
        if state.store.session(&token, now_seconds()).await?.is_some() {
            return Ok(see_other(&next));
        }
    }
    let token = read_cookie(&state, &headers, LOGIN_COOKIE).unwrap_or_else(crate::accounts::sessions::random_token);
    render_login(&state, StatusCode::OK, &token, &next, "", None)
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    csrf: String,
}

pub async fn log_in(
    State(state): State<AppState>,
    ConnectInfo(address): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    PageForm(form): PageForm<LoginForm>,
) -> Result<Response, AppError> {
    let now = now_seconds();
    let next = safe_next(Some(&form.next));
    let email = normalize_email(&form.email);
    let cookie_token = read_cookie(&state, &headers, LOGIN_COOKIE);
    let fresh_token = crate::accounts::sessions::random_token();
    if !cookie_token.as_deref().is_some_and(|token| same_secret(&form.csrf, token)) {
        let problem = "انتهت صلاحية صفحة الدخول. أعد إدخال بياناتك.".to_owned();
        return render_login(&state, StatusCode::FORBIDDEN, &fresh_token, &next, &email, Some(problem));
    }
    let token = cookie_token.unwrap_or(fresh_token);
    if email.is_empty() || form.password.is_empty() {
        let problem = "أدخل البريد الإلكتروني وكلمة المرور.".to_owned();
        return render_login(&state, StatusCode::UNPROCESSABLE_ENTITY, &token, &next, &email, Some(problem));
    }
    let client = client_hash(Some(&ConnectInfo(address)));
    let trusted = match read_cookie(&state, &headers, DEVICE_COOKIE) {
        Some(device) => state.store.is_trusted_device(&device, &email, now).await?,
        None => false,
    };
    if let Verdict::Wait(seconds) = state.store.login_verdict(&email, &client, trusted, now).await? {
        let problem = format!(
            "محاولات دخول كثيرة. انتظر {} ثم حاول مجددًا.",
            state.locale().count(seconds.unsigned_abs().max(1), &SECONDS)
        );
        return render_login(&state, StatusCode::TOO_MANY_REQUESTS, &token, &next, &email, Some(problem));
    }
    let staff = state.store.staff_by_email(&email).await?.filter(|staff| !staff.disabled);
    let verified = passwords::verify(form.password, staff.as_ref().map(|staff| staff.password_hash.clone())).await;
    state.store.record_login_attempt(&email, &client, trusted, verified, now).await?;
    let Some(staff) = staff.filter(|_| verified) else {
        // The same words whether the email exists or not.
        let problem = "البريد الإلكتروني أو كلمة المرور غير صحيحة.".to_owned();
        return render_login(&state, StatusCode::UNAUTHORIZED, &token, &next, &email, Some(problem));
    };
    if staff.two_factor {
        let challenge = state.store.create_challenge(staff.id, &next, trusted, now).await?;
        let mut response = render_code_page(&state, StatusCode::OK, &token, None)?;
        response
            .headers_mut()
            .append(header::SET_COOKIE, set_cookie(&state, CHALLENGE_COOKIE, &challenge, CHALLENGE_SECONDS));
        return Ok(response);
    }
    finish_login(&state, &staff, trusted, &next, now).await
}

/// The password (and code, when asked for) were right: start the session.
async fn finish_login(
    state: &AppState,
    staff: &StaffRow,
    trusted: bool,
    next: &str,
    now: i64,
) -> Result<Response, AppError> {
    let session = state.store.create_session(staff.id, now).await?;
    state.store.record_audit(Some(staff.id), &staff.name, "login", "", now).await?;
    let mut response = see_other(next);
    let headers = response.headers_mut();
    headers.append(header::SET_COOKIE, session_cookie(state, &session));
    headers.append(header::SET_COOKIE, expired_cookie(state, LOGIN_COOKIE));
    headers.append(header::SET_COOKIE, expired_cookie(state, CHALLENGE_COOKIE));
    if !trusted {
        let device = state.store.trust_device(staff.id, now).await?;
        headers.append(header::SET_COOKIE, device_cookie(state, &device));
    }
    Ok(response)
}

fn render_code_page(
    state: &AppState,
    status: StatusCode,
    token: &str,
    problem: Option<&str>,
) -> Result<Response, AppError> {
    let html = state.templates.render(
        "admin/code.html",
        minijinja::context! { site => state.site_view(), csrf => token, problem => problem },
    )?;
    Ok(page_with_status(status, html))
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    csrf: String,
}

/// The second step: a code from the authenticator app.
pub async fn check_code(
    State(state): State<AppState>,
    headers: HeaderMap,
    PageForm(form): PageForm<CodeForm>,
) -> Result<Response, AppError> {
    let now = now_seconds();
    let start_over = |problem: &str| {
        let token = crate::accounts::sessions::random_token();
        render_login(&state, StatusCode::UNAUTHORIZED, &token, "/admin", "", Some(problem.to_owned()))
    };
    let login_token = read_cookie(&state, &headers, LOGIN_COOKIE);
    if !login_token.as_deref().is_some_and(|token| same_secret(&form.csrf, token)) {
        return start_over("انتهت صلاحية صفحة الدخول. أعد إدخال بياناتك.");
    }
    let Some(challenge_token) = read_cookie(&state, &headers, CHALLENGE_COOKIE) else {
        return start_over("انتهت مهلة إدخال الرمز. أعد إدخال بياناتك.");
    };
    let challenge = state.store.challenge(&challenge_token).await?;
    let Some(challenge) =
        challenge.filter(|challenge| challenge.expires_at > now && challenge.failures < MAX_CODE_FAILURES)
    else {
        state.store.end_challenge(&challenge_token).await?;
        return start_over("انتهت مهلة إدخال الرمز أو كثرت المحاولات. أعد إدخال بياناتك.");
    };
    let staff =
        state.store.staff_by_id(challenge.staff_id).await?.filter(|staff| !staff.disabled).ok_or(AppError::NotFound)?;
    let (secret, _, _) = state.store.totp_state(staff.id).await?;
    let step = secret.as_deref().and_then(|secret| matching_step(secret, &form.code, now));
    let accepted = match step {
        Some(step) => state.store.use_totp_step(staff.id, step).await?,
        None => false,
    };
    if !accepted {
        state.store.fail_challenge(&challenge_token).await?;
        let token = login_token.unwrap_or_default();
        return render_code_page(
            &state,
            StatusCode::UNAUTHORIZED,
            &token,
            Some("الرمز غير صحيح أو استُخدم من قبل. أدخل الرمز الحالي من تطبيق المصادقة."),
        );
    }
    state.store.end_challenge(&challenge_token).await?;
    finish_login(&state, &staff, challenge.trusted, &challenge.next_path, now).await
}

#[derive(Deserialize)]
pub struct LogoutForm {
    #[serde(default)]
    csrf: String,
}

pub async fn log_out(
    State(state): State<AppState>,
    staff: Staff,
    PageForm(form): PageForm<LogoutForm>,
) -> Result<Response, AppError> {
    staff.check_csrf(&form.csrf)?;
    state.store.end_session(&staff.session.token_hash).await?;
    staff.audit(&state, "logout", "").await;
    let mut response = see_other("/admin/login");
    response.headers_mut().append(header::SET_COOKIE, expired_cookie(&state, SESSION_COOKIE));
    Ok(response)
}

const SECONDS: khabar_arabic::CountedNoun = khabar_arabic::CountedNoun {
    zero: "لحظة",
    one: "ثانية واحدة",
    two: "ثانيتين",
    few: "{n} ثوانٍ",
    many: "{n} ثانية",
    other: "{n} ثانية",
};
