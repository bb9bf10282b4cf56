//! Distribution: what aggregators, search engines and messaging apps read.
//! RSS and Atom feeds read by an independent parser (Python's feedparser)
//! and checked by xmllint; sitemaps validated against the protocol's schemas
//! (tests/fixtures/schemas); the cached feeds and sitemaps following publish,
//! edit, unpublish, delete, scheduled publication and the newsroom's
//! settings; bad input and robots.txt; OpenGraph, share links and JSON-LD on
//! article and home pages; the short link `/n/{id}`; and the feed links of
//! section, tag and author pages.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::io::Write;
use std::process::{Command, Stdio};

use common::{Backend, TestApp, PYTHON};
use serde_json::{json, Value};

/// A site name with everything XML and HTML must escape exactly once.
const SITE_NAME: &str = "صحيفة «الغد» & <الناس>";
/// A headline with quotes, guillemets, an ampersand and angle brackets.
const TRICKY_TITLE: &str = "«الأسعار» & <الأجور> \"ترتفع\" في 'الأسواق'";
const TRICKY_SUMMARY: &str = "ملخص فيه «اقتباس» & <وسم> و\"علامات\"";

/// Reads a feed with feedparser (Debian's python3-feedparser) and prints, as
/// JSON, what the tests look at; dates are also read by the standard library
/// (RFC 822 through email.utils, RFC 3339 through a strict pattern).
const FEEDPARSER: &str = r#"
import datetime, email.utils, json, re, sys
import feedparser

d = feedparser.parse(sys.stdin.buffer.read())

def parsed(value):
    return list(value)[:6] if value else None

def rfc822(text):
    if not text:
        return None
    try:
        moment = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment is None or moment.tzinfo is None:
        return None
    return moment.astimezone(datetime.timezone.utc).isoformat()

RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")

def rfc3339(text):
    if not text or not RFC3339.fullmatch(text):
        return None
    moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment.astimezone(datetime.timezone.utc).isoformat()

def links(node):
    return [{"rel": l.get("rel"), "href": l.get("href"), "type": l.get("type")} for l in node.get("links", [])]

feed = d.feed
print(json.dumps({
    "bozo": int(bool(d.bozo)),
    "bozo_exception": str(d.get("bozo_exception", "")),
    "version": d.version,
    "feed": {
        "title": feed.get("title"),
        "language": feed.get("language"),
        "title_language": feed.get("title_detail", {}).get("language"),
        "link": feed.get("link"),
        "links": links(feed),
        "updated": feed.get("updated"),
        "updated_parsed": parsed(feed.get("updated_parsed")),
    },
    "entries": [{
        "title": e.get("title"),
        "language": e.get("title_detail", {}).get("language"),
        "link": e.get("link"),
        "links": links(e),
        "id": e.get("id"),
        "published": e.get("published"),
        "published_parsed": parsed(e.get("published_parsed")),
        "published_rfc822": rfc822(e.get("published")),
        "published_rfc3339": rfc3339(e.get("published")),
        "updated": e.get("updated"),
        "updated_parsed": parsed(e.get("updated_parsed")),
        "updated_rfc3339": rfc3339(e.get("updated")),
        "summary": e.get("summary"),
        "content": [c.get("value") for c in e.get("content", [])],
        "authors": [a.get("name") for a in e.get("authors", [])],
        "tags": [{"term": t.get("term"), "label": t.get("label")} for t in e.get("tags", [])],
        "enclosures": [{"href": l.get("href"), "length": l.get("length"), "type": l.get("type")}
                       for l in e.get("enclosures", [])],
    } for e in d.entries],
}))
"#;

// ---------------------------------------------------------------------------
// Helpers: outside programs
// ---------------------------------------------------------------------------

/// Runs `program` with `input` on its standard input.
fn run(program: &str, arguments: &[String], input: &[u8]) -> std::process::Output {
    let mut child = Command::new(program)
        .args(arguments)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("cannot start {program}: {error}"));
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_vec();
    // Written from a thread so a large document cannot fill the pipes both ways.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let output = child.wait_with_output().expect("wait for the program");
    writer.join().expect("stdin writer");
    output
}

/// What feedparser makes of a feed (see `FEEDPARSER`).
fn feedparser(bytes: &[u8]) -> Value {
    let output = run(PYTHON, &["-c".to_owned(), FEEDPARSER.to_owned()], bytes);
    assert!(
        output.status.success(),
        "feedparser failed (is python3-feedparser installed?): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("feedparser's JSON")
}

fn schema_path(name: &str) -> String {
    format!("{}/tests/fixtures/schemas/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// `xmllint --noout [--schema tests/fixtures/schemas/{schema}] -`: well-formed
/// (and valid, with a schema), or what xmllint said.
fn xmllint(schema: Option<&str>, bytes: &[u8]) -> Result<(), String> {
    let mut arguments = vec!["--noout".to_owned(), "--nonet".to_owned()];
    if let Some(name) = schema {
        arguments.push("--schema".to_owned());
        arguments.push(schema_path(name));
    }
    arguments.push("-".to_owned());
    let output = run("xmllint", &arguments, bytes);
    if output.status.success() {
        Ok(())
    } else {
        Err(format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr)))
    }
}

fn assert_valid(schema: Option<&str>, bytes: &[u8], what: &str) {
    if let Err(problem) = xmllint(schema, bytes) {
        panic!("{what} is not valid ({schema:?}):\n{problem}\n{}", String::from_utf8_lossy(bytes));
    }
}

// ---------------------------------------------------------------------------
// Helpers: HTTP and the content API
// ---------------------------------------------------------------------------

fn encoded(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

fn full_url(app: &TestApp, url: &str) -> String {
    if url.starts_with("http://") || url.starts_with("https://") {
        url.to_owned()
    } else {
        app.url(url)
    }
}

/// The path of one of the site's absolute URLs.
fn path_of<'a>(app: &TestApp, url: &'a str) -> &'a str {
    url.strip_prefix(&app.base).unwrap_or_else(|| panic!("{url} is not on {}", app.base))
}

/// GETs a document that must be there, with its content type; its bytes.
async fn document(app: &TestApp, url: &str, content_type: &str) -> Vec<u8> {
    let response = app.client.get(full_url(app, url)).send().await.expect("request");
    assert_eq!(response.status(), 200, "{url}");
    let got = response.headers().get(reqwest::header::CONTENT_TYPE).expect("a content type").to_str().unwrap();
    assert!(got.starts_with(content_type), "{url}: content type {got}, expected {content_type}");
    response.bytes().await.unwrap().to_vec()
}

async fn status(app: &TestApp, url: &str) -> u16 {
    app.client.get(full_url(app, url)).send().await.expect("request").status().as_u16()
}

/// Publishes through the admin API; the new article's id and absolute URL.
async fn publish(app: &TestApp, token: &str, body: Value) -> (i64, String) {
    let response = app.post_article(token, &body).await;
    let code = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(code, 201, "{text}");
    let written: Value = serde_json::from_str(&text).unwrap();
    (written["id"].as_i64().unwrap(), written["url"].as_str().unwrap().to_owned())
}

/// `PUT /api/admin/articles/{id}`; the article's absolute URL.
async fn update(app: &TestApp, token: &str, id: i64, body: Value) -> String {
    let response = app
        .client
        .put(app.url(&format!("/api/admin/articles/{id}")))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let code = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(code, 200, "{text}");
    serde_json::from_str::<Value>(&text).unwrap()["url"].as_str().unwrap().to_owned()
}

async fn delete(app: &TestApp, token: &str, id: i64) {
    let response =
        app.client.delete(app.url(&format!("/api/admin/articles/{id}"))).bearer_auth(token).send().await.unwrap();
    assert_eq!(response.status(), 204, "delete {id}");
}

/// Every article a reader can see, newest first (optionally filtered by
/// section, tag or author slug), from the content API.
async fn visible_articles(app: &TestApp, filter: Option<(&str, &str)>) -> Vec<Value> {
    let mut all = Vec::new();
    let mut page = 1;
    loop {
        let mut url = format!("/api/content/articles?limit=100&page={page}");
        if let Some((key, value)) = filter {
            url.push_str(&format!("&{key}={}", encoded(value)));
        }
        let response = app.get(&url).await;
        assert_eq!(response.status(), 200, "{url}");
        let body: Value = response.json().await.unwrap();
        all.extend(body["articles"].as_array().unwrap().iter().cloned());
        if page >= body["pages"].as_u64().unwrap() {
            return all;
        }
        page += 1;
    }
}

