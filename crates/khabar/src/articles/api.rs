//! The JSON APIs for articles: the public content API and the admin API.

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

use crate::accounts::tokens::ApiCaller;
use crate::app::AppState;
use crate::articles::markdown;
use crate::articles::pages::parse_id;
use crate::articles::store::{
    ArticleCard, ArticleRow, ArticleWrite, AttachedName, ListFilter, NewName, Saver, UpdateOutcome,
};
use crate::articles::views::{links_for, LinkView};
use crate::error::{AppError, FieldErrors};
use crate::store::now_seconds;
use crate::web::{article_path, page_count, page_number, query_params, raw_segment, ApiJson};

const MAX_API_LIMIT: u32 = 100;
const MAX_TITLE_CHARS: usize = 300;
const MAX_SUMMARY_CHARS: usize = 1000;
const MAX_BODY_BYTES: usize = 1024 * 1024;
const MAX_NAME_CHARS: usize = 100;
const MAX_NAMES: usize = 30;

#[derive(Serialize)]
pub struct FeaturedImageJson {
    pub url: String,
    pub caption: String,
    pub credit: String,
}

#[derive(Serialize)]
pub struct ArticleJson {
    pub id: i64,
    pub title: String,
    pub slug: String,
    pub url: String,
    pub summary: String,
    pub section: LinkView,
    pub tags: Vec<LinkView>,
    pub authors: Vec<LinkView>,
    pub breaking: bool,
    pub featured_image: Option<FeaturedImageJson>,
    pub published_at: String,
    pub word_count: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_html: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_markdown: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seo_description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub social_image: Option<String>,
}

fn rfc3339(seconds: i64) -> String {
    jiff::Timestamp::from_second(seconds).map(|at| at.to_string()).unwrap_or_default()
}

fn absolute_links(state: &AppState, mut links: Vec<LinkView>) -> Vec<LinkView> {
    for link in &mut links {
        link.url = state.absolute_url(&link.url);
    }
    links
}

fn card_json(state: &AppState, card: &ArticleCard, tags: &[AttachedName], authors: &[AttachedName]) -> ArticleJson {
    let mut section = LinkView::new("section", &card.section_name, &card.section_slug);
    section.url = state.absolute_url(&section.url);
    ArticleJson {
        id: card.id,
        title: card.title.clone(),
        slug: card.slug.clone(),
        url: state.absolute_url(&article_path(card.id, &card.slug)),
        summary: card.summary.clone(),
        section,
        tags: absolute_links(state, links_for("tag", card.id, tags)),
        authors: absolute_links(state, links_for("author", card.id, authors)),
        breaking: card.breaking,
        featured_image: card.featured_image.as_ref().map(|url| FeaturedImageJson {
            url: state.absolute_url(url),
            caption: card.featured_caption.clone(),
            credit: String::new(),
        }),
        published_at: rfc3339(card.published_at),
        word_count: card.word_count,
        updated_at: None,
        body_html: None,
        body_markdown: None,
        status: None,
        seo_description: None,
        social_image: None,
    }
}

fn article_json(
    state: &AppState,
    row: &ArticleRow,
    tags: &[AttachedName],
    authors: &[AttachedName],
    for_admin: bool,
) -> ArticleJson {
    let card = ArticleCard {
        id: row.id,
        slug: row.slug.clone(),
        title: row.title.clone(),
        summary: row.summary.clone(),
        section_name: row.section_name.clone(),
        section_slug: row.section_slug.clone(),
        breaking: row.breaking,
        featured_image: row.featured_image.clone(),
        featured_caption: row.featured_caption.clone(),
        published_at: row.published_at.unwrap_or(row.created_at),
        word_count: row.word_count,
    };
    let mut json = card_json(state, &card, tags, authors);
    if let Some(image) = &mut json.featured_image {
        image.credit = row.featured_credit.clone();
    }
    json.updated_at = Some(rfc3339(row.updated_at));
    json.body_html = Some(row.body_html.clone());
    if for_admin {
        json.body_markdown = Some(row.body_markdown.clone());
        json.seo_description = Some(row.seo_description.clone());
        json.social_image = row.social_image.clone();
        json.status = Some(row.status.clone());
        if row.published_at.is_none() {
            json.published_at = String::new();
        }
    }
    json
}

