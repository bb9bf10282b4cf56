//! The application's shared state, built once at start, and the one list of
//! routers. Each feature module owns its routes; this file only assembles them.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Serialize;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::articles::readership::ReadCounter;
use crate::assets::StaticAssets;
use crate::cache::PageCache;
use crate::config::{Config, ConfigError};
use crate::error::AppError;
use crate::locale::{LocaleError, ReaderLocale, ShownDate};
use crate::settings::{FollowLink, SiteSettings};
use crate::store::{now_seconds, Store, StoreError};
use crate::templates::{TemplateError, Templates};

pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;
const MAX_URI_BYTES: usize = 4096;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// No inline script or style anywhere, so the policy can forbid both.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; \
     form-action 'self'; frame-ancestors 'none'";

/// On every response: the router's layers add them, and cached pages served
/// before routing carry them themselves.
pub const SECURITY_HEADERS: [(header::HeaderName, &str); 4] = [
    (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::REFERRER_POLICY, "strict-origin-when-cross-origin"),
    (header::X_FRAME_OPTIONS, "DENY"),
];

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Templates(#[from] TemplateError),
    #[error(transparent)]
    Locale(#[from] LocaleError),
    #[error("cannot read theme files: {0}")]
    Theme(std::io::Error),
    #[error("{0}")]
    DataDir(String),
    #[error(transparent)]
    Mail(#[from] crate::mail::MailError),
    #[error(transparent)]
    Newsletter(#[from] crate::newsletter::NewsletterError),
    #[error(transparent)]
    Polls(#[from] crate::polls::PollsError),
    #[error(transparent)]
    Comments(#[from] crate::comments::CommentsError),
    #[error(transparent)]
    Search(#[from] crate::search::SearchError),
}

/// Cloned for every request by axum, so it is one reference count.
#[derive(Clone)]
pub struct AppState(Arc<Services>);

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

pub struct Services {
    pub config: Arc<Config>,
    pub data_dir: Arc<PathBuf>,
    pub store: Store,
    pub templates: Arc<Templates>,
    pub assets: Arc<StaticAssets>,
    locale: std::sync::RwLock<Arc<ReaderLocale>>,
    pub pages: Arc<PageCache>,
    pub reads: Arc<ReadCounter>,
    pub mailer: Arc<crate::mail::Mailer>,
    pub newsletter: Arc<crate::newsletter::Newsletter>,
    pub polls: Arc<crate::polls::Polls>,
    pub comments: Arc<crate::comments::Comments>,
    pub search: Arc<crate::search::Search>,
    pub webhooks: Arc<crate::webhooks::Webhooks>,
    /// The other nodes on the same PostgreSQL database, told of every change.
    pub peers: Arc<crate::cache::peers::Peers>,
    pub purger: crate::cache::purge::Purger,
    settings: std::sync::RwLock<Arc<SiteSettings>>,
    /// Woken when an upload waits for its responsive copies.
    pub media_waiting: tokio::sync::Notify,
    /// The masthead's sections as of a page-cache generation: counting
    /// articles per section on every uncached page (search) cost more than
    /// the search itself on a big site.
    pub navigation: std::sync::Mutex<Option<(u64, Arc<Vec<crate::sections::NavItem>>)>>,
    /// The static pages linked from every page's footer, read at start and
    /// after every change to them.
    footer: std::sync::RwLock<Arc<Vec<crate::pages::FooterLink>>>,
}

#[derive(Serialize)]
pub struct SiteView {
    pub name: String,
    pub description: String,
    pub base_url: String,
    pub today: ShownDate,
    pub follow: Vec<FollowLink>,
    pub logo: Option<String>,
    pub footer: Vec<crate::pages::FooterLink>,
}

impl AppState {
    pub async fn new(config: Config, data_dir: &Path, store: Store) -> Result<Self, StartError> {
        let settings = store.site_settings().await?;
        let mailer = Arc::new(crate::mail::Mailer::new(&config, data_dir)?);
        let newsletter = Arc::new(crate::newsletter::Newsletter::new(&config, data_dir, &store).await?);
        let theme_dir = config.theme_dir.as_deref();
        let assets = Arc::new(StaticAssets::load(theme_dir).map_err(StartError::Theme)?);
        let polls = Arc::new(crate::polls::Polls::new(&store).await?);
        let comments = Arc::new(crate::comments::Comments::new(&store).await?);
        let search = Arc::new(crate::search::Search::open(data_dir, &store).await?);
        let templates = Arc::new(Templates::load(theme_dir, Arc::clone(&assets), polls.sidebar_slot())?);
        let locale = Arc::new(reader_locale(&config, &settings)?);
        let footer = Arc::new(crate::pages::footer_links(store.footer_pages().await?));
        let purger = crate::cache::purge::Purger::start(config.cdn_purge_url.clone(), config.cdn_purge_token.clone());
        let state = AppState(Arc::new(Services {
            pages: Arc::new(PageCache::new(config.page_cache_bytes)),
            config: Arc::new(config),
            data_dir: Arc::new(data_dir.to_path_buf()),
            store,
            templates,
            assets,
            locale: std::sync::RwLock::new(locale),
            reads: Arc::new(ReadCounter::default()),
            mailer,
            newsletter,
            polls,
            comments,
            search,
            webhooks: Arc::new(crate::webhooks::Webhooks::default()),
            peers: Arc::new(crate::cache::peers::Peers::default()),
            purger,
            settings: std::sync::RwLock::new(Arc::new(settings)),
            media_waiting: tokio::sync::Notify::new(),
            navigation: std::sync::Mutex::new(None),
            footer: std::sync::RwLock::new(footer),
        }));
        let _ = state.polls.refresh_sidebar(&state).await?;
        Ok(state)
    }

    /// Dates, digits and plurals as readers see them now.
    pub fn locale(&self) -> Arc<ReaderLocale> {
        Arc::clone(&self.locale.read().unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    /// The site's absolute base URL, without a trailing slash: the admin's
    /// setting when there is one, else khabar.toml's.
    pub fn base_url(&self) -> String {
        match &self.settings().base_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => self.config.base().to_owned(),
        }
    }

    pub fn settings(&self) -> Arc<SiteSettings> {
        Arc::clone(&self.settings.read().unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    /// Re-reads the settings after the newsroom saved them.
    pub async fn reload_settings(&self) -> Result<(), StartError> {
        let fresh = Arc::new(self.store.site_settings().await?);
        let locale = reader_locale(&self.config, &fresh)?;
        *self.settings.write().unwrap_or_else(std::sync::PoisonError::into_inner) = fresh;
        *self.locale.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(locale);
        Ok(())
    }

    /// Re-reads which static pages the footer links to.
    pub async fn reload_footer(&self) -> Result<(), StoreError> {
        let fresh = Arc::new(crate::pages::footer_links(self.store.footer_pages().await?));
        *self.footer.write().unwrap_or_else(std::sync::PoisonError::into_inner) = fresh;
        Ok(())
    }

    pub fn site_view(&self) -> SiteView {
        let settings = self.settings();
        SiteView {
            name: settings.site_name.clone().unwrap_or_else(|| self.config.site_name.clone()),
            description: settings.site_description.clone().unwrap_or_else(|| self.config.site_description.clone()),
            base_url: self.base_url(),
            today: self.locale().date(now_seconds()),
            logo: settings.logo.clone(),
            follow: settings.follow.clone(),
            footer: self.footer.read().unwrap_or_else(std::sync::PoisonError::into_inner).as_ref().clone(),
        }
    }

    pub fn absolute_url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url())
    }

    /// A link as other sites and apps need it: root-relative ones (`/media/…`)
    /// get the base URL; absolute ones stay as they are.
    pub fn absolute_link(&self, url: &str) -> String {
        if url.starts_with('/') && !url.starts_with("//") {
            self.absolute_url(url)
        } else {
            url.to_owned()
        }
    }

    /// Called after every change to published content or to what pages
    /// show (settings, spellings): here, and on the other nodes.
    pub fn content_changed(&self) {
        self.pages.invalidate_all();
        self.search.index.wake();
        self.peers.announce(None);
        self.purger.purge(&[crate::cache::tags::ALL.to_owned()]);
    }

    /// After a change to some content: the pages tagged with what it touched
    /// go, here, on the other nodes and in the CDN; the others stay.
    pub fn changed(&self, tags: Vec<String>) {
        self.pages.invalidate_tags(&tags);
        self.search.index.wake();
        self.purger.purge(&tags);
        self.peers.announce(Some(tags));
    }
}

/// The admin's time zone and digits when set, else khabar.toml's.
fn reader_locale(config: &Config, settings: &SiteSettings) -> Result<ReaderLocale, StartError> {
    let time_zone = match &settings.timezone {
        Some(name) => {
            jiff::tz::TimeZone::get(name).map_err(|_| ConfigError::Invalid(format!("unknown time zone '{name}'")))?
        }
        None => config.time_zone()?,
    };
    let digits = match &settings.digits {
        Some(style) => style.parse().map_err(|_| ConfigError::Invalid(format!("unknown digits style '{style}'")))?,
        None => config.digit_style()?,
    };
    Ok(ReaderLocale::new(time_zone, digits)?)
}

pub fn router(state: AppState) -> Router {
    // Media files have generated, never reused names: browsers may keep them for good.
    let media = tower::ServiceBuilder::new()
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=31536000, immutable"),
        ))
        .service(ServeDir::new(state.data_dir.join("media")));
    let mut router = Router::new()
        .merge(crate::sections::router())
        .merge(crate::articles::router())
        .merge(crate::newsletter::router())
        .merge(crate::polls::router())
        .merge(crate::comments::router())
        .merge(crate::search::router())
        .merge(crate::feeds::router())
        .merge(crate::sitemaps::router())
        .merge(crate::sharing::router())
        .merge(crate::pages::router())
        .merge(crate::admin::router(state.clone()))
        .route("/healthz", get(healthz))
        .route("/static/{fingerprint}/{*name}", get(crate::assets::serve_static))
        .nest_service("/media", media)
        .fallback(not_found)
        .layer(middleware::from_fn(reject_long_uris))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, REQUEST_TIMEOUT))
        .layer(CatchPanicLayer::new())
        // Outside the layers above, so their failures get the same Arabic page or JSON shape.
        .layer(middleware::from_fn_with_state(state.clone(), crate::error::shape_errors));
    for (name, value) in SECURITY_HEADERS {
        router = router.layer(SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value)));
    }
    router
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .with_state(state)
}

async fn healthz(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, [(header::CACHE_CONTROL, "no-store")], "ok").into_response(),
        Err(error) => {
            tracing::error!(%error, "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, [(header::CACHE_CONTROL, "no-store")], "store unavailable")
                .into_response()
        }
    }
}

async fn not_found() -> AppError {
    AppError::NotFound
}

async fn reject_long_uris(request: Request, next: Next) -> Response {
    let length = request.uri().path().len() + request.uri().query().map_or(0, str::len);
    if length > MAX_URI_BYTES {
        return StatusCode::URI_TOO_LONG.into_response();
    }
    next.run(request).await
}