/// One section, tag or author of `/api/content/{kind}s`, by name.
async fn named(app: &TestApp, kind: &str, name: &str) -> Value {
    let list: Value = app.get(&format!("/api/content/{kind}s")).await.json().await.unwrap();
    list.as_array()
        .unwrap()
        .iter()
        .find(|item| item["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} named {name} in {list}"))
        .clone()
}

fn site_toml() -> String {
    format!("\"{SITE_NAME}\"")
}

fn seconds_of(rfc3339: &str) -> i64 {
    rfc3339.parse::<jiff::Timestamp>().unwrap_or_else(|_| panic!("not RFC 3339: {rfc3339}")).as_second()
}

/// A moment as Python's `time.struct_time[:6]` reads it in UTC.
fn utc_fields(seconds: i64) -> Value {
    let at = jiff::Timestamp::from_second(seconds).unwrap().to_zoned(jiff::tz::TimeZone::UTC).datetime();
    json!([at.year(), at.month(), at.day(), at.hour(), at.minute(), at.second()])
}

fn rfc3339_of(seconds: i64) -> String {
    jiff::Timestamp::from_second(seconds).unwrap().to_string()
}

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

// ---------------------------------------------------------------------------
// Helpers: reading XML and HTML
// ---------------------------------------------------------------------------

/// The text of every `<element>` (no attributes), unescaped.
fn xml_texts(xml: &str, element: &str) -> Vec<String> {
    let open = format!("<{element}>");
    let close = format!("</{element}>");
    xml.match_indices(&open)
        .map(|(start, _)| {
            let from = start + open.len();
            let end = from + xml[from..].find(&close).unwrap_or_else(|| panic!("no {close}"));
            quick_xml::escape::unescape(&xml[from..end]).expect("valid escapes").into_owned()
        })
        .collect()
}

fn locs(bytes: &[u8]) -> Vec<String> {
    xml_texts(std::str::from_utf8(bytes).expect("UTF-8"), "loc")
}

/// `(loc, lastmod)` of every `<url>` of a sitemap.
fn sitemap_urls(bytes: &[u8]) -> Vec<(String, String)> {
    let xml = std::str::from_utf8(bytes).expect("UTF-8");
    xml.split("<url>")
        .skip(1)
        .map(|block| {
            let loc = xml_texts(block, "loc").pop().expect("a loc");
            (loc, xml_texts(block, "lastmod").pop().expect("a lastmod"))
        })
        .collect()
}

async fn sitemap_locs(app: &TestApp, path: &str) -> Vec<String> {
    locs(&document(app, path, "application/xml").await)
}

#[derive(Debug)]
struct NewsEntry {
    loc: String,
    name: String,
    language: String,
    date: String,
    title: String,
}

fn news_entries(bytes: &[u8]) -> Vec<NewsEntry> {
    let xml = std::str::from_utf8(bytes).expect("UTF-8");
    let one = |block: &str, element: &str| {
        let found = xml_texts(block, element);
        assert_eq!(found.len(), 1, "one <{element}> in {block}");
        found.into_iter().next().unwrap()
    };
    xml.split("<url>")
        .skip(1)
        .map(|block| NewsEntry {
            loc: one(block, "loc"),
            name: one(block, "news:name"),
            language: one(block, "news:language"),
            date: one(block, "news:publication_date"),
            title: one(block, "news:title"),
        })
        .collect()
}

/// What khabar's templates escape, unescaped (and the numeric forms).
fn html_unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&#x2f;", "/")
        .replace("&#x2F;", "/")
        .replace("&amp;", "&")
}

/// The opening tags `<name ...>` of an HTML page.
fn html_tags<'a>(html: &'a str, name: &str) -> Vec<&'a str> {
    let opening = format!("<{name} ");
    html.match_indices(&opening)
        .map(|(start, _)| {
            let end = start + html[start..].find('>').expect("a closed tag");
            &html[start..=end]
        })
        .collect()
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let marker = format!(" {name}=\"");
    let start = tag.find(&marker)? + marker.len();
    let end = start + tag[start..].find('"')?;
    Some(html_unescape(&tag[start..end]))
}

/// The content of `<meta property="{key}">` or `<meta name="{key}">`.
fn meta(html: &str, key: &str) -> Option<String> {
    html_tags(html, "meta")
        .into_iter()
        .find(|tag| attribute(tag, "property").or_else(|| attribute(tag, "name")).as_deref() == Some(key))
        .and_then(|tag| attribute(tag, "content"))
}

/// `(type, href)` of every `<link rel="{rel}">`.
fn link_tags(html: &str, rel: &str) -> Vec<(String, String)> {
    html_tags(html, "link")
        .into_iter()
        .filter(|tag| attribute(tag, "rel").as_deref() == Some(rel))
        .map(|tag| (attribute(tag, "type").unwrap_or_default(), attribute(tag, "href").unwrap_or_default()))
        .collect()
}

/// Every `<script type="application/ld+json">` block, parsed.
fn json_ld(html: &str) -> Vec<Value> {
    let opening = "<script type=\"application/ld+json\">";
    html.match_indices(opening)
        .map(|(start, _)| {
            let from = start + opening.len();
            let end = from + html[from..].find("</script>").expect("</script>");
            serde_json::from_str(&html[from..end])
                .unwrap_or_else(|error| panic!("JSON-LD does not parse ({error}): {}", &html[from..end]))
        })
        .collect()
}

fn of_type<'a>(blocks: &'a [Value], kind: &str) -> &'a Value {
    blocks.iter().find(|block| block["@type"] == kind).unwrap_or_else(|| panic!("no {kind} in {blocks:?}"))
}

/// The outside checkers do reject what they must, so a passing test means something.
#[test]
fn the_checkers_catch_broken_documents() {
    assert!(xmllint(None, b"<a><b></a>").is_err());
    let urlset = |loc: &str| {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\
             <url><loc>{loc}</loc><lastmod>2026-11-30T06:13:57Z</lastmod></url></urlset>"
        )
    };
    assert_eq!(xmllint(Some("sitemap.xsd"), urlset("https://k.example/news/1/%D9%85").as_bytes()), Ok(()));
    assert!(xmllint(Some("sitemap.xsd"), urlset("/news/1").as_bytes()).is_err(), "a relative loc");
    let news = |language: &str| {
        format!(
            "<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\" \
             xmlns:news=\"http://www.google.com/schemas/sitemap-news/0.9\"><url><loc>https://k.example/n</loc>\
             <news:news><news:publication><news:name>خبر</news:name><news:language>{language}</news:language>\
             </news:publication><news:publication_date>2026-11-30T06:13:57Z</news:publication_date>\
             <news:title>عنوان</news:title></news:news></url></urlset>"
        )
    };
    assert_eq!(xmllint(Some("news-sitemap.xsd"), news("ar").as_bytes()), Ok(()));
    assert!(xmllint(Some("news-sitemap.xsd"), news("arabic").as_bytes()).is_err());

    let rss = |title: &str, date: &str| {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel><title>t</title>\
             <link>https://k.example/</link><description>d</description><item><title>{title}</title>\
             <link>https://k.example/1</link><guid>https://k.example/n/1</guid><pubDate>{date}</pubDate></item>\
             </channel></rss>"
        )
    };
    let good = feedparser(rss("«أ» &amp; &lt;ب&gt;", "Mon, 30 Nov 2026 06:13:57 +0000").as_bytes());
    assert_eq!(good["bozo"], 0);
    assert_eq!(good["entries"][0]["title"], "«أ» & <ب>");
    assert_eq!(good["entries"][0]["published_rfc822"], "2026-11-30T06:13:57+00:00");
    let doubled = feedparser(rss("«أ» &amp;amp; ب", "Mon, 30 Nov 2026 06:13:57 +0000").as_bytes());
    assert_ne!(doubled["entries"][0]["title"], "«أ» & ب", "double escaping shows");
    let iso = feedparser(rss("أ", "2026-11-30T06:13:57Z").as_bytes());
    assert_eq!(iso["entries"][0]["published_rfc822"], Value::Null, "not RFC 822");
    assert_eq!(feedparser(rss("أ & ب", "Mon, 30 Nov 2026 06:13:57 +0000").as_bytes())["bozo"], 1);
}

// ---------------------------------------------------------------------------
// Feeds
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
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

    fn content_type(self) -> &'static str {
        match self {
            Format::Rss => "application/rss+xml",
            Format::Atom => "application/atom+xml",
        }
    }

    fn version(self) -> &'static str {
        match self {
            Format::Rss => "rss20",
            Format::Atom => "atom10",
        }
    }
}

