//! `khabar import wordpress`: a WXR export into khabar, in two passes over
//! the file. The first reads the header (authors, categories, tags) and the
//! attachments (an article's featured image is named before its attachment
//! comes); the second imports posts and pages with their comments, a few
//! hundred per transaction, converted on every core while the next batch is
//! read.
//!
//! What maps to what:
//! * posts → articles (publish → published, future → scheduled, draft,
//!   pending, private and password-protected → draft; trash left out);
//! * pages → static pages; categories → sections, flattened (a post in
//!   several goes to the most specific: a child before its parent, then the
//!   first listed); tags → tags; users → authors (name only: no password, no
//!   email); comments → comments (approved, pending, spam; trash left out),
//!   replies to replies hung under their thread's first comment, as khabar
//!   has one level; excerpts → summaries; attachments found in `--uploads`
//!   → the media library, with their alt text and caption.
//! * every old address (the item's link, `/?p=ID`, `/?page_id=ID`, the
//!   permalink structure if given, `/category/…`, `/tag/…`, `/author/…`,
//!   their feeds, `/feed/`) → a redirect to the khabar page.

use std::collections::{HashMap, HashSet};
use std::io::BufReader;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::app::AppState;
use crate::articles::store::NewName;
use crate::import::content::{self, Rewrites};
use crate::import::report::{Report, Tally};
use crate::import::wxr::{Header, Item, WxrError, WxrReader};
use crate::import::{ImportError, Options, Progress};
use crate::redirects::store::{upsert_redirect, NewRedirect};
use crate::store::{now_seconds, with_pool};

/// Bumped when the conversion changes, so a re-run rewrites what it made before.
const CONVERTER_VERSION: &str = "1";
/// Items written per transaction.
const BATCH_ITEMS: usize = 250;
/// Comments per transaction, whatever the number of items.
const BATCH_COMMENTS: usize = 4000;
const SAVED_BY: &str = "استيراد ووردبريس";
const DEFAULT_SECTION: &str = "غير مصنف";
const MAX_SUMMARY_CHARS: usize = 1000;
const KNOWN_IGNORED_TYPES: [&str; 1] = ["attachment"];

/// What the first pass learns.
struct Scan {
    header: Header,
    /// Attachment id → (upload key, alt text, caption).
    attachments: HashMap<String, Attachment>,
    /// Upload keys the content shows.
    shown_images: HashSet<String>,
    /// Item terms the header does not declare (category and post_tag only).
    extra_terms: Vec<crate::import::wxr::ItemTerm>,
    /// `dc:creator`s that are not among the authors, with the first item naming them.
    unknown_creators: Vec<(String, String)>,
    items: u64,
}

#[derive(Debug, Clone, Default)]
struct Attachment {
    key: String,
    alt: String,
    caption: String,
    line: u64,
}

/// Sections, tags and authors as they are in khabar, by WordPress slug or login.
#[derive(Default)]
struct Taxonomy {
    sections: HashMap<String, Named>,
    /// Depth of each category in its hierarchy (0 for top level).
    depth: HashMap<String, usize>,
    tags: HashMap<String, Named>,
    authors: HashMap<String, Named>,
    default_section: Option<Named>,
}

#[derive(Debug, Clone)]
struct Named {
    id: i64,
    name: String,
}

fn sha(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(CONVERTER_VERSION.as_bytes());
    for part in parts {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part.as_bytes());
    }
    hex::encode(&hasher.finalize()[..16])
}

/// A WordPress slug (percent-encoded, lower case) as readable text.
pub fn decode_slug(raw: &str) -> String {
    let decoded = percent_encoding::percent_decode_str(raw.trim()).decode_utf8_lossy();
    decoded.trim().to_owned()
}

/// The slug a post keeps: WordPress's own, decoded, when it is a clean slug;
/// else one made from the title.
fn article_slug(post_name: &str, title: &str) -> String {
    let decoded = decode_slug(post_name);
    let clean = !decoded.is_empty()
        && decoded.chars().all(|character| character == '-' || character.is_alphanumeric())
        && !decoded.starts_with('-')
        && decoded.chars().count() <= 200
        && decoded.chars().any(char::is_alphabetic);
    let slug = if clean { decoded.to_lowercase() } else { khabar_arabic::slug::slugify(title) };
    if slug.is_empty() || slug == "comments" {
        "خبر".to_owned()
    } else {
        slug
    }
}

/// `2024-05-06 04:40:00` (UTC) as seconds; `None` for WordPress's zero date.
fn wordpress_time(text: &str) -> Option<i64> {
    let text = text.trim();
    if text.is_empty() || text.starts_with("0000") {
        return None;
    }
    let civil: jiff::civil::DateTime = text.replace(' ', "T").parse().ok()?;
    civil.to_zoned(jiff::tz::TimeZone::UTC).ok().map(|zoned| zoned.timestamp().as_second())
}

/// The path of a URL on the old site, or of a root-relative link.
fn path_of(url: &str) -> Option<String> {
    let url = url.trim();
    if url.is_empty() {
        return None;
    }
    let rest = match url.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |at| &rest[at..]),
        None if url.starts_with('/') => url,
        None => return None,
    };
    Some(rest.to_owned())
}

/// A redirect key from an old URL (query links `/?p=` included).
fn key_of_url(url: &str) -> Option<String> {
    let path = path_of(url)?;
    let (path, query) = match path.split_once('?') {
        Some((path, query)) => (path.to_owned(), Some(query.to_owned())),
        None => (path, None),
    };
    let path = path.split('#').next().unwrap_or_default().to_owned();
    crate::redirects::key(&path, query.as_deref())
}

/// The path a permalink structure gives a post.
fn permalink_path(structure: &str, item: &Item, category: &str) -> Option<String> {
    let date = item.post_date.as_str();
    let part = |range: std::ops::Range<usize>| date.get(range).filter(|part| part.bytes().all(|b| b.is_ascii_digit()));
    let decoded_name = decode_slug(&item.post_name);
    let mut path = structure.to_owned();
    for (tag, value) in [
        ("%year%", part(0..4)?),
        ("%monthnum%", part(5..7)?),
        ("%day%", part(8..10)?),
        ("%hour%", part(11..13)?),
        ("%minute%", part(14..16)?),
        ("%second%", part(17..19)?),
        ("%post_id%", item.post_id.as_str()),
        ("%postname%", decoded_name.as_str()),
        ("%category%", category),
        ("%author%", item.creator.as_str()),
    ] {
        path = path.replace(tag, value);
    }
    (!path.contains('%')).then_some(path)
}

