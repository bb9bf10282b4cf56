//! WordPress's HTML, classic or block editor, as khabar stores an article:
//! block comments removed, `[caption]` shortcodes turned into figures,
//! embeds into plain links, loose text into paragraphs the way WordPress's
//! `wpautop` shows it, images pointed at the media library, links to the old
//! site made relative (so its redirects answer them), and everything through
//! the editor's own sanitizer.
//!
//! The result is stored as the article's Markdown too: CommonMark passes an
//! HTML block through untouched, so the editor opens it, renders the same
//! page, and a writer may go on in Markdown below it.

use std::collections::HashMap;

/// Tags that start a block of their own; anything else is wrapped in a paragraph.
const BLOCK_TAGS: &[&str] = &[
    "p",
    "div",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
    "li",
    "blockquote",
    "figure",
    "figcaption",
    "table",
    "thead",
    "tbody",
    "tr",
    "td",
    "th",
    "pre",
    "hr",
    "dl",
    "dt",
    "dd",
    "section",
    "article",
    "aside",
    "header",
    "footer",
    "nav",
    "address",
    "form",
    "fieldset",
    "iframe",
    "script",
    "style",
    "noscript",
    "details",
    "summary",
    "audio",
    "video",
    "object",
    "embed",
];

/// Old image addresses (the part after `/wp-content/uploads/`) and where the
/// import put them; the old site's base URLs, whose links become relative.
#[derive(Debug, Default, Clone)]
pub struct Rewrites {
    pub images: HashMap<String, String>,
    pub site_urls: Vec<String>,
}

impl Rewrites {
    /// The library path of an old image address, trying WordPress's resized
    /// copies (`name-800x533.jpg`) as their original.
    pub fn image(&self, url: &str) -> Option<&String> {
        let key = upload_key(url)?;
        self.images.get(&key).or_else(|| self.images.get(&without_size_suffix(&key)))
    }
}

/// `https://site/wp-content/uploads/2024/05/a.jpg?x` → `2024/05/a.jpg`.
pub fn upload_key(url: &str) -> Option<String> {
    let at = url.find("/wp-content/uploads/")?;
    let rest = &url[at + "/wp-content/uploads/".len()..];
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    let decoded = percent_encoding::percent_decode_str(rest).decode_utf8().ok()?;
    (!decoded.is_empty()).then(|| decoded.into_owned())
}

/// `2024/05/a-800x533.jpg` → `2024/05/a.jpg`.
pub fn without_size_suffix(key: &str) -> String {
    let Some((stem, extension)) = key.rsplit_once('.') else { return key.to_owned() };
    if let Some((name, size)) = stem.rsplit_once('-') {
        if let Some((width, height)) = size.split_once('x') {
            if !width.is_empty()
                && !height.is_empty()
                && width.bytes().all(|byte| byte.is_ascii_digit())
                && height.bytes().all(|byte| byte.is_ascii_digit())
            {
                return format!("{name}.{extension}");
            }
        }
    }
    key.to_owned()
}

/// Every old upload an article's HTML shows (`src` attributes), as keys.
pub fn image_keys(raw: &str) -> Vec<String> {
    attribute_values(raw, "src").into_iter().filter_map(|url| upload_key(&url)).collect()
}

fn attribute_values(html: &str, name: &str) -> Vec<String> {
    let mut values = Vec::new();
    for quote in ['"', '\''] {
        let marker = format!("{name}={quote}");
        let mut rest = html;
        while let Some(at) = rest.find(&marker) {
            let after = &rest[at + marker.len()..];
            let end = after.find(quote).unwrap_or(after.len());
            values.push(after[..end].to_owned());
            rest = &after[end..];
        }
    }
    values
}

