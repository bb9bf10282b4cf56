//! `/admin/account`: a staff member's own password. Changing it ends every
//! other session of the account, wherever it was opened.

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use serde::Deserialize;

use crate::accounts::{passwords, two_factor};
use crate::admin::session::Staff;
use crate::admin::{page_with_status, render, see_other, PageForm};
use crate::app::AppState;
use crate::error::AppError;
use crate::store::now_seconds;
use crate::web::query_params;

async fn show(
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    problem: Option<String>,
    notice: Option<&str>,
) -> Result<Response, AppError> {
    let (enabled, pending, _) = state.store.totp_state(staff.id()).await?;
    let email = staff.session.staff.email.clone();
    // While setting up, the page shows the secret as a QR code and as text.
    let (setup_secret, setup_qr) = match pending.filter(|_| enabled.is_none()) {
        Some(secret) => {
            let url = two_factor::setup_url(&secret, &state.site_view().name, &email)
                .map_err(|error| AppError::Internal(error.to_string()))?;
            let qr = two_factor::setup_qr_svg(&url);
            (Some(secret), qr)
        }
        None => (None, None),
    };
    let html = render(
        state,
        staff,
        "admin/account.html",
        "account",
        minijinja::context! {
            email => email,
            problem => problem,
            notice => notice,
            two_factor => enabled.is_some(),
            setup_secret => setup_secret,
            setup_qr => setup_qr,
            required => state.settings().require_two_factor,
        },
    )?;
    Ok(page_with_status(status, html))
}

pub async fn account_page(State(state): State<AppState>, staff: Staff, uri: Uri) -> Result<Response, AppError> {
    let params = query_params(&uri);
    let notice = match params.get("saved").map(String::as_str) {
        Some("two_factor_on") => Some("فُعّل التحقق بخطوتين. ستحتاج إلى الرمز عند كل دخول."),
        Some("two_factor_off") => Some("أُوقف التحقق بخطوتين."),
        Some(_) => Some("غُيّرت كلمة المرور، وأُغلقت جلساتك الأخرى."),
        None if params.contains_key("two_factor") => {
            Some("يشترط الموقع التحقق بخطوتين لكل فريق التحرير. فعّله للمتابعة.")
        }
        None => None,
    };
    show(&state, &staff, StatusCode::OK, None, notice).await
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm: String,
    #[serde(default)]
    csrf: String,
}

pub async fn change_password(
    State(state): State<AppState>,
    staff: Staff,
    PageForm(form): PageForm<PasswordForm>,
) -> Result<Response, AppError> {
    staff.check_csrf(&form.csrf)?;
    let current_hash = Some(staff.session.staff.password_hash.clone());
    if !passwords::verify(form.current, current_hash).await {
        return show(
            &state,
            &staff,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("كلمة المرور الحالية غير صحيحة.".into()),
            None,
        )
        .await;
    }
    let email = staff.session.staff.email.clone();
    if let Some(problem) = passwords::new_password_problem(&form.new_password, &form.confirm, &email, staff.name()) {
        return show(&state, &staff, StatusCode::UNPROCESSABLE_ENTITY, Some(problem), None).await;
    }
    let hash = passwords::hash(form.new_password).await.map_err(|error| AppError::Internal(error.to_string()))?;
    state.store.set_password(staff.id(), &hash, Some(&staff.session.token_hash), now_seconds()).await?;
    staff.audit(&state, "account.password", "").await;
    Ok(see_other("/admin/account?saved=1"))
}

#[derive(Deserialize)]
pub struct TwoFactorForm {
    #[serde(default)]
    step: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
}

/// Start, confirm or turn off two-factor login for oneself.
pub async fn two_factor(
    State(state): State<AppState>,
    staff: Staff,
    PageForm(form): PageForm<TwoFactorForm>,
) -> Result<Response, AppError> {
    staff.check_csrf(&form.csrf)?;
    let now = now_seconds();
    match form.step.as_str() {
        "start" => {
            state.store.start_totp_setup(staff.id()).await?;
            Ok(see_other("/admin/account#two-factor"))
        }
        "confirm" => {
            let (_, pending, _) = state.store.totp_state(staff.id()).await?;
            let step = pending.as_deref().and_then(|secret| two_factor::matching_step(secret, &form.code, now));
            let Some(step) = step else {
                let problem = Some("الرمز غير صحيح. أدخل الرمز الذي يعرضه التطبيق الآن.".to_owned());
                return show(&state, &staff, StatusCode::UNPROCESSABLE_ENTITY, problem, None).await;
            };
            state.store.enable_totp(staff.id(), step).await?;
            staff.audit(&state, "account.two_factor.on", "").await;
            Ok(see_other("/admin/account?saved=two_factor_on"))
        }
        "disable" => {
            if state.settings().require_two_factor {
                return Err(AppError::Forbidden("the site requires two-factor login".into()));
            }
            let (secret, _, _) = state.store.totp_state(staff.id()).await?;
            let password_ok = passwords::verify(form.password, Some(staff.session.staff.password_hash.clone())).await;
            let code_ok =
                secret.as_deref().and_then(|secret| two_factor::matching_step(secret, &form.code, now)).is_some();
            if !(password_ok && code_ok) {
                let problem = Some("لإيقاف التحقق بخطوتين أدخل كلمة المرور والرمز الحالي.".to_owned());
                return show(&state, &staff, StatusCode::UNPROCESSABLE_ENTITY, problem, None).await;
            }
            state.store.disable_totp(staff.id()).await?;
            staff.audit(&state, "account.two_factor.off", "").await;
            Ok(see_other("/admin/account?saved=two_factor_off"))
        }
        other => Err(AppError::BadRequest(format!("unknown step '{other}'"))),
    }
}