fn open(file: &Path) -> Result<BufReader<std::fs::File>, ImportError> {
    let handle = std::fs::File::open(file)
        .map_err(|error| ImportError::Io(format!("cannot read {}: {error}", file.display())))?;
    Ok(BufReader::with_capacity(256 * 1024, handle))
}

/// The first pass: the header, attachments, undeclared terms and authors.
fn scan(file: &Path, progress: &dyn Progress) -> Result<(Scan, Option<WxrError>), ImportError> {
    let mut reader = WxrReader::new(open(file)?);
    let header = reader.header()?;
    let declared_authors: HashSet<String> = header.authors.iter().map(|author| author.login.clone()).collect();
    let declared_terms: HashSet<(String, String)> = header
        .categories
        .iter()
        .map(|term| ("category".to_owned(), term.slug.to_lowercase()))
        .chain(header.tags.iter().map(|term| ("post_tag".to_owned(), term.slug.to_lowercase())))
        .collect();
    let mut scan = Scan {
        header,
        attachments: HashMap::new(),
        shown_images: HashSet::new(),
        extra_terms: Vec::new(),
        unknown_creators: Vec::new(),
        items: 0,
    };
    let mut seen_terms: HashSet<(String, String)> = HashSet::new();
    let mut error = None;
    loop {
        let item = match reader.next_item() {
            Ok(Some(item)) => item,
            Ok(None) => break,
            Err(stop) => {
                error = Some(stop);
                break;
            }
        };
        scan.items += 1;
        if scan.items.is_multiple_of(512) {
            progress.set(reader.bytes_read());
        }
        if item.post_type == "attachment" {
            let key = item
                .meta("_wp_attached_file")
                .map(str::to_owned)
                .or_else(|| content::upload_key(&item.attachment_url))
                .unwrap_or_default();
            let attachment = Attachment {
                key,
                alt: item.meta("_wp_attachment_image_alt").unwrap_or_default().trim().to_owned(),
                caption: content::plain(&item.excerpt),
                line: item.line,
            };
            scan.attachments.insert(item.post_id.clone(), attachment);
            continue;
        }
        if item.post_type != "post" && item.post_type != "page" {
            continue;
        }
        scan.shown_images.extend(content::image_keys(&item.content));
        if !item.creator.is_empty()
            && !declared_authors.contains(&item.creator)
            && !scan.unknown_creators.iter().any(|(login, _)| login == &item.creator)
        {
            scan.unknown_creators.push((item.creator.clone(), format!("line {}, {}", item.line, item.label())));
        }
        for term in &item.terms {
            if term.domain != "category" && term.domain != "post_tag" {
                continue;
            }
            let key = (term.domain.clone(), term.nicename.to_lowercase());
            if !declared_terms.contains(&key) && seen_terms.insert(key) {
                scan.extra_terms.push(term.clone());
            }
        }
    }
    progress.set(reader.bytes_read());
    Ok((scan, error))
}