/// The feed of a page (`/` or a section, tag or author page URL).
fn feed_url(app: &TestApp, page_url: &str, format: Format) -> String {
    if page_url == app.url("/") {
        app.url(&format!("/{}", format.file()))
    } else {
        format!("{page_url}/{}", format.file())
    }
}

/// Fetches a feed and checks, through feedparser, what every feed owes its
/// readers: it parses without complaint, says it is Arabic, links to itself
/// and to its page, and lists exactly `expected` (the content API's newest
/// twenty, in order) with absolute links, ids, parseable dates and full text.
async fn check_feed(app: &TestApp, page_url: &str, format: Format, expected: &[Value]) -> Value {
    let url = feed_url(app, page_url, format);
    let bytes = document(app, &url, format.content_type()).await;
    assert_valid(None, &bytes, &url);
    let feed = feedparser(&bytes);
    assert_eq!(feed["bozo"], 0, "{url}: feedparser complains: {}", feed["bozo_exception"]);
    assert_eq!(feed["version"], format.version(), "{url}");
    // RSS says it twice (xml:lang and <language>), Atom once (xml:lang); feedparser reads both.
    assert_eq!(feed["feed"]["language"], "ar", "{url}: {}", feed["feed"]);
    assert_eq!(feed["feed"]["title_language"], "ar", "{url}: xml:lang");
    let root = String::from_utf8_lossy(&bytes[..bytes.len().min(400)]).into_owned();
    let root = &root[root.find(if format == Format::Rss { "<rss " } else { "<feed " }).expect("the root")..];
    assert!(root[..root.find('>').unwrap()].contains("xml:lang=\"ar\""), "{url}: {root}");
    let links = feed["feed"]["links"].as_array().unwrap();
    assert!(
        links.iter().any(|link| link["rel"] == "self" && link["href"] == url.as_str()),
        "{url}: no self link to itself in {links:?}"
    );
    assert_eq!(feed["feed"]["link"], page_url, "{url}: the feed's page");
    assert!(feed["feed"]["updated_parsed"].is_array(), "{url}: {}", feed["feed"]);
    assert_dates_consistent(&url, &feed);

    let expected = &expected[..expected.len().min(20)];
    let entries = feed["entries"].as_array().unwrap();
    let titles: Vec<&str> = entries.iter().map(|entry| entry["title"].as_str().unwrap_or("")).collect();
    let wanted: Vec<&str> = expected.iter().map(|article| article["title"].as_str().unwrap()).collect();
    assert_eq!(titles, wanted, "{url}: the titles, character for character");
    for (entry, article) in entries.iter().zip(expected) {
        let id = article["id"].as_i64().unwrap();
        assert_eq!(entry["link"], article["url"], "{url}");
        assert_eq!(entry["id"], app.url(&format!("/n/{id}")), "{url}");
        let published = seconds_of(article["published_at"].as_str().unwrap());
        assert_eq!(entry["published_parsed"], utc_fields(published), "{url}: {entry}");
        match format {
            Format::Rss => {
                assert_eq!(entry["published_rfc822"], rfc3339_of(published).replace('Z', "+00:00"), "{url}: {entry}");
            }
            Format::Atom => {
                assert_eq!(entry["published_rfc3339"], rfc3339_of(published).replace('Z', "+00:00"), "{url}");
                assert!(entry["updated_rfc3339"].is_string(), "{url}: updated is not RFC 3339: {entry}");
                assert!(entry["updated_parsed"].is_array(), "{url}: {entry}");
                assert!(
                    seconds_of(entry["updated"].as_str().unwrap()) >= published,
                    "{url}: updated before published: {entry}"
                );
            }
        }
        let content = entry["content"][0].as_str().unwrap_or("");
        assert!(content.contains("<p>"), "{url}: full text by default: {entry}");
        for link in entry["links"].as_array().unwrap() {
            let href = link["href"].as_str().unwrap();
            assert!(href.starts_with(&app.base), "{url}: a link that is not absolute: {href}");
        }
        for enclosure in entry["enclosures"].as_array().unwrap() {
            assert!(enclosure["href"].as_str().unwrap().starts_with(&app.base), "{url}: {enclosure}");
        }
    }
    feed
}

/// `[y, m, d, H, M, S]` as feedparser gives it, comparable.
fn fields(value: &Value) -> Vec<i64> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not a parsed date: {value}"))
        .iter()
        .map(|n| n.as_i64().unwrap())
        .collect()
}

/// A feed's own date (RSS lastBuildDate, Atom updated) is when it last
/// changed, so no entry can be newer than it; what contradicts that.
fn date_inconsistencies(url: &str, feed: &Value) -> Vec<String> {
    let feed_updated = fields(&feed["feed"]["updated_parsed"]);
    let mut problems = Vec::new();
    for entry in feed["entries"].as_array().unwrap() {
        let latest = ["published_parsed", "updated_parsed"]
            .iter()
            .filter(|key| entry[**key].is_array())
            .map(|key| fields(&entry[*key]))
            .max()
            .unwrap_or_default();
        if feed_updated < latest {
            problems.push(format!(
                "{url}: the feed says it last changed at {}, before its entry {} (published {}, updated {})",
                feed["feed"]["updated"], entry["id"], entry["published"], entry["updated"]
            ));
        }
    }
    problems
}

fn assert_dates_consistent(url: &str, feed: &Value) {
    let problems = date_inconsistencies(url, feed);
    assert!(problems.is_empty(), "{problems:#?}");
}

