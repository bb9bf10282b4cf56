//! The one path public pages take: serve from the cache, or render once,
//! compress off the async threads, keep it, and serve it.

use std::convert::Infallible;
use std::future::{ready, Future, Ready};
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::{ConnectInfo, Request};
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;
use axum::serve::IncomingStream;
use axum::Router;
use futures_util::future::Either;
use tokio::net::TcpListener;
use tower::Service;

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

/// With the cache off, pages up to this size are compressed (once, fast) on
/// the thread that rendered them: about 60 µs for an article page.
const INLINE_COMPRESSION_BYTES: usize = 256 * 1024;

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
    let rendered = state.store.in_one_snapshot(render()).await?;
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
    let small = rendered.html.len() <= INLINE_COMPRESSION_BYTES;
    let build = move || {
        CachedPage::build_for(rendered.html, max_age, rendered.canonical_path, keeping)
            .with_content_type(content_type)
            .with_tags(tags)
            .with_cache_control(cache_control)
    };
    let page = if keeping == Keeping::ServedOnce && small {
        // One fast gzip of a page takes less than handing it to another thread would.
        build()
    } else {
        // At most one compression per core: a crawler missing a thousand
        // pages at once would otherwise start a thousand, each with its buffers.
        let _turn = state.pages.compression_turn().await;
        tokio::task::spawn_blocking(build)
            .await
            .map_err(|error| AppError::Internal(format!("page compression failed: {error}")))?
    };
    Ok(state.pages.insert(key, page, generation))
}

/// Serves a kept page, and lets the next request for the same address (when
/// it has no query) be answered before routing. Handlers call it only once
/// they have checked the address is the page's own (canonical) one.
pub fn respond_at(
    state: &AppState,
    uri: &Uri,
    key: &str,
    page: &Arc<CachedPage>,
    request_headers: &HeaderMap,
    article: Option<i64>,
) -> Response {
    if uri.query().is_none() {
        state.pages.serve_at(uri.path(), key, page, article);
    }
    page.respond(request_headers)
}

/// A kept page for this request, when a handler already served one at its
/// exact address: answered without routing, tracing or the other layers.
pub fn kept_page_for(state: &AppState, request: &Request) -> Option<Response> {
    let method = request.method();
    if (method != Method::GET && method != Method::HEAD) || request.uri().query().is_some() {
        return None;
    }
    let (page, article) = state.pages.get_by_path(request.uri().path())?;
    if let Some(id) = article {
        state.reads.record(id);
    }
    Some(page.respond(request.headers()))
}

/// In front of the router, per connection: a hit costs a map lookup and
/// no allocation beyond the response, so a spike on one page is served at
/// about the rate a static file server manages. Everything else goes on to
/// the router with the connection's address, as axum's `ConnectInfo` gives it.
#[derive(Clone)]
pub struct KeptPagesFirst {
    state: AppState,
    router: Router,
    remote: SocketAddr,
}

impl Service<Request> for KeptPagesFirst {
    type Response = Response;
    type Error = Infallible;
    type Future = Either<Ready<Result<Response, Infallible>>, <Router as Service<Request>>::Future>;

    fn poll_ready(&mut self, context: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Service::<Request>::poll_ready(&mut self.router, context)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        if let Some(response) = kept_page_for(&self.state, &request) {
            return Either::Left(ready(Ok(response)));
        }
        request.extensions_mut().insert(ConnectInfo(self.remote));
        Either::Right(self.router.call(request))
    }
}

/// Makes one `KeptPagesFirst` per accepted connection, for `axum::serve`.
#[derive(Clone)]
pub struct ServeKeptPagesFirst {
    pub state: AppState,
    pub router: Router,
}

impl Service<IncomingStream<'_, TcpListener>> for ServeKeptPagesFirst {
    type Response = KeptPagesFirst;
    type Error = Infallible;
    type Future = Ready<Result<KeptPagesFirst, Infallible>>;

    fn poll_ready(&mut self, _context: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, stream: IncomingStream<'_, TcpListener>) -> Self::Future {
        ready(Ok(KeptPagesFirst {
            state: self.state.clone(),
            router: self.router.clone(),
            remote: *stream.remote_addr(),
        }))
    }
}
