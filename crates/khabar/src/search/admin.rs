//! `/admin/search` (editors and admins): spelling-variant groups, applied to
//! every search at once (queries are expanded; nothing is reindexed), and how
//! much newer articles are preferred.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;

use super::DEFAULT_RECENCY;
use crate::admin::session::Staff;
use crate::admin::{page_with_status, render, see_other};
use crate::app::AppState;
use crate::error::AppError;
use crate::store::now_seconds;

/// Words in one group at most, and characters per word.
const MAX_GROUP_WORDS: usize = 20;
const MAX_WORD_CHARS: usize = 60;

fn fields(body: &[u8]) -> std::collections::HashMap<String, String> {
    form_urlencoded::parse(body).into_owned().collect()
}

async fn show(
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    notice: Option<&str>,
    problem: Option<&str>,
) -> Result<Response, AppError> {
    let groups: Vec<minijinja::Value> = state
        .store
        .search_variants()
        .await?
        .into_iter()
        .map(|group| {
            minijinja::context! {
                id => group.id,
                words => group.words.lines().map(str::to_owned).collect::<Vec<_>>(),
                created_by => group.created_by,
            }
        })
        .collect();
    let html = render(
        state,
        staff,
        "admin/search.html",
        "search",
        minijinja::context! {
            groups => groups,
            recency => state.settings().search_recency.unwrap_or(DEFAULT_RECENCY),
            documents => state.search.index.document_count(),
            notice => notice,
            problem => problem,
        },
    )?;
    Ok(page_with_status(status, html))
}

pub async fn page(State(state): State<AppState>, staff: Staff, uri: Uri) -> Result<Response, AppError> {
    staff.require(staff.role().edits_all_articles())?;
    let notice = crate::web::query_params(&uri).get("saved").map(|_| "حُفظ، ويسري على كل بحث من الآن.");
    show(&state, &staff, StatusCode::OK, notice, None).await
}

/// `POST /admin/search/variants` (field `words`: the spellings, one per line or separated by = or ،).
pub async fn add_variants(State(state): State<AppState>, staff: Staff, body: Bytes) -> Result<Response, AppError> {
    staff.require(staff.role().edits_all_articles())?;
    let fields = fields(&body);
    staff.check_csrf(fields.get("csrf").map(String::as_str).unwrap_or(""))?;
    let words: Vec<String> = fields
        .get("words")
        .map(String::as_str)
        .unwrap_or("")
        .split(['\n', '=', '،', ','])
        .map(str::trim)
        .filter(|word| !word.is_empty())
        .map(str::to_owned)
        .collect();
    let problem = if words.len() < 2 {
        Some("اكتب كلمتين على الأقل، مثل: سوريا = سورية")
    } else if words.len() > MAX_GROUP_WORDS || words.iter().any(|word| word.chars().count() > MAX_WORD_CHARS) {
        Some("المجموعة طويلة جدًا: عشرون كلمة على الأكثر، كل منها ستون حرفًا على الأكثر.")
    } else if words.iter().any(|word| khabar_arabic::normalize::tokens(word).len() != 1) {
        Some("كل صيغة كلمة واحدة، من دون مسافات أو علامات.")
    } else {
        None
    };
    if problem.is_some() {
        return show(&state, &staff, StatusCode::UNPROCESSABLE_ENTITY, None, problem).await;
    }
    state.store.add_search_variants(&words.join("\n"), staff.name(), now_seconds()).await?;
    state.search.reload_variants(&state.store).await?;
    state.peers.announce(None);
    staff.audit(&state, "search.variants.add", &words.join(" = ")).await;
    Ok(see_other("/admin/search?saved=1"))
}

pub async fn delete_variants(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    body: Bytes,
) -> Result<Response, AppError> {
    staff.require(staff.role().edits_all_articles())?;
    let fields = fields(&body);
    staff.check_csrf(fields.get("csrf").map(String::as_str).unwrap_or(""))?;
    if !state.store.delete_search_variants(id).await? {
        return Err(AppError::NotFound);
    }
    state.search.reload_variants(&state.store).await?;
    state.peers.announce(None);
    staff.audit(&state, "search.variants.delete", &format!("#{id}")).await;
    Ok(see_other("/admin/search?saved=1"))
}

/// `POST /admin/search` (editors and admins): the recency preference, 0 to 5.
pub async fn save_recency(State(state): State<AppState>, staff: Staff, body: Bytes) -> Result<Response, AppError> {
    staff.require(staff.role().edits_all_articles())?;
    let fields = fields(&body);
    staff.check_csrf(fields.get("csrf").map(String::as_str).unwrap_or(""))?;
    let typed = khabar_arabic::digits::to_ascii(fields.get("recency").map(String::as_str).unwrap_or("").trim())
        .replace('٫', ".");
    let Some(weight) = typed.parse::<f32>().ok().filter(|weight| (0.0..=5.0).contains(weight)) else {
        let problem = Some("تفضيل الأحدث رقم بين ٠ و٥ (مثل 0.3).");
        return show(&state, &staff, StatusCode::UNPROCESSABLE_ENTITY, None, problem).await;
    };
    state.store.save_settings(&[("search_recency".to_owned(), weight.to_string())]).await?;
    state.reload_settings().await.map_err(|error| AppError::Internal(error.to_string()))?;
    state.peers.announce(None);
    staff.audit(&state, "search.recency", &weight.to_string()).await;
    Ok(see_other("/admin/search?saved=1"))
}
