//! RSS 2.0 and Atom feeds for the whole site and for each section, tag and
//! author, served through the page cache (so a publish refreshes them like
//! any page) with absolute URLs, RFC dates and the articles' sanitized HTML.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use quick_xml::events::BytesText;

use crate::app::AppState;
use crate::articles::store::{ArticleRow, AttachedName, ListFilter};
use crate::cache::render::{cached_or_render, respond_at, RenderedPage};
use crate::cache::tags;
use crate::error::AppError;
use crate::store::now_seconds;
use crate::web::{article_path, decode_path_segment, encode_path_segment, raw_segment};
use crate::xml::{self, XmlWriter};

/// Items in every feed: what readers and aggregators poll for.
const FEED_ITEMS: i64 = 20;
pub const RSS_TYPE: &str = "application/rss+xml; charset=utf-8";
pub const ATOM_TYPE: &str = "application/atom+xml; charset=utf-8";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/feed.xml", get(|state, uri, headers| feed(state, uri, headers, Scope::Site, Format::Rss)))
        .route("/atom.xml", get(|state, uri, headers| feed(state, uri, headers, Scope::Site, Format::Atom)))
        .route(
            "/section/{slug}/feed.xml",
            get(|state, uri, headers| feed(state, uri, headers, Scope::Section, Format::Rss)),
        )
        .route(
            "/section/{slug}/atom.xml",
            get(|state, uri, headers| feed(state, uri, headers, Scope::Section, Format::Atom)),
        )
        .route("/tag/{slug}/feed.xml", get(|state, uri, headers| feed(state, uri, headers, Scope::Tag, Format::Rss)))
        .route("/tag/{slug}/atom.xml", get(|state, uri, headers| feed(state, uri, headers, Scope::Tag, Format::Atom)))
        .route(
            "/author/{slug}/feed.xml",
            get(|state, uri, headers| feed(state, uri, headers, Scope::Author, Format::Rss)),
        )
        .route(
            "/author/{slug}/atom.xml",
            get(|state, uri, headers| feed(state, uri, headers, Scope::Author, Format::Atom)),
        )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Rss,
    Atom,
}

impl Format {
    fn file(self) -> &'static str {
        match self {
            Format::Rss => "feed.xml",
            Format::Atom => "atom.xml",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Site,
    Section,
    Tag,
    Author,
}

impl Scope {
    fn path_word(self) -> &'static str {
        match self {
            Scope::Site => "site",
            Scope::Section => "section",
            Scope::Tag => "tag",
            Scope::Author => "author",
        }
    }
}

/// The two feeds of a list page, for its `<link rel="alternate">` tags.
pub fn feed_links(list_path: &str) -> (String, String) {
    let base = list_path.trim_end_matches('/');
    (format!("{base}/feed.xml"), format!("{base}/atom.xml"))
}

async fn feed(
    State(state): State<AppState>,
    uri: Uri,
    request_headers: HeaderMap,
    scope: Scope,
    format: Format,
) -> Result<Response, AppError> {
    let slug = match scope {
        Scope::Site => String::new(),
        _ => raw_segment(&uri, 1).and_then(decode_path_segment).ok_or(AppError::NotFound)?,
    };
    let key = format!("feed:{}:{}:{slug}", format.file(), scope.path_word());
    let page = cached_or_render(&state, key.clone(), || render(&state, scope, &slug, format)).await?;
    Ok(respond_at(&state, &uri, &key, &page, &request_headers, None))
}

/// What a feed is about: its title, description, page and filter.
struct Channel {
    title: String,
    description: String,
    page_path: String,
    filter: ListFilter,
}

