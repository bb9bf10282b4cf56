//! A streaming reader of WordPress eXtended RSS (WXR 1.1 and 1.2), the file
//! WordPress writes from Tools → Export. One item is held at a time, so
//! memory stays flat whatever the file's size; adjacent CDATA sections (how
//! WordPress escapes `]]>`) are joined; every error names its line and, when
//! it is inside an item, the item.

use std::cell::Cell;
use std::io::BufRead;
use std::rc::Rc;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

#[derive(Debug, thiserror::Error)]
pub enum WxrError {
    #[error("line {line}: not a WordPress export (WXR): {reason}")]
    NotWxr { line: u64, reason: String },
    #[error("line {line}{within}: {message}")]
    Malformed { line: u64, within: String, message: String },
    #[error("cannot read the file: {0}")]
    Io(#[from] std::io::Error),
}

#[derive(Debug, Clone, Default)]
pub struct Header {
    pub title: String,
    pub wxr_version: String,
    pub base_site_url: String,
    pub base_blog_url: String,
    pub authors: Vec<Author>,
    pub categories: Vec<Term>,
    pub tags: Vec<Term>,
}

#[derive(Debug, Clone, Default)]
pub struct Author {
    pub id: String,
    pub login: String,
    pub display_name: String,
    pub first_name: String,
    pub last_name: String,
}

/// A category or tag as the header declares it; slugs as written (percent-encoded).
#[derive(Debug, Clone, Default)]
pub struct Term {
    pub term_id: String,
    pub slug: String,
    pub parent: String,
    pub name: String,
    pub description: String,
}

/// `<category domain="…" nicename="…">name</category>` on an item.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ItemTerm {
    pub domain: String,
    pub nicename: String,
    pub name: String,
}

#[derive(Debug, Clone, Default)]
pub struct Comment {
    pub id: String,
    pub author: String,
    pub email: String,
    pub url: String,
    pub date: String,
    pub date_gmt: String,
    pub content: String,
    pub approved: String,
    pub kind: String,
    pub parent: String,
    pub user_id: String,
}

#[derive(Debug, Clone, Default)]
pub struct Item {
    /// Where `<item>` starts in the file.
    pub line: u64,
    pub title: String,
    pub link: String,
    pub creator: String,
    pub guid: String,
    pub content: String,
    pub excerpt: String,
    pub post_id: String,
    pub post_date: String,
    pub post_date_gmt: String,
    pub modified_gmt: String,
    pub comment_status: String,
    pub post_name: String,
    pub status: String,
    pub post_parent: String,
    pub menu_order: String,
    pub post_type: String,
    pub password: String,
    pub is_sticky: String,
    pub attachment_url: String,
    pub terms: Vec<ItemTerm>,
    pub meta: Vec<(String, String)>,
    pub comments: Vec<Comment>,
}

impl Item {
    pub fn meta(&self, key: &str) -> Option<&str> {
        self.meta.iter().find(|(name, _)| name == key).map(|(_, value)| value.as_str())
    }

    /// How messages name the item: its id and title.
    pub fn label(&self) -> String {
        let title: String = self.title.chars().take(60).collect();
        match (self.post_id.is_empty(), title.is_empty()) {
            (false, false) => format!("item {} «{title}»", self.post_id),
            (false, true) => format!("item {}", self.post_id),
            (true, false) => format!("the item «{title}» at line {}", self.line),
            (true, true) => format!("the item at line {}", self.line),
        }
    }
}

/// Counts lines and bytes as the XML reader consumes them.
struct Counting<R> {
    inner: R,
    lines: Rc<Cell<u64>>,
    bytes: Rc<Cell<u64>>,
}

impl<R: std::io::Read> std::io::Read for Counting<R> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buffer)?;
        self.count(&buffer[..read]);
        Ok(read)
    }
}

impl<R> Counting<R> {
    fn count(&self, consumed: &[u8]) {
        let newlines = consumed.iter().filter(|byte| **byte == b'\n').count();
        self.lines.set(self.lines.get() + newlines as u64);
        self.bytes.set(self.bytes.get() + consumed.len() as u64);
    }
}

impl<R: BufRead> BufRead for Counting<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        if let Ok(available) = self.inner.fill_buf() {
            let end = amount.min(available.len());
            let newlines = available[..end].iter().filter(|byte| **byte == b'\n').count();
            self.lines.set(self.lines.get() + newlines as u64);
            self.bytes.set(self.bytes.get() + end as u64);
        }
        self.inner.consume(amount);
    }
}

/// Where the reader is: the elements open around it.
#[derive(Default)]
struct Open {
    names: Vec<Vec<u8>>,
}

