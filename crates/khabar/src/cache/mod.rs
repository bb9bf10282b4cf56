//! Rendered public pages, kept with their gzip and brotli encodings computed
//! once, so a hit costs a map lookup and a reference-counted clone.
//!
//! Each entry carries tags naming what it shows (`article:12`, `section:…`,
//! `latest`, `layout`, …); a change drops exactly the entries tagged with
//! what it touched (`invalidate_tags`), or everything (`invalidate_all`) when
//! it touches what every page shows. Entries that show time-dependent
//! content also carry an expiry. The same tags go to shared caches (CDNs) in
//! `Surrogate-Key` and `Cache-Tag`, so a purge by tag matches ours.

pub mod epoch;
pub mod peers;
pub mod purge;
pub mod render;
pub mod tags;

use std::collections::{HashMap, VecDeque};
use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use sha2::{Digest, Sha256};

pub struct CachedPage {
    identity: Bytes,
    gzip: Bytes,
    brotli: Bytes,
    etag: String,
    etag_gzip: HeaderValue,
    etag_brotli: HeaderValue,
    etag_identity: HeaderValue,
    expires_at: Option<Instant>,
    content_type: HeaderValue,
    tags: Vec<String>,
    /// The tags as CDNs read them: space-separated (Fastly, Varnish) and comma-separated (Cloudflare).
    surrogate_key: HeaderValue,
    cache_tag: HeaderValue,
    last_modified: HeaderValue,
    rendered_at: i64,
    cache_control: HeaderValue,
    /// For article pages: the canonical path a request must match to be served.
    pub canonical_path: Option<String>,
}

impl CachedPage {
    /// Compresses once; meant to run off the async executor.
    pub fn build(html: String, max_age: Option<Duration>, canonical_path: Option<String>) -> Self {
        Self::build_for(html, max_age, canonical_path, Keeping::Kept)
    }

    /// `Keeping::ServedOnce` (the cache is off): one fast gzip and no brotli,
    /// since nobody else will be served these bytes.
    pub fn build_for(
        html: String,
        max_age: Option<Duration>,
        canonical_path: Option<String>,
        keeping: Keeping,
    ) -> Self {
        // Renders and encoders grow their buffers by doubling; a kept page
        // should hold its bytes, not up to twice as many.
        let mut html = html;
        html.shrink_to_fit();
        let identity = Bytes::from(html);
        let digest = Sha256::digest(&identity);
        let etag: String = hex::encode(&digest[..12]);
        // A sitemap of 50,000 URLs is ~10 MB: at the levels pages use it took
        // seconds to compress; big documents get faster levels.
        let big = identity.len() > BIG_DOCUMENT_BYTES;
        let once = keeping == Keeping::ServedOnce;
        let gzip = {
            let level = if once {
                flate2::Compression::fast()
            } else if big {
                flate2::Compression::default()
            } else {
                flate2::Compression::best()
            };
            let mut encoder = flate2::write::GzEncoder::new(Vec::new(), level);
            // Writing to a Vec cannot fail.
            let _ = encoder.write_all(&identity);
            let mut compressed = encoder.finish().unwrap_or_default();
            compressed.shrink_to_fit();
            Bytes::from(compressed)
        };
        let brotli = if once {
            Bytes::new()
        } else {
            let mut output = Vec::new();
            // Quality 5 is within 5% of quality 9's size on our pages at a
            // tenth of the time (1.2 ms against 15 ms for the home page), and
            // without quality 9's 32 MB of hash tables per encoder: a page is
            // compressed again after every change, with readers waiting.
            // A window of 256 KB covers any page; the default 4 MB window
            // sized the encoder's tables (and the memory they leave behind)
            // for documents sixteen times bigger than pages are.
            let parameters = brotli::enc::BrotliEncoderParams {
                quality: if big { 4 } else { 5 },
                lgwin: if identity.len() <= 1 << 18 { 18 } else { 22 },
                size_hint: identity.len(),
                ..Default::default()
            };
            let _ = brotli::BrotliCompress(&mut identity.as_ref(), &mut output, &parameters);
            output.shrink_to_fit();
            Bytes::from(output)
        };
        let header_value = |suffix: &str| {
            HeaderValue::from_str(&format!("\"{etag}{suffix}\"")).unwrap_or(HeaderValue::from_static("\"x\""))
        };
        CachedPage {
            etag_identity: header_value(""),
            etag_gzip: header_value("-gz"),
            etag_brotli: header_value("-br"),
            etag,
            identity,
            gzip,
            brotli,
            expires_at: max_age.map(|age| Instant::now() + age),
            content_type: HeaderValue::from_static(render::HTML),
            tags: Vec::new(),
            surrogate_key: HeaderValue::from_static(""),
            cache_tag: HeaderValue::from_static(""),
            last_modified: http_date(crate::store::now_seconds()),
            rendered_at: crate::store::now_seconds(),
            cache_control: HeaderValue::from_static(BROWSER_CACHE_CONTROL),
            canonical_path,
        }
    }