async fn channel(state: &AppState, scope: Scope, slug: &str) -> Result<Channel, AppError> {
    let site = state.site_view();
    let titled = |name: &str| format!("{name} — {}", site.name);
    let path = |word: &str, slug: &str| format!("/{word}/{}", encode_path_segment(slug));
    Ok(match scope {
        Scope::Site => Channel {
            title: site.name.clone(),
            description: site.description.clone(),
            page_path: "/".to_owned(),
            filter: ListFilter::default(),
        },
        Scope::Section => {
            let section = state.store.section_by_slug(slug).await?.ok_or(AppError::NotFound)?;
            Channel {
                title: titled(&section.name),
                description: if section.description.is_empty() {
                    format!("أخبار قسم {} في {}", section.name, site.name)
                } else {
                    section.description
                },
                page_path: path("section", &section.slug),
                filter: ListFilter { section: Some(section.slug), ..Default::default() },
            }
        }
        Scope::Tag => {
            let tag = state.store.tag_by_slug(slug).await?.ok_or(AppError::NotFound)?;
            Channel {
                title: titled(&tag.name),
                description: format!("أخبار موسومة بـ«{}» في {}", tag.name, site.name),
                page_path: path("tag", &tag.slug),
                filter: ListFilter { tag: Some(tag.slug), ..Default::default() },
            }
        }
        Scope::Author => {
            let author = state.store.author_by_slug(slug).await?.ok_or(AppError::NotFound)?;
            Channel {
                title: titled(&author.name),
                description: if author.bio.is_empty() {
                    format!("ما كتبه {} في {}", author.name, site.name)
                } else {
                    author.bio
                },
                page_path: path("author", &author.slug),
                filter: ListFilter { author: Some(author.slug), ..Default::default() },
            }
        }
    })
}

/// One article as both formats need it, with every URL absolute.
struct Item {
    row: ArticleRow,
    url: String,
    guid: String,
    authors: Vec<AttachedName>,
    tags: Vec<AttachedName>,
    body_html: String,
    enclosure: Option<Enclosure>,
}

struct Enclosure {
    url: String,
    length: i64,
    mime: &'static str,
}

async fn render(state: &AppState, scope: Scope, slug: &str, format: Format) -> Result<RenderedPage, AppError> {
    let now = now_seconds();
    let channel = channel(state, scope, slug).await?;
    let cards = state.store.latest_cards(&channel.filter, now, FEED_ITEMS).await?;
    let ids: Vec<i64> = cards.iter().map(|card| card.id).collect();
    let mut rows: HashMap<i64, ArticleRow> =
        state.store.articles_by_ids(&ids).await?.into_iter().map(|row| (row.id, row)).collect();
    let authors = state.store.authors_of(&ids).await?;
    let tags = state.store.tags_of(&ids).await?;
    let image_paths: Vec<String> = rows.values().filter_map(|row| row.featured_image.clone()).collect();
    let image_sizes: HashMap<String, i64> =
        state.store.media_by_paths(&image_paths).await?.into_iter().map(|media| (media.path, media.bytes)).collect();
    let base = state.base_url();
    let full_text = state.settings().feed_full_text;
    let mut items = Vec::with_capacity(ids.len());
    for id in ids {
        let Some(row) = rows.remove(&id).filter(|row| row.is_visible(now)) else {
            continue;
        };
        let enclosure = row.featured_image.as_ref().map(|image| Enclosure {
            url: state.absolute_link(image),
            length: image_sizes.get(image).copied().unwrap_or_else(|| file_length(state, image)),
            mime: image_type(image),
        });
        items.push(Item {
            url: state.absolute_url(&article_path(row.id, &row.slug)),
            guid: state.absolute_url(&format!("/n/{}", row.id)),
            authors: authors.iter().filter(|name| name.article_id == row.id).cloned().collect(),
            tags: tags.iter().filter(|name| name.article_id == row.id).cloned().collect(),
            body_html: if full_text { absolute_html(&base, &row.body_html) } else { String::new() },
            enclosure,
            row,
        });
    }
    let self_path = match scope {
        Scope::Site => format!("/{}", format.file()),
        _ => format!("{}/{}", channel.page_path, format.file()),
    };
    let document = Document {
        site_name: state.site_view().name,
        base: base.clone(),
        channel: &channel,
        page_url: state.absolute_url(&channel.page_path),
        self_url: state.absolute_url(&self_path),
        // A scheduled article changes the feed when it goes live, after its last save.
        updated: items.iter().map(|item| item.row.updated_at.max(published(&item.row))).max().unwrap_or(now),
        items: &items,
    };
    let (body, content_type) = match format {
        Format::Rss => (document.rss(), RSS_TYPE),
        Format::Atom => (document.atom(), ATOM_TYPE),
    };
    let mut tags = vec![match scope {
        Scope::Site => tags::LATEST.to_owned(),
        Scope::Section => tags::section(slug),
        Scope::Tag => tags::tag(slug),
        Scope::Author => tags::author(slug),
    }];
    tags.extend(items.iter().map(|item| tags::article(item.row.id)));
    Ok(RenderedPage::document(body, content_type).tagged(tags))
}

