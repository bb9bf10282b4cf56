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
use bytes::{Bytes, BytesMut};
use sha2::{Digest, Sha256};

#[derive(Clone)]
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
        // Renders and encoders grow their buffers by doubling: `PageCache::insert`
        // copies a kept page's bodies into place at their exact size, except
        // big documents' (sitemaps), which are trimmed here instead of copied.
        let identity = exact_if_big(html.into_bytes());
        let digest = Sha256::digest(&identity);
        let etag: String = hex::encode(&digest[..12]);
        // A sitemap of 50,000 URLs is ~10 MB: at the levels pages use it took
        // seconds to compress; big documents get a faster level, and gzip only:
        // the crawlers that read them ask for gzip, and brotli's window for a
        // document that size took 15 MB while it worked.
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
            let mut encoder = flate2::write::GzEncoder::new(Vec::with_capacity(identity.len() / 4), level);
            // Writing to a Vec cannot fail.
            let _ = encoder.write_all(&identity);
            exact_if_big(encoder.finish().unwrap_or_default())
        };
        let brotli = if once || big {
            Bytes::new()
        } else {
            let mut output = Vec::with_capacity(identity.len() / 4);
            // Quality 5 is within 5% of quality 9's size on our pages at a
            // tenth of the time (1.2 ms against 15 ms for the home page), and
            // without quality 9's 32 MB of hash tables per encoder: a page is
            // compressed again after every change, with readers waiting.
            // A window of 256 KB covers a page; the default 4 MB window
            // sized the encoder's tables (and the memory they leave behind)
            // for documents sixteen times bigger than pages are.
            let parameters = brotli::enc::BrotliEncoderParams {
                quality: 5,
                lgwin: if identity.len() <= 1 << 18 { 18 } else { 20 },
                size_hint: identity.len(),
                ..Default::default()
            };
            let _ = brotli::BrotliCompress(&mut identity.as_ref(), &mut output, &parameters);
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

    fn bodies(&self) -> [&Bytes; 3] {
        [&self.identity, &self.gzip, &self.brotli]
    }

    /// The same page with its bodies in other memory.
    fn rehoused(&self, [identity, gzip, brotli]: [Bytes; 3]) -> CachedPage {
        CachedPage { identity, gzip, brotli, ..self.clone() }
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

/// Above this, documents are compressed at faster levels, and with gzip only.
const BIG_DOCUMENT_BYTES: usize = 1 << 20;

/// Bodies this big keep an allocation of their own when kept (trimmed to
/// size once, not copied); smaller ones are copied into a shared chunk.
const OWN_ALLOCATION_BYTES: usize = 1 << 18;

fn exact_if_big(mut body: Vec<u8>) -> Bytes {
    if body.len() >= OWN_ALLOCATION_BYTES {
        body.shrink_to_fit();
    }
    Bytes::from(body)
}

/// A kept body in an allocation of its own, at its exact size.
fn owned_exactly(body: &Bytes) -> Bytes {
    if body.len() >= OWN_ALLOCATION_BYTES {
        // Trimmed by `exact_if_big` and not shared with anything else kept.
        body.clone()
    } else {
        Bytes::copy_from_slice(body)
    }
}

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

/// A kept page, whether it was served since eviction last passed it, the
/// chunk its bodies live in, and the request paths that lead straight to it.
struct Entry {
    page: Arc<CachedPage>,
    referenced: bool,
    chunk: u64,
    paths: Vec<String>,
}

/// Where a request path leads: the cache key, and the article to count a read for.
struct PathTarget {
    key: String,
    article: Option<i64>,
}

/// One allocation holding the bodies of pages kept one after another (or
/// one big page's bodies). The cache counts what its chunks allocated, dead
/// space included, so what it says it holds is what it takes: pages freed
/// one by one in any order would leave the allocator holes it keeps (a full
/// 256 MB cache took 600 MB of memory that way).
struct Chunk {
    allocated: usize,
    /// Bytes of its pages that are still kept.
    live: usize,
    /// Keys of the pages put here; some may since have gone or moved.
    keys: Vec<String>,
    /// For a shared chunk once sealed, the handle that can take its whole
    /// allocation back for another chunk once nothing reads from it.
    rest: Option<BytesMut>,
}

/// The chunk being filled: its id and the allocation's unwritten rest.
struct OpenChunk {
    id: u64,
    rest: BytesMut,
}

struct Entries {
    map: HashMap<String, Entry>,
    /// Request paths (never with a query) that handlers checked to be the
    /// canonical address of a kept page: served before routing.
    paths: HashMap<String, PathTarget>,
    chunks: HashMap<u64, Chunk>,
    /// Chunk ids, oldest first (some may be gone already).
    order: VecDeque<u64>,
    open: Option<OpenChunk>,
    /// Freed shared chunks kept for reuse: allocating and freeing a
    /// megabyte at a time from whichever thread dropped the last reader
    /// left the allocator holding far more than the cache did.
    spares: Vec<BytesMut>,
    /// As many spares as one eviction frees, so the chunks it frees are
    /// filled again rather than given back and allocated anew.
    spare_limit: usize,
    next_chunk: u64,
    chunk_size: usize,
    /// What the chunks and the spares allocated.
    bytes: usize,
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

/// Chunks are this big at most: a few dozen article pages each.
const MAX_CHUNK_BYTES: usize = 1 << 20;

/// A cache has at least this many chunks' worth of room, so evicting one
/// chunk never empties much of it.
const CHUNKS_PER_CACHE: usize = 64;

/// Freed chunks kept for reuse, at least this many (counted in the cache's bytes).
const SPARE_CHUNKS: usize = 4;

impl Entries {
    fn new(max_bytes: usize) -> Self {
        let chunk_size = (max_bytes / CHUNKS_PER_CACHE).min(MAX_CHUNK_BYTES);
        let spare_limit = (max_bytes / EVICT_TO_DIVISOR / chunk_size.max(1) + 1).max(SPARE_CHUNKS);
        Entries {
            map: HashMap::new(),
            paths: HashMap::new(),
            chunks: HashMap::new(),
            order: VecDeque::new(),
            open: None,
            spares: Vec::new(),
            spare_limit,
            next_chunk: 0,
            chunk_size,
            bytes: 0,
            generation: 0,
            recent: VecDeque::new(),
        }
    }

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
        let entry = self.map.get_mut(key).filter(|entry| entry.page.is_fresh(now))?;
        entry.referenced = true;
        Some(Arc::clone(&entry.page))
    }

    fn new_chunk(&mut self, allocated: usize) -> u64 {
        let id = self.next_chunk;
        self.next_chunk += 1;
        self.chunks.insert(id, Chunk { allocated, live: 0, keys: Vec::new(), rest: None });
        self.order.push_back(id);
        // Chunks freed by compaction stay listed until eviction reaches
        // them, which a cache that is never full never does.
        if self.order.len() > 2 * self.chunks.len() + CHUNKS_PER_CACHE {
            let chunks = &self.chunks;
            self.order.retain(|id| chunks.contains_key(id));
        }
        id
    }

    /// A shared chunk to fill: a spare nobody reads from any more, else a new allocation.
    fn open_new_chunk(&mut self) {
        let chunk_size = self.chunk_size;
        let reusable = self.spares.iter_mut().position(|spare| spare.try_reclaim(chunk_size));
        let rest = match reusable {
            Some(index) => self.spares.swap_remove(index),
            None => {
                self.bytes += chunk_size;
                BytesMut::with_capacity(chunk_size)
            }
        };
        let id = self.new_chunk(chunk_size);
        self.open = Some(OpenChunk { id, rest });
    }

    /// Copies a page's bodies into the open chunk (opening one when they do
    /// not fit), or into an exact allocation of their own when the page is
    /// big; the page as kept, and its chunk.
    fn house(&mut self, page: &CachedPage) -> (CachedPage, u64) {
        let size = page.size();
        if size > self.chunk_size / 4 {
            self.bytes += size;
            let id = self.new_chunk(size);
            return (page.rehoused(page.bodies().map(owned_exactly)), id);
        }
        let fits = self.open.as_ref().is_some_and(|open| open.rest.capacity() - open.rest.len() >= size);
        if !fits {
            self.seal_open_chunk();
            self.open_new_chunk();
        }
        let Some(open) = self.open.as_mut() else {
            self.bytes += size;
            return (page.rehoused(page.bodies().map(owned_exactly)), self.new_chunk(size));
        };
        // Within the capacity checked above, so no write reallocates: every
        // body shares the chunk's one allocation.
        let bodies = page.bodies().map(|body| {
            open.rest.extend_from_slice(body);
            open.rest.split().freeze()
        });
        (page.rehoused(bodies), open.id)
    }

    /// The open chunk takes no more pages; when its pages have all gone
    /// meanwhile, it goes too.
    fn seal_open_chunk(&mut self) {
        if let Some(open) = self.open.take() {
            if let Some(chunk) = self.chunks.get_mut(&open.id) {
                chunk.rest = Some(open.rest);
            }
            self.release_if_empty(open.id);
        }
    }

    fn release_if_empty(&mut self, chunk: u64) {
        let open = self.open.as_ref().map(|open| open.id);
        if open != Some(chunk) && self.chunks.get(&chunk).is_some_and(|chunk| chunk.live == 0) {
            self.free_chunk(chunk);
        }
    }

    /// Forgets a chunk (its pages must have gone or moved): its allocation
    /// becomes a spare, or goes back to the allocator once its last reader
    /// (a response still being sent) is done.
    fn free_chunk(&mut self, id: u64) -> Vec<String> {
        let mut rest = None;
        if self.open.as_ref().is_some_and(|open| open.id == id) {
            rest = self.open.take().map(|open| open.rest);
        }
        let Some(chunk) = self.chunks.remove(&id) else {
            return Vec::new();
        };
        match chunk.rest.or(rest) {
            Some(spare) if self.spares.len() < self.spare_limit && chunk.allocated == self.chunk_size => {
                self.spares.push(spare);
            }
            _ => self.bytes -= chunk.allocated,
        }
        chunk.keys
    }

    /// Houses a page's bodies and counts it, under `key`, in its chunk.
    fn place(&mut self, key: &str, page: &CachedPage) -> (Arc<CachedPage>, u64) {
        let (kept, chunk) = self.house(page);
        let kept = Arc::new(kept);
        if let Some(housing) = self.chunks.get_mut(&chunk) {
            housing.live += kept.size();
            housing.keys.push(key.to_owned());
        }
        (kept, chunk)
    }

    fn put(&mut self, key: String, page: &CachedPage) -> Arc<CachedPage> {
        self.remove(&key);
        let (kept, chunk) = self.place(&key, page);
        self.map.insert(key, Entry { page: Arc::clone(&kept), referenced: false, chunk, paths: Vec::new() });
        kept
    }

    /// Drops a page that left the cache from the paths leading to it.
    fn forget_paths(&mut self, entry: &Entry) {
        for path in &entry.paths {
            self.paths.remove(path);
        }
    }

    fn remove(&mut self, key: &str) {
        let Some(entry) = self.map.remove(key) else {
            return;
        };
        self.forget_paths(&entry);
        let Some(chunk) = self.chunks.get_mut(&entry.chunk) else {
            return;
        };
        chunk.live -= entry.page.size();
        let half_dead = chunk.live * 2 < chunk.allocated;
        let chunk_id = entry.chunk;
        if self.open.as_ref().is_some_and(|open| open.id == chunk_id) {
            return;
        }
        if half_dead {
            // Invalidated pages leave dead space: a chunk less than half
            // alive moves its pages forward and frees the rest.
            self.retire(chunk_id, Retiring::MoveLive);
        } else {
            self.release_if_empty(chunk_id);
        }
    }

    /// Frees a chunk. Its pages that readers asked for since eviction last
    /// came by (or all of them, when compacting) are copied forward into
    /// the open chunk; the others leave the cache.
    fn retire(&mut self, chunk_id: u64, retiring: Retiring) {
        // Moved pages still read the retired chunk's bytes while they are
        // copied: the allocation stays alive (as their `Bytes`) until then.
        for key in self.free_chunk(chunk_id) {
            let Some(entry) = self.map.get_mut(&key).filter(|entry| entry.chunk == chunk_id) else {
                continue;
            };
            let moving = match retiring {
                Retiring::MoveLive => true,
                Retiring::MoveServed => entry.referenced,
            };
            if !moving {
                if let Some(entry) = self.map.remove(&key) {
                    self.forget_paths(&entry);
                }
                continue;
            }
            entry.referenced = false;
            let page = Arc::clone(&entry.page);
            let (kept, chunk) = self.place(&key, &page);
            if let Some(entry) = self.map.get_mut(&key) {
                entry.page = kept;
                entry.chunk = chunk;
            }
        }
    }

    /// Oldest chunks first, each page given a second chance when it was
    /// served since the last pass (CLOCK, close to least-recently-used),
    /// down to 15/16 of the cap so a full cache evicts once per many inserts.
    fn evict_beyond(&mut self, max_bytes: usize) {
        if self.bytes <= max_bytes {
            return;
        }
        let target = max_bytes / EVICT_TO_DIVISOR * (EVICT_TO_DIVISOR - 1);
        // Every page moves forward at most once, losing its second chance.
        let mut passes = 4 * self.order.len() + 4;
        while self.bytes - self.spares.len() * self.chunk_size > target && passes > 0 {
            passes -= 1;
            let Some(oldest) = self.order.pop_front() else {
                break;
            };
            self.retire(oldest, Retiring::MoveServed);
        }
        // Kept pages and spares together stay within the cap.
        while self.bytes > max_bytes && self.spares.pop().is_some() {
            self.bytes -= self.chunk_size;
        }
    }

    fn clear(&mut self) {
        self.map.clear();
        self.paths.clear();
        let chunks: Vec<u64> = self.chunks.keys().copied().collect();
        for chunk in chunks {
            self.free_chunk(chunk);
        }
        self.order.clear();
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Retiring {
    /// Compacting: every page still kept moves.
    MoveLive,
    /// Evicting: pages served since the last pass move, others go.
    MoveServed,
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
    /// One turn per core to compress a page.
    compressing: tokio::sync::Semaphore,
}

impl PageCache {
    pub fn new(max_bytes: u64) -> Self {
        let max_bytes = usize::try_from(max_bytes).unwrap_or(usize::MAX);
        PageCache {
            entries: Mutex::new(Entries::new(max_bytes)),
            renders: std::sync::atomic::AtomicU64::new(0),
            max_bytes,
            rendering: Mutex::new(HashMap::new()),
            compressing: tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get),
            ),
        }
    }

    /// Waits for a turn to compress a page (one per core at a time).
    pub async fn compression_turn(&self) -> Option<tokio::sync::SemaphorePermit<'_>> {
        // The semaphore is never closed; were it, compressing without a turn is still right.
        self.compressing.acquire().await.ok()
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
        // A page moved forward by eviction is the same page in other memory.
        let same = Arc::ptr_eq(&entry.page, page) || entry.page.etag == page.etag;
        if !same || entry.paths.len() >= PATHS_PER_PAGE {
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

    /// Keeps a page (unless an invalidation since its render touched it, or
    /// it is bigger than the whole cache) and returns it as kept.
    pub fn insert(&self, key: String, page: CachedPage, rendered_in_generation: u64) -> Arc<CachedPage> {
        let mut entries = self.entries();
        if page.size() > self.max_bytes || entries.stale_since(rendered_in_generation, &page) {
            return Arc::new(page);
        }
        let kept = entries.put(key, &page);
        entries.evict_beyond(self.max_bytes);
        kept
    }

    pub fn invalidate_all(&self) {
        let mut entries = self.entries();
        entries.clear();
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

    /// What the kept pages take: their chunks' allocations, dead space included.
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

    /// A page whose text says which it is, so a kept copy can be checked
    /// byte for byte after eviction or compaction moved it.
    fn numbered_page(number: usize, words: usize) -> (String, CachedPage) {
        let text = format!("<p>{number}</p>{}", "خبر عاجل ".repeat(words));
        let page = CachedPage::build(text.clone(), None, None).with_tags(vec![format!("article:{number}")]);
        (text, page)
    }

    /// Keeps pages 0..count of `words` words each under keys p0, p1, ….
    fn keep_numbered_pages(cache: &PageCache, count: usize, words: usize) {
        for number in 0..count {
            let (_, page) = numbered_page(number, words);
            cache.insert(format!("p{number}"), page, cache.generation());
        }
    }

    fn gunzipped(page: &CachedPage) -> Vec<u8> {
        let mut text = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(page.gzip.as_ref()), &mut text).unwrap();
        text
    }

    /// What the chunks hold alive is exactly what the kept pages take.
    fn assert_accounts_balance(cache: &PageCache) {
        let entries = cache.entries();
        let kept: usize = entries.map.values().map(|entry| entry.page.size()).sum();
        let live: usize = entries.chunks.values().map(|chunk| chunk.live).sum();
        let allocated: usize = entries.chunks.values().map(|chunk| chunk.allocated).sum::<usize>()
            + entries.spares.len() * entries.chunk_size;
        assert_eq!(kept, live);
        assert_eq!(allocated, entries.bytes);
        assert!(entries.spares.len() <= entries.spare_limit);
        assert!(
            entries.order.len() <= 2 * entries.chunks.len() + CHUNKS_PER_CACHE,
            "freed chunks are not listed forever"
        );
        assert!(entries.map.values().all(|entry| entries.chunks.contains_key(&entry.chunk)));
    }

    #[test]
    fn a_full_cache_stays_within_its_cap_and_moved_pages_keep_their_bytes() {
        // 4 MB: chunks of 64 KB, pages of 3 to 30 KB in three encodings.
        let cap: usize = 4 << 20;
        let cache = PageCache::new(cap as u64);
        let mut seed: u64 = 7;
        let mut next = move || {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            usize::try_from(seed >> 33).unwrap()
        };
        let mut texts = HashMap::new();
        let mut served = 0;
        for round in 0..4000 {
            let number = next() % 800;
            match next() % 10 {
                0..=4 => {
                    let (text, page) = numbered_page(number, 200 + next() % 1500);
                    cache.insert(format!("p{number}"), page, cache.generation());
                    texts.insert(number, text);
                }
                5..=8 => {
                    if let Some(page) = cache.get(&format!("p{number}")) {
                        assert_eq!(page.identity, texts[&number].as_bytes(), "round {round}");
                        served += 1;
                    }
                }
                _ => {
                    cache.invalidate_tags(&[format!("article:{number}")]);
                }
            }
            assert!(cache.bytes() <= cap, "round {round}: {} > {cap}", cache.bytes());
        }
        assert_accounts_balance(&cache);
        assert!(served > 200, "pages were found: {served}");
        let entries = cache.entries();
        assert!(entries.chunks.len() > 10, "pages share chunks: {}", entries.chunks.len());
        for (key, entry) in &entries.map {
            let number: usize = key[1..].parse().unwrap();
            assert_eq!(entry.page.identity, texts[&number].as_bytes());
            assert_eq!(gunzipped(&entry.page), texts[&number].as_bytes());
        }
    }

    #[test]
    fn invalidated_pages_do_not_keep_their_chunks_alive() {
        let cache = PageCache::new(16 << 20);
        keep_numbered_pages(&cache, 400, 1000);
        let full = cache.bytes();
        // Nine in ten go: what is left is moved together and the rest freed.
        let doomed: Vec<String> =
            (0..400).filter(|number| number % 10 != 0).map(|number| format!("article:{number}")).collect();
        cache.invalidate_tags(&doomed);
        assert_accounts_balance(&cache);
        assert_eq!(cache.len(), 40);
        let live: usize = cache.entries().map.values().map(|entry| entry.page.size()).sum();
        // Half-alive chunks at worst, the open one, and the spares.
        let slack = {
            let entries = cache.entries();
            (entries.spare_limit + 1) * entries.chunk_size
        };
        assert!(cache.bytes() <= 2 * live + slack, "{} allocated for {live} kept (of {full})", cache.bytes());
        for number in (0..400).step_by(10) {
            let page = cache.get(&format!("p{number}")).unwrap();
            assert!(page.identity.starts_with(format!("<p>{number}</p>").as_bytes()));
        }
    }

    #[test]
    fn freed_chunks_are_reused_once_nobody_reads_them() {
        let cache = PageCache::new(16 << 20);
        keep_numbered_pages(&cache, 200, 1000);
        // A reader is still being sent a page when everything goes.
        let in_flight = cache.get("p0").unwrap();
        let before = cache.bytes();
        cache.invalidate_all();
        let spares = {
            let entries = cache.entries();
            entries.spare_limit * entries.chunk_size
        };
        assert_eq!(cache.bytes(), spares, "spares stay, the rest is freed");
        assert!(in_flight.identity.starts_with(b"<p>0</p>"));
        // The chunk that reader holds cannot be reused while it does.
        let (_, page) = numbered_page(0, 1000);
        cache.insert("p0".into(), page, cache.generation());
        cache.invalidate_all();
        assert_eq!(cache.bytes(), spares);
        drop(in_flight);
        keep_numbered_pages(&cache, 200, 1000);
        assert_accounts_balance(&cache);
        assert_eq!(cache.bytes(), before, "the spares were filled again, not allocated anew");
    }

    #[test]
    fn expired_pages_are_not_served() {
        let cache = PageCache::new(1 << 20);
        cache.insert("x".into(), CachedPage::build("x".into(), Some(Duration::ZERO), None), 0);
        assert!(cache.get("x").is_none());
    }
}
