//! `/admin/pages` (editors and admins): write, publish and order the static
//! pages, and choose which the footer links to.

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use serde::{Deserialize, Serialize};

use crate::admin::session::Staff;
use crate::admin::{page_with_status, render, see_other, PageForm};
use crate::app::AppState;
use crate::articles::markdown;
use crate::articles::pages::parse_id;
use crate::cache::tags;
use crate::error::AppError;
use crate::pages::store::{PageRow, PageSave, PageWrite};
use crate::store::now_seconds;
use crate::web::{query_params, raw_segment};

const MAX_TITLE_CHARS: usize = 200;
const MAX_BODY_BYTES: usize = 512 * 1024;

#[derive(Serialize)]
struct ListedPage {
    id: i64,
    title: String,
    url: String,
    published: bool,
    in_footer: bool,
    position: i64,
}

pub async fn list(State(state): State<AppState>, staff: Staff, uri: Uri) -> Result<Response, AppError> {
    staff.require(staff.role().manages_taxonomy())?;
    let notice = query_params(&uri).get("saved").map(|_| "حُفظ التغيير.");
    let pages: Vec<ListedPage> = state
        .store
        .pages()
        .await?
        .into_iter()
        .map(|row| ListedPage {
            id: row.id,
            url: crate::pages::path(&row.slug),
            published: row.is_published(),
            in_footer: row.in_footer,
            position: row.position,
            title: row.title,
        })
        .collect();
    let html =
        render(&state, &staff, "admin/pages.html", "pages", minijinja::context! { pages => pages, notice => notice })?;
    Ok(page_with_status(StatusCode::OK, html))
}

#[derive(Deserialize, Default, Serialize)]
pub struct PageFormInput {
    #[serde(default)]
    title: String,
    #[serde(default)]
    slug: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    in_footer: Option<String>,
    #[serde(default)]
    position: String,
    #[serde(default)]
    #[serde(skip_serializing)]
    delete: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing)]
    csrf: String,
}

impl PageFormInput {
    fn from_row(row: &PageRow) -> Self {
        PageFormInput {
            title: row.title.clone(),
            slug: row.slug.clone(),
            body: row.body_markdown.clone(),
            status: row.status.clone(),
            in_footer: row.in_footer.then(|| "1".to_owned()),
            position: row.position.to_string(),
            delete: None,
            csrf: String::new(),
        }
    }
}

fn show_form(
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    id: Option<i64>,
    form: &PageFormInput,
    problem: Option<&str>,
) -> Result<Response, AppError> {
    let html = render(
        state,
        staff,
        "admin/page_form.html",
        "pages",
        minijinja::context! { id => id, form => form, problem => problem },
    )?;
    Ok(page_with_status(status, html))
}

/// Checks the form; a problem to show in Arabic, or the write.
fn validate(form: &PageFormInput) -> Result<PageWrite, &'static str> {
    let title = form.title.trim();
    if title.is_empty() || title.chars().count() > MAX_TITLE_CHARS {
        return Err("العنوان مطلوب (حتى ٢٠٠ حرف).");
    }
    if form.body.trim().is_empty() || form.body.len() > MAX_BODY_BYTES {
        return Err("نص الصفحة مطلوب (حتى ٥١٢ كيلوبايت).");
    }
    let typed_slug = form.slug.trim();
    let slug = khabar_arabic::slug::slugify(if typed_slug.is_empty() { title } else { typed_slug });
    if slug.is_empty() {
        return Err("اكتب عنوانًا أو رابطًا فيه حروف.");
    }
    let rendered = markdown::render(&form.body);
    Ok(PageWrite {
        slug,
        title: title.to_owned(),
        body_markdown: form.body.clone(),
        body_html: rendered.html,
        status: if form.status == "published" { "published".to_owned() } else { "draft".to_owned() },
        in_footer: form.in_footer.is_some(),
        position: form.position.trim().parse::<i64>().unwrap_or(0),
    })
}