struct Document<'a> {
    site_name: String,
    base: String,
    channel: &'a Channel,
    page_url: String,
    self_url: String,
    updated: i64,
    items: &'a [Item],
}

impl Document<'_> {
    fn rss(&self) -> String {
        let mut writer = xml::document();
        let _ = writer
            .create_element("rss")
            .with_attributes([
                ("version", "2.0"),
                ("xml:lang", "ar"),
                ("xmlns:atom", "http://www.w3.org/2005/Atom"),
                ("xmlns:content", "http://purl.org/rss/1.0/modules/content/"),
                ("xmlns:dc", "http://purl.org/dc/elements/1.1/"),
            ])
            .write_inner_content(|writer| {
                writer.create_element("channel").write_inner_content(|writer| self.rss_channel(writer))?;
                Ok(())
            });
        xml::finish(writer)
    }

    fn rss_channel(&self, writer: &mut XmlWriter) -> std::io::Result<()> {
        xml::text_element(writer, "title", &self.channel.title)?;
        xml::text_element(writer, "link", &self.page_url)?;
        xml::text_element(writer, "description", &self.channel.description)?;
        xml::text_element(writer, "language", "ar")?;
        writer
            .create_element("atom:link")
            .with_attributes([("href", self.self_url.as_str()), ("rel", "self"), ("type", "application/rss+xml")])
            .write_empty()?;
        xml::text_element(writer, "lastBuildDate", &xml::rfc822(self.updated))?;
        xml::text_element(writer, "generator", "khabar")?;
        for item in self.items {
            writer.create_element("item").write_inner_content(|writer| {
                let row = &item.row;
                xml::text_element(writer, "title", &row.title)?;
                xml::text_element(writer, "link", &item.url)?;
                writer
                    .create_element("guid")
                    .with_attribute(("isPermaLink", "true"))
                    .write_text_content(BytesText::new(&item.guid))?;
                xml::text_element(writer, "pubDate", &xml::rfc822(published(row)))?;
                for author in &item.authors {
                    xml::text_element(writer, "dc:creator", &author.name)?;
                }
                xml::text_element(writer, "category", &row.section_name)?;
                for tag in &item.tags {
                    xml::text_element(writer, "category", &tag.name)?;
                }
                xml::text_element(writer, "description", &row.summary)?;
                if !item.body_html.is_empty() {
                    xml::text_element(writer, "content:encoded", &item.body_html)?;
                }
                if let Some(enclosure) = &item.enclosure {
                    writer
                        .create_element("enclosure")
                        .with_attributes([
                            ("url", enclosure.url.as_str()),
                            ("length", enclosure.length.to_string().as_str()),
                            ("type", enclosure.mime),
                        ])
                        .write_empty()?;
                }
                Ok(())
            })?;
        }
        Ok(())
    }

    fn atom(&self) -> String {
        let mut writer = xml::document();
        let _ = writer
            .create_element("feed")
            .with_attributes([("xmlns", "http://www.w3.org/2005/Atom"), ("xml:lang", "ar")])
            .write_inner_content(|writer| self.atom_feed(writer));
        xml::finish(writer)
    }

    fn atom_feed(&self, writer: &mut XmlWriter) -> std::io::Result<()> {
        xml::text_element(writer, "id", &self.self_url)?;
        xml::text_element(writer, "title", &self.channel.title)?;
        if !self.channel.description.is_empty() {
            xml::text_element(writer, "subtitle", &self.channel.description)?;
        }
        writer
            .create_element("link")
            .with_attributes([("rel", "alternate"), ("type", "text/html"), ("href", self.page_url.as_str())])
            .write_empty()?;
        writer
            .create_element("link")
            .with_attributes([("rel", "self"), ("type", "application/atom+xml"), ("href", self.self_url.as_str())])
            .write_empty()?;
        xml::text_element(writer, "updated", &xml::rfc3339(self.updated))?;
        // Atom wants an author for every entry; articles without a byline are the newsroom's.
        writer
            .create_element("author")
            .write_inner_content(|writer| xml::text_element(writer, "name", &self.site_name))?;
        xml::text_element(writer, "generator", "khabar")?;
        for item in self.items {
            writer.create_element("entry").write_inner_content(|writer| {
                let row = &item.row;
                xml::text_element(writer, "id", &item.guid)?;
                xml::text_element(writer, "title", &row.title)?;
                writer
                    .create_element("link")
                    .with_attributes([("rel", "alternate"), ("type", "text/html"), ("href", item.url.as_str())])
                    .write_empty()?;
                xml::text_element(writer, "published", &xml::rfc3339(published(row)))?;
                xml::text_element(writer, "updated", &xml::rfc3339(row.updated_at.max(published(row))))?;
                for author in &item.authors {
                    writer.create_element("author").write_inner_content(|writer| {
                        xml::text_element(writer, "name", &author.name)?;
                        xml::text_element(
                            writer,
                            "uri",
                            &format!("{}/author/{}", self.base, encode_path_segment(&author.slug)),
                        )
                    })?;
                }
                writer
                    .create_element("category")
                    .with_attributes([("term", row.section_slug.as_str()), ("label", row.section_name.as_str())])
                    .write_empty()?;
                for tag in &item.tags {
                    writer
                        .create_element("category")
                        .with_attributes([("term", tag.slug.as_str()), ("label", tag.name.as_str())])
                        .write_empty()?;
                }
                if !row.summary.is_empty() {
                    writer
                        .create_element("summary")
                        .with_attribute(("type", "text"))
                        .write_text_content(BytesText::new(&xml::clean(&row.summary)))?;
                }
                if !item.body_html.is_empty() {
                    writer
                        .create_element("content")
                        .with_attribute(("type", "html"))
                        .write_text_content(BytesText::new(&xml::clean(&item.body_html)))?;
                }
                if let Some(enclosure) = &item.enclosure {
                    writer
                        .create_element("link")
                        .with_attributes([
                            ("rel", "enclosure"),
                            ("type", enclosure.mime),
                            ("length", enclosure.length.to_string().as_str()),
                            ("href", enclosure.url.as_str()),
                        ])
                        .write_empty()?;
                }
                Ok(())
            })?;
        }
        Ok(())
    }
}