impl Open {
    fn last(&self) -> &[u8] {
        self.names.last().map(Vec::as_slice).unwrap_or_default()
    }

    fn parent(&self) -> &[u8] {
        self.names.len().checked_sub(2).and_then(|index| self.names.get(index)).map(Vec::as_slice).unwrap_or_default()
    }

    fn contains(&self, name: &[u8]) -> bool {
        self.names.iter().any(|open| open == name)
    }
}

pub struct WxrReader<R: BufRead> {
    reader: Reader<Counting<R>>,
    lines: Rc<Cell<u64>>,
    bytes: Rc<Cell<u64>>,
    buffer: Vec<u8>,
    open: Open,
    text: String,
    started: bool,
    finished: bool,
    /// An item whose `<item>` was read while reading the header.
    pending_item: Option<u64>,
}

fn attribute(start: &BytesStart, name: &[u8]) -> String {
    start
        .attributes()
        .flatten()
        .find(|attribute| attribute.key.as_ref() == name)
        .and_then(|attribute| attribute.unescape_value().ok().map(|value| value.into_owned()))
        .unwrap_or_default()
}

fn malformed_at(line: u64, within: Option<&Item>, message: impl Into<String>) -> WxrError {
    let within = match within {
        Some(item) => format!(" (in {}, which starts at line {})", item.label(), item.line),
        None => String::new(),
    };
    WxrError::Malformed { line, within, message: message.into() }
}

enum Step {
    Start(Vec<u8>, Option<ItemTerm>, bool),
    End(Vec<u8>),
    Eof,
}

impl<R: BufRead> WxrReader<R> {
    pub fn new(input: R) -> Self {
        let lines = Rc::new(Cell::new(1));
        let bytes = Rc::new(Cell::new(0));
        let counting = Counting { inner: input, lines: Rc::clone(&lines), bytes: Rc::clone(&bytes) };
        let reader = Reader::from_reader(counting);
        WxrReader {
            reader,
            lines,
            bytes,
            buffer: Vec::with_capacity(64 * 1024),
            open: Open::default(),
            text: String::new(),
            started: false,
            finished: false,
            pending_item: None,
        }
    }

    pub fn line(&self) -> u64 {
        self.lines.get()
    }

    /// Bytes of the file read so far (for progress).
    pub fn bytes_read(&self) -> u64 {
        self.bytes.get()
    }

    fn malformed(&self, within: Option<&Item>, message: impl Into<String>) -> WxrError {
        malformed_at(self.line(), within, message)
    }

    /// The next structural event; text and CDATA are gathered into `self.text`.
    fn step(&mut self, within: Option<&Item>) -> Result<Step, WxrError> {
        let lines = Rc::clone(&self.lines);
        loop {
            self.buffer.clear();
            let event = match self.reader.read_event_into(&mut self.buffer) {
                Ok(event) => event,
                Err(error) => {
                    let message = match &error {
                        quick_xml::Error::Syntax(syntax) => format!("malformed XML: {syntax} (is the file cut short?)"),
                        other => format!("malformed XML: {other}"),
                    };
                    return Err(malformed_at(lines.get(), within, message));
                }
            };
            match event {
                Event::Start(start) => {
                    let name = start.name().as_ref().to_vec();
                    let term = (name == b"category").then(|| ItemTerm {
                        domain: attribute(&start, b"domain"),
                        nicename: attribute(&start, b"nicename"),
                        name: String::new(),
                    });
                    let wp_namespace = (name == b"rss").then(|| attribute(&start, b"xmlns:wp"));
                    if let Some(namespace) = wp_namespace {
                        if !namespace.starts_with("http://wordpress.org/export/") {
                            return Err(WxrError::NotWxr {
                                line: lines.get(),
                                reason: "the feed does not declare WordPress's export namespace (xmlns:wp)".into(),
                            });
                        }
                    }
                    self.text.clear();
                    return Ok(Step::Start(name, term, false));
                }
                Event::Empty(start) => {
                    let name = start.name().as_ref().to_vec();
                    self.text.clear();
                    return Ok(Step::Start(name, None, true));
                }
                Event::End(end) => return Ok(Step::End(end.name().as_ref().to_vec())),
                Event::Text(text) => {
                    let decoded =
                        text.xml_content().map_err(|error| malformed_at(lines.get(), within, error.to_string()))?;
                    self.text.push_str(&decoded);
                }
                Event::CData(data) => {
                    let decoded =
                        data.xml_content().map_err(|error| malformed_at(lines.get(), within, error.to_string()))?;
                    self.text.push_str(&decoded);
                }
                Event::GeneralRef(reference) => match reference.resolve_char_ref() {
                    Ok(Some(character)) => self.text.push(character),
                    Ok(None) => {
                        let name =
                            reference.decode().map_err(|error| malformed_at(lines.get(), within, error.to_string()))?;
                        match quick_xml::escape::resolve_predefined_entity(&name) {
                            Some(resolved) => self.text.push_str(resolved),
                            // An HTML entity (&nbsp;) outside CDATA, as some exporters
                            // write: kept for the HTML step to read.
                            None => {
                                self.text.push('&');
                                self.text.push_str(&name);
                                self.text.push(';');
                            }
                        }
                    }
                    Err(error) => {
                        return Err(malformed_at(lines.get(), within, format!("bad character reference: {error}")))
                    }
                },
                Event::Eof => return Ok(Step::Eof),
                Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
            }
        }
    }