    /// What the page shows, for invalidation and for CDNs' purges by tag.
    pub fn with_tags(mut self, tags: Vec<String>) -> Self {
        let encoded: Vec<String> = tags.iter().map(|tag| header_tag(tag)).collect();
        self.surrogate_key = HeaderValue::from_str(&encoded.join(" ")).unwrap_or(HeaderValue::from_static(""));
        self.cache_tag = HeaderValue::from_str(&encoded.join(",")).unwrap_or(HeaderValue::from_static(""));
        self.tags = tags;
        self
    }

    pub fn with_cache_control(mut self, cache_control: HeaderValue) -> Self {
        self.cache_control = cache_control;
        self
    }

    pub fn tags(&self) -> &[String] {
        &self.tags
    }

    fn tagged_with_any(&self, tags: &[String]) -> bool {
        self.tags.iter().any(|tag| tags.contains(tag))
    }

    pub fn with_content_type(mut self, content_type: &'static str) -> Self {
        self.content_type = HeaderValue::from_static(content_type);
        self
    }

    pub fn size(&self) -> usize {
        self.identity.len() + self.gzip.len() + self.brotli.len()
    }

    fn is_fresh(&self, now: Instant) -> bool {
        self.expires_at.is_none_or(|at| now < at)
    }

    /// Answers a request: the best encoding the client accepts, or 304 when
    /// it already holds these bytes.
    pub fn respond(&self, request_headers: &HeaderMap) -> Response {
        let encoding = preferred_encoding(request_headers);
        let (body, etag, content_encoding) = match encoding {
            Encoding::Brotli if self.brotli.is_empty() => (&self.gzip, &self.etag_gzip, Some("gzip")),
            Encoding::Brotli => (&self.brotli, &self.etag_brotli, Some("br")),
            Encoding::Gzip => (&self.gzip, &self.etag_gzip, Some("gzip")),
            Encoding::Identity => (&self.identity, &self.etag_identity, None),
        };
        // If-None-Match wins over If-Modified-Since when both are sent (RFC 9110 13.2.2).
        let not_modified = match request_headers.get(header::IF_NONE_MATCH).and_then(|value| value.to_str().ok()) {
            Some(value) => value.trim() == "*" || value.contains(self.etag.as_str()),
            None => request_headers
                .get(header::IF_MODIFIED_SINCE)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| jiff::fmt::rfc2822::DateTimeParser::new().parse_timestamp(value).ok())
                .is_some_and(|since| since.as_second() >= self.rendered_at),
        };
        if not_modified {
            // What RFC 9110 (15.4.5) asks a 304 to repeat, and nothing else:
            // the client and any CDN keep the rest from the 200 they hold.
            let mut response = Response::new(Body::empty());
            *response.status_mut() = StatusCode::NOT_MODIFIED;
            let headers = response.headers_mut();
            headers.insert(header::ETAG, etag.clone());
            headers.insert(header::CACHE_CONTROL, self.cache_control.clone());
            headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
            headers.insert(header::LAST_MODIFIED, self.last_modified.clone());
            return response;
        }
        let mut response = Response::new(Body::from(body.clone()));
        let headers = response.headers_mut();
        headers.reserve(16);
        headers.insert(header::CONTENT_TYPE, self.content_type.clone());
        if let Some(content_encoding) = content_encoding {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(content_encoding));
        }
        headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
        headers.insert(header::ETAG, etag.clone());
        headers.insert(header::LAST_MODIFIED, self.last_modified.clone());
        headers.insert(header::CACHE_CONTROL, self.cache_control.clone());
        if !self.tags.is_empty() {
            headers.insert("surrogate-key", self.surrogate_key.clone());
            headers.insert("cache-tag", self.cache_tag.clone());
        }
        // Hits can be answered before the router's layers, which add these to everything else.
        for (name, value) in crate::app::SECURITY_HEADERS {
            headers.insert(name, HeaderValue::from_static(value));
        }
        response
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keeping {
    /// Kept and served many times: compressed as small as is reasonable.
    Kept,
    /// The cache is off: served to one reader.
    ServedOnce,
}