#[derive(Serialize)]
pub struct ArticleListJson {
    pub articles: Vec<ArticleJson>,
    pub page: u32,
    pub pages: u32,
    pub limit: u32,
    pub total: i64,
}

fn optional_param(params: &std::collections::HashMap<String, String>, name: &str) -> Option<String> {
    params.get(name).map(|value| value.trim()).filter(|value| !value.is_empty()).map(str::to_owned)
}

pub async fn list_articles(State(state): State<AppState>, uri: Uri) -> Result<Json<ArticleListJson>, AppError> {
    let params = query_params(&uri);
    let page = page_number(&params)?;
    let limit = match params.get("limit").map(|value| value.trim()) {
        None | Some("") => state.config.page_size,
        Some(value) => {
            value.parse::<u32>().ok().filter(|limit| (1..=MAX_API_LIMIT).contains(limit)).ok_or_else(|| {
                AppError::BadRequest(format!("limit must be a whole number from 1 to {MAX_API_LIMIT}"))
            })?
        }
    };
    let filter = ListFilter {
        section: optional_param(&params, "section"),
        tag: optional_param(&params, "tag"),
        author: optional_param(&params, "author"),
    };
    let offset = i64::from(page - 1) * i64::from(limit);
    let (cards, total) = state.store.list_articles(&filter, now_seconds(), offset, i64::from(limit)).await?;
    let ids: Vec<i64> = cards.iter().map(|card| card.id).collect();
    let tags = state.store.tags_of(&ids).await?;
    let authors = state.store.authors_of(&ids).await?;
    let articles = cards.iter().map(|card| card_json(&state, card, &tags, &authors)).collect();
    Ok(Json(ArticleListJson { articles, page, pages: page_count(total, limit), limit, total }))
}

/// `/api/{content|admin}/articles/{id}`: the id is the fourth segment.
fn id_param(uri: &Uri) -> Result<i64, AppError> {
    raw_segment(uri, 3).and_then(parse_id).ok_or(AppError::NotFound)
}

async fn load_article_json(state: &AppState, id: i64, for_admin: bool) -> Result<ArticleJson, AppError> {
    let now = now_seconds();
    let row = state
        .store
        .article_by_id(id)
        .await?
        .filter(|row| for_admin || row.is_visible(now))
        .ok_or(AppError::NotFound)?;
    let tags = state.store.tags_of(&[id]).await?;
    let authors = state.store.authors_of(&[id]).await?;
    Ok(article_json(state, &row, &tags, &authors, for_admin))
}

pub async fn get_article(State(state): State<AppState>, uri: Uri) -> Result<Json<ArticleJson>, AppError> {
    Ok(Json(load_article_json(&state, id_param(&uri)?, false).await?))
}