    /// Reads the channel's header (authors, categories, tags) up to the first item.
    pub fn header(&mut self) -> Result<Header, WxrError> {
        let mut header = Header::default();
        let mut author = Author::default();
        let mut term = Term::default();
        loop {
            match self.step(None)? {
                Step::Start(name, _, empty) => {
                    if !self.started {
                        if name != b"rss" {
                            return Err(WxrError::NotWxr {
                                line: self.line(),
                                reason: format!(
                                    "the document is <{}>, not an RSS feed",
                                    String::from_utf8_lossy(&name)
                                ),
                            });
                        }
                        self.started = true;
                    }
                    if name == b"item" && self.open.last() == b"channel" {
                        if header.wxr_version.is_empty() {
                            return Err(WxrError::NotWxr {
                                line: self.line(),
                                reason: "it has no <wp:wxr_version> before its first item (a plain RSS feed?)".into(),
                            });
                        }
                        self.open.names.push(name);
                        self.pending_item = Some(self.line());
                        return Ok(header);
                    }
                    if !empty {
                        self.open.names.push(name);
                    }
                }
                Step::End(name) => {
                    let text = std::mem::take(&mut self.text);
                    match (self.open.parent(), name.as_slice()) {
                        (b"channel", b"title") => header.title = text.trim().to_owned(),
                        (b"channel", b"wp:wxr_version") => header.wxr_version = text.trim().to_owned(),
                        (b"channel", b"wp:base_site_url") => header.base_site_url = text.trim().to_owned(),
                        (b"channel", b"wp:base_blog_url") => header.base_blog_url = text.trim().to_owned(),
                        (b"channel", b"wp:author") => header.authors.push(std::mem::take(&mut author)),
                        (b"channel", b"wp:category") => header.categories.push(std::mem::take(&mut term)),
                        (b"channel", b"wp:tag") => header.tags.push(std::mem::take(&mut term)),
                        (b"channel", b"wp:term") => {
                            // Custom taxonomies and menus have no place in khabar.
                            term = Term::default();
                        }
                        (b"wp:author", field) => match field {
                            b"wp:author_id" => author.id = text.trim().to_owned(),
                            b"wp:author_login" => author.login = text.trim().to_owned(),
                            b"wp:author_display_name" => author.display_name = text.trim().to_owned(),
                            b"wp:author_first_name" => author.first_name = text.trim().to_owned(),
                            b"wp:author_last_name" => author.last_name = text.trim().to_owned(),
                            _ => {}
                        },
                        (b"wp:category" | b"wp:tag" | b"wp:term", field) => match field {
                            b"wp:term_id" => term.term_id = text.trim().to_owned(),
                            b"wp:category_nicename" | b"wp:tag_slug" | b"wp:term_slug" => {
                                term.slug = text.trim().to_owned()
                            }
                            b"wp:category_parent" | b"wp:term_parent" => term.parent = text.trim().to_owned(),
                            b"wp:cat_name" | b"wp:tag_name" | b"wp:term_name" => term.name = text.trim().to_owned(),
                            b"wp:category_description" | b"wp:tag_description" | b"wp:term_description" => {
                                term.description = text.trim().to_owned()
                            }
                            _ => {}
                        },
                        _ => {}
                    }
                    self.open.names.pop();
                }
                Step::Eof => {
                    if !self.started {
                        return Err(WxrError::NotWxr { line: self.line(), reason: "the file is empty".into() });
                    }
                    if header.wxr_version.is_empty() {
                        return Err(WxrError::NotWxr {
                            line: self.line(),
                            reason: "it has no <wp:wxr_version> (a plain RSS feed?)".into(),
                        });
                    }
                    if !self.open.names.is_empty() {
                        return Err(self.malformed(None, "the file ends early (premature end of data)"));
                    }
                    self.finished = true;
                    return Ok(header);
                }
            }
        }
    }