/// Above this, documents are compressed at faster levels.
const BIG_DOCUMENT_BYTES: usize = 1 << 20;

/// Browsers may keep a page but must ask again; the ETag makes that a cheap 304.
pub const BROWSER_CACHE_CONTROL: &str = "public, max-age=0, must-revalidate";

/// `Cache-Control` for shared caches: they may keep a page `shared_seconds`
/// (purges by tag keep that exact) and serve it a little longer while they
/// fetch a fresh one.
pub fn cache_control(shared_seconds: u32) -> HeaderValue {
    if shared_seconds == 0 {
        return HeaderValue::from_static(BROWSER_CACHE_CONTROL);
    }
    HeaderValue::from_str(&format!(
        "{BROWSER_CACHE_CONTROL}, s-maxage={shared_seconds}, stale-while-revalidate={}",
        shared_seconds.clamp(10, 60)
    ))
    .unwrap_or(HeaderValue::from_static(BROWSER_CACHE_CONTROL))
}

/// A tag as headers carry it: ASCII, no spaces or commas. Tags naming an
/// Arabic slug become the slug's short digest: percent-encoded, one Arabic
/// letter is six bytes, and these headers go out with every page.
pub fn header_tag(tag: &str) -> String {
    if tag.is_ascii() && !tag.contains([' ', ',', '%']) {
        return tag.to_owned();
    }
    let (kind, name) = tag.split_once(':').unwrap_or(("", tag));
    let digest = Sha256::digest(name.as_bytes());
    let short = hex::encode(&digest[..6]);
    if kind.is_ascii() && !kind.contains([' ', ',', '%']) && !kind.is_empty() {
        format!("{kind}:{short}")
    } else {
        short
    }
}

