//! `/admin/sections`, `/admin/tags`, `/admin/authors`: editors name, order,
//! describe and prune the ways readers browse.

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use serde::{Deserialize, Serialize};

use crate::admin::session::Staff;
use crate::admin::{page_with_status, render, see_other, PageForm};
use crate::app::AppState;
use crate::articles::pages::parse_id;
use crate::articles::store::NewName;
use crate::error::AppError;
use crate::sections::store::{Taxonomy, TaxonomyChange};
use crate::store::now_seconds;
use crate::web::{encode_path_segment, query_params, raw_segment};

#[derive(Serialize)]
struct Entry {
    id: i64,
    name: String,
    url: String,
    description: String,
    position: i64,
    count: String,
    deletable: bool,
}

fn kind_from(uri: &Uri) -> Result<Taxonomy, AppError> {
    match raw_segment(uri, 1) {
        Some("sections") => Ok(Taxonomy::Sections),
        Some("tags") => Ok(Taxonomy::Tags),
        Some("authors") => Ok(Taxonomy::Authors),
        _ => Err(AppError::NotFound),
    }
}

fn words(kind: Taxonomy) -> (&'static str, &'static str, &'static str) {
    match kind {
        Taxonomy::Sections => ("sections", "الأقسام", "section"),
        Taxonomy::Tags => ("tags", "الوسوم", "tag"),
        Taxonomy::Authors => ("authors", "الكتّاب", "author"),
    }
}

async fn show(
    state: &AppState,
    staff: &Staff,
    kind: Taxonomy,
    status: StatusCode,
    problem: Option<String>,
    notice: Option<&str>,
) -> Result<Response, AppError> {
    let now = now_seconds();
    let (path_word, heading, public_word) = words(kind);
    let url = |slug: &str| format!("/{public_word}/{}", encode_path_segment(slug));
    let count = |n: i64| state.locale().count(n.unsigned_abs(), &khabar_arabic::plural::ARTICLES);
    let entries: Vec<Entry> = match kind {
        Taxonomy::Sections => state
            .store
            .sections(now)
            .await?
            .into_iter()
            .map(|row| Entry {
                id: row.id,
                url: url(&row.slug),
                description: row.description,
                position: row.position,
                count: count(row.article_count),
                deletable: row.article_count == 0,
                name: row.name,
            })
            .collect(),
        Taxonomy::Tags => state
            .store
            .tags(now)
            .await?
            .into_iter()
            .map(|row| Entry {
                id: row.id,
                url: url(&row.slug),
                description: String::new(),
                position: 0,
                count: count(row.article_count),
                deletable: true,
                name: row.name,
            })
            .collect(),
        Taxonomy::Authors => state
            .store
            .authors(now)
            .await?
            .into_iter()
            .map(|row| Entry {
                id: row.id,
                url: url(&row.slug),
                description: row.bio,
                position: 0,
                count: count(row.article_count),
                deletable: false,
                name: row.name,
            })
            .collect(),
    };
    let html = render(
        state,
        staff,
        "admin/taxonomy.html",
        path_word,
        minijinja::context! { kind => path_word, heading => heading, entries => entries, problem => problem, notice => notice },
    )?;
    Ok(page_with_status(status, html))
}

pub async fn list(State(state): State<AppState>, staff: Staff, uri: Uri) -> Result<Response, AppError> {
    staff.require(staff.role().manages_taxonomy())?;
    let kind = kind_from(&uri)?;
    let notice = query_params(&uri).get("saved").map(|_| "حُفظ التغيير.");
    show(&state, &staff, kind, StatusCode::OK, None, notice).await
}

#[derive(Deserialize)]
pub struct EntryForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    position: String,
    #[serde(default)]
    delete: Option<String>,
    #[serde(default)]
    csrf: String,
}

pub async fn create(
    State(state): State<AppState>,
    staff: Staff,
    uri: Uri,
    PageForm(form): PageForm<EntryForm>,
) -> Result<Response, AppError> {
    staff.require(staff.role().manages_taxonomy())?;
    staff.check_csrf(&form.csrf)?;
    let kind = kind_from(&uri)?;
    let name = form.name.trim();
    let slug = khabar_arabic::slug::slugify(name);
    if slug.is_empty() || name.chars().count() > 100 {
        let problem = Some("اكتب اسمًا فيه حروف (حتى ١٠٠ حرف).".to_owned());
        return show(&state, &staff, kind, StatusCode::UNPROCESSABLE_ENTITY, problem, None).await;
    }
    if kind == Taxonomy::Tags || kind == Taxonomy::Authors {
        return Err(AppError::NotFound);
    }
    state
        .store
        .ensure_section(&NewName { name: name.to_owned(), slug }, form.description.trim(), now_seconds())
        .await?;
    staff.audit(&state, "section.create", name).await;
    Ok(see_other("/admin/sections?saved=1"))
}

pub async fn update(
    State(state): State<AppState>,
    staff: Staff,
    uri: Uri,
    PageForm(form): PageForm<EntryForm>,
) -> Result<Response, AppError> {
    staff.require(staff.role().manages_taxonomy())?;
    staff.check_csrf(&form.csrf)?;
    let kind = kind_from(&uri)?;
    let id = raw_segment(&uri, 2).and_then(parse_id).ok_or(AppError::NotFound)?;
    let (path_word, _, _) = words(kind);
    let outcome = if form.delete.is_some() {
        state.store.delete_taxonomy(kind, id).await?
    } else {
        let name = form.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            let problem = Some("الاسم مطلوب (حتى ١٠٠ حرف).".to_owned());
            return show(&state, &staff, kind, StatusCode::UNPROCESSABLE_ENTITY, problem, None).await;
        }
        let position = form.position.trim().parse::<i64>().unwrap_or(0);
        state.store.edit_taxonomy(kind, id, name, form.description.trim(), position).await?
    };
    let problem = match outcome {
        TaxonomyChange::Done => None,
        TaxonomyChange::NotFound => return Err(AppError::NotFound),
        TaxonomyChange::NameTaken => Some("هذا الاسم مستخدم لعنصر آخر.".to_owned()),
        TaxonomyChange::InUse => Some("لا يمكن حذف قسم فيه مقالات. انقل مقالاته أولًا.".to_owned()),
    };
    if let Some(problem) = problem {
        return show(&state, &staff, kind, StatusCode::UNPROCESSABLE_ENTITY, Some(problem), None).await;
    }
    staff
        .audit(
            &state,
            &format!("{path_word}.{}", if form.delete.is_some() { "delete" } else { "edit" }),
            &format!("#{id} {}", form.name.trim()),
        )
        .await;
    state.content_changed();
    Ok(see_other(&format!("/admin/{path_word}?saved=1")))
}
