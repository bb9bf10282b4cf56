//! `/admin/account`: a staff member's own password. Changing it ends every
//! other session of the account, wherever it was opened.

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use serde::Deserialize;

use crate::accounts::passwords;
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
    let html = render(
        state,
        staff,
        "admin/account.html",
        "account",
        minijinja::context! { email => staff.session.staff.email.clone(), problem => problem, notice => notice },
    )?;
    Ok(page_with_status(status, html))
}

pub async fn account_page(State(state): State<AppState>, staff: Staff, uri: Uri) -> Result<Response, AppError> {
    let notice = query_params(&uri).get("saved").map(|_| "غُيّرت كلمة المرور، وأُغلقت جلساتك الأخرى.");
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
    if form.new_password != form.confirm {
        return show(
            &state,
            &staff,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("كلمتا المرور الجديدتان غير متطابقتين.".into()),
            None,
        )
        .await;
    }
    if let Err(error) = passwords::check_strength(&form.new_password, &staff.session.staff.email, staff.name()) {
        return show(
            &state,
            &staff,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(format!("كلمة المرور الجديدة ضعيفة: {error}")),
            None,
        )
        .await;
    }
    let hash = passwords::hash(form.new_password).await.map_err(|error| AppError::Internal(error.to_string()))?;
    state.store.set_password(staff.id(), &hash, Some(&staff.session.token_hash), now_seconds()).await?;
    staff.audit(&state, "account.password", "").await;
    Ok(see_other("/admin/account?saved=1"))
}