/// Runs an import of `file` into the site.
pub async fn import(
    state: &AppState,
    file: &Path,
    options: &Options,
    progress: &dyn Progress,
) -> Result<Report, ImportError> {
    let total_bytes = std::fs::metadata(file)
        .map_err(|error| ImportError::Io(format!("cannot read {}: {error}", file.display())))?
        .len();
    if let Some(uploads) = &options.uploads {
        if !uploads.is_dir() {
            return Err(ImportError::Usage(format!("--uploads {} is not a folder", uploads.display())));
        }
    }
    progress.phase("reading the export", total_bytes);
    let path = file.to_path_buf();
    let (scan, scan_error) = {
        // The reader is not Send; it lives on one blocking thread.
        let progress_bytes = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let seen = std::sync::Arc::clone(&progress_bytes);
        let task = tokio::task::spawn_blocking(move || {
            struct Counter(std::sync::Arc<std::sync::atomic::AtomicU64>);
            impl Progress for Counter {
                fn phase(&self, _name: &'static str, _total: u64) {}
                fn set(&self, done: u64) {
                    self.0.store(done, std::sync::atomic::Ordering::Relaxed);
                }
            }
            scan(&path, &Counter(seen))
        });
        tokio::pin!(task);
        loop {
            tokio::select! {
                result = &mut task => break result.map_err(|error| ImportError::Io(format!("reading task failed: {error}")))??,
                _ = tokio::time::sleep(std::time::Duration::from_millis(200)) => {
                    progress.set(progress_bytes.load(std::sync::atomic::Ordering::Relaxed));
                }
            }
        }
    };
    let mut report = Report { dry_run: options.dry_run, ..Report::default() };
    let source = match scan.header.base_blog_url.trim() {
        "" => scan.header.base_site_url.trim().to_owned(),
        url => url.to_owned(),
    };
    let source = format!("wordpress {}", source.trim_end_matches('/'));
    for (login, at) in &scan.unknown_creators {
        report.warnings.push(format!(
            "{at}: the author «{login}» is not among the export's authors; an author of that name was made"
        ));
    }
    let taxonomy = taxonomy(state, &scan, &source, options.dry_run, &mut report).await?;
    let rewrites = media(state, &scan, &source, options, &mut report, progress).await?;
    progress.phase("importing posts and pages", total_bytes);
    let attachments = scan
        .attachments
        .iter()
        .map(|(id, attachment)| (id.clone(), (attachment.key.clone(), attachment.caption.clone())))
        .collect();
    let context = std::sync::Arc::new(Context { attachments, source, taxonomy, rewrites, options: options.clone() });
    items(state, file, &context, &mut report, progress).await?;
    if report.failure.is_none() {
        if let Some(error) = scan_error {
            report.failure = Some(error.to_string());
        }
    }
    if !options.dry_run && report.changed_anything() {
        crate::cache::epoch::bump(&state.store).await?;
        state.content_changed();
        state.reload_footer().await?;
    }
    Ok(report)
}

/// Authors, sections and tags: made (or found) before any article, with
/// the redirects from their old addresses.
async fn taxonomy(
    state: &AppState,
    scan: &Scan,
    source: &str,
    dry_run: bool,
    report: &mut Report,
) -> Result<Taxonomy, ImportError> {
    let now = now_seconds();
    let header = &scan.header;
    let mut wanted: Vec<WantedTerm> = Vec::new();
    for author in &header.authors {
        let name =
            [author.display_name.as_str(), &format!("{} {}", author.first_name, author.last_name), &author.login]
                .into_iter()
                .map(str::trim)
                .find(|name| !name.is_empty() && !khabar_arabic::slug::slugify(name).is_empty())
                .unwrap_or("كاتب")
                .to_owned();
        let nicename = author.login.to_lowercase().replace(['.', '@', ' ', '_'], "-");
        let mut old = vec![(format!("/author/{nicename}"), ""), (format!("/author/{nicename}/feed"), "/feed.xml")];
        if nicename != author.login.to_lowercase() {
            old.push((format!("/author/{}", author.login.to_lowercase()), ""));
        }
        wanted.push(("author", author.login.clone(), new_name(&name), String::new(), old));
    }
    for (login, _) in &scan.unknown_creators {
        wanted.push(("author", login.clone(), new_name(login), String::new(), Vec::new()));
    }
    // Category paths follow the parents: /category/رياضة/كرة-القدم.
    let by_slug: HashMap<String, &crate::import::wxr::Term> =
        header.categories.iter().map(|term| (term.slug.to_lowercase(), term)).collect();
    let mut depth = HashMap::new();
    for term in &header.categories {
        let mut chain = vec![decode_slug(&term.slug)];
        let mut parent = term.parent.to_lowercase();
        while !parent.is_empty() && chain.len() < 20 {
            match by_slug.get(&parent) {
                Some(up) => {
                    chain.push(decode_slug(&up.slug));
                    parent = up.parent.to_lowercase();
                }
                None => break,
            }
        }
        depth.insert(term.slug.to_lowercase(), chain.len() - 1);
        chain.reverse();
        let full = format!("/category/{}", chain.join("/"));
        let short = format!("/category/{}", decode_slug(&term.slug));
        let mut old = vec![(format!("{full}/feed"), "/feed.xml"), (full.clone(), "")];
        if short != full {
            old.push((short.clone(), ""));
            old.push((format!("{short}/feed"), "/feed.xml"));
        }
        let name = if term.name.trim().is_empty() { decode_slug(&term.slug) } else { term.name.clone() };
        wanted.push(("category", term.slug.to_lowercase(), new_name(&name), term.description.clone(), old));
    }
    for term in &header.tags {
        let slug = decode_slug(&term.slug);
        let old = vec![(format!("/tag/{slug}"), ""), (format!("/tag/{slug}/feed"), "/feed.xml")];
        let name = if term.name.trim().is_empty() { slug.clone() } else { term.name.clone() };
        wanted.push(("tag", term.slug.to_lowercase(), new_name(&name), String::new(), old));
    }
    for term in &scan.extra_terms {
        let slug = decode_slug(&term.nicename);
        let (kind, word) = if term.domain == "category" { ("category", "category") } else { ("tag", "tag") };
        let old = vec![(format!("/{word}/{slug}"), "")];
        let name = if term.name.trim().is_empty() { slug.clone() } else { term.name.clone() };
        wanted.push((kind, term.nicename.to_lowercase(), new_name(&name), String::new(), old));
    }
    wanted.push(("category", String::new(), new_name(DEFAULT_SECTION), String::new(), Vec::new()));
    wanted.retain(|(_, _, name, _, _)| !name.slug.is_empty());

    let mut taxonomy = Taxonomy { depth, ..Taxonomy::default() };
    let (sections, tags, authors) = (&mut report.sections, &mut report.tags, &mut report.authors);
    let mut redirects = 0;
    with_pool!(state.store, pool => {
        let mut tx = pool.begin().await?;
        for (kind, external_id, name, description, old) in &wanted {
            let table = match *kind {
                "author" => "authors",
                "category" => "sections",
                _ => "tags",
            };
            let tally: &mut Tally = match *kind {
                "author" => &mut *authors,
                "category" => &mut *sections,
                _ => &mut *tags,
            };
            let existing: Option<i64> = sqlx::query_scalar(&format!("SELECT id FROM {table} WHERE slug = $1 OR name = $2"))
                .bind(&name.slug)
                .bind(&name.name)
                .fetch_optional(&mut *tx)
                .await?;
            let id = match existing {
                Some(id) => {
                    if !external_id.is_empty() {
                        tally.unchanged += 1;
                    }
                    id
                }
                None if dry_run => {
                    tally.created += 1;
                    0
                }
                None => {
                    let id: i64 = match *kind {
                        "category" => sqlx::query_scalar(
                            "INSERT INTO sections (name, slug, description, position, created_at) \
                             VALUES ($1, $2, $3, (SELECT COALESCE(MAX(position), 0) + 1 FROM sections), $4) RETURNING id",
                        )
                        .bind(&name.name)
                        .bind(&name.slug)
                        .bind(description)
                        .bind(now)
                        .fetch_one(&mut *tx)
                        .await?,
                        _ => sqlx::query_scalar(&format!(
                            "INSERT INTO {table} (name, slug, created_at) VALUES ($1, $2, $3) RETURNING id"
                        ))
                        .bind(&name.name)
                        .bind(&name.slug)
                        .bind(now)
                        .fetch_one(&mut *tx)
                        .await?,
                    };
                    if !external_id.is_empty() {
                        tally.created += 1;
                    }
                    id
                }
            };
            if !dry_run && !external_id.is_empty() {
                sqlx::query(
                    "INSERT INTO import_items (source, kind, external_id, local_id, fingerprint, local_revision) \
                     VALUES ($1, $2, $3, $4, '', 0) ON CONFLICT (source, kind, external_id) DO UPDATE SET local_id = excluded.local_id",
                )
                .bind(source)
                .bind(*kind)
                .bind(external_id)
                .bind(id)
                .execute(&mut *tx)
                .await?;
                let target_kind = match *kind {
                    "author" => "author",
                    "category" => "section",
                    _ => "tag",
                };
                for (old_path, suffix) in old {
                    let Some(from_path) = crate::redirects::key(old_path, None) else { continue };
                    let redirect = NewRedirect { from_path, target_kind, target_id: Some(id), target_path: (*suffix).to_owned() };
                    redirects += upsert_redirect!(&mut *tx, redirect, source, SAVED_BY, now)?.rows_affected();
                }
            }
            let named = Named { id, name: name.name.clone() };
            match *kind {
                "author" => {
                    taxonomy.authors.insert(external_id.clone(), named);
                }
                "category" if external_id.is_empty() => taxonomy.default_section = Some(named),
                "category" => {
                    taxonomy.sections.insert(external_id.clone(), named);
                }
                _ => {
                    taxonomy.tags.insert(external_id.clone(), named);
                }
            }
        }
        if !dry_run {
            for (from, to) in [("/feed", "/feed.xml"), ("/feed/rss2", "/feed.xml"), ("/feed/atom", "/atom.xml")] {
                let redirect = NewRedirect { from_path: from.to_owned(), target_kind: "path", target_id: None, target_path: to.to_owned() };
                redirects += upsert_redirect!(&mut *tx, redirect, source, SAVED_BY, now)?.rows_affected();
            }
        }
        tx.commit().await?;
        Ok::<(), sqlx::Error>(())
    })?;
    report.redirects += redirects;
    Ok(taxonomy)
}

/// Old paths of a section, tag or author, each with what follows its khabar path (`/feed.xml`).
type OldPaths = Vec<(String, &'static str)>;
/// (kind, WordPress id, name, description, old paths).
type WantedTerm = (&'static str, String, NewName, String, OldPaths);

fn new_name(name: &str) -> NewName {
    let name: String = name.trim().chars().take(100).collect();
    NewName { slug: khabar_arabic::slug::slugify(&name), name }
}

/// Attachments and the other uploads the content shows, from `--uploads`
/// into the media library (cleaned and re-encoded like any upload, with
/// their responsive copies). Returns where each old address now points.
async fn media(
    state: &AppState,
    scan: &Scan,
    source: &str,
    options: &Options,
    report: &mut Report,
    progress: &dyn Progress,
) -> Result<Rewrites, ImportError> {
    let mut rewrites = Rewrites {
        site_urls: [&scan.header.base_site_url, &scan.header.base_blog_url]
            .iter()
            .filter(|url| !url.is_empty())
            .map(|url| url.trim_end_matches('/').to_owned())
            .collect(),
        ..Rewrites::default()
    };
    // Each upload once, described by its attachment when there is one.
    let mut wanted: Vec<(String, Attachment)> = Vec::new();
    let mut seen = HashSet::new();
    let mut attachments: Vec<(&String, &Attachment)> = scan.attachments.iter().collect();
    attachments.sort_by_key(|(_, attachment)| attachment.line);
    for (_, attachment) in attachments {
        if !attachment.key.is_empty() && seen.insert(attachment.key.clone()) {
            wanted.push((attachment.key.clone(), attachment.clone()));
        }
    }
    let mut shown: Vec<&String> = scan.shown_images.iter().collect();
    shown.sort();
    for key in shown {
        if !seen.contains(key) && !seen.contains(&without_size(key)) && seen.insert(key.clone()) {
            wanted.push((key.clone(), Attachment { key: key.clone(), ..Attachment::default() }));
        }
    }
    if wanted.is_empty() {
        return Ok(rewrites);
    }
    progress.phase("importing images", wanted.len() as u64);
    let known =
        known_items(state, source, "upload", &wanted.iter().map(|(key, _)| key.clone()).collect::<Vec<_>>()).await?;
    for (done, (key, attachment)) in wanted.into_iter().enumerate() {
        progress.set(done as u64);
        let file = options.uploads.as_ref().map(|uploads| uploads.join(&key)).filter(|_| safe_inside(&key));
        let Some(file) = file.filter(|file| file.is_file()) else {
            let shown_in =
                if attachment.line > 0 { format!(" (attachment at line {})", attachment.line) } else { String::new() };
            report.missing_images.push(format!("{key}{shown_in}"));
            continue;
        };
        let bytes = std::fs::read(&file)
            .map_err(|error| ImportError::Io(format!("cannot read {}: {error}", file.display())))?;
        let fingerprint = sha(&[&hex::encode(Sha256::digest(&bytes)), &attachment.alt, &attachment.caption]);
        if let Some(existing) = known.get(&key) {
            if let Some(row) = state.store.media_by_id(existing.local_id).await? {
                rewrites.images.insert(key.clone(), row.path.clone());
                if existing.fingerprint == fingerprint {
                    report.media.unchanged += 1;
                    continue;
                }
                if !options.dry_run {
                    state.store.describe_media(row.id, &attachment.alt, &attachment.caption, "").await?;
                    remember(state, source, "upload", &key, row.id, &fingerprint, 0).await?;
                }
                report.media.updated += 1;
                continue;
            }
        }
        if options.dry_run {
            report.media.created += 1;
            rewrites.images.insert(key.clone(), format!("/wp-content/uploads/{key}"));
            continue;
        }
        let month = key.get(0..7).filter(|month| month.as_bytes().get(4) == Some(&b'/')).unwrap_or("import").to_owned();
        let description = crate::media::Description {
            alt: &attachment.alt,
            caption: &attachment.caption,
            credit: "",
            uploaded_by: None,
        };
        let (id, path) = match crate::media::add_to_library(state, bytes, &month, &description).await {
            Ok(added) => added,
            Err(crate::media::LibraryError::Image(error)) => {
                // A PDF or a GIF in the old library: the posts still come, the file does not.
                report.warnings.push(format!("{key}: not imported into the media library ({error})"));
                report.missing_images.push(key);
                continue;
            }
            Err(crate::media::LibraryError::Store(error)) => return Err(ImportError::Store(error)),
            Err(crate::media::LibraryError::Storage(error)) => {
                return Err(ImportError::Io(format!("cannot store {key}: {error}")))
            }
        };
        remember(state, source, "upload", &key, id, &fingerprint, 0).await?;
        rewrites.images.insert(key, path);
        report.media.created += 1;
    }
    if !options.dry_run && report.media.created > 0 {
        // The responsive copies, now: the pages that show these come next.
        while crate::media::make_pending_variants(state).await? {}
    }
    Ok(rewrites)
}

fn without_size(key: &str) -> String {
    content::without_size_suffix(key)
}

/// A relative upload path must stay inside the uploads folder.
fn safe_inside(key: &str) -> bool {
    !key.split(['/', '\\']).any(|part| part.is_empty() || part == ".." || part == ".")
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct KnownItem {
    external_id: String,
    local_id: i64,
    fingerprint: String,
    local_revision: i64,
}

async fn known_items(
    state: &AppState,
    source: &str,
    kind: &str,
    ids: &[String],
) -> Result<HashMap<String, KnownItem>, ImportError> {
    let mut known = HashMap::new();
    for chunk in ids.chunks(500) {
        let rows = with_pool!(state.store, pool => {
            let mut query = sqlx::QueryBuilder::new(
                "SELECT external_id, local_id, fingerprint, local_revision FROM import_items WHERE source = ",
            );
            query.push_bind(source).push(" AND kind = ").push_bind(kind).push(" AND external_id IN (");
            let mut list = query.separated(", ");
            for id in chunk {
                list.push_bind(id.clone());
            }
            query.push(")");
            query.build_query_as::<KnownItem>().fetch_all(pool).await
        })?;
        known.extend(rows.into_iter().map(|row| (row.external_id.clone(), row)));
    }
    Ok(known)
}

async fn remember(
    state: &AppState,
    source: &str,
    kind: &str,
    external_id: &str,
    local_id: i64,
    fingerprint: &str,
    revision: i64,
) -> Result<(), ImportError> {
    with_pool!(state.store, pool => sqlx::query(
        "INSERT INTO import_items (source, kind, external_id, local_id, fingerprint, local_revision) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (source, kind, external_id) DO UPDATE SET \
         local_id = excluded.local_id, fingerprint = excluded.fingerprint, local_revision = excluded.local_revision",
    )
    .bind(source)
    .bind(kind)
    .bind(external_id)
    .bind(local_id)
    .bind(fingerprint)
    .bind(revision)
    .execute(pool)
    .await
    .map(|_| ()))?;
    Ok(())
}

struct Context {
    /// Attachment id → (upload key, caption).
    attachments: HashMap<String, (String, String)>,
    source: String,
    taxonomy: Taxonomy,
    rewrites: Rewrites,
    options: Options,
}

/// A post or page ready to write.
struct Prepared {
    kind: &'static str,
    external_id: String,
    label: String,
    fingerprint: String,
    slug: String,
    title: String,
    summary: String,
    body: String,
    word_count: i64,
    status: &'static str,
    published_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
    review_requested: bool,
    section: Named,
    tags: Vec<Named>,
    author: Option<Named>,
    featured_image: Option<String>,
    featured_caption: String,
    comments_closed: bool,
    position: i64,
    old_paths: Vec<String>,
    comments: Vec<PreparedComment>,
}

struct PreparedComment {
    external_id: String,
    /// The thread's first comment (WordPress id), for a reply.
    thread: Option<String>,
    name: String,
    email_hash: String,
    body_markdown: String,
    body_html: String,
    status: &'static str,
    created_at: i64,
    fingerprint: String,
}

/// What an item becomes, or why it is left out (`Err(Some(reason))` is a
/// skip that makes the exit non-zero; `Err(None)` is by design).
fn prepare(
    item: &Item,
    context: &Context,
    comments: &crate::comments::Comments,
    warnings: &mut Vec<String>,
) -> Result<Prepared, Option<String>> {
    let at = format!("line {}, {}", item.line, item.label());
    let kind = match item.post_type.as_str() {
        "post" => "post",
        "page" => "page",
        other if KNOWN_IGNORED_TYPES.contains(&other) => return Err(None),
        other => return Err(Some(format!("{at}: post type «{other}» has no place in khabar; skipped"))),
    };
    if item.post_id.trim().is_empty() || !item.post_id.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(Some(format!("{at}: it has no wp:post_id; skipped")));
    }
    let (status, review_requested) = match item.status.as_str() {
        "trash" | "auto-draft" | "inherit" => return Err(None),
        "publish" if !item.password.is_empty() => {
            warnings.push(format!("{at}: password-protected in WordPress; imported as a draft"));
            ("draft", false)
        }
        "publish" | "future" => ("published", false),
        "pending" => ("draft", true),
        "private" => {
            warnings.push(format!("{at}: private in WordPress; imported as a draft"));
            ("draft", false)
        }
        _ => ("draft", false),
    };
    let title = content::plain(&item.title);
    let title = if title.is_empty() { decode_slug(&item.post_name) } else { title };
    if title.is_empty() {
        return Err(Some(format!("{at}: it has no title; skipped")));
    }
    let title: String = title.chars().take(300).collect();
    let written = wordpress_time(&item.post_date_gmt).or_else(|| wordpress_time(&item.post_date));
    let now = now_seconds();
    let created_at = written.unwrap_or(now);
    let updated_at = wordpress_time(&item.modified_gmt).unwrap_or(created_at).max(created_at);
    let published_at = match status {
        "published" => Some(created_at),
        _ => None,
    };
    let body = content::post_html(&item.content, &context.rewrites);
    let word_count = i64::try_from(crate::articles::markdown::html_text(&body).split_whitespace().count()).unwrap_or(0);
    let summary: String = content::plain(&item.excerpt).chars().take(MAX_SUMMARY_CHARS).collect();
    let taxonomy = &context.taxonomy;
    let mut categories: Vec<(usize, usize, &Named)> = item
        .terms
        .iter()
        .enumerate()
        .filter(|(_, term)| term.domain == "category")
        .filter_map(|(index, term)| {
            let key = term.nicename.to_lowercase();
            let named = taxonomy.sections.get(&key)?;
            Some((taxonomy.depth.get(&key).copied().unwrap_or(0), index, named))
        })
        .collect();
    // The most specific category, then the first listed.
    categories.sort_by(|left, right| right.0.cmp(&left.0).then(left.1.cmp(&right.1)));
    let section = categories
        .first()
        .map(|(_, _, named)| (*named).clone())
        .or_else(|| taxonomy.default_section.clone())
        .ok_or_else(|| Some(format!("{at}: no section to file it under; skipped")))?;
    let mut tags: Vec<Named> = Vec::new();
    for term in item.terms.iter().filter(|term| term.domain == "post_tag") {
        if let Some(named) = taxonomy.tags.get(&term.nicename.to_lowercase()) {
            if tags.iter().all(|tag| tag.id != named.id) {
                tags.push(named.clone());
            }
        }
    }
    let author = taxonomy.authors.get(&item.creator).cloned();
    let (featured_image, featured_caption) = match item.meta("_thumbnail_id") {
        Some(id) => {
            let attachment = context.featured_image(id);
            match attachment {
                Some((path, caption)) => (Some(path), caption),
                None => (None, String::new()),
            }
        }
        None => (None, String::new()),
    };
    let mut old_paths = Vec::new();
    let link_key = key_of_url(&item.link);
    old_paths.extend(link_key.clone());
    old_paths.push(format!("/?p={}", item.post_id));
    if kind == "page" {
        old_paths.push(format!("/?page_id={}", item.post_id));
    }
    if kind == "post" {
        if let Some(structure) = &context.options.permalink {
            let category =
                categories.first().map(|(_, index, _)| decode_slug(&item.terms[*index].nicename)).unwrap_or_default();
            if let Some(path) = permalink_path(structure, item, &category) {
                old_paths.extend(crate::redirects::key(&path, None));
            }
        }
    }
    let slug = article_slug(&item.post_name, &title);
    // Comments: each with the thread it belongs to (khabar has one level of replies).
    let parents: HashMap<&str, &str> =
        item.comments.iter().map(|comment| (comment.id.as_str(), comment.parent.as_str())).collect();
    let mut prepared_comments = Vec::new();
    for comment in &item.comments {
        let status = match comment.approved.as_str() {
            "1" | "approve" => "approved",
            "0" | "hold" => "pending",
            "spam" => "spam",
            _ => continue,
        };
        let mut thread = None;
        let mut up = comment.parent.as_str();
        let mut steps = 0;
        while up != "0" && !up.is_empty() && steps < 100 {
            match parents.get(up) {
                Some(next) => {
                    thread = Some(up.to_owned());
                    up = next;
                }
                None => {
                    thread = None;
                    break;
                }
            }
            steps += 1;
        }
        // A reply whose thread went to the trash stands on its own.
        if let Some(root) = &thread {
            let root_kept = item
                .comments
                .iter()
                .find(|candidate| &candidate.id == root)
                .is_some_and(|root| matches!(root.approved.as_str(), "1" | "0" | "approve" | "hold" | "spam"));
            if !root_kept {
                thread = None;
            }
        }
        let name: String = match comment.author.trim() {
            "" => "زائر".to_owned(),
            name => content::plain(name).chars().take(100).collect(),
        };
        let email = comment.email.trim().to_lowercase();
        let body_html = content::comment_html(&comment.content);
        let created_at =
            wordpress_time(&comment.date_gmt).or_else(|| wordpress_time(&comment.date)).unwrap_or(created_at);
        let fingerprint =
            sha(&[&name, &email, &comment.content, status, &created_at.to_string(), thread.as_deref().unwrap_or("")]);
        prepared_comments.push(PreparedComment {
            external_id: comment.id.clone(),
            thread,
            name,
            email_hash: if email.is_empty() { String::new() } else { comments.email_hash(&email) },
            body_markdown: comment.content.trim().to_owned(),
            body_html,
            status,
            created_at,
            fingerprint,
        });
    }
    // Threads first, then replies, each in time order.
    prepared_comments.sort_by_key(|comment| (comment.thread.is_some(), comment.created_at));
    let term_names: Vec<&str> = item.terms.iter().map(|term| term.nicename.as_str()).collect();
    // The converted body, not the raw one: a re-run that finds images it did
    // not have before (`--uploads` given this time) rewrites the article.
    let fingerprint = sha(&[
        kind,
        &item.title,
        &body,
        &item.excerpt,
        &item.status,
        &item.post_name,
        &item.post_date_gmt,
        &item.post_date,
        &item.password,
        &item.creator,
        &term_names.join(","),
        item.meta("_thumbnail_id").unwrap_or_default(),
        &item.comment_status,
        &item.menu_order,
        featured_image.as_deref().unwrap_or_default(),
    ]);
    Ok(Prepared {
        kind,
        external_id: item.post_id.clone(),
        label: at,
        fingerprint,
        slug,
        title,
        summary,
        body,
        word_count,
        status,
        published_at,
        created_at,
        updated_at,
        review_requested,
        section,
        tags,
        author,
        featured_image,
        featured_caption,
        comments_closed: item.comment_status == "closed",
        position: item.menu_order.trim().parse().unwrap_or(0),
        old_paths,
        comments: prepared_comments,
    })
}

impl Context {
    /// A featured image's library path and caption, from its attachment id.
    fn featured_image(&self, id: &str) -> Option<(String, String)> {
        let (key, caption) = self.attachments.get(id)?;
        let path = self.rewrites.images.get(key)?;
        Some((path.clone(), caption.clone()))
    }
}

/// An article's revision row (the import is its author), tags and author.
macro_rules! article_extras {
    ($tx:expr, $id:expr, $revision:expr, $item:expr, $now:expr) => {{
        let tag_names: Vec<&str> = $item.tags.iter().map(|tag| tag.name.as_str()).collect();
        sqlx::query(
            "INSERT INTO article_revisions (article_id, revision, staff_id, saved_by, title, summary, body_markdown, \
             section_name, tag_names, status, published_at, saved_at) \
             VALUES ($1, $2, NULL, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind($id)
        .bind($revision)
        .bind(SAVED_BY)
        .bind(&$item.title)
        .bind(&$item.summary)
        .bind(&$item.body)
        .bind(&$item.section.name)
        .bind(tag_names.join(crate::articles::store::TAG_SEPARATOR))
        .bind($item.status)
        .bind($item.published_at)
        .bind($now)
        .execute(&mut *$tx)
        .await?;
        for (position, tag) in $item.tags.iter().enumerate() {
            sqlx::query("INSERT INTO article_tags (article_id, tag_id, position) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                .bind($id)
                .bind(tag.id)
                .bind(i64::try_from(position).unwrap_or(i64::MAX))
                .execute(&mut *$tx)
                .await?;
        }
        if let Some(author) = &$item.author {
            sqlx::query("INSERT INTO article_authors (article_id, author_id, position) VALUES ($1, $2, 0) ON CONFLICT DO NOTHING")
                .bind($id)
                .bind(author.id)
                .execute(&mut *$tx)
                .await?;
        }
    }};
}

type Prepares = Vec<(Result<Prepared, Option<String>>, Vec<String>)>;

/// The second pass: items read on their own thread, converted on every
/// core, written a batch per transaction.
async fn items(
    state: &AppState,
    file: &Path,
    context: &std::sync::Arc<Context>,
    report: &mut Report,
    progress: &dyn Progress,
) -> Result<(), ImportError> {
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<Result<(Item, u64), WxrError>>(512);
    let path: PathBuf = file.to_path_buf();
    let reader_thread = std::thread::spawn(move || {
        let handle = match open(&path) {
            Ok(handle) => handle,
            Err(error) => {
                let _ = sender.blocking_send(Err(WxrError::Io(std::io::Error::other(error.to_string()))));
                return;
            }
        };
        let mut reader = WxrReader::new(handle);
        if let Err(error) = reader.header() {
            let _ = sender.blocking_send(Err(error));
            return;
        }
        loop {
            match reader.next_item() {
                Ok(Some(item)) => {
                    if sender.blocking_send(Ok((item, reader.bytes_read()))).is_err() {
                        return;
                    }
                }
                Ok(None) => return,
                Err(error) => {
                    let _ = sender.blocking_send(Err(error));
                    return;
                }
            }
        }
    });
    let mut batch: Vec<Item> = Vec::with_capacity(BATCH_ITEMS);
    let mut batch_comments = 0;
    let mut converting: Option<tokio::task::JoinHandle<Prepares>> = None;
    loop {
        let next = receiver.recv().await;
        let (flush, stop) = match &next {
            Some(Ok((item, bytes))) => {
                progress.set(*bytes);
                batch_comments += item.comments.len();
                (false, false)
            }
            _ => (true, true),
        };
        match next {
            Some(Ok((item, _))) => batch.push(item),
            Some(Err(error)) => report.failure = Some(error.to_string()),
            None => {}
        }
        if flush || batch.len() >= BATCH_ITEMS || batch_comments >= BATCH_COMMENTS {
            // Convert this batch while the previous one is written.
            let items = std::mem::take(&mut batch);
            batch_comments = 0;
            let context_for_task = std::sync::Arc::clone(context);
            let comments = std::sync::Arc::clone(&state.comments);
            let task = tokio::task::spawn_blocking(move || {
                items
                    .par_iter()
                    .map(|item| {
                        let mut warnings = Vec::new();
                        let prepared = prepare(item, &context_for_task, &comments, &mut warnings);
                        (prepared, warnings)
                    })
                    .collect::<Prepares>()
            });
            if let Some(previous) = converting.replace(task) {
                let prepared =
                    previous.await.map_err(|error| ImportError::Io(format!("conversion failed: {error}")))?;
                write_batch(state, context, prepared, report).await?;
            }
        }
        if stop {
            break;
        }
    }
    if let Some(last) = converting.take() {
        let prepared = last.await.map_err(|error| ImportError::Io(format!("conversion failed: {error}")))?;
        write_batch(state, context, prepared, report).await?;
    }
    let _ = reader_thread.join();
    Ok(())
}

/// Writes one batch in one transaction: nothing of an item is written
/// unless all of it is.
async fn write_batch(
    state: &AppState,
    context: &Context,
    prepared: Prepares,
    report: &mut Report,
) -> Result<(), ImportError> {
    let mut ready = Vec::with_capacity(prepared.len());
    for (outcome, warnings) in prepared {
        report.warnings.extend(warnings);
        match outcome {
            Ok(item) => ready.push(item),
            Err(Some(reason)) => report.skipped.push(reason),
            Err(None) => report.left_out += 1,
        }
    }
    if ready.is_empty() {
        return Ok(());
    }
    let source = context.source.as_str();
    let ids = |kind: &str| {
        ready.iter().filter(|item| item.kind == kind).map(|item| item.external_id.clone()).collect::<Vec<_>>()
    };
    let known_posts = known_items(state, source, "post", &ids("post")).await?;
    let known_pages = known_items(state, source, "page", &ids("page")).await?;
    let comment_ids: Vec<String> =
        ready.iter().flat_map(|item| item.comments.iter().map(|comment| comment.external_id.clone())).collect();
    let known_comments = known_items(state, source, "comment", &comment_ids).await?;
    if context.options.dry_run {
        for item in &ready {
            let known = if item.kind == "post" { &known_posts } else { &known_pages };
            let tally = if item.kind == "post" { &mut report.articles } else { &mut report.pages };
            match known.get(&item.external_id) {
                None => tally.created += 1,
                Some(known) if known.fingerprint == item.fingerprint => tally.unchanged += 1,
                Some(_) => tally.updated += 1,
            }
            for comment in &item.comments {
                match known_comments.get(&comment.external_id) {
                    None => report.comments.created += 1,
                    Some(known) if known.fingerprint == comment.fingerprint => report.comments.unchanged += 1,
                    Some(_) => report.comments.updated += 1,
                }
            }
        }
        return Ok(());
    }
    let now = now_seconds();
    let mut articles = Tally::default();
    let mut pages = Tally::default();
    let mut comments = Tally::default();
    let mut redirects = 0u64;
    let mut warnings = Vec::new();
    with_pool!(state.store, pool => {
        let mut tx = pool.begin().await?;
        for item in &ready {
            let known = if item.kind == "post" { known_posts.get(&item.external_id) } else { known_pages.get(&item.external_id) };
            let tally = if item.kind == "post" { &mut articles } else { &mut pages };
            let table = if item.kind == "post" { "articles" } else { "pages" };
            // The row as it is now: (id, revision for articles / updated_at for pages).
            let current: Option<i64> = match known {
                Some(known) => sqlx::query_scalar(&format!(
                    "SELECT {} FROM {table} WHERE id = $1",
                    if item.kind == "post" { "revision" } else { "updated_at" }
                ))
                .bind(known.local_id)
                .fetch_optional(&mut *tx)
                .await?,
                None => None,
            };
            let (local_id, version, stored_fingerprint) = match (known, current) {
                (Some(known), Some(_)) if known.fingerprint == item.fingerprint => {
                    tally.unchanged += 1;
                    (known.local_id, known.local_revision, known.fingerprint.as_str())
                }
                (Some(known), Some(current)) if current != known.local_revision => {
                    tally.kept += 1;
                    warnings.push(format!("{}: changed in WordPress, but edited in khabar since the last import; khabar's version is kept", item.label));
                    (known.local_id, known.local_revision, known.fingerprint.as_str())
                }
                (Some(known), Some(current)) => {
                    tally.updated += 1;
                    if item.kind == "post" {
                        let revision = current + 1;
                        sqlx::query(
                            "UPDATE articles SET slug = $1, title = $2, summary = $3, body_markdown = $4, body_html = $4, \
                             word_count = $5, status = $6, section_id = $7, featured_image = $8, featured_caption = $9, \
                             published_at = $10, updated_at = $11, review_requested_at = $12, revision = $13, \
                             comments_closed = $14 WHERE id = $15",
                        )
                        .bind(&item.slug)
                        .bind(&item.title)
                        .bind(&item.summary)
                        .bind(&item.body)
                        .bind(item.word_count)
                        .bind(item.status)
                        .bind(item.section.id)
                        .bind(&item.featured_image)
                        .bind(&item.featured_caption)
                        .bind(item.published_at)
                        .bind(now.max(item.updated_at))
                        .bind(item.review_requested.then_some(now))
                        .bind(revision)
                        .bind(item.comments_closed)
                        .bind(known.local_id)
                        .execute(&mut *tx)
                        .await?;
                        sqlx::query("DELETE FROM article_tags WHERE article_id = $1").bind(known.local_id).execute(&mut *tx).await?;
                        sqlx::query("DELETE FROM article_authors WHERE article_id = $1").bind(known.local_id).execute(&mut *tx).await?;
                        article_extras!(tx, known.local_id, revision, item, now);
                        (known.local_id, revision, item.fingerprint.as_str())
                    } else {
                        let updated_at = now.max(item.updated_at);
                        sqlx::query(
                            "UPDATE pages SET title = $1, body_markdown = $2, body_html = $2, status = $3, \
                             position = $4, updated_at = $5 WHERE id = $6",
                        )
                        .bind(&item.title)
                        .bind(&item.body)
                        .bind(item.status)
                        .bind(item.position)
                        .bind(updated_at)
                        .bind(known.local_id)
                        .execute(&mut *tx)
                        .await?;
                        (known.local_id, updated_at, item.fingerprint.as_str())
                    }
                }
                _ => {
                    tally.created += 1;
                    if item.kind == "post" {
                        let id: i64 = sqlx::query_scalar(
                            "INSERT INTO articles (slug, title, summary, body_markdown, body_html, word_count, status, \
                             section_id, breaking, featured_image, featured_caption, featured_credit, published_at, \
                             created_at, updated_at, review_requested_at, revision, seo_description, comments_closed) \
                             VALUES ($1, $2, $3, $4, $4, $5, $6, $7, FALSE, $8, $9, '', $10, $11, $12, $13, 1, '', $14) \
                             RETURNING id",
                        )
                        .bind(&item.slug)
                        .bind(&item.title)
                        .bind(&item.summary)
                        .bind(&item.body)
                        .bind(item.word_count)
                        .bind(item.status)
                        .bind(item.section.id)
                        .bind(&item.featured_image)
                        .bind(&item.featured_caption)
                        .bind(item.published_at)
                        .bind(item.created_at)
                        .bind(item.updated_at)
                        .bind(item.review_requested.then_some(now))
                        .bind(item.comments_closed)
                        .fetch_one(&mut *tx)
                        .await?;
                        article_extras!(tx, id, 1_i64, item, now);
                        (id, 1, item.fingerprint.as_str())
                    } else {
                        let taken: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM pages WHERE slug = $1")
                            .bind(&item.slug)
                            .fetch_one(&mut *tx)
                            .await?;
                        let slug = if taken > 0 { format!("{}-{}", item.slug, item.external_id) } else { item.slug.clone() };
                        let id: i64 = sqlx::query_scalar(
                            "INSERT INTO pages (slug, title, body_markdown, body_html, status, in_footer, position, \
                             created_at, updated_at) VALUES ($1, $2, $3, $3, $4, FALSE, $5, $6, $7) RETURNING id",
                        )
                        .bind(&slug)
                        .bind(&item.title)
                        .bind(&item.body)
                        .bind(item.status)
                        .bind(item.position)
                        .bind(item.created_at)
                        .bind(item.updated_at)
                        .fetch_one(&mut *tx)
                        .await?;
                        (id, item.updated_at, item.fingerprint.as_str())
                    }
                }
            };
            sqlx::query(
                "INSERT INTO import_items (source, kind, external_id, local_id, fingerprint, local_revision) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (source, kind, external_id) DO UPDATE SET \
                 local_id = excluded.local_id, fingerprint = excluded.fingerprint, local_revision = excluded.local_revision",
            )
            .bind(source)
            .bind(item.kind)
            .bind(&item.external_id)
            .bind(local_id)
            .bind(stored_fingerprint)
            .bind(version)
            .execute(&mut *tx)
            .await?;
            // Every run: a structure given this time (`--permalink`) adds its addresses;
            // the upsert writes only what differs.
            let target_kind = if item.kind == "post" { "article" } else { "page" };
            for from_path in &item.old_paths {
                let redirect = NewRedirect { from_path: from_path.clone(), target_kind, target_id: Some(local_id), target_path: String::new() };
                redirects += upsert_redirect!(&mut *tx, redirect, source, SAVED_BY, now)?.rows_affected();
            }
            if item.kind != "post" {
                continue;
            }
            // Comments: threads first, so a reply finds its thread's id.
            let mut local_comments: HashMap<&str, i64> = HashMap::new();
            for comment in &item.comments {
                let parent_id = comment.thread.as_deref().and_then(|thread| local_comments.get(thread).copied());
                match known_comments.get(&comment.external_id) {
                    Some(known) if known.fingerprint == comment.fingerprint => {
                        comments.unchanged += 1;
                        local_comments.insert(comment.external_id.as_str(), known.local_id);
                        continue;
                    }
                    Some(known) => {
                        comments.updated += 1;
                        sqlx::query(
                            "UPDATE comments SET parent_id = $1, name = $2, email_hash = $3, body_markdown = $4, \
                             body_html = $5, status = $6, created_at = $7, updated_at = $8 WHERE id = $9",
                        )
                        .bind(parent_id)
                        .bind(&comment.name)
                        .bind(&comment.email_hash)
                        .bind(&comment.body_markdown)
                        .bind(&comment.body_html)
                        .bind(comment.status)
                        .bind(comment.created_at)
                        .bind(now)
                        .bind(known.local_id)
                        .execute(&mut *tx)
                        .await?;
                        local_comments.insert(comment.external_id.as_str(), known.local_id);
                        sqlx::query("UPDATE import_items SET fingerprint = $1 WHERE source = $2 AND kind = 'comment' AND external_id = $3")
                            .bind(&comment.fingerprint)
                            .bind(source)
                            .bind(&comment.external_id)
                            .execute(&mut *tx)
                            .await?;
                    }
                    None => {
                        comments.created += 1;
                        let id: i64 = sqlx::query_scalar(
                            "INSERT INTO comments (article_id, parent_id, name, email_hash, notify_email, address_hash, \
                             body_markdown, body_html, status, held_for, edit_key_hash, created_at, updated_at) \
                             VALUES ($1, $2, $3, $4, '', '', $5, $6, $7, '', '', $8, $8) RETURNING id",
                        )
                        .bind(local_id)
                        .bind(parent_id)
                        .bind(&comment.name)
                        .bind(&comment.email_hash)
                        .bind(&comment.body_markdown)
                        .bind(&comment.body_html)
                        .bind(comment.status)
                        .bind(comment.created_at)
                        .fetch_one(&mut *tx)
                        .await?;
                        local_comments.insert(comment.external_id.as_str(), id);
                        sqlx::query(
                            "INSERT INTO import_items (source, kind, external_id, local_id, fingerprint, local_revision) \
                             VALUES ($1, 'comment', $2, $3, $4, 0) ON CONFLICT (source, kind, external_id) DO UPDATE SET \
                             local_id = excluded.local_id, fingerprint = excluded.fingerprint",
                        )
                        .bind(source)
                        .bind(&comment.external_id)
                        .bind(id)
                        .bind(&comment.fingerprint)
                        .execute(&mut *tx)
                        .await?;
                    }
                }
            }
        }
        tx.commit().await?;
        Ok::<(), sqlx::Error>(())
    })?;
    for (sum, add) in [(&mut report.articles, articles), (&mut report.pages, pages), (&mut report.comments, comments)] {
        sum.created += add.created;
        sum.updated += add.updated;
        sum.unchanged += add.unchanged;
        sum.kept += add.kept;
    }
    report.redirects += redirects;
    report.warnings.extend(warnings);
    Ok(())
}