    /// The next item, or `None` at the end of the channel.
    pub fn next_item(&mut self) -> Result<Option<Item>, WxrError> {
        if self.finished {
            return Ok(None);
        }
        let mut item = Item::default();
        let mut inside = match self.pending_item.take() {
            Some(line) => {
                item.line = line;
                true
            }
            None => false,
        };
        let mut comment = Comment::default();
        let mut meta: (String, String) = Default::default();
        let mut term: Option<ItemTerm> = None;
        loop {
            let within = inside.then_some(&item);
            match self.step(within)? {
                Step::Start(name, item_term, empty) => {
                    if name == b"item" && !inside {
                        inside = true;
                        item = Item { line: self.line(), ..Item::default() };
                    }
                    if item_term.is_some() {
                        term = item_term;
                    }
                    if !empty {
                        self.open.names.push(name);
                    }
                }
                Step::End(name) => {
                    let text = std::mem::take(&mut self.text);
                    if !inside {
                        self.open.names.pop();
                        continue;
                    }
                    let in_comment = self.open.contains(b"wp:comment");
                    match (self.open.parent(), name.as_slice()) {
                        (_, b"item") => {
                            self.open.names.pop();
                            return Ok(Some(item));
                        }
                        (b"wp:comment", b"wp:commentmeta") => {}
                        (b"item", b"wp:comment") => item.comments.push(std::mem::take(&mut comment)),
                        (b"wp:comment", field) => {
                            let value = text;
                            match field {
                                b"wp:comment_id" => comment.id = value.trim().to_owned(),
                                b"wp:comment_author" => comment.author = value.trim().to_owned(),
                                b"wp:comment_author_email" => comment.email = value.trim().to_owned(),
                                b"wp:comment_author_url" => comment.url = value.trim().to_owned(),
                                b"wp:comment_date" => comment.date = value.trim().to_owned(),
                                b"wp:comment_date_gmt" => comment.date_gmt = value.trim().to_owned(),
                                b"wp:comment_content" => comment.content = value,
                                b"wp:comment_approved" => comment.approved = value.trim().to_owned(),
                                b"wp:comment_type" => comment.kind = value.trim().to_owned(),
                                b"wp:comment_parent" => comment.parent = value.trim().to_owned(),
                                b"wp:comment_user_id" => comment.user_id = value.trim().to_owned(),
                                _ => {}
                            }
                        }
                        (b"wp:postmeta", b"wp:meta_key") if !in_comment => meta.0 = text,
                        (b"wp:postmeta", b"wp:meta_value") if !in_comment => meta.1 = text,
                        (b"item", b"wp:postmeta") => item.meta.push(std::mem::take(&mut meta)),
                        (b"item", field) => match field {
                            b"title" => item.title = text.trim().to_owned(),
                            b"link" => item.link = text.trim().to_owned(),
                            b"dc:creator" => item.creator = text.trim().to_owned(),
                            b"guid" => item.guid = text.trim().to_owned(),
                            b"content:encoded" => item.content = text,
                            b"excerpt:encoded" => item.excerpt = text,
                            b"wp:post_id" => item.post_id = text.trim().to_owned(),
                            b"wp:post_date" => item.post_date = text.trim().to_owned(),
                            b"wp:post_date_gmt" => item.post_date_gmt = text.trim().to_owned(),
                            b"wp:post_modified_gmt" => item.modified_gmt = text.trim().to_owned(),
                            b"wp:comment_status" => item.comment_status = text.trim().to_owned(),
                            b"wp:post_name" => item.post_name = text.trim().to_owned(),
                            b"wp:status" => item.status = text.trim().to_owned(),
                            b"wp:post_parent" => item.post_parent = text.trim().to_owned(),
                            b"wp:menu_order" => item.menu_order = text.trim().to_owned(),
                            b"wp:post_type" => item.post_type = text.trim().to_owned(),
                            b"wp:post_password" => item.password = text,
                            b"wp:is_sticky" => item.is_sticky = text.trim().to_owned(),
                            b"wp:attachment_url" => item.attachment_url = text.trim().to_owned(),
                            b"category" => {
                                if let Some(mut term) = term.take() {
                                    term.name = text.trim().to_owned();
                                    item.terms.push(term);
                                }
                            }
                            _ => {}
                        },
                        _ => {}
                    }
                    self.open.names.pop();
                }
                Step::Eof => {
                    if inside || !self.open.names.is_empty() {
                        let within = inside.then_some(&item);
                        return Err(self.malformed(within, "the file ends early (premature end of data)"));
                    }
                    self.finished = true;
                    return Ok(None);
                }
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> std::io::BufReader<std::fs::File> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/wordpress").join(name);
        std::io::BufReader::new(std::fs::File::open(path).unwrap())
    }

    #[test]
    fn the_newsroom_export_is_read_whole() {
        let mut reader = WxrReader::new(fixture("newsroom.xml"));
        let header = reader.header().unwrap();
        assert_eq!(header.wxr_version, "1.2");
        assert_eq!(header.authors.len(), 3);
        assert_eq!(header.categories.len(), 7);
        assert_eq!(header.tags.len(), 8);
        assert_eq!(header.authors[0].display_name, "سلمى الحداد");
        let mut items = Vec::new();
        while let Some(item) = reader.next_item().unwrap() {
            items.push(item);
        }
        assert_eq!(items.len(), 19);
        let comments: usize = items.iter().map(|item| item.comments.len()).sum();
        assert_eq!(comments, 11);
        let script_post = items.iter().find(|item| item.post_id == "104").unwrap();
        assert!(script_post.content.contains("//]]>"), "adjacent CDATA sections are joined");
        let form = items.iter().find(|item| item.post_id == "131").unwrap();
        assert!(form.link.contains("&p=131"), "{}", form.link);
        let pingback = items.iter().flat_map(|item| &item.comments).find(|comment| comment.id == "20").unwrap();
        assert!(pingback.content.contains("[&#8230;]"), "entities inside CDATA stay for the HTML step");
        let post = items.iter().find(|item| item.post_id == "102").unwrap();
        assert_eq!(post.meta("_thumbnail_id"), Some("201"));
        assert!(post.terms.iter().any(|term| term.domain == "post_format"));
        assert!(items.iter().all(|item| item.line > 1));
    }

    #[test]
    fn a_truncated_export_fails_with_its_line_and_item() {
        let mut reader = WxrReader::new(fixture("truncated.xml"));
        reader.header().unwrap();
        assert_eq!(reader.next_item().unwrap().unwrap().post_id, "103");
        assert_eq!(reader.next_item().unwrap().unwrap().post_id, "104");
        let error = reader.next_item().unwrap_err().to_string();
        assert!(error.starts_with("line "), "{error}");
        assert!(error.contains("item 106") || error.contains("at line"), "{error}");
    }

    #[test]
    fn html_entities_outside_cdata_are_kept_for_the_html_step() {
        let xml = "<rss xmlns:wp=\"http://wordpress.org/export/1.1/\"><channel><wp:wxr_version>1.1</wp:wxr_version>\
                   <item><title>قبل&nbsp;بعد &amp; &#8230;</title><wp:post_id>7</wp:post_id></item></channel></rss>";
        let mut reader = WxrReader::new(std::io::Cursor::new(xml.as_bytes().to_vec()));
        assert_eq!(reader.header().unwrap().wxr_version, "1.1");
        let item = reader.next_item().unwrap().unwrap();
        assert_eq!(item.title, "قبل&nbsp;بعد & …");
        assert_eq!(crate::import::content::plain(&item.title), "قبل بعد & …");
        assert!(reader.next_item().unwrap().is_none());
    }

    #[test]
    fn an_export_cut_anywhere_gives_an_error_never_a_panic() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/wordpress/newsroom.xml");
        let whole = std::fs::read(path).unwrap();
        for cut in (0..whole.len().saturating_sub(16)).step_by(97) {
            let mut reader = WxrReader::new(std::io::Cursor::new(whole[..cut].to_vec()));
            if reader.header().is_err() {
                continue;
            }
            let mut items = 0;
            loop {
                match reader.next_item() {
                    Ok(Some(item)) => {
                        items += 1;
                        // The conversion takes whatever a cut left too.
                        let _ = crate::import::content::post_html(&item.content, &Default::default());
                        for comment in &item.comments {
                            let _ = crate::import::content::comment_html(&comment.content);
                        }
                    }
                    Ok(None) => panic!("a cut at byte {cut} read as a whole export ({items} items)"),
                    Err(error) => {
                        assert!(error.to_string().starts_with("line "), "{error}");
                        break;
                    }
                }
            }
        }
    }

    #[test]
    fn a_feed_is_not_an_export() {
        let mut reader = WxrReader::new(fixture("not-wxr.xml"));
        let error = reader.header().unwrap_err();
        assert!(matches!(error, WxrError::NotWxr { .. }), "{error}");
        let mut html = WxrReader::new(std::io::Cursor::new(b"<html><body>hi</body></html>".to_vec()));
        assert!(matches!(html.header().unwrap_err(), WxrError::NotWxr { .. }));
    }
}
