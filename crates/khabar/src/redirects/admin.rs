//! `/admin/redirects` (editors and admins): the old addresses the site
//! answers with a 301, searched by address; add one by hand, remove one.

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use serde::{Deserialize, Serialize};

use crate::admin::session::Staff;
use crate::admin::{page_with_status, render, see_other, PageForm};
use crate::app::AppState;
use crate::articles::pages::parse_id;
use crate::error::AppError;
use crate::redirects::store::NewRedirect;
use crate::store::now_seconds;
use crate::web::{query_params, raw_segment};

const SHOWN: i64 = 200;

#[derive(Serialize)]
struct Row {
    id: i64,
    from_path: String,
    target: String,
    source: String,
}

fn describe_target(kind: &str, id: Option<i64>, path: &str) -> String {
    let id = id.unwrap_or_default();
    match kind {
        "article" => format!("المقال رقم {id}{path}"),
        "page" => format!("الصفحة رقم {id}"),
        "section" => format!("القسم رقم {id}{path}"),
        "tag" => format!("الوسم رقم {id}{path}"),
        "author" => format!("الكاتب رقم {id}{path}"),
        _ => path.to_owned(),
    }
}

async fn show(
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    search: &str,
    problem: Option<&str>,
    notice: Option<&str>,
) -> Result<Response, AppError> {
    let (rows, total) = state.store.redirects(search, SHOWN).await?;
    let rows: Vec<Row> = rows
        .into_iter()
        .map(|row| Row {
            target: describe_target(&row.target_kind, row.target_id, &row.target_path),
            id: row.id,
            from_path: row.from_path,
            source: if row.source == "admin" { "يدوي".to_owned() } else { row.source },
        })
        .collect();
    let html = render(
        state,
        staff,
        "admin/redirects.html",
        "redirects",
        minijinja::context! {
            rows => rows,
            total => state.locale().number(total),
            shown_all => total <= SHOWN,
            search => search,
            problem => problem,
            notice => notice,
        },
    )?;
    Ok(page_with_status(status, html))
}

pub async fn list(State(state): State<AppState>, staff: Staff, uri: Uri) -> Result<Response, AppError> {
    staff.require(staff.role().manages_taxonomy())?;
    let params = query_params(&uri);
    let search = params.get("q").map(|value| value.trim().to_owned()).unwrap_or_default();
    let search = crate::redirects::key(&search, None).filter(|_| !search.is_empty()).unwrap_or_default();
    let notice = params.get("saved").map(|_| "حُفظ التغيير.");
    show(&state, &staff, StatusCode::OK, &search, None, notice).await
}

#[derive(Deserialize)]
pub struct RedirectForm {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    csrf: String,
}

/// A local address typed by an editor: a path, or a full URL of this site.
fn local_target(state: &AppState, typed: &str) -> Option<String> {
    let typed = typed.trim();
    let base = state.base_url();
    let path = typed.strip_prefix(base.as_str()).unwrap_or(typed);
    let valid = path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains(char::is_whitespace)
        && !path.contains(['"', '<', '>', '\\'])
        && path.len() <= 2000;
    valid.then(|| path.to_owned())
}

pub async fn create(
    State(state): State<AppState>,
    staff: Staff,
    PageForm(form): PageForm<RedirectForm>,
) -> Result<Response, AppError> {
    staff.require(staff.role().manages_taxonomy())?;
    staff.check_csrf(&form.csrf)?;
    let from = crate::redirects::key(form.from.trim(), None).filter(|key| key != "/");
    let to = local_target(&state, &form.to);
    let (Some(from), Some(to)) = (from, to) else {
        let problem = "اكتب العنوان القديم ومسارًا في هذا الموقع يبدأ بـ / (مثل /page/من-نحن).";
        return show(&state, &staff, StatusCode::UNPROCESSABLE_ENTITY, "", Some(problem), None).await;
    };
    if crate::redirects::key(&to, None).as_deref() == Some(from.as_str()) {
        let problem = "لا يمكن أن يحوّل عنوان إلى نفسه.";
        return show(&state, &staff, StatusCode::UNPROCESSABLE_ENTITY, "", Some(problem), None).await;
    }
    let redirect = NewRedirect { from_path: from.clone(), target_kind: "path", target_id: None, target_path: to };
    state.store.add_redirect(&redirect, "admin", staff.name(), now_seconds()).await?;
    staff.audit(&state, "redirect.create", &from).await;
    Ok(see_other("/admin/redirects?saved=1"))
}

#[derive(Deserialize)]
pub struct DeleteForm {
    #[serde(default)]
    csrf: String,
}

pub async fn delete(
    State(state): State<AppState>,
    staff: Staff,
    uri: Uri,
    PageForm(form): PageForm<DeleteForm>,
) -> Result<Response, AppError> {
    staff.require(staff.role().manages_taxonomy())?;
    staff.check_csrf(&form.csrf)?;
    let id = raw_segment(&uri, 2).and_then(parse_id).ok_or(AppError::NotFound)?;
    if !state.store.delete_redirect(id).await? {
        return Err(AppError::NotFound);
    }
    staff.audit(&state, "redirect.delete", &format!("#{id}")).await;
    Ok(see_other("/admin/redirects?saved=1"))
}