/// An article or page body, converted and sanitized.
pub fn post_html(raw: &str, rewrites: &Rewrites) -> String {
    let text = embeds_as_links(raw);
    let text = without_comments(&text);
    let text = captions_as_figures(&text);
    let text = embed_shortcodes_as_links(&text);
    let text = paragraphs(&text);
    let text = rewrite_urls(&text, rewrites);
    let clean = crate::articles::markdown::sanitize(&text);
    one_html_block(&clean)
}

/// A comment's body: WordPress keeps a little HTML (links, emphasis) and
/// plain line breaks; khabar's comment allowlist decides what stays.
pub fn comment_html(raw: &str) -> String {
    let raw = raw.trim();
    if !raw.contains(['<', '&']) {
        // Nothing to parse: escaping and paragraphs are all there is to do.
        let escaped = crate::templates::escape_html(raw);
        return paragraphs(&escaped).replace("\n\n", "\n");
    }
    crate::comments::format::sanitize(&paragraphs(raw)).replace("\n\n", "\n")
}

/// An excerpt or title as plain text: tags dropped, entities decoded, spaces collapsed.
pub fn plain(html: &str) -> String {
    let text = crate::articles::markdown::html_text(html);
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `<!-- wp:embed {"url":…} -->…<!-- /wp:embed -->` (and the older
/// `core-embed/…` blocks) become a link: no third-party frames or scripts.
fn embeds_as_links(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    loop {
        let next = ["<!-- wp:embed", "<!-- wp:core-embed/"].iter().filter_map(|marker| rest.find(marker)).min();
        let Some(start) = next else { break };
        let Some(head_end) = rest[start..].find("-->").map(|end| start + end + 3) else { break };
        let head = &rest[start..head_end];
        let attributes = head.find('{').and_then(|open| head.rfind('}').map(|close| &head[open..=close]));
        let url = attributes
            .and_then(|json| serde_json::from_str::<serde_json::Value>(json).ok())
            .and_then(|value| value.get("url").and_then(|url| url.as_str()).map(str::to_owned));
        let closing = ["<!-- /wp:embed -->", "<!-- /wp:core-embed/"]
            .iter()
            .filter_map(|marker| rest[head_end..].find(marker).map(|at| head_end + at))
            .min();
        match (url, closing) {
            (Some(url), Some(close)) => {
                let close_end = rest[close..].find("-->").map_or(rest.len(), |end| close + end + 3);
                out.push_str(&rest[..start]);
                out.push_str(&link_paragraph(&url));
                rest = &rest[close_end..];
            }
            _ => {
                out.push_str(&rest[..head_end]);
                rest = &rest[head_end..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn link_paragraph(url: &str) -> String {
    let url = crate::templates::escape_html(url.trim());
    format!("\n\n<p><a href=\"{url}\">{url}</a></p>\n\n")
}

/// Drops HTML comments: block delimiters, `<!--more-->`, `<!--nextpage-->`.
fn without_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("<!--") {
        out.push_str(&rest[..start]);
        match rest[start..].find("-->") {
            Some(end) => rest = &rest[start + end + 3..],
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// `[caption id="…" …]<img …> the caption[/caption]` → a figure with its caption.
fn captions_as_figures(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("[caption") {
        let Some(open_end) = rest[start..].find(']').map(|end| start + end + 1) else { break };
        let Some(close) = rest[open_end..].find("[/caption]").map(|at| open_end + at) else { break };
        let attributes = &rest[start..open_end];
        let inner = rest[open_end..close].trim();
        let media_end = if inner.starts_with("<a") {
            inner.find("</a>").map(|end| end + 4)
        } else if inner.starts_with("<img") {
            inner.find('>').map(|end| end + 1)
        } else {
            None
        };
        let (media, mut caption) = match media_end {
            Some(end) => (&inner[..end], inner[end..].trim().to_owned()),
            None => (inner, String::new()),
        };
        if caption.is_empty() {
            caption = attribute_values(attributes, "caption").into_iter().next().unwrap_or_default();
        }
        out.push_str(&rest[..start]);
        out.push_str("\n\n<figure>");
        out.push_str(media);
        if !caption.is_empty() {
            out.push_str("<figcaption>");
            out.push_str(&caption);
            out.push_str("</figcaption>");
        }
        out.push_str("</figure>\n\n");
        rest = &rest[close + "[/caption]".len()..];
    }
    out.push_str(rest);
    out
}

/// `[embed]https://…[/embed]` → a link.
fn embed_shortcodes_as_links(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("[embed") {
        let Some(open_end) = rest[start..].find(']').map(|end| start + end + 1) else { break };
        let Some(close) = rest[open_end..].find("[/embed]").map(|at| open_end + at) else { break };
        out.push_str(&rest[..start]);
        out.push_str(&link_paragraph(&rest[open_end..close]));
        rest = &rest[close + "[/embed]".len()..];
    }
    out.push_str(rest);
    out
}

fn starts_with_block_tag(chunk: &str) -> bool {
    let Some(after) = chunk.strip_prefix('<') else { return false };
    let name: String = after.chars().take_while(|character| character.is_ascii_alphanumeric()).collect();
    BLOCK_TAGS.contains(&name.to_ascii_lowercase().as_str())
}

/// What `wpautop` does, in short: text between blank lines is a paragraph
/// (its single line breaks kept), blocks stay as they are, a URL alone is a link.
fn paragraphs(text: &str) -> String {
    let normalized = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut out = String::with_capacity(normalized.len() + 64);
    let mut chunk = String::new();
    let flush = |chunk: &mut String, out: &mut String| {
        let trimmed = chunk.trim();
        if !trimmed.is_empty() {
            if !out.is_empty() {
                out.push_str("\n\n");
            }
            if starts_with_block_tag(trimmed) {
                out.push_str(trimmed);
            } else if (trimmed.starts_with("https://") || trimmed.starts_with("http://"))
                && !trimmed.contains(char::is_whitespace)
            {
                out.push_str(link_paragraph(trimmed).trim());
            } else {
                out.push_str("<p>");
                out.push_str(&trimmed.lines().map(str::trim_end).collect::<Vec<_>>().join("<br>\n"));
                out.push_str("</p>");
            }
        }
        chunk.clear();
    };
    for line in normalized.lines() {
        if line.trim().is_empty() {
            flush(&mut chunk, &mut out);
        } else {
            chunk.push_str(line);
            chunk.push('\n');
        }
    }
    flush(&mut chunk, &mut out);
    out
}

/// Images from the library, links to the old site relative.
fn rewrite_urls(text: &str, rewrites: &Rewrites) -> String {
    let mut out = text.to_owned();
    for url in attribute_values(text, "src") {
        if let Some(path) = rewrites.image(&url) {
            out = out.replace(&format!("src=\"{url}\""), &format!("src=\"{path}\""));
            out = out.replace(&format!("src='{url}'"), &format!("src=\"{path}\""));
        }
    }
    for base in &rewrites.site_urls {
        let base = base.trim_end_matches('/');
        if base.is_empty() {
            continue;
        }
        out = out.replace(&format!("href=\"{base}/"), "href=\"/");
        out = out.replace(&format!("href='{base}/"), "href='/");
    }
    out
}

/// No blank line inside: CommonMark then reads the whole body as one HTML
/// block and passes it through as it is.
fn one_html_block(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    for line in html.lines() {
        if line.trim().is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(line);
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn rewrites() -> Rewrites {
        let mut rewrites = Rewrites { site_urls: vec!["https://akhbar.example".into()], ..Rewrites::default() };
        rewrites.images.insert("2024/05/market.jpg".into(), "/media/uploads/2026/01/abc.jpg".into());
        rewrites
    }

    #[test]
    fn block_markup_becomes_plain_html() {
        let raw = "<!-- wp:paragraph -->\n<p>فقرة أولى</p>\n<!-- /wp:paragraph -->\n\n<!-- wp:heading {\"level\":3} -->\n<h3 class=\"wp-block-heading\">عنوان</h3>\n<!-- /wp:heading -->\n\n<!-- wp:embed {\"url\":\"https://www.youtube.com/watch?v=Qm3fT8vLx2A\",\"type\":\"video\"} -->\n<figure class=\"wp-block-embed\"><div class=\"wp-block-embed__wrapper\">\nhttps://www.youtube.com/watch?v=Qm3fT8vLx2A\n</div></figure>\n<!-- /wp:embed -->";
        let html = post_html(raw, &rewrites());
        assert!(!html.contains("wp:"), "{html}");
        assert!(html.contains("<p>فقرة أولى</p>"), "{html}");
        assert!(html.contains("<h3>عنوان</h3>"), "{html}");
        assert!(html.contains("<a href=\"https://www.youtube.com/watch?v=Qm3fT8vLx2A\""), "{html}");
        assert!(!html.contains("<iframe"), "{html}");
        assert!(!html.contains("\n\n"), "one HTML block: {html}");
        let rendered = crate::articles::markdown::render(&html);
        assert_eq!(rendered.html.trim(), html.trim(), "the editor renders the stored body as it is");
    }

    #[test]
    fn captions_become_figures_and_images_come_from_the_library() {
        let raw = "[caption id=\"attachment_202\" align=\"aligncenter\" width=\"800\"]<img class=\"size-full\" src=\"https://akhbar.example/wp-content/uploads/2024/05/market-800x533.jpg\" alt=\"مظلات\" width=\"800\" height=\"533\" /> البسطات عادت[/caption]\n\nنص الخبر.";
        let html = post_html(raw, &rewrites());
        assert!(html.contains("<figure><img src=\"/media/uploads/2026/01/abc.jpg\""), "{html}");
        assert!(html.contains("<figcaption>البسطات عادت</figcaption></figure>"), "{html}");
        assert!(html.contains("<p>نص الخبر.</p>"), "{html}");
    }

    #[test]
    fn classic_text_gets_paragraphs_and_unsafe_markup_goes() {
        let raw = "سطر أول\nسطر ثان\n\n<!--more-->\n\nفقرة <a href=\"https://akhbar.example/x/\" onclick=\"steal()\">رابط</a> و<a href=\"javascript:alert(2)\">آخر</a>&nbsp;هنا\n<script>alert(1)</script>";
        let html = post_html(raw, &rewrites());
        assert!(html.contains("<p>سطر أول<br>\nسطر ثان</p>"), "{html}");
        assert!(html.contains("href=\"/x/\""), "{html}");
        assert!(!html.contains("onclick") && !html.contains("javascript:") && !html.contains("<script"), "{html}");
    }

    #[test]
    fn comments_keep_links_and_line_breaks() {
        let html = comment_html("أخيرا!\nهل من خريطة؟ <a href=\"https://x.example/\" rel=\"nofollow ugc\">خريطة</a>");
        assert!(html.contains("<br>"), "{html}");
        assert!(html.contains("rel=\"nofollow ugc noopener\""), "{html}");
        assert_eq!(comment_html("[&#8230;] وكتب"), "<p>[…] وكتب</p>");
        assert_eq!(comment_html("نص <بسيط>"), "<p>نص &lt;بسيط&gt;</p>");
        assert_eq!(comment_html("أ\n\nب"), "<p>أ</p>\n<p>ب</p>");
    }

    #[test]
    fn upload_keys_and_resized_copies() {
        assert_eq!(
            upload_key("https://a.example/wp-content/uploads/2024/05/x.jpg?v=2").as_deref(),
            Some("2024/05/x.jpg")
        );
        assert_eq!(without_size_suffix("2024/05/a-b-800x533.jpg"), "2024/05/a-b.jpg");
        assert_eq!(without_size_suffix("2024/05/a-b.jpg"), "2024/05/a-b.jpg");
    }
}