/// The tricky article in a parsed feed comes out exactly as published.
fn check_tricky_entry(app: &TestApp, feed: &Value, id: i64, format: Format) {
    let entry = feed["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| entry["id"] == app.url(&format!("/n/{id}")))
        .unwrap_or_else(|| panic!("{format:?}: no entry for {id}"));
    assert_eq!(entry["title"], TRICKY_TITLE, "{format:?}: no mojibake, no double escaping");
    assert_eq!(entry["summary"], TRICKY_SUMMARY, "{format:?}");
    assert_eq!(entry["authors"], json!(["سامر الخطيب"]), "{format:?}");
    // RSS names categories; Atom gives each a term (the slug) and a label (the name).
    let tags: Vec<&str> = entry["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|tag| tag["label"].as_str().or(tag["term"].as_str()).unwrap_or(""))
        .collect();
    assert_eq!(tags, ["اقتصاد", "الأجور"], "{format:?}: the section, then the tags");
    let content = entry["content"][0].as_str().unwrap();
    assert!(content.contains("<strong>كامل</strong>"), "{format:?}: {content}");
    assert!(
        content.contains(&format!("href=\"{}\"", app.url("/news/1"))),
        "{format:?}: links made absolute: {content}"
    );
}

async fn feeds_parse(backend: Backend) {
    let Some(app) = TestApp::builder().backend(backend).demo().config("site_name", &site_toml()).start().await else {
        return;
    };
    let token = app.token().await;
    let (id, _) = publish(
        &app,
        &token,
        json!({
            "title": TRICKY_TITLE,
            "summary": TRICKY_SUMMARY,
            "body_markdown": "نص **كامل** للخبر عن [الأسعار](/news/1) والأجور.\n\nفقرة ثانية من الخبر.",
            "section": "اقتصاد",
            "tags": ["الأجور"],
            "authors": ["سامر الخطيب"],
            "status": "published",
        }),
    )
    .await;

    let everything = visible_articles(&app, None).await;
    assert!(everything.len() > 20, "the demo fills more than one feed");
    assert_eq!(everything[0]["id"], id, "the new article is the newest");
    for format in [Format::Rss, Format::Atom] {
        let feed = check_feed(&app, &app.url("/"), format, &everything).await;
        assert_eq!(feed["feed"]["title"], SITE_NAME, "{format:?}");
        check_tricky_entry(&app, &feed, id, format);
    }

    for (kind, name) in [("section", "اقتصاد"), ("tag", "الأجور"), ("author", "سامر الخطيب")] {
        let item = named(&app, kind, name).await;
        let page_url = item["url"].as_str().unwrap();
        let expected = visible_articles(&app, Some((kind, item["slug"].as_str().unwrap()))).await;
        assert!(!expected.is_empty());
        for format in [Format::Rss, Format::Atom] {
            let feed = check_feed(&app, page_url, format, &expected).await;
            assert_eq!(feed["feed"]["title"], format!("{name} — {SITE_NAME}"), "{kind} {format:?}");
            check_tricky_entry(&app, &feed, id, format);
        }
    }
    app.stop().await;
}
on_both_backends!(feeds_parse_in_feedparser, feeds_parse);

#[tokio::test]
async fn feeds_and_sitemaps_are_well_formed_xml() {
    // An empty site: empty feeds are still feeds.
    let app = TestApp::builder().start().await.unwrap();
    for format in [Format::Rss, Format::Atom] {
        let url = feed_url(&app, &app.url("/"), format);
        let bytes = document(&app, &url, format.content_type()).await;
        assert_valid(None, &bytes, &url);
        let feed = feedparser(&bytes);
        assert_eq!(feed["bozo"], 0, "{url}: {}", feed["bozo_exception"]);
        assert_eq!(feed["version"], format.version());
        assert_eq!(feed["entries"], json!([]));
    }
    for path in ["/sitemap.xml", "/sitemaps/articles.xml", "/sitemaps/pages.xml", "/news-sitemap.xml"] {
        assert_valid(None, &document(&app, path, "application/xml").await, path);
    }
    let index = document(&app, "/sitemap.xml", "application/xml").await;
    assert_valid(Some("siteindex.xsd"), &index, "index");
    // Empty sitemaps are errors to crawlers: the index leaves them out.
    assert_eq!(locs(&index), vec![app.url("/sitemaps/pages.xml")], "only the sitemaps that list something");
    app.stop().await;

    // The demo site, with text that XML cannot carry as it is: control
    // characters, a CDATA end, markup, entities and an emoji.
    let app = TestApp::builder().demo().config("site_name", &site_toml()).start().await.unwrap();
    let token = app.token().await;
    publish(
        &app,
        &token,
        json!({
            "title": "عنوان \u{1}فيه ]]> و&amp; و<b>وسم</b> و\u{FFFF} 🙂",
            "summary": "ملخص\u{B} ]]> &lt; 🙂",
            "body_markdown": "فقرة فيها <b>وسم</b> و ]]> و &amp; و\u{1F} و\u{FFFE}.\n\n```\n<![CDATA[ x ]]>\n```",
            "section": "منوعات]]>",
            "tags": ["وسم & <آخر>"],
            "authors": ["كاتب \"ضيف\""],
            "status": "published",
        }),
    )
    .await;
    let mut pages = vec![app.url("/")];
    for kind in ["section", "tag", "author"] {
        let list: Value = app.get(&format!("/api/content/{kind}s")).await.json().await.unwrap();
        pages.extend(list.as_array().unwrap().iter().map(|item| item["url"].as_str().unwrap().to_owned()));
    }
    for page_url in &pages {
        for format in [Format::Rss, Format::Atom] {
            let url = feed_url(&app, page_url, format);
            let bytes = document(&app, &url, format.content_type()).await;
            assert_valid(None, &bytes, &url);
        }
    }
    for (path, schema) in [
        ("/sitemap.xml", "siteindex.xsd"),
        ("/sitemaps/articles.xml?page=1", "sitemap.xsd"),
        ("/sitemaps/pages.xml", "sitemap.xsd"),
        ("/news-sitemap.xml", "news-sitemap.xsd"),
    ] {
        assert_valid(Some(schema), &document(&app, path, "application/xml").await, path);
    }
    // And feedparser reads the awkward feeds without complaint.
    for format in [Format::Rss, Format::Atom] {
        let feed = feedparser(&document(&app, &feed_url(&app, &app.url("/"), format), format.content_type()).await);
        assert_eq!(feed["bozo"], 0, "{format:?}: {}", feed["bozo_exception"]);
        assert_eq!(feed["entries"].as_array().unwrap().len(), 20, "{format:?}");
    }
    app.stop().await;
}

// ---------------------------------------------------------------------------
// Sitemaps
// ---------------------------------------------------------------------------

const FRESH_TITLE: &str = "«عاجل»: افتتاح جسر & نفق <جديد> في \"المدينة\"";
const OLD_TITLE: &str = "خبر من ثلاثة أيام عن موسم الحصاد";
const SCHEDULED_TITLE: &str = "خبر مجدول للنشر غداً عن افتتاح المطار";

async fn sitemaps(backend: Backend) {
    let Some(app) = TestApp::builder().backend(backend).demo().config("site_name", &site_toml()).start().await else {
        return;
    };
    let token = app.token().await;
    let started = now();
    let (_, fresh_url) = publish(
        &app,
        &token,
        json!({"title": FRESH_TITLE, "body_markdown": "افتُتح اليوم جسر جديد.", "section": "محليات",
               "tags": ["جسور"], "authors": ["مراسل المدينة"], "status": "published"}),
    )
    .await;
    let (_, old_url) = publish(
        &app,
        &token,
        json!({"title": OLD_TITLE, "body_markdown": "بدأ موسم الحصاد قبل ثلاثة أيام.", "section": "اقتصاد",
               "status": "published", "published_at": rfc3339_of(started - 72 * 3600)}),
    )
    .await;
    let (scheduled, scheduled_url) = publish(
        &app,
        &token,
        json!({"title": SCHEDULED_TITLE, "body_markdown": "يفتتح المطار غداً.", "section": "مستقبل",
               "tags": ["مؤجل"], "authors": ["كاتب المستقبل"], "status": "published",
               "published_at": rfc3339_of(started + 24 * 3600)}),
    )
    .await;
    let visible = visible_articles(&app, None).await;
    let visible_urls: BTreeSet<String> =
        visible.iter().map(|article| article["url"].as_str().unwrap().to_owned()).collect();
    assert!(visible_urls.contains(&fresh_url) && visible_urls.contains(&old_url));
    assert!(!visible_urls.contains(&scheduled_url));

    // The index: the article page, the list pages and the news sitemap, absolute.
    let index = document(&app, "/sitemap.xml", "application/xml").await;
    assert_valid(Some("siteindex.xsd"), &index, "/sitemap.xml");
    let listed = locs(&index);
    assert_eq!(
        listed,
        vec![app.url("/sitemaps/articles.xml?page=1"), app.url("/sitemaps/pages.xml"), app.url("/news-sitemap.xml")]
    );

    // Articles: every visible one, nothing else.
    let articles = document(&app, &listed[0], "application/xml").await;
    assert_valid(Some("sitemap.xsd"), &articles, "/sitemaps/articles.xml?page=1");
    let article_locs = locs(&articles);
    assert_eq!(article_locs.len(), visible.len(), "each article once");
    assert_eq!(article_locs.iter().cloned().collect::<BTreeSet<_>>(), visible_urls);
    let text = String::from_utf8(articles.clone()).unwrap();
    assert_eq!(xml_texts(&text, "lastmod").len(), article_locs.len(), "every URL has its lastmod");
    assert_eq!(articles, document(&app, "/sitemaps/articles.xml", "application/xml").await, "no page number is page 1");

    // List pages: home, and every section, tag and author that shows something.
    let pages = document(&app, &listed[1], "application/xml").await;
    assert_valid(Some("sitemap.xsd"), &pages, "/sitemaps/pages.xml");
    let page_locs: BTreeSet<String> = locs(&pages).into_iter().collect();
    let mut expected_pages = BTreeSet::from([app.url("/")]);
    let mut empty_pages = BTreeSet::new();
    for kind in ["section", "tag", "author"] {
        let list: Value = app.get(&format!("/api/content/{kind}s")).await.json().await.unwrap();
        for item in list.as_array().unwrap() {
            let url = item["url"].as_str().unwrap().to_owned();
            if item["article_count"].as_i64().unwrap() > 0 {
                expected_pages.insert(url);
            } else {
                empty_pages.insert(url);
            }
        }
    }
    assert_eq!(page_locs, expected_pages);
    for (kind, name) in [("section", "مستقبل"), ("tag", "مؤجل"), ("author", "كاتب المستقبل")] {
        let item = named(&app, kind, name).await;
        assert_eq!(item["article_count"], 0, "{kind} of the scheduled article only");
        assert!(empty_pages.contains(item["url"].as_str().unwrap()));
    }
    assert!(page_locs.contains(named(&app, "section", "محليات").await["url"].as_str().unwrap()));

    // News: the last 48 hours, with the publication, `ar` and the exact title.
    let news = document(&app, &listed[2], "application/xml").await;
    assert_valid(Some("news-sitemap.xsd"), &news, "/news-sitemap.xml");
    let entries = news_entries(&news);
    let entry = entries.iter().find(|entry| entry.loc == fresh_url).expect("the new article in the news sitemap");
    assert_eq!(entry.title, FRESH_TITLE);
    assert_eq!(entry.language, "ar");
    assert_eq!(entry.name, SITE_NAME);
    assert!((seconds_of(&entry.date) - started).abs() < 120, "{entry:?}");
    let news_locs: BTreeSet<&str> = entries.iter().map(|entry| entry.loc.as_str()).collect();
    assert!(!news_locs.contains(old_url.as_str()), "an article of three days ago is not news");
    let mut old_demo = 0;
    for article in &visible {
        let age = started - seconds_of(article["published_at"].as_str().unwrap());
        let url = article["url"].as_str().unwrap();
        if age > 48 * 3600 + 300 {
            old_demo += 1;
            assert!(!news_locs.contains(url), "{age} s old, still in the news sitemap: {url}");
        } else if age < 48 * 3600 - 300 {
            assert!(news_locs.contains(url), "{age} s old, missing from the news sitemap: {url}");
            let entry = entries.iter().find(|entry| entry.loc == url).unwrap();
            assert_eq!(entry.title, article["title"].as_str().unwrap());
        }
    }
    assert!(old_demo >= 10, "the demo has articles older than two days");
    for entry in &entries {
        assert!(started - seconds_of(&entry.date) <= 48 * 3600 + 60, "{entry:?}");
    }

    // The scheduled article is nowhere yet.
    let marker = format!("/news/{scheduled}/");
    let short = app.url(&format!("/n/{scheduled}"));
    for (bytes, what) in [(&index, "index"), (&articles, "articles"), (&pages, "pages"), (&news, "news")] {
        let text = String::from_utf8_lossy(bytes);
        assert!(!text.contains(&marker) && !text.contains(SCHEDULED_TITLE), "scheduled article in the {what} sitemap");
    }
    let section = named(&app, "section", "مستقبل").await;
    let mut feed_pages = vec![app.url("/"), section["url"].as_str().unwrap().to_owned()];
    feed_pages.push(named(&app, "tag", "مؤجل").await["url"].as_str().unwrap().to_owned());
    feed_pages.push(named(&app, "author", "كاتب المستقبل").await["url"].as_str().unwrap().to_owned());
    for page_url in &feed_pages {
        for format in [Format::Rss, Format::Atom] {
            let url = feed_url(&app, page_url, format);
            let bytes = document(&app, &url, format.content_type()).await;
            let text = String::from_utf8_lossy(&bytes);
            assert!(
                !text.contains(&marker) && !text.contains(&short) && !text.contains(SCHEDULED_TITLE),
                "the scheduled article is in {url}"
            );
            if page_url != &app.url("/") {
                assert_eq!(feedparser(&bytes)["entries"], json!([]), "{url}");
            }
        }
    }
    app.stop().await;
}
on_both_backends!(sitemaps_validate, sitemaps);

/// A scheduled article is in no feed or sitemap before its time, and in all of
/// them soon after, without anyone touching it: the server notices by itself
/// and drops the cached documents.
#[tokio::test]
async fn scheduled_articles_arrive_when_their_time_comes() {
    let app = TestApp::builder().demo().start().await.unwrap();
    let token = app.token().await;
    let title = "افتتاح معرض الزهور في موعده المحدد";
    let (id, url) = publish(
        &app,
        &token,
        json!({"title": title, "body_markdown": "افتُتح المعرض.", "section": "منوعات", "status": "published",
               "published_at": rfc3339_of(now() + 3)}),
    )
    .await;
    let short = app.url(&format!("/n/{id}"));
    // Read (and so cached) while the article is still in the future.
    let feed = String::from_utf8(document(&app, "/feed.xml", "application/rss+xml").await).unwrap();
    assert!(!feed.contains(&short));
    assert!(!sitemap_locs(&app, "/sitemaps/articles.xml?page=1").await.contains(&url));
    assert!(!sitemap_locs(&app, "/news-sitemap.xml").await.contains(&url));
    let section_url = named(&app, "section", "منوعات").await["url"].as_str().unwrap().to_owned();
    assert!(!sitemap_locs(&app, "/sitemaps/pages.xml").await.contains(&section_url));

    let started = std::time::Instant::now();
    while !String::from_utf8(document(&app, "/feed.xml", "application/rss+xml").await).unwrap().contains(&short) {
        assert!(started.elapsed() < std::time::Duration::from_secs(30), "the scheduled article never reached the feed");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let published = seconds_of(
        app.get(&format!("/api/content/articles/{id}")).await.json::<Value>().await.unwrap()["published_at"]
            .as_str()
            .unwrap(),
    );
    let feed = feedparser(&document(&app, "/feed.xml", "application/rss+xml").await);
    assert_eq!(feed["entries"][0]["title"], title);
    let atom = feedparser(&document(&app, "/atom.xml", "application/atom+xml").await);
    assert_eq!(atom["entries"][0]["id"], short);
    assert!(sitemap_locs(&app, "/sitemaps/articles.xml?page=1").await.contains(&url));
    let articles = sitemap_urls(&document(&app, "/sitemaps/articles.xml?page=1", "application/xml").await);
    let lastmod = &articles.iter().find(|(loc, _)| *loc == url).unwrap().1;
    assert!(seconds_of(lastmod) >= published, "the article's lastmod {lastmod}");
    // The pages that now list it changed when it went live, and so did the feeds.
    let mut problems = Vec::new();
    let pages = sitemap_urls(&document(&app, "/sitemaps/pages.xml", "application/xml").await);
    for page in [app.url("/"), section_url.clone()] {
        let (_, lastmod) = pages.iter().find(|(loc, _)| *loc == page).unwrap_or_else(|| panic!("{page} not listed"));
        if seconds_of(lastmod) < published {
            problems.push(format!(
                "/sitemaps/pages.xml: {page} has lastmod {lastmod}, before the article it lists went live at {}",
                rfc3339_of(published)
            ));
        }
    }
    problems.extend(date_inconsistencies("/feed.xml", &feed));
    problems.extend(date_inconsistencies("/atom.xml", &atom));
    assert!(problems.is_empty(), "{problems:#?}");
    let news = news_entries(&document(&app, "/news-sitemap.xml", "application/xml").await);
    assert_eq!((news[0].loc.as_str(), news[0].title.as_str()), (url.as_str(), title));
    app.stop().await;
}

// ---------------------------------------------------------------------------
// Invalidation
// ---------------------------------------------------------------------------

async fn follows_publish_and_delete(backend: Backend) {
    let Some(app) = TestApp::builder().backend(backend).demo().start().await else { return };
    let token = app.token().await;
    let documents = [
        ("/feed.xml", "application/rss+xml"),
        ("/atom.xml", "application/atom+xml"),
        ("/sitemap.xml", "application/xml"),
        ("/sitemaps/articles.xml?page=1", "application/xml"),
        ("/sitemaps/pages.xml", "application/xml"),
        ("/news-sitemap.xml", "application/xml"),
    ];
    // Twice each: the second answer comes from the cache.
    let mut before = Vec::new();
    for (path, content_type) in documents {
        let first = document(&app, path, content_type).await;
        assert_eq!(document(&app, path, content_type).await, first, "{path}");
        before.push(first);
    }
    // A feed reader's conditional poll: nothing new, 304.
    let etag = app.get("/feed.xml").await.headers()[reqwest::header::ETAG].clone();
    let poll = || app.client.get(app.url("/feed.xml")).header(reqwest::header::IF_NONE_MATCH, &etag).send();
    assert_eq!(poll().await.unwrap().status(), 304);

    let title = "وصول أول قطار كهربائي إلى محطة المدينة الجديدة";
    let (id, url) = publish(
        &app,
        &token,
        json!({"title": title, "body_markdown": "وصل القطار الكهربائي الأول صباح اليوم.", "section": "نقل",
               "tags": ["قطارات"], "status": "published"}),
    )
    .await;
    let section_url = named(&app, "section", "نقل").await["url"].as_str().unwrap().to_owned();
    let short = app.url(&format!("/n/{id}"));

    // At once, with no waiting, and the reader's next conditional poll gets it.
    let polled = poll().await.unwrap();
    assert_eq!(polled.status(), 200, "the feed changed, so its ETag did");
    assert_ne!(polled.headers()[reqwest::header::ETAG], etag);
    for format in [Format::Rss, Format::Atom] {
        let feed = feedparser(&document(&app, &feed_url(&app, &app.url("/"), format), format.content_type()).await);
        assert_eq!(feed["entries"][0]["title"], title, "{format:?}");
        assert_eq!(feed["entries"][0]["id"], short, "{format:?}");
        let feed = feedparser(&document(&app, &feed_url(&app, &section_url, format), format.content_type()).await);
        assert_eq!(feed["entries"].as_array().unwrap().len(), 1, "{format:?}");
    }
    assert!(sitemap_locs(&app, "/sitemaps/articles.xml?page=1").await.contains(&url));
    assert!(sitemap_locs(&app, "/sitemaps/pages.xml").await.contains(&section_url));
    let news = news_entries(&document(&app, "/news-sitemap.xml", "application/xml").await);
    assert_eq!(news[0].loc, url, "the newest first");
    assert_eq!(news[0].title, title);

    // Edited: the new headline everywhere at once.
    let edited = "وصول أول قطار كهربائي إلى المحطة «الجديدة» & انطلاق الرحلات";
    let edited_url = update(
        &app,
        &token,
        id,
        json!({"title": edited, "body_markdown": "وصل القطار وانطلقت الرحلات.", "section": "نقل",
               "tags": ["قطارات"], "status": "published"}),
    )
    .await;
    for format in [Format::Rss, Format::Atom] {
        let feed = feedparser(&document(&app, &feed_url(&app, &app.url("/"), format), format.content_type()).await);
        assert_eq!(feed["entries"][0]["title"], edited, "{format:?}");
        assert_eq!(feed["entries"][0]["link"], edited_url.as_str(), "{format:?}");
    }
    let news = news_entries(&document(&app, "/news-sitemap.xml", "application/xml").await);
    assert_eq!((news[0].loc.as_str(), news[0].title.as_str()), (edited_url.as_str(), edited));
    let listed = sitemap_locs(&app, "/sitemaps/articles.xml?page=1").await;
    assert!(listed.contains(&edited_url) && (edited_url == url || !listed.contains(&url)));

    // Taken back to a draft: gone from the feeds and sitemaps.
    update(
        &app,
        &token,
        id,
        json!({"title": edited, "body_markdown": "مسودة.", "section": "نقل", "tags": ["قطارات"], "status": "draft"}),
    )
    .await;
    for (path, content_type) in documents {
        let text = String::from_utf8(document(&app, path, content_type).await).unwrap();
        assert!(!text.contains(&format!("/news/{id}/")) && !text.contains(&short), "{path} shows a draft");
    }
    update(
        &app,
        &token,
        id,
        json!({"title": edited, "body_markdown": "منشور من جديد.", "section": "نقل", "tags": ["قطارات"],
               "status": "published"}),
    )
    .await;
    assert!(sitemap_locs(&app, "/sitemaps/articles.xml?page=1").await.contains(&edited_url));

    // Deleted: gone from every feed and sitemap, at once.
    delete(&app, &token, id).await;
    for (index, (path, content_type)) in documents.iter().enumerate() {
        let bytes = document(&app, path, content_type).await;
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains(&format!("/news/{id}/")) && !text.contains(&short) && !text.contains(edited),
            "{path} still has the deleted article"
        );
        if *path != "/sitemap.xml" {
            // Back to what it was (the feeds' lastBuildDate and the pages' lastmod aside).
            assert_eq!(locs(&bytes), locs(&before[index]), "{path}");
        }
    }
    for format in [Format::Rss, Format::Atom] {
        let before = feedparser(&before[usize::from(format == Format::Atom)]);
        let after = feedparser(&document(&app, &feed_url(&app, &app.url("/"), format), format.content_type()).await);
        let ids = |feed: &Value| -> Vec<Value> {
            feed["entries"].as_array().unwrap().iter().map(|entry| entry["id"].clone()).collect()
        };
        assert_eq!(ids(&after), ids(&before), "{format:?}");
    }
    assert!(!sitemap_locs(&app, "/sitemaps/pages.xml").await.contains(&section_url), "the emptied section is left out");
    app.stop().await;
}
on_both_backends!(invalidation, follows_publish_and_delete);

// ---------------------------------------------------------------------------
// The newsroom's settings
// ---------------------------------------------------------------------------

/// Summaries instead of full text, the publication's name in the news
/// sitemap and the site's public address, saved in the admin, reach the
/// (cached) feeds and sitemaps at once.
#[tokio::test]
async fn newsroom_settings_reach_feeds_and_sitemaps_at_once() {
    let app = TestApp::builder().demo().start().await.unwrap();
    let password = "زيتون أخضر على الطاولة 42";
    let hash = khabar::accounts::passwords::hash(password.to_owned()).await.unwrap();
    let role = khabar::accounts::staff::Role::Admin;
    app.store().create_staff("admin@example.com", "المديرة", role, &hash, now()).await.unwrap().unwrap();
    let full = feedparser(&document(&app, "/feed.xml", "application/rss+xml").await);
    assert!(full["entries"][0]["content"][0].as_str().unwrap().contains("<p>"), "full text by default");
    let news = document(&app, "/news-sitemap.xml", "application/xml").await;
    assert!(news_entries(&news).iter().all(|entry| entry.name == "خبر"), "the site's name by default");

    let mut admin = common::Browser::new(&app);
    assert_eq!(admin.log_in("admin@example.com", password).await.status(), 303);
    let csrf = admin.hidden("/admin/settings", "csrf").await;
    let publication = "جريدة «خبر» & شركاه";
    let saved = admin
        .post(
            "/admin/settings",
            &[
                ("csrf", &csrf),
                ("site_name", "خبر اليوم"),
                ("feed_summary_only", "on"),
                ("news_publication_name", publication),
            ],
        )
        .await;
    assert_eq!(saved.status(), 303);
    let expected = visible_articles(&app, None).await;
    for format in [Format::Rss, Format::Atom] {
        let feed = feedparser(&document(&app, &feed_url(&app, &app.url("/"), format), format.content_type()).await);
        assert_eq!(feed["bozo"], 0, "{format:?}");
        assert_eq!(feed["feed"]["title"], "خبر اليوم", "{format:?}");
        for (entry, article) in feed["entries"].as_array().unwrap().iter().zip(&expected) {
            assert_eq!(entry["content"], json!([]), "{format:?}: summaries only");
            assert_eq!(entry["summary"], article["summary"], "{format:?}");
        }
    }
    let news = document(&app, "/news-sitemap.xml", "application/xml").await;
    assert_valid(Some("news-sitemap.xsd"), &news, "/news-sitemap.xml");
    let entries = news_entries(&news);
    assert!(!entries.is_empty());
    assert!(entries.iter().all(|entry| entry.name == publication), "{entries:?}");

    // Back to full text and the site's name, at a new public address.
    let base = "https://akhbar.example";
    let saved = admin.post("/admin/settings", &[("csrf", &csrf), ("site_name", "خبر اليوم"), ("base_url", base)]).await;
    assert_eq!(saved.status(), 303);
    for format in [Format::Rss, Format::Atom] {
        let feed = feedparser(&document(&app, &feed_url(&app, &app.url("/"), format), format.content_type()).await);
        let self_link = format!("{base}/{}", format.file());
        assert!(feed["feed"]["links"].as_array().unwrap().iter().any(|link| link["href"] == self_link.as_str()));
        for entry in feed["entries"].as_array().unwrap() {
            assert!(entry["content"][0].as_str().unwrap().contains("<p>"), "{format:?}: full text again");
            assert!(entry["link"].as_str().unwrap().starts_with(&format!("{base}/news/")), "{entry}");
            assert!(entry["id"].as_str().unwrap().starts_with(&format!("{base}/n/")), "{entry}");
        }
    }
    let news = document(&app, "/news-sitemap.xml", "application/xml").await;
    let entries = news_entries(&news);
    assert!(entries.iter().all(|entry| entry.name == "خبر اليوم" && entry.loc.starts_with(base)), "{entries:?}");
    for path in ["/sitemap.xml", "/sitemaps/articles.xml?page=1", "/sitemaps/pages.xml"] {
        let listed = sitemap_locs(&app, path).await;
        assert!(!listed.is_empty() && listed.iter().all(|loc| loc.starts_with(base)), "{path}: {listed:?}");
    }
    let robots = app.get("/robots.txt").await.text().await.unwrap();
    assert!(robots.contains(&format!("Sitemap: {base}/sitemap.xml\n")), "{robots}");
    assert!(robots.contains(&format!("Sitemap: {base}/news-sitemap.xml\n")), "{robots}");
    app.stop().await;
}

// ---------------------------------------------------------------------------
// Bad input, robots.txt
// ---------------------------------------------------------------------------

#[tokio::test]
async fn unknown_feeds_and_bad_sitemap_pages() {
    let app = TestApp::builder().demo().start().await.unwrap();
    let missing = encoded("لا-يوجد-مثله");
    for kind in ["section", "tag", "author"] {
        for file in ["feed.xml", "atom.xml"] {
            for slug in [missing.as_str(), "nothing", "%FF%FE"] {
                let path = format!("/{kind}/{slug}/{file}");
                assert_eq!(status(&app, &path).await, 404, "{path}");
            }
        }
    }
    assert_eq!(status(&app, "/sitemaps/articles.xml?page=1").await, 200);
    assert_eq!(status(&app, "/sitemaps/articles.xml?page=2").await, 404, "a small site has one page");
    for page in ["0", "abc", "-1", "1.5"] {
        let path = format!("/sitemaps/articles.xml?page={page}");
        assert_eq!(status(&app, &path).await, 400, "{path}");
    }

    let response = app.get("/robots.txt").await;
    assert_eq!(response.status(), 200);
    let content_type = response.headers()[reqwest::header::CONTENT_TYPE].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    let robots = response.text().await.unwrap();
    let lines: Vec<&str> = robots.lines().map(str::trim).collect();
    let group = lines.iter().position(|line| *line == "User-agent: *").expect("a group for every crawler");
    let group_lines: Vec<&str> = lines[group + 1..].iter().copied().take_while(|line| !line.is_empty()).collect();
    assert!(group_lines.contains(&"Disallow: /admin"), "{robots}");
    assert!(!group_lines.contains(&"Disallow: /"), "{robots}");
    let sitemaps: Vec<&str> = lines.iter().filter_map(|line| line.strip_prefix("Sitemap:")).map(str::trim).collect();
    assert_eq!(sitemaps, vec![app.url("/sitemap.xml"), app.url("/news-sitemap.xml")], "{robots}");
    for sitemap in sitemaps {
        assert_eq!(status(&app, sitemap).await, 200, "{sitemap}");
    }
    app.stop().await;
}

// ---------------------------------------------------------------------------
// Structured data and share cards
// ---------------------------------------------------------------------------

/// Checks an article page's head and share box against the content API; the
/// page and its JSON-LD.
async fn check_article_page(app: &TestApp, article: &Value) -> (String, Vec<Value>) {
    let canonical = article["url"].as_str().unwrap();
    let id = article["id"].as_i64().unwrap();
    let title = article["title"].as_str().unwrap();
    let html = String::from_utf8(document(app, canonical, "text/html").await).unwrap();

    let canonical_links = link_tags(&html, "canonical");
    assert_eq!(canonical_links.len(), 1);
    assert_eq!(canonical_links[0].1, canonical);
    assert_eq!(link_tags(&html, "shortlink")[0].1, app.url(&format!("/n/{id}")));
    assert_eq!(meta(&html, "og:url").as_deref(), Some(canonical), "og:url is the canonical link");
    assert_eq!(meta(&html, "og:title").as_deref(), Some(title));
    assert_eq!(meta(&html, "og:type").as_deref(), Some("article"));
    assert_eq!(meta(&html, "twitter:title").as_deref(), Some(title));
    assert!(["summary", "summary_large_image"].contains(&meta(&html, "twitter:card").unwrap().as_str()));
    let published = meta(&html, "article:published_time").expect("article:published_time");
    assert_eq!(seconds_of(&published), seconds_of(article["published_at"].as_str().unwrap()));
    let modified = meta(&html, "article:modified_time").expect("article:modified_time");
    assert!(seconds_of(&modified) >= seconds_of(&published));

    // The card's image is there, and is an image.
    let image = meta(&html, "og:image").expect("og:image");
    assert!(image.starts_with("http://") || image.starts_with("https://"), "{image}");
    assert_eq!(meta(&html, "twitter:image").as_deref(), Some(image.as_str()));
    let response = app.client.get(&image).send().await.unwrap();
    assert_eq!(response.status(), 200, "{image}");
    let image_type = response.headers()[reqwest::header::CONTENT_TYPE].to_str().unwrap().to_owned();
    assert!(image_type.starts_with("image/"), "{image}: {image_type}");
    assert_eq!(meta(&html, "og:image:type").as_deref(), Some(image_type.as_str()));
    assert!(!response.bytes().await.unwrap().is_empty());

    // Share links: plain anchors carrying the article's addresses.
    let short = app.url(&format!("/n/{id}"));
    let share = |network: &str| -> Vec<(String, String)> {
        let tag = html_tags(&html, "a")
            .into_iter()
            .find(|tag| attribute(tag, "class").as_deref() == Some(&format!("share-{network}")))
            .unwrap_or_else(|| panic!("no {network} share link"));
        let href = attribute(tag, "href").unwrap();
        url::Url::parse(&href)
            .unwrap()
            .query_pairs()
            .map(|(key, value)| (key.into_owned(), value.into_owned()))
            .collect()
    };
    assert_eq!(share("facebook"), vec![("u".to_owned(), canonical.to_owned())]);
    assert_eq!(share("x"), vec![("text".to_owned(), title.to_owned()), ("url".to_owned(), canonical.to_owned())]);
    assert_eq!(share("telegram"), vec![("url".to_owned(), short.clone()), ("text".to_owned(), title.to_owned())]);
    assert_eq!(share("whatsapp"), vec![("text".to_owned(), format!("{title}\n{short}"))]);
    for host in ["https://www.facebook.com/", "https://x.com/", "https://t.me/", "https://wa.me/"] {
        assert!(html.contains(&format!("href=\"{host}")), "{host}");
    }

    // JSON-LD: a NewsArticle and its breadcrumbs.
    let blocks = json_ld(&html);
    assert_eq!(blocks.len(), 2, "{blocks:?}");
    let news = of_type(&blocks, "NewsArticle");
    assert_eq!(news["@context"], "https://schema.org");
    assert_eq!(news["headline"], title);
    let images = news["image"].as_array().expect("image, a list");
    assert!(!images.is_empty() && images.iter().all(|image| !image["url"].as_str().unwrap_or("").is_empty()));
    assert_eq!(seconds_of(news["datePublished"].as_str().unwrap()), seconds_of(&published));
    assert!(seconds_of(news["dateModified"].as_str().unwrap()) >= seconds_of(&published));
    let authors = news["author"].as_array().expect("author, a list");
    assert!(!authors.is_empty());
    for author in authors {
        assert!(!author["name"].as_str().unwrap_or("").is_empty(), "{author}");
    }
    assert_eq!(news["publisher"]["name"], SITE_NAME);
    assert!(!news["publisher"]["logo"]["url"].as_str().unwrap_or("").is_empty(), "{}", news["publisher"]);
    assert_eq!(news["mainEntityOfPage"]["@id"], canonical);
    let crumbs = of_type(&blocks, "BreadcrumbList");
    let items = crumbs["itemListElement"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    for (position, item) in items.iter().enumerate() {
        assert_eq!(item["@type"], "ListItem");
        assert_eq!(item["position"], position + 1);
        assert!(!item["name"].as_str().unwrap_or("").is_empty());
    }
    assert_eq!(items[0]["item"], app.url("/"));
    assert_eq!(items[1]["item"], article["section"]["url"]);
    assert_eq!(items[1]["name"], article["section"]["name"]);
    assert_eq!(items[2]["item"], canonical, "the breadcrumbs end at the canonical URL");
    assert_eq!(items[2]["name"], title);
    (html, blocks)
}

#[tokio::test]
async fn structured_data_and_share_cards() {
    let app = TestApp::builder().demo().config("site_name", &site_toml()).start().await.unwrap();
    let token = app.token().await;

    // A demo article, with bylines.
    let newest = visible_articles(&app, None).await;
    let demo = newest.iter().find(|article| !article["authors"].as_array().unwrap().is_empty()).unwrap();
    let (_, blocks) = check_article_page(&app, demo).await;
    let news = of_type(&blocks, "NewsArticle");
    let names: Vec<&Value> = news["author"].as_array().unwrap().iter().map(|author| &author["name"]).collect();
    let bylines: Vec<&Value> = demo["authors"].as_array().unwrap().iter().map(|author| &author["name"]).collect();
    assert_eq!(names, bylines);

    // Published without a byline, with a headline that would break out of a
    // script element or an attribute if it were not escaped.
    let title = format!("{TRICKY_TITLE} </script><script>alert(1)</script>");
    let (id, _) = publish(
        &app,
        &token,
        json!({"title": title, "body_markdown": "نص الخبر.", "section": "اقتصاد", "status": "published"}),
    )
    .await;
    let article: Value = app.get(&format!("/api/content/articles/{id}")).await.json().await.unwrap();
    assert_eq!(article["title"], title.as_str());
    let (html, blocks) = check_article_page(&app, &article).await;
    let author = &of_type(&blocks, "NewsArticle")["author"][0];
    assert_eq!(author["name"], SITE_NAME, "the newsroom signs what nobody signed");
    assert!(!html.contains("<script>alert(1)"), "the headline is escaped everywhere");

    // An article with a picture of its own: a large card showing it, and
    // the feeds carry it as an enclosure of the right size and type.
    let picture = app.data_dir.path().join("media/demo/card.png");
    image::RgbImage::from_pixel(1200, 630, image::Rgb([180, 40, 40])).save(&picture).unwrap();
    let size = std::fs::metadata(&picture).unwrap().len();
    let caption = "حقول القمح «وقت الحصاد» & البيادر";
    let (id, _) = publish(
        &app,
        &token,
        json!({"title": "موسم الحصاد يبدأ في سهل حوران", "body_markdown": "بدأ الحصاد.", "section": "اقتصاد",
               "status": "published", "featured_image": {"url": "/media/demo/card.png", "caption": caption}}),
    )
    .await;
    let article: Value = app.get(&format!("/api/content/articles/{id}")).await.json().await.unwrap();
    let (html, blocks) = check_article_page(&app, &article).await;
    let picture_url = app.url("/media/demo/card.png");
    assert_eq!(meta(&html, "og:image"), Some(picture_url.clone()));
    assert_eq!(meta(&html, "og:image:type").as_deref(), Some("image/png"));
    assert_eq!(meta(&html, "og:image:width").as_deref(), Some("1200"));
    assert_eq!(meta(&html, "og:image:height").as_deref(), Some("630"));
    assert_eq!(meta(&html, "og:image:alt").as_deref(), Some(caption));
    assert_eq!(meta(&html, "twitter:card").as_deref(), Some("summary_large_image"));
    let image = &of_type(&blocks, "NewsArticle")["image"][0];
    assert_eq!(image["url"], picture_url);
    assert_eq!((image["width"].as_u64(), image["height"].as_u64()), (Some(1200), Some(630)));
    for format in [Format::Rss, Format::Atom] {
        let feed = feedparser(&document(&app, &feed_url(&app, &app.url("/"), format), format.content_type()).await);
        let entry = &feed["entries"][0];
        assert_eq!(entry["id"], app.url(&format!("/n/{id}")));
        assert_eq!(
            entry["enclosures"],
            json!([{"href": picture_url, "length": size.to_string(), "type": "image/png"}]),
            "{format:?}"
        );
    }

    // The home page: who publishes, and how to search.
    let home = String::from_utf8(document(&app, "/", "text/html").await).unwrap();
    let blocks = json_ld(&home);
    let organization = of_type(&blocks, "NewsMediaOrganization");
    assert_eq!(organization["name"], SITE_NAME);
    assert_eq!(organization["url"], app.url("/"));
    assert!(!organization["logo"]["url"].as_str().unwrap_or("").is_empty());
    let website = of_type(&blocks, "WebSite");
    assert_eq!(website["url"], app.url("/"));
    let action = &website["potentialAction"];
    assert_eq!(action["@type"], "SearchAction");
    let template = action["target"]["urlTemplate"].as_str().or(action["target"].as_str()).expect("a urlTemplate");
    assert!(template.contains("{search_term_string}"), "{template}");
    assert!(template.starts_with(&app.url("/search")), "{template}");
    assert_eq!(action["query-input"], "required name=search_term_string");
    let search = template.replace("{search_term_string}", &encoded("المياه"));
    assert_eq!(status(&app, &search).await, 200, "{search}");
    let logo = organization["logo"]["url"].as_str().unwrap();
    assert_eq!(status(&app, logo).await, 200, "{logo}");
    app.stop().await;
}

// ---------------------------------------------------------------------------
// The short link
// ---------------------------------------------------------------------------

#[tokio::test]
async fn short_links_redirect_to_the_canonical_path() {
    let app = TestApp::builder().demo().start().await.unwrap();
    let token = app.token().await;
    let (id, url) = publish(
        &app,
        &token,
        json!({"title": "رابط قصير لخبر عن «المياه» & الطاقة", "body_markdown": "نص.", "section": "اقتصاد",
               "status": "published"}),
    )
    .await;
    for _ in 0..2 {
        // The second time from the cache.
        let response = app.get(&format!("/n/{id}")).await;
        assert_eq!(response.status(), 301);
        let location = response.headers()[reqwest::header::LOCATION].to_str().unwrap().to_owned();
        assert_eq!(location, path_of(&app, &url), "the canonical path");
        assert_eq!(status(&app, &location).await, 200);
    }
    // A new headline, a new slug: the short link follows, the old path too.
    let renamed = update(
        &app,
        &token,
        id,
        json!({"title": "عنوان جديد تماماً لخبر الرابط القصير", "body_markdown": "نص.", "section": "اقتصاد",
               "status": "published"}),
    )
    .await;
    assert_ne!(renamed, url);
    let response = app.get(&format!("/n/{id}")).await;
    assert_eq!(response.status(), 301);
    assert_eq!(response.headers()[reqwest::header::LOCATION], path_of(&app, &renamed));
    let response = app.get(path_of(&app, &url)).await;
    assert_eq!(response.status(), 301);
    assert_eq!(response.headers()[reqwest::header::LOCATION], path_of(&app, &renamed));
    for article in visible_articles(&app, None).await.iter().take(3) {
        let response = app.get(&format!("/n/{}", article["id"])).await;
        assert_eq!(response.status(), 301);
        assert_eq!(response.headers()[reqwest::header::LOCATION], path_of(&app, article["url"].as_str().unwrap()));
    }

    let (draft, _) = publish(
        &app,
        &token,
        json!({"title": "مسودة لم تنشر", "body_markdown": "نص.", "section": "اقتصاد", "status": "draft"}),
    )
    .await;
    let (scheduled, _) = publish(
        &app,
        &token,
        json!({"title": "خبر مجدول", "body_markdown": "نص.", "section": "اقتصاد", "status": "published",
               "published_at": rfc3339_of(now() + 3600)}),
    )
    .await;
    let (deleted, _) = publish(
        &app,
        &token,
        json!({"title": "خبر يحذف", "body_markdown": "نص.", "section": "اقتصاد", "status": "published"}),
    )
    .await;
    assert_eq!(status(&app, &format!("/n/{deleted}")).await, 301);
    delete(&app, &token, deleted).await;
    for path in [
        "/n/999999".to_owned(),
        "/n/abc".to_owned(),
        "/n/0".to_owned(),
        "/n/-1".to_owned(),
        format!("/n/{id}x"),
        format!("/n/{draft}"),
        format!("/n/{scheduled}"),
        format!("/n/{deleted}"),
    ] {
        assert_eq!(status(&app, &path).await, 404, "{path}");
    }
    app.stop().await;
}

// ---------------------------------------------------------------------------
// List pages name their feeds
// ---------------------------------------------------------------------------

#[tokio::test]
async fn list_pages_link_their_own_feeds() {
    let app = TestApp::builder().demo().start().await.unwrap();
    for kind in ["section", "tag", "author"] {
        let list: Value = app.get(&format!("/api/content/{kind}s")).await.json().await.unwrap();
        let item = list.as_array().unwrap().iter().find(|item| item["article_count"].as_i64().unwrap() > 0).unwrap();
        let page_url = item["url"].as_str().unwrap();
        let html = String::from_utf8(document(&app, page_url, "text/html").await).unwrap();
        let alternates = link_tags(&html, "alternate");
        for format in [Format::Rss, Format::Atom] {
            let own = format!("{page_url}/{}", format.file());
            assert!(
                alternates.iter().any(|(link_type, href)| link_type == format.content_type() && *href == own),
                "{page_url}: no {} link to {own} in {alternates:?}",
                format.content_type()
            );
            // The site's feed is offered too.
            let site = app.url(&format!("/{}", format.file()));
            assert!(alternates.iter().any(|(link_type, href)| link_type == format.content_type() && *href == site));
            let bytes = document(&app, &own, format.content_type()).await;
            let feed = feedparser(&bytes);
            assert_eq!(feed["bozo"], 0, "{own}: {}", feed["bozo_exception"]);
            assert_eq!(feed["feed"]["link"], page_url, "{own} points back to its page");
            assert_eq!(
                feed["entries"].as_array().unwrap().len(),
                usize::try_from(item["article_count"].as_i64().unwrap().min(20)).unwrap(),
                "{own}"
            );
        }
    }
    app.stop().await;
}