pub async fn admin_get_article(
    _caller: ApiCaller,
    State(state): State<AppState>,
    uri: Uri,
) -> Result<Json<ArticleJson>, AppError> {
    Ok(Json(load_article_json(&state, id_param(&uri)?, true).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeaturedImageInput {
    pub url: String,
    #[serde(default)]
    pub caption: String,
    #[serde(default)]
    pub credit: String,
}

/// Every field optional at this level so that missing ones are reported
/// together, by name, rather than one at a time by the JSON parser.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArticleInput {
    pub title: Option<String>,
    pub body_markdown: Option<String>,
    pub summary: Option<String>,
    pub section: Option<String>,
    pub tags: Option<Vec<String>>,
    pub authors: Option<Vec<String>>,
    pub status: Option<String>,
    pub published_at: Option<String>,
    pub breaking: Option<bool>,
    pub featured_image: Option<FeaturedImageInput>,
    /// For search engines, when it should differ from the summary.
    #[serde(default)]
    pub seo_description: Option<String>,
    /// For share cards, when it should differ from the featured image.
    #[serde(default)]
    pub social_image: Option<String>,
}

fn name_for(value: &str) -> Option<NewName> {
    let name = value.trim();
    let slug = khabar_arabic::slug::slugify(name);
    (!slug.is_empty()).then(|| NewName { name: name.to_owned(), slug })
}

fn validate_names(values: &[String], field: &str, errors: &mut FieldErrors) -> Vec<NewName> {
    if values.len() > MAX_NAMES {
        errors.insert(field.to_owned(), format!("at most {MAX_NAMES} names"));
        return Vec::new();
    }
    let mut names: Vec<NewName> = Vec::new();
    for value in values {
        if value.trim().chars().count() > MAX_NAME_CHARS {
            errors.insert(field.to_owned(), format!("each name must be at most {MAX_NAME_CHARS} characters"));
            continue;
        }
        match name_for(value) {
            Some(name) if names.iter().all(|known| known.slug != name.slug) => names.push(name),
            Some(_) => {}
            None => {
                errors.insert(field.to_owned(), format!("'{value}' has no letters or digits"));
            }
        }
    }
    names
}

/// Turns input into a write, or reports every problem at once. `previous`
/// keeps the first publication time when an article is edited.
pub fn validate(
    input: ArticleInput,
    previous: Option<&ArticleRow>,
    now: i64,
    saved_by: Saver,
) -> Result<ArticleWrite, AppError> {
    let mut errors = FieldErrors::new();
    let title = input.title.unwrap_or_default().trim().to_owned();
    if title.is_empty() {
        errors.insert("title".into(), "required".into());
    } else if title.chars().count() > MAX_TITLE_CHARS {
        errors.insert("title".into(), format!("at most {MAX_TITLE_CHARS} characters"));
    }
    let body_markdown = input.body_markdown.unwrap_or_default();
    if body_markdown.trim().is_empty() {
        errors.insert("body_markdown".into(), "required".into());
    } else if body_markdown.len() > MAX_BODY_BYTES {
        errors.insert("body_markdown".into(), format!("at most {MAX_BODY_BYTES} bytes"));
    }
    let summary = input.summary.unwrap_or_default().trim().to_owned();
    if summary.chars().count() > MAX_SUMMARY_CHARS {
        errors.insert("summary".into(), format!("at most {MAX_SUMMARY_CHARS} characters"));
    }
    let section = match input.section.as_deref().map(str::trim) {
        None | Some("") => {
            errors.insert("section".into(), "required".into());
            None
        }
        Some(value) if value.chars().count() > MAX_NAME_CHARS => {
            errors.insert("section".into(), format!("at most {MAX_NAME_CHARS} characters"));
            None
        }
        Some(value) => {
            let name = name_for(value);
            if name.is_none() {
                errors.insert("section".into(), "must contain letters or digits".into());
            }
            name
        }
    };
    let tags = validate_names(&input.tags.unwrap_or_default(), "tags", &mut errors);
    let authors = validate_names(&input.authors.unwrap_or_default(), "authors", &mut errors);
    let status = input.status.unwrap_or_default();
    if status != "draft" && status != "published" {
        errors.insert("status".into(), "must be \"draft\" or \"published\"".into());
    }
    let requested_time = match input.published_at.as_deref().map(str::trim).filter(|value| !value.is_empty()) {
        None => None,
        Some(value) => match value.parse::<jiff::Timestamp>() {
            Ok(at) => Some(at.as_second()),
            Err(_) => {
                errors.insert(
                    "published_at".into(),
                    "must be an RFC 3339 time with an offset, e.g. 2026-11-29T18:00:00+03:00".into(),
                );
                None
            }
        },
    };
    let seo_description = input.seo_description.unwrap_or_default().trim().to_owned();
    if seo_description.chars().count() > 300 {
        errors.insert("seo_description".into(), "at most 300 characters".into());
    }
    let social_image = input.social_image.map(|url| url.trim().to_owned()).filter(|url| !url.is_empty());
    if social_image.as_deref().is_some_and(|url| !is_acceptable_image_url(url)) {
        errors.insert("social_image".into(), "must be an http(s) URL or a path starting with /".into());
    }
    let featured_image = input.featured_image.filter(|image| !image.url.trim().is_empty());
    if let Some(image) = &featured_image {
        if !is_acceptable_image_url(image.url.trim()) {
            errors.insert("featured_image.url".into(), "must be an http(s) URL or a path starting with /".into());
        }
    }
    let Some(section) = section.filter(|_| errors.is_empty()) else {
        let message =
            errors.iter().map(|(field, problem)| format!("{field}: {problem}")).collect::<Vec<_>>().join("; ");
        return Err(AppError::Validation { message, fields: errors });
    };
    let published_at = match status.as_str() {
        "published" => Some(requested_time.or(previous.and_then(|row| row.published_at)).unwrap_or(now)),
        _ => requested_time,
    };
    let rendered = markdown::render(&body_markdown);
    // "comments" is taken: /news/{id}/comments is where comments are posted.
    let slug = Some(khabar_arabic::slug::slugify(&title))
        .filter(|slug| !slug.is_empty() && slug != "comments")
        .unwrap_or_else(|| "خبر".into());
    let (featured_image, featured_caption, featured_credit) = match featured_image {
        Some(image) => {
            (Some(image.url.trim().to_owned()), image.caption.trim().to_owned(), image.credit.trim().to_owned())
        }
        None => (None, String::new(), String::new()),
    };
    Ok(ArticleWrite {
        slug,
        title,
        summary,
        body_markdown,
        body_html: rendered.html,
        word_count: rendered.word_count,
        status,
        section,
        tags,
        authors,
        breaking: input.breaking.unwrap_or(false),
        featured_image,
        featured_caption,
        featured_credit,
        published_at,
        seo_description,
        social_image,
        review_requested: false,
        saved_by,
    })
}

fn is_acceptable_image_url(url: &str) -> bool {
    let scheme_ok =
        url.starts_with('/') && !url.starts_with("//") || url.starts_with("https://") || url.starts_with("http://");
    scheme_ok && !url.contains(char::is_whitespace) && !url.contains('"')
}

fn api_saver(caller: &ApiCaller) -> Saver {
    Saver { staff_id: None, name: format!("API: {}", caller.token_name) }
}

#[derive(Serialize)]
pub struct WrittenJson {
    pub id: i64,
    pub url: String,
}

pub async fn create_article(
    caller: ApiCaller,
    State(state): State<AppState>,
    ApiJson(input): ApiJson<ArticleInput>,
) -> Result<Response, AppError> {
    let now = now_seconds();
    let write = validate(input, None, now, api_saver(&caller))?;
    let id = state.store.create_article(&write, now).await?;
    tracing::info!(article = id, token = %caller.token_name, "article created");
    crate::articles::changes::article_changed(&state, None, id).await;
    let url = state.absolute_url(&article_path(id, &write.slug));
    Ok((StatusCode::CREATED, Json(WrittenJson { id, url })).into_response())
}

pub async fn update_article(
    caller: ApiCaller,
    State(state): State<AppState>,
    uri: Uri,
    ApiJson(input): ApiJson<ArticleInput>,
) -> Result<Json<WrittenJson>, AppError> {
    let id = id_param(&uri)?;
    let now = now_seconds();
    let before = crate::articles::changes::snapshot(&state, id).await?.ok_or(AppError::NotFound)?;
    let write = validate(input, Some(&before.row), now, api_saver(&caller))?;
    match state.store.update_article(id, &write, now, None).await? {
        UpdateOutcome::Updated { .. } => {}
        UpdateOutcome::NotFound => return Err(AppError::NotFound),
        UpdateOutcome::Conflict { .. } => {
            return Err(AppError::BadRequest("the article changed while it was being saved; try again".into()))
        }
    }
    tracing::info!(article = id, token = %caller.token_name, "article updated");
    crate::articles::changes::article_changed(&state, Some(&before), id).await;
    Ok(Json(WrittenJson { id, url: state.absolute_url(&article_path(id, &write.slug)) }))
}

pub async fn delete_article(
    caller: ApiCaller,
    State(state): State<AppState>,
    uri: Uri,
) -> Result<StatusCode, AppError> {
    let id = id_param(&uri)?;
    let before = crate::articles::changes::snapshot(&state, id).await?;
    if !state.store.delete_article(id).await? {
        return Err(AppError::NotFound);
    }
    tracing::info!(article = id, token = %caller.token_name, "article deleted");
    crate::articles::changes::article_changed(&state, before.as_ref(), id).await;
    Ok(StatusCode::NO_CONTENT)
}
