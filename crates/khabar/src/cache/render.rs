//! The one path public pages take: serve from the cache, or render once,
//! compress off the async threads, keep it, and serve it.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use crate::app::AppState;
use crate::cache::{tags, CachedPage, Keeping};
use crate::error::AppError;
use crate::store::now_seconds;

pub struct RenderedPage {
    pub html: String,
    /// How long the page stays right by itself (content that changes with time).
    pub max_age: Option<Duration>,
    pub canonical_path: Option<String>,
    /// `text/html; charset=utf-8` for pages; feeds and sitemaps say what they are.
    pub content_type: &'static str,
    /// What the page shows (see `crate::cache`); `all`, and `layout` for HTML, are added.
    pub tags: Vec<String>,
}

pub const HTML: &str = "text/html; charset=utf-8";

impl RenderedPage {
    pub fn new(html: String) -> Self {
        RenderedPage { html, max_age: None, canonical_path: None, content_type: HTML, tags: Vec::new() }
    }

    /// A document that is not a page (a feed, a sitemap): cached and
    /// revalidated the same way, with its own content type.
    pub fn document(body: String, content_type: &'static str) -> Self {
        RenderedPage { html: body, max_age: None, canonical_path: None, content_type, tags: Vec::new() }
    }

    pub fn tagged(mut self, tags: Vec<String>) -> Self {
        self.tags = tags;
        self
    }
}

pub async fn cached_or_render<F, Fut>(state: &AppState, key: String, render: F) -> Result<Arc<CachedPage>, AppError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<RenderedPage, AppError>>,
{
    if let Some(page) = state.pages.get(&key) {
        return Ok(page);
    }
    // With the cache off nothing is kept for the next in line: waiting for
    // another reader's render would only serialize everyone's.
    if state.pages.is_off() {
        return render_and_keep(state, key, render).await;
    }
    let lock = state.pages.render_lock(&key);
    let result = {
        let _rendering = lock.lock().await;
        // Whoever held the lock before us may have rendered it already.
        match state.pages.get(&key) {
            Some(page) => Ok(page),
            None => render_and_keep(state, key.clone(), render).await,
        }
    };
    state.pages.release_render_lock(&key, lock);
    result
}

async fn render_and_keep<F, Fut>(state: &AppState, key: String, render: F) -> Result<Arc<CachedPage>, AppError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<RenderedPage, AppError>>,
{
    let generation = state.pages.generation();
    state.pages.count_render();
    let rendered = render().await?;
    // Every page shows today's date in its masthead, so none outlives the day.
    let until_midnight = Duration::from_secs(state.locale().seconds_until_midnight(now_seconds()).unsigned_abs());
    let max_age = Some(rendered.max_age.map_or(until_midnight, |age| age.min(until_midnight)));
    let content_type = rendered.content_type;
    let mut tags = rendered.tags;
    tags.push(tags::ALL.to_owned());
    if content_type == HTML {
        // The masthead, the sections' menu and the sidebar poll are on every page.
        tags.push(tags::LAYOUT.to_owned());
    }
    tags.sort();
    tags.dedup();
    let cache_control = crate::cache::cache_control(state.config.shared_cache_seconds);
    let keeping = if state.pages.is_off() { Keeping::ServedOnce } else { Keeping::Kept };
    let page = tokio::task::spawn_blocking(move || {
        CachedPage::build_for(rendered.html, max_age, rendered.canonical_path, keeping)
            .with_content_type(content_type)
            .with_tags(tags)
            .with_cache_control(cache_control)
    })
    .await
    .map_err(|error| AppError::Internal(format!("page compression failed: {error}")))?;
    Ok(state.pages.insert(key, page, generation))
}
