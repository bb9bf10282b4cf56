//! Static pages (من نحن، اتصل بنا، سياسة الخصوصية…): `/page/{slug}` for
//! readers, `GET /api/content/pages` as JSON, `/admin/pages` for editors.
//! Pages marked for the footer are linked from every page; the list lives
//! in memory (read at start and after every change), so pages need no query
//! for it.

pub mod admin;
pub mod store;

use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use crate::app::AppState;
use crate::cache::render::{cached_or_render, respond_at, RenderedPage, HTML};
use crate::error::AppError;
use crate::sections::navigation;
use crate::store::now_seconds;
use crate::web::{decode_path_segment, encode_path_segment, raw_segment};
pub use store::FooterPage;

pub fn router() -> Router<AppState> {
    Router::new().route("/page/{slug}", get(page)).route("/api/content/pages", get(api_pages))
}

/// The cache tag of a page's own address.
pub fn tag(id: i64) -> String {
    format!("page:{id}")
}

pub fn path(slug: &str) -> String {
    format!("/page/{}", encode_path_segment(slug))
}

/// A footer link as templates show it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FooterLink {
    pub title: String,
    pub url: String,
}

pub fn footer_links(pages: Vec<FooterPage>) -> Vec<FooterLink> {
    pages.into_iter().map(|page| FooterLink { url: path(&page.slug), title: page.title }).collect()
}

async fn page(State(state): State<AppState>, uri: Uri, request_headers: HeaderMap) -> Result<Response, AppError> {
    let slug = raw_segment(&uri, 1).and_then(decode_path_segment).ok_or(AppError::NotFound)?;
    let key = format!("page:{slug}");
    let page = cached_or_render(&state, key.clone(), || render_page(&state, &slug)).await?;
    Ok(respond_at(&state, &uri, &key, &page, &request_headers, None))
}

async fn render_page(state: &AppState, slug: &str) -> Result<RenderedPage, AppError> {
    let row = state.store.page_by_slug(slug).await?.filter(|row| row.is_published()).ok_or(AppError::NotFound)?;
    let html = state.templates.render(
        "page.html",
        minijinja::context! {
            site => state.site_view(),
            sections => navigation(state, now_seconds()).await?,
            current_section => "",
            page => minijinja::context! {
                title => row.title,
                body_html => minijinja::Value::from_safe_string(row.body_html),
            },
            canonical_url => state.absolute_url(&path(&row.slug)),
        },
    )?;
    Ok(RenderedPage {
        html,
        max_age: None,
        canonical_path: Some(path(&row.slug)),
        content_type: HTML,
        tags: vec![tag(row.id)],
    })
}

#[derive(Serialize)]
struct PageJson {
    id: i64,
    title: String,
    slug: String,
    url: String,
    in_footer: bool,
    body_html: String,
    updated_at: String,
}

#[derive(Serialize)]
struct PagesJson {
    pages: Vec<PageJson>,
}

/// `GET /api/content/pages`: every published page, in the footer's order.
async fn api_pages(State(state): State<AppState>) -> Result<Json<PagesJson>, AppError> {
    let pages = state
        .store
        .published_pages()
        .await?
        .into_iter()
        .map(|row| PageJson {
            id: row.id,
            url: state.absolute_url(&path(&row.slug)),
            title: row.title,
            slug: row.slug,
            in_footer: row.in_footer,
            body_html: row.body_html,
            updated_at: jiff::Timestamp::from_second(row.updated_at).map(|at| at.to_string()).unwrap_or_default(),
        })
        .collect();
    Ok(Json(PagesJson { pages }))
}