pub async fn new_page(State(state): State<AppState>, staff: Staff) -> Result<Response, AppError> {
    staff.require(staff.role().manages_taxonomy())?;
    show_form(&state, &staff, StatusCode::OK, None, &PageFormInput::default(), None)
}

pub async fn create(
    State(state): State<AppState>,
    staff: Staff,
    PageForm(form): PageForm<PageFormInput>,
) -> Result<Response, AppError> {
    staff.require(staff.role().manages_taxonomy())?;
    staff.check_csrf(&form.csrf)?;
    let write = match validate(&form) {
        Ok(write) => write,
        Err(problem) => return show_form(&state, &staff, StatusCode::UNPROCESSABLE_ENTITY, None, &form, Some(problem)),
    };
    let id = match state.store.create_page(&write, now_seconds()).await? {
        PageSave::Saved(id) => id,
        PageSave::SlugTaken => {
            let problem = Some("صفحة أخرى تستخدم هذا الرابط؛ اختر رابطًا آخر.");
            return show_form(&state, &staff, StatusCode::UNPROCESSABLE_ENTITY, None, &form, problem);
        }
        PageSave::NotFound => return Err(AppError::NotFound),
    };
    staff.audit(&state, "page.create", &format!("#{id} {}", write.title)).await;
    page_changed(&state, id, false, write.in_footer).await;
    Ok(see_other("/admin/pages?saved=1"))
}

pub async fn edit(State(state): State<AppState>, staff: Staff, uri: Uri) -> Result<Response, AppError> {
    staff.require(staff.role().manages_taxonomy())?;
    let id = raw_segment(&uri, 2).and_then(parse_id).ok_or(AppError::NotFound)?;
    let row = state.store.page_by_id(id).await?.ok_or(AppError::NotFound)?;
    show_form(&state, &staff, StatusCode::OK, Some(id), &PageFormInput::from_row(&row), None)
}

pub async fn save(
    State(state): State<AppState>,
    staff: Staff,
    uri: Uri,
    PageForm(form): PageForm<PageFormInput>,
) -> Result<Response, AppError> {
    staff.require(staff.role().manages_taxonomy())?;
    staff.check_csrf(&form.csrf)?;
    let id = raw_segment(&uri, 2).and_then(parse_id).ok_or(AppError::NotFound)?;
    let before = state.store.page_by_id(id).await?.ok_or(AppError::NotFound)?;
    if form.delete.is_some() {
        state.store.delete_page(id).await?;
        staff.audit(&state, "page.delete", &format!("#{id} {}", before.title)).await;
        page_changed(&state, id, before.in_footer, false).await;
        return Ok(see_other("/admin/pages?saved=1"));
    }
    let write = match validate(&form) {
        Ok(write) => write,
        Err(problem) => {
            return show_form(&state, &staff, StatusCode::UNPROCESSABLE_ENTITY, Some(id), &form, Some(problem))
        }
    };
    match state.store.update_page(id, &write, now_seconds()).await? {
        PageSave::Saved(_) => {}
        PageSave::NotFound => return Err(AppError::NotFound),
        PageSave::SlugTaken => {
            let problem = Some("صفحة أخرى تستخدم هذا الرابط؛ اختر رابطًا آخر.");
            return show_form(&state, &staff, StatusCode::UNPROCESSABLE_ENTITY, Some(id), &form, problem);
        }
    }
    staff.audit(&state, "page.edit", &format!("#{id} {}", write.title)).await;
    page_changed(&state, id, before.in_footer, write.in_footer).await;
    Ok(see_other("/admin/pages?saved=1"))
}

/// The page's own address goes from the cache; when it is or was in the
/// footer, every page does (the footer is on all of them), and the footer
/// list in memory is read again.
pub async fn page_changed(state: &AppState, id: i64, was_in_footer: bool, is_in_footer: bool) {
    let mut touched = vec![crate::pages::tag(id)];
    if was_in_footer || is_in_footer {
        if let Err(error) = state.reload_footer().await {
            tracing::warn!(%error, "could not re-read the footer's pages");
        }
        touched.push(tags::LAYOUT.to_owned());
    }
    state.changed(touched);
}
