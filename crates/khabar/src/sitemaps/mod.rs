//! What search engines crawl: a sitemap index, paged article sitemaps, one
//! sitemap of the list pages, the Google News sitemap and robots.txt. All
//! go through the page cache, so a publish refreshes them.

use std::time::Duration;

use axum::extract::State;
use axum::http::{header, HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::app::AppState;
use crate::cache::render::{cached_or_render, RenderedPage};
use crate::error::AppError;
use crate::store::now_seconds;
use crate::web::{article_path, encode_path_segment, page_count, page_number, query_params};
use crate::xml::{self, XmlWriter};

/// The protocol's limit of URLs in one sitemap.
pub const URLS_PER_SITEMAP: u32 = 50_000;
/// Google News reads articles of the last two days, at most a thousand.
const NEWS_WINDOW_SECONDS: i64 = 48 * 3600;
const NEWS_MAX_URLS: i64 = 1000;
/// The news sitemap must drop articles as they pass 48 hours, edit or no edit.
const NEWS_MAX_AGE: Duration = Duration::from_secs(600);
const XML_TYPE: &str = "application/xml; charset=utf-8";
const SITEMAP_NAMESPACE: &str = "http://www.sitemaps.org/schemas/sitemap/0.9";
const NEWS_NAMESPACE: &str = "http://www.google.com/schemas/sitemap-news/0.9";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sitemap.xml", get(index))
        .route("/sitemaps/articles.xml", get(articles))
        .route("/sitemaps/pages.xml", get(list_pages))
        .route("/news-sitemap.xml", get(news))
        .route("/robots.txt", get(robots))
}

async fn index(State(state): State<AppState>, request_headers: HeaderMap) -> Result<Response, AppError> {
    let page = cached_or_render(&state, "sitemap:index".to_owned(), || async {
        let now = now_seconds();
        let count = state.store.visible_article_count(now).await?;
        // An empty sitemap is an error to crawlers: only those with URLs are listed.
        let pages = if count == 0 { 0 } else { page_count(count, URLS_PER_SITEMAP) };
        let mut locations: Vec<String> =
            (1..=pages).map(|page| state.absolute_url(&format!("/sitemaps/articles.xml?page={page}"))).collect();
        locations.push(state.absolute_url("/sitemaps/pages.xml"));
        if !state.store.recent_entries(now - NEWS_WINDOW_SECONDS, now, 1).await?.is_empty() {
            locations.push(state.absolute_url("/news-sitemap.xml"));
        }
        let mut writer = xml::document();
        let _ = writer.create_element("sitemapindex").with_attribute(("xmlns", SITEMAP_NAMESPACE)).write_inner_content(
            |writer| {
                for location in &locations {
                    writer
                        .create_element("sitemap")
                        .write_inner_content(|writer| xml::text_element(writer, "loc", location))?;
                }
                Ok(())
            },
        );
        Ok(RenderedPage::document(xml::finish(writer), XML_TYPE).tagged(every_article()))
    })
    .await?;
    Ok(page.respond(&request_headers))
}

/// `/sitemaps/articles.xml?page=N`: visible articles in id order, 50,000 a page.
async fn articles(State(state): State<AppState>, uri: Uri, request_headers: HeaderMap) -> Result<Response, AppError> {
    let page_number = page_number(&query_params(&uri))?;
    let page = cached_or_render(&state, format!("sitemap:articles:{page_number}"), || async {
        let now = now_seconds();
        let count = state.store.visible_article_count(now).await?;
        if page_number > page_count(count, URLS_PER_SITEMAP) {
            return Err(AppError::NotFound);
        }
        let offset = i64::from(page_number - 1) * i64::from(URLS_PER_SITEMAP);
        let entries = state.store.sitemap_entries(now, offset, i64::from(URLS_PER_SITEMAP)).await?;
        let urls: Vec<(String, i64)> = entries
            .iter()
            .map(|entry| {
                (state.absolute_url(&article_path(entry.id, &entry.slug)), entry.updated_at.max(entry.published_at))
            })
            .collect();
        Ok(RenderedPage::document(urlset(&urls), XML_TYPE).tagged(every_article()))
    })
    .await?;
    Ok(page.respond(&request_headers))
}