fn http_date(seconds: i64) -> HeaderValue {
    let moment = jiff::Timestamp::from_second(seconds).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    HeaderValue::from_str(
        &jiff::fmt::rfc2822::DateTimePrinter::new().timestamp_to_rfc9110_string(&moment).unwrap_or_default(),
    )
    .unwrap_or(HeaderValue::from_static("Thu, 01 Jan 1970 00:00:00 GMT"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Brotli,
    Gzip,
    Identity,
}

/// Brotli, then gzip, unless the client refused them with `q=0`.
pub fn preferred_encoding(headers: &HeaderMap) -> Encoding {
    let Some(accepted) = headers.get(header::ACCEPT_ENCODING).and_then(|value| value.to_str().ok()) else {
        return Encoding::Identity;
    };
    let mut brotli = false;
    let mut gzip = false;
    for item in accepted.split(',') {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or("").trim();
        let refused = parts.any(|parameter| {
            let parameter = parameter.trim();
            parameter.strip_prefix("q=").is_some_and(|q| q.trim().parse::<f32>().is_ok_and(|q| q <= 0.0))
        });
        if refused {
            continue;
        }
        if name.eq_ignore_ascii_case("br") {
            brotli = true;
        } else if name.eq_ignore_ascii_case("gzip") || name == "*" {
            gzip = true;
        }
    }
    if brotli {
        Encoding::Brotli
    } else if gzip {
        Encoding::Gzip
    } else {
        Encoding::Identity
    }
}

/// A kept page, when it was last served (for eviction), and the request
/// paths that lead straight to it.
struct Entry {
    page: Arc<CachedPage>,
    last_used: u64,
    paths: Vec<String>,
}

/// Where a request path leads: the cache key, and the article to count a read for.
struct PathTarget {
    key: String,
    article: Option<i64>,
}

struct Entries {
    map: HashMap<String, Entry>,
    /// Request paths (never with a query) that handlers checked to be the
    /// canonical address of a kept page: served before routing.
    paths: HashMap<String, PathTarget>,
    bytes: usize,
    /// Ticks on every hit, so eviction can find the least recently used.
    clock: u64,
    generation: u64,
    /// The latest invalidations, newest last: (generation it made, its tags;
    /// None for everything). A page rendered before one of them that touched
    /// its tags must not be kept.
    recent: VecDeque<(u64, Option<Vec<String>>)>,
}

/// Invalidations remembered for renders still in progress.
const REMEMBERED_INVALIDATIONS: usize = 512;

/// The addresses one page may be reached by before routing (different but
/// equivalent percent-encodings of one slug); others go through the router.
const PATHS_PER_PAGE: usize = 4;

impl Entries {
    fn stale_since(&self, rendered_in_generation: u64, page: &CachedPage) -> bool {
        if rendered_in_generation == self.generation {
            return false;
        }
        let remembered_from = self.recent.front().map_or(self.generation, |(generation, _)| *generation);
        if remembered_from > rendered_in_generation + 1 {
            return true;
        }
        self.recent.iter().filter(|(generation, _)| *generation > rendered_in_generation).any(|(_, tags)| match tags {
            None => true,
            Some(tags) => page.tagged_with_any(tags),
        })
    }

    fn remember(&mut self, tags: Option<Vec<String>>) {
        self.generation += 1;
        self.recent.push_back((self.generation, tags));
        while self.recent.len() > REMEMBERED_INVALIDATIONS {
            self.recent.pop_front();
        }
    }

    fn fresh(&mut self, key: &str, now: Instant) -> Option<Arc<CachedPage>> {
        self.clock += 1;
        let clock = self.clock;
        let entry = self.map.get_mut(key).filter(|entry| entry.page.is_fresh(now))?;
        entry.last_used = clock;
        Some(Arc::clone(&entry.page))
    }

    fn remove(&mut self, key: &str) {
        if let Some(entry) = self.map.remove(key) {
            self.bytes -= entry.page.size();
            for path in &entry.paths {
                self.paths.remove(path);
            }
        }
    }

    /// Least recently used first, down to 15/16 of the cap, so a full
    /// cache sorts its entries once per many inserts, not on every one.
    fn evict_beyond(&mut self, max_bytes: usize) {
        if self.bytes <= max_bytes {
            return;
        }
        let target = max_bytes / EVICT_TO_DIVISOR * (EVICT_TO_DIVISOR - 1);
        let mut by_use: Vec<(u64, String)> =
            self.map.iter().map(|(key, entry)| (entry.last_used, key.clone())).collect();
        by_use.sort_unstable();
        for (_, key) in by_use {
            if self.bytes <= target {
                break;
            }
            self.remove(&key);
        }
    }
}

/// Eviction frees down to (divisor - 1) / divisor of the cap.
const EVICT_TO_DIVISOR: usize = 16;

pub struct PageCache {
    entries: Mutex<Entries>,
    max_bytes: usize,
    /// One lock per page being rendered, so a crowd missing the same page
    /// waits for one render instead of each doing it.
    rendering: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Pages rendered since start (misses that did the work), for tests and figures.
    renders: std::sync::atomic::AtomicU64,
}

impl PageCache {
    pub fn new(max_bytes: u64) -> Self {
        PageCache {
            entries: Mutex::new(Entries {
                map: HashMap::new(),
                paths: HashMap::new(),
                bytes: 0,
                clock: 0,
                generation: 0,
                recent: VecDeque::new(),
            }),
            renders: std::sync::atomic::AtomicU64::new(0),
            max_bytes: usize::try_from(max_bytes).unwrap_or(usize::MAX),
            rendering: Mutex::new(HashMap::new()),
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn render_lock(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut rendering = self.rendering.lock().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(rendering.entry(key.to_owned()).or_default())
    }

    /// Forgets a page's render lock once nobody else holds it.
    pub fn release_render_lock(&self, key: &str, lock: Arc<tokio::sync::Mutex<()>>) {
        let mut rendering = self.rendering.lock().unwrap_or_else(PoisonError::into_inner);
        // Two references: the map's and ours. More means others are waiting.
        if Arc::strong_count(&lock) <= 2 {
            rendering.remove(key);
        }
    }

    pub fn get(&self, key: &str) -> Option<Arc<CachedPage>> {
        self.entries().fresh(key, Instant::now())
    }

    /// The page a request path was found to lead to, with the article it
    /// shows (to count the read): lets a hit skip routing altogether.
    pub fn get_by_path(&self, path: &str) -> Option<(Arc<CachedPage>, Option<i64>)> {
        let mut entries = self.entries();
        let target = entries.paths.get(path)?;
        let article = target.article;
        let key = target.key.clone();
        entries.fresh(&key, Instant::now()).map(|page| (page, article))
    }

    /// Records that `path` serves exactly the page kept under
    /// `key` (the handler checked it is canonical): the next request for it
    /// is answered before routing. Ignored when that page is no longer the
    /// one kept (invalidated meanwhile).
    pub fn serve_at(&self, path: &str, key: &str, page: &Arc<CachedPage>, article: Option<i64>) {
        let mut entries = self.entries();
        if entries.paths.contains_key(path) {
            return;
        }
        let Some(entry) = entries.map.get_mut(key) else {
            return;
        };
        if !Arc::ptr_eq(&entry.page, page) || entry.paths.len() >= PATHS_PER_PAGE {
            return;
        }
        entry.paths.push(path.to_owned());
        entries.paths.insert(path.to_owned(), PathTarget { key: key.to_owned(), article });
    }

    /// The generation to pass to `insert`: a page rendered before an
    /// invalidation must not be stored after it.
    pub fn generation(&self) -> u64 {
        self.entries().generation
    }

    pub fn insert(&self, key: String, page: CachedPage, rendered_in_generation: u64) -> Arc<CachedPage> {
        let page = Arc::new(page);
        let size = page.size();
        let mut entries = self.entries();
        if entries.stale_since(rendered_in_generation, &page) || size > self.max_bytes {
            return page;
        }
        entries.remove(&key);
        entries.clock += 1;
        let last_used = entries.clock;
        entries.bytes += size;
        entries.map.insert(key, Entry { page: Arc::clone(&page), last_used, paths: Vec::new() });
        entries.evict_beyond(self.max_bytes);
        page
    }

    pub fn invalidate_all(&self) {
        let mut entries = self.entries();
        entries.map.clear();
        entries.paths.clear();
        entries.bytes = 0;
        entries.remember(None);
    }

    /// Drops the pages tagged with any of `tags`; how many there were.
    pub fn invalidate_tags(&self, tags: &[String]) -> usize {
        let mut entries = self.entries();
        let doomed: Vec<String> = entries
            .map
            .iter()
            .filter(|(_, entry)| entry.page.tagged_with_any(tags))
            .map(|(key, _)| key.clone())
            .collect();
        for key in &doomed {
            entries.remove(key);
        }
        entries.remember(Some(tags.to_vec()));
        doomed.len()
    }

    /// Whether a page is kept under `key` (not expired).
    pub fn contains(&self, key: &str) -> bool {
        let entries = self.entries();
        entries.map.get(key).is_some_and(|entry| entry.page.is_fresh(Instant::now()))
    }

    pub fn count_render(&self) {
        self.renders.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn renders(&self) -> u64 {
        self.renders.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn len(&self) -> usize {
        self.entries().map.len()
    }

    /// What the kept pages take, all encodings counted.
    pub fn bytes(&self) -> usize {
        self.entries().bytes
    }

    /// `page_cache_bytes = 0`: nothing is kept; every request renders.
    pub fn is_off(&self) -> bool {
        self.max_bytes == 0
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn headers(accept_encoding: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT_ENCODING, HeaderValue::from_str(accept_encoding).unwrap());
        headers
    }

    #[test]
    fn encoding_negotiation_respects_refusals() {
        assert_eq!(preferred_encoding(&headers("gzip, deflate, br")), Encoding::Brotli);
        assert_eq!(preferred_encoding(&headers("gzip")), Encoding::Gzip);
        assert_eq!(preferred_encoding(&headers("br;q=0, gzip;q=0.5")), Encoding::Gzip);
        assert_eq!(preferred_encoding(&headers("identity")), Encoding::Identity);
        assert_eq!(preferred_encoding(&HeaderMap::new()), Encoding::Identity);
    }

    #[test]
    fn a_page_rendered_before_an_invalidation_is_not_kept() {
        let cache = PageCache::new(1 << 20);
        let generation = cache.generation();
        cache.invalidate_all();
        cache.insert("home".into(), CachedPage::build("<p>old</p>".into(), None, None), generation);
        assert!(cache.get("home").is_none());
        let generation = cache.generation();
        cache.insert("home".into(), CachedPage::build("<p>new</p>".into(), None, None), generation);
        assert!(cache.get("home").is_some());
    }

    #[test]
    fn the_memory_cap_evicts_the_least_recently_used() {
        let page = || CachedPage::build("ا".repeat(4000), None, None);
        let one_page = page().size();
        // Room for three and a half: eviction frees a sixteenth beyond the cap, one page here.
        let cap = one_page * 3 + one_page / 2;
        let cache = PageCache::new(cap as u64);
        for key in ["a", "b", "c"] {
            cache.insert(key.into(), page(), cache.generation());
        }
        // "a" is the oldest but was just read; "b" is the one nobody wanted.
        assert!(cache.get("a").is_some());
        cache.insert("d".into(), page(), cache.generation());
        assert!(cache.get("b").is_none(), "the least recently used goes");
        assert!(cache.get("a").is_some() && cache.get("c").is_some() && cache.get("d").is_some());
        assert!(cache.bytes() <= cap);
    }

    #[test]
    fn a_path_leads_to_its_page_until_the_page_goes() {
        let cache = PageCache::new(1 << 20);
        let kept = cache.insert("article:7".into(), CachedPage::build("<p>7</p>".into(), None, None), 0);
        cache.serve_at("/news/7/x", "article:7", &kept, Some(7));
        let (found, article) = cache.get_by_path("/news/7/x").unwrap();
        assert!(Arc::ptr_eq(&found, &kept));
        assert_eq!(article, Some(7));
        cache.invalidate_tags(&[]);
        assert!(cache.get_by_path("/news/7/x").is_some(), "an invalidation of nothing keeps it");
        let tagged = CachedPage::build("<p>7</p>".into(), None, None).with_tags(vec!["article:7".into()]);
        let kept = cache.insert("article:7".into(), tagged, cache.generation());
        assert!(cache.get_by_path("/news/7/x").is_none(), "replacing the page forgets its paths");
        cache.serve_at("/news/7/x", "article:7", &kept, Some(7));
        cache.invalidate_tags(&["article:7".into()]);
        assert!(cache.get_by_path("/news/7/x").is_none());
        let stale = CachedPage::build("<p>old</p>".into(), None, None);
        cache.serve_at("/news/7/x", "article:7", &Arc::new(stale), Some(7));
        assert!(cache.get_by_path("/news/7/x").is_none(), "a page that is not kept gets no path");
    }

    #[test]
    fn expired_pages_are_not_served() {
        let cache = PageCache::new(1 << 20);
        cache.insert("x".into(), CachedPage::build("x".into(), Some(Duration::ZERO), None), 0);
        assert!(cache.get("x").is_none());
    }
}
