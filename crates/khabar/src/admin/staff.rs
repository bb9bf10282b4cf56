//! Managing the newsroom's people: admins create accounts and change roles.

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use serde::{Deserialize, Serialize};

use crate::accounts::passwords;
use crate::accounts::staff::{is_plausible_email, normalize_email, Role};
use crate::admin::session::Staff;
use crate::admin::{page_with_status, render, see_other, PageForm};
use crate::app::AppState;
use crate::articles::pages::parse_id;
use crate::error::AppError;
use crate::store::now_seconds;
use crate::web::raw_segment;

#[derive(Serialize)]
struct StaffView {
    id: i64,
    name: String,
    email: String,
    role: &'static str,
    role_name: &'static str,
    disabled: bool,
    two_factor: bool,
}

#[derive(Serialize)]
struct RoleChoice {
    value: &'static str,
    name: &'static str,
}

#[derive(Deserialize, Default, Serialize)]
pub struct NewStaffForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
    #[serde(default, skip_serializing)]
    password: String,
    #[serde(default, skip_serializing)]
    csrf: String,
}

async fn render_list(
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    form: &NewStaffForm,
    problems: Vec<String>,
    notice: Option<&str>,
) -> Result<Response, AppError> {
    let people: Vec<StaffView> = state
        .store
        .list_staff()
        .await?
        .into_iter()
        .map(|row| {
            let role = row.role();
            StaffView {
                id: row.id,
                name: row.name,
                email: row.email,
                role: role.as_str(),
                role_name: role.arabic_name(),
                disabled: row.disabled,
                two_factor: row.two_factor,
            }
        })
        .collect();
    let roles: Vec<RoleChoice> =
        Role::ALL.iter().map(|role| RoleChoice { value: role.as_str(), name: role.arabic_name() }).collect();
    let html = render(
        state,
        staff,
        "admin/staff.html",
        "staff",
        minijinja::context! { people => people, roles => roles, form => form, problems => problems, notice => notice },
    )?;
    Ok(page_with_status(status, html))
}

pub async fn list(State(state): State<AppState>, staff: Staff, uri: Uri) -> Result<Response, AppError> {
    staff.require(staff.role().manages_site())?;
    let notice = crate::web::query_params(&uri).get("saved").map(|_| "حُفظت التغييرات.");
    render_list(&state, &staff, StatusCode::OK, &NewStaffForm::default(), Vec::new(), notice).await
}

pub async fn create(
    State(state): State<AppState>,
    staff: Staff,
    PageForm(form): PageForm<NewStaffForm>,
) -> Result<Response, AppError> {
    staff.require(staff.role().manages_site())?;
    staff.check_csrf(&form.csrf)?;
    let mut problems = Vec::new();
    let email = normalize_email(&form.email);
    let name = form.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 100 {
        problems.push("الاسم مطلوب (حتى ١٠٠ حرف).".to_owned());
    }
    if !is_plausible_email(&email) {
        problems.push("البريد الإلكتروني غير صالح.".to_owned());
    }
    let role = Role::parse(&form.role);
    if role.is_none() {
        problems.push("اختر دورًا.".to_owned());
    }
    if let Err(error) = passwords::check_strength(&form.password, &email, &name) {
        problems.push(format!("كلمة المرور ضعيفة: {error}"));
    }
    let Some(role) = role.filter(|_| problems.is_empty()) else {
        return render_list(&state, &staff, StatusCode::UNPROCESSABLE_ENTITY, &form, problems, None).await;
    };
    let hash = passwords::hash(form.password.clone()).await.map_err(|error| AppError::Internal(error.to_string()))?;
    if state.store.create_staff(&email, &name, role, &hash, now_seconds()).await?.is_none() {
        let problems = vec!["يوجد حساب بهذا البريد الإلكتروني.".to_owned()];
        return render_list(&state, &staff, StatusCode::UNPROCESSABLE_ENTITY, &form, problems, None).await;
    }
    staff.audit(&state, "staff.create", &format!("{name} <{email}> ({})", role.as_str())).await;
    Ok(see_other("/admin/staff?saved=1"))
}

#[derive(Deserialize)]
pub struct AccessForm {
    #[serde(default)]
    role: String,
    #[serde(default)]
    disabled: Option<String>,
    /// Turns off the member's two-factor login, for a lost phone.
    #[serde(default)]
    reset_two_factor: Option<String>,
    #[serde(default)]
    csrf: String,
}

pub async fn update(
    State(state): State<AppState>,
    staff: Staff,
    uri: Uri,
    PageForm(form): PageForm<AccessForm>,
) -> Result<Response, AppError> {
    staff.require(staff.role().manages_site())?;
    staff.check_csrf(&form.csrf)?;
    let id = raw_segment(&uri, 2).and_then(parse_id).ok_or(AppError::NotFound)?;
    let role = Role::parse(&form.role).ok_or_else(|| AppError::BadRequest("unknown role".into()))?;
    let disabled = form.disabled.is_some();
    if id == staff.id() && (role != Role::Admin || disabled) {
        return Err(AppError::BadRequest("an admin cannot demote or disable their own account".into()));
    }
    let target = state.store.staff_by_id(id).await?.ok_or(AppError::NotFound)?;
    if form.reset_two_factor.is_some() {
        state.store.disable_totp(id).await?;
        staff.audit(&state, "staff.two_factor.off", &target.name).await;
        return Ok(see_other("/admin/staff?saved=1"));
    }
    if !state.store.update_staff_access(id, role, disabled).await? {
        return Err(AppError::NotFound);
    }
    staff
        .audit(
            &state,
            "staff.access",
            &format!("{} → {}{}", target.name, role.as_str(), if disabled { " (موقوف)" } else { "" }),
        )
        .await;
    Ok(see_other("/admin/staff?saved=1"))
}