/// The home page and every section, tag and author page that lists something.
async fn list_pages(State(state): State<AppState>, request_headers: HeaderMap) -> Result<Response, AppError> {
    let page = cached_or_render(&state, "sitemap:pages".to_owned(), || async {
        let now = now_seconds();
        let latest = state.store.sitemap_latest_change(now).await?.unwrap_or(now);
        let mut urls = vec![(state.absolute_url("/"), latest)];
        let path = |word: &str, slug: &str| state.absolute_url(&format!("/{word}/{}", encode_path_segment(slug)));
        for section in state.store.sections(now).await? {
            if section.article_count > 0 {
                urls.push((path("section", &section.slug), latest));
            }
        }
        for tag in state.store.tags(now).await? {
            if tag.article_count > 0 {
                urls.push((path("tag", &tag.slug), latest));
            }
        }
        for author in state.store.authors(now).await? {
            if author.article_count > 0 {
                urls.push((path("author", &author.slug), latest));
            }
        }
        Ok(RenderedPage::document(urlset(&urls), XML_TYPE).tagged(every_article()))
    })
    .await?;
    Ok(page.respond(&request_headers))
}

/// Every sitemap lists from all articles: any article's change may touch it.
fn every_article() -> Vec<String> {
    vec![crate::cache::tags::LATEST.to_owned()]
}

fn urlset(urls: &[(String, i64)]) -> String {
    let mut writer = xml::document();
    let _ =
        writer.create_element("urlset").with_attribute(("xmlns", SITEMAP_NAMESPACE)).write_inner_content(|writer| {
            for (location, modified) in urls {
                writer.create_element("url").write_inner_content(|writer| {
                    xml::text_element(writer, "loc", location)?;
                    xml::text_element(writer, "lastmod", &xml::rfc3339(*modified))
                })?;
            }
            Ok(())
        });
    xml::finish(writer)
}

/// Articles of the last 48 hours, with the publication's name and `ar`.
async fn news(State(state): State<AppState>, request_headers: HeaderMap) -> Result<Response, AppError> {
    let page = cached_or_render(&state, "sitemap:news".to_owned(), || async {
        let now = now_seconds();
        let entries = state.store.recent_entries(now - NEWS_WINDOW_SECONDS, now, NEWS_MAX_URLS).await?;
        let publication = state.settings().news_publication_name.clone().unwrap_or_else(|| state.site_view().name);
        let mut writer = xml::document();
        let _ = writer
            .create_element("urlset")
            .with_attributes([("xmlns", SITEMAP_NAMESPACE), ("xmlns:news", NEWS_NAMESPACE)])
            .write_inner_content(|writer| {
                for entry in &entries {
                    writer.create_element("url").write_inner_content(|writer| {
                        xml::text_element(writer, "loc", &state.absolute_url(&article_path(entry.id, &entry.slug)))?;
                        news_element(writer, &publication, entry.published_at, &entry.title)
                    })?;
                }
                Ok(())
            });
        let mut rendered = RenderedPage::document(xml::finish(writer), XML_TYPE).tagged(every_article());
        rendered.max_age = Some(NEWS_MAX_AGE);
        Ok(rendered)
    })
    .await?;
    Ok(page.respond(&request_headers))
}

fn news_element(writer: &mut XmlWriter, publication: &str, published_at: i64, title: &str) -> std::io::Result<()> {
    writer.create_element("news:news").write_inner_content(|writer| {
        writer.create_element("news:publication").write_inner_content(|writer| {
            xml::text_element(writer, "news:name", publication)?;
            xml::text_element(writer, "news:language", "ar")
        })?;
        xml::text_element(writer, "news:publication_date", &xml::rfc3339(published_at))?;
        xml::text_element(writer, "news:title", title)
    })?;
    Ok(())
}

/// Crawlers may read everything readers can; the newsroom, the APIs and
/// per-reader pages are left out, and the sitemaps are named.
async fn robots(State(state): State<AppState>) -> Response {
    let body = format!(
        "User-agent: *\nDisallow: /admin\nDisallow: /api/\nDisallow: /search\nDisallow: /newsletter/\n\
         Disallow: /comments/\nAllow: /\n\nSitemap: {}\nSitemap: {}\n",
        state.absolute_url("/sitemap.xml"),
        state.absolute_url("/news-sitemap.xml"),
    );
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")], body)
        .into_response()
}
