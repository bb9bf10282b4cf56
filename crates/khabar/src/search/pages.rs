//! `/search` for readers and `/api/content/search` for scripts. Whatever is
//! typed gets a normal answer (at worst "no results"), never an error.

use axum::extract::State;
use axum::http::{header, HeaderValue, Uri};
use axum::response::{Html, IntoResponse, Response};
use serde::Serialize;

use super::index::plain_text;
use super::query::{parse, Filters, MAX_QUERY_CHARS};
use super::{Snippets, DEFAULT_RECENCY};
use crate::app::AppState;
use crate::error::AppError;
use crate::store::now_seconds;
use crate::web::{article_path, query_params};

const PER_PAGE: usize = 10;
/// Pages of results offered at most (deeper pages are not worth ranking).
const MAX_PAGE: usize = 50;

#[derive(Debug, Serialize)]
pub struct HitView {
    pub id: i64,
    pub title: String,
    /// The title with matched words in <mark> (escaped HTML).
    pub title_html: String,
    pub url: String,
    pub published_at: String,
    /// The publication date as readers see it (Gregorian and Hijri, in Arabic).
    pub date: crate::locale::ShownDate,
    pub section: String,
    /// Words around the matches, from the original text, matches in <mark> (escaped HTML).
    pub snippet: String,
    pub score: f32,
}

#[derive(Debug, Serialize)]
pub struct Outcome {
    pub query: String,
    pub section: String,
    pub from: String,
    pub to: String,
    pub page: usize,
    pub pages: usize,
    pub total: usize,
    pub hits: Vec<HitView>,
}

/// A date typed as YYYY-MM-DD (any digits), as the site's midnight; None when it is not one.
fn day_start(state: &AppState, text: &str, end_of_day: bool) -> Option<i64> {
    let text = khabar_arabic::digits::to_ascii(text.trim());
    let date: jiff::civil::Date = text.parse().ok()?;
    let zoned = date.to_zoned(state.locale().time_zone().clone()).ok()?;
    let start = zoned.timestamp().as_second();
    Some(if end_of_day { start + 86_399 } else { start })
}

async fn perform(state: &AppState, uri: &Uri) -> Result<Outcome, AppError> {
    let params = query_params(uri);
    let text = |key: &str| params.get(key).map(|value| value.trim().to_owned()).unwrap_or_default();
    let query: String = text("q").chars().take(MAX_QUERY_CHARS).collect();
    let section = text("section");
    let (from, to) = (text("from"), text("to"));
    let page = khabar_arabic::digits::to_ascii(&text("page")).parse::<usize>().unwrap_or(1).clamp(1, MAX_PAGE);
    let now = now_seconds();
    let section_id = match section.as_str() {
        "" => None,
        slug => state.store.section_by_slug(slug).await?.map(|row| row.id),
    };
    let filters = Filters { section_id, from: day_start(state, &from, false), to: day_start(state, &to, true), now };
    let mut outcome = Outcome { query, section, from, to, page, pages: 0, total: 0, hits: Vec::new() };
    let parsed = parse(&outcome.query);
    if parsed.is_empty() {
        return Ok(outcome);
    }
    let recency = state.settings().search_recency.unwrap_or(DEFAULT_RECENCY);
    let search = &state.search;
    let found = search.find(&parsed, &filters, (page - 1) * PER_PAGE, PER_PAGE, recency)?;
    outcome.total = found.total;
    outcome.pages = found.total.div_ceil(PER_PAGE).min(MAX_PAGE);
    let Some(query) = found.query else { return Ok(outcome) };
    let ids: Vec<i64> = found.hits.iter().map(|(_, id)| *id).collect();
    let cards = state.store.visible_cards(&ids, now).await?;
    let snippets = search.snippets(&*query)?;
    let locale = state.locale();
    for (score, id) in found.hits {
        // The index can be a moment behind the database: what is no longer visible is skipped.
        let Some(card) = cards.iter().find(|card| card.id == id) else { continue };
        let Some(article) = state.store.article_for_index(id).await? else { continue };
        let title_html = Snippets::mark(&snippets.title, &snippets.title_phrases, &card.title)
            .unwrap_or_else(|| crate::templates::escape_html(&card.title));
        let snippet = Snippets::mark(&snippets.body, &snippets.body_phrases, &plain_text(&article))
            .unwrap_or_else(|| crate::templates::escape_html(&card.summary));
        outcome.hits.push(HitView {
            id,
            title: card.title.clone(),
            title_html,
            url: article_path(card.id, &card.slug),
            published_at: jiff::Timestamp::from_second(card.published_at).map(|at| at.to_string()).unwrap_or_default(),
            date: locale.date(card.published_at),
            section: card.section_name.clone(),
            snippet,
            score,
        });
    }
    Ok(outcome)
}

pub async fn search_page(State(state): State<AppState>, uri: Uri) -> Result<Response, AppError> {
    let outcome = perform(&state, &uri).await?;
    let now = now_seconds();
    let sections = crate::sections::navigation(&state, now).await?;
    let locale = state.locale();
    let html = state.templates.render(
        "search.html",
        minijinja::context! {
            site => state.site_view(),
            sections => sections,
            current_section => "none",
            total_text => locale.count(outcome.total as u64, &khabar_arabic::plural::ARTICLES),
            search => outcome,
            view => "search",
        },
    )?;
    let mut response = Html(html).into_response();
    // Results follow the index within a second; nobody should keep an old copy.
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response.headers_mut().insert("x-robots-tag", HeaderValue::from_static("noindex"));
    Ok(response)
}

pub async fn search_api(State(state): State<AppState>, uri: Uri) -> Result<Response, AppError> {
    let outcome = perform(&state, &uri).await?;
    let mut response = axum::Json(outcome).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(response)
}