fn published(row: &ArticleRow) -> i64 {
    row.published_at.unwrap_or(row.created_at)
}

/// Feed readers show the article away from the site, where a root-relative
/// link or image means nothing: the sanitizer rewrites them against the base.
fn absolute_html(base: &str, html: &str) -> String {
    let Ok(base) = url::Url::parse(&format!("{base}/")) else {
        return html.to_owned();
    };
    ammonia::Builder::default()
        .link_rel(Some("noopener noreferrer"))
        .add_generic_attributes(["dir"])
        .url_relative(ammonia::UrlRelative::RewriteWithBase(base))
        .clean(html)
        .to_string()
}

/// The size of a file under /media that is not in the library (demo
/// illustrations); 0, which feed readers accept, when it cannot be known.
fn file_length(state: &AppState, path: &str) -> i64 {
    crate::media::file_for(&state.data_dir, path)
        .and_then(|file| std::fs::metadata(file).ok())
        .and_then(|metadata| i64::try_from(metadata.len()).ok())
        .unwrap_or(0)
}

pub fn image_type(path: &str) -> &'static str {
    let extension = path.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    match extension.as_str() {
        "png" => "image/png",
        "webp" => "image/webp",
        "gif" => "image/gif",
        "svg" => "image/svg+xml",
        _ => "image/jpeg",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_links_in_bodies_become_absolute() {
        let html = absolute_html(
            "https://khabar.example",
            r#"<p><a href="/news/1/x">خبر</a> <img src="/media/uploads/a.jpg" alt="صورة"> <a href="https://other.example/">خارجي</a></p>"#,
        );
        assert!(html.contains(r#"href="https://khabar.example/news/1/x""#), "{html}");
        assert!(html.contains(r#"src="https://khabar.example/media/uploads/a.jpg""#), "{html}");
        assert!(html.contains(r#"href="https://other.example/""#), "{html}");
    }

    #[test]
    fn feed_links_of_a_list_page() {
        assert_eq!(feed_links("/section/x"), ("/section/x/feed.xml".to_owned(), "/section/x/atom.xml".to_owned()));
    }
}
