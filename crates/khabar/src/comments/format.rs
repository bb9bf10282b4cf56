//! A comment's text: a small Markdown (bold, italic, links, quotes, line
//! breaks) turned into HTML that cannot run anything. Raw HTML typed by a
//! reader is shown as the text it is; images become their description;
//! everything then goes through ammonia's allowlist, which also marks links
//! as user content nobody vouches for.

use std::collections::HashSet;

use pulldown_cmark::{html, Event, Options, Parser, Tag, TagEnd};

/// Links a comment may carry before it waits for an editor.
pub const LINKS_BEFORE_REVIEW: usize = 2;

pub struct FormattedComment {
    pub html: String,
    pub links: usize,
}

pub fn format(markdown: &str) -> FormattedComment {
    let mut links = 0;
    let mut in_image = 0usize;
    let events = Parser::new_ext(markdown, Options::empty()).filter_map(|event| match event {
        // Typed HTML is text, never markup.
        Event::Html(text) | Event::InlineHtml(text) => Some(Event::Text(text)),
        Event::Start(Tag::Link { .. }) => {
            links += 1;
            Some(event)
        }
        // No images from comments: the description stays, as text.
        Event::Start(Tag::Image { .. }) => {
            in_image += 1;
            None
        }
        Event::End(TagEnd::Image) => {
            in_image = in_image.saturating_sub(1);
            None
        }
        // Headings, lists and code are not part of the subset: their text stays.
        Event::Start(Tag::Heading { .. }) => Some(Event::Start(Tag::Paragraph)),
        Event::End(TagEnd::Heading(_)) => Some(Event::End(TagEnd::Paragraph)),
        Event::Code(text) => Some(Event::Text(text)),
        Event::SoftBreak => Some(Event::HardBreak),
        other if in_image > 0 => match other {
            Event::Text(text) => Some(Event::Text(text)),
            _ => None,
        },
        other => Some(other),
    });
    let mut unsafe_html = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut unsafe_html, events.map(|event| event.into_static()).map(plain_code_blocks));
    FormattedComment { html: sanitize(&unsafe_html), links }
}

/// Code blocks would keep their <pre>; ammonia drops it, the text stays.
fn plain_code_blocks(event: Event<'static>) -> Event<'static> {
    match event {
        Event::Start(Tag::CodeBlock(_)) => Event::Start(Tag::Paragraph),
        Event::End(TagEnd::CodeBlock) => Event::End(TagEnd::Paragraph),
        other => other,
    }
}

/// The allowlist for readers' HTML. Safe to run again on its own output
/// (the result does not change), which the tests check.
pub fn sanitize(html: &str) -> String {
    let tags: HashSet<&str> = ["p", "br", "strong", "em", "a", "blockquote", "ul", "ol", "li"].into_iter().collect();
    let schemes: HashSet<&str> = ["http", "https", "mailto"].into_iter().collect();
    ammonia::Builder::default()
        .tags(tags)
        .generic_attributes(HashSet::new())
        .tag_attributes(std::iter::once(("a", ["href"].into_iter().collect())).collect())
        .url_schemes(schemes)
        .url_relative(ammonia::UrlRelative::Deny)
        .link_rel(Some("nofollow ugc noopener"))
        .clean(html)
        .to_string()
        // The HTML parser drops a byte-order mark at the very start, so one
        // left anywhere else could come first in a second pass: none is kept.
        .replace('\u{feff}', "")
}

/// Text for places that show no markup (emails): the Markdown's words
/// without its marks, whitespace collapsed, cut to `limit` characters.
pub fn plain_excerpt(markdown: &str, limit: usize) -> String {
    let mut words = String::new();
    for event in Parser::new_ext(markdown, Options::empty()) {
        match event {
            Event::Text(text) | Event::Code(text) | Event::Html(text) | Event::InlineHtml(text) => {
                words.push_str(&text)
            }
            Event::SoftBreak | Event::HardBreak | Event::End(_) => words.push(' '),
            _ => {}
        }
    }
    let text: String = words.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() <= limit {
        return text;
    }
    let cut: String = text.chars().take(limit).collect();
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_drop_the_marks_and_keep_the_words() {
        assert_eq!(
            plain_excerpt("نعم، **التفاصيل** في [البيان](https://example.org)\n\n> اقتباس", 100),
            "نعم، التفاصيل في البيان اقتباس"
        );
        assert_eq!(plain_excerpt("<b>نص</b> طويل جدًا", 6), "<b>نص<…");
    }

    #[test]
    fn the_subset_becomes_html() {
        let formatted = format("رأي **مهم** و*لطيف*\nسطر ثان\n\n> اقتباس\n\n[المصدر](https://example.org/a)");
        let html = &formatted.html;
        assert!(html.contains("<strong>مهم</strong>"), "{html}");
        assert!(html.contains("<em>لطيف</em>"), "{html}");
        assert!(html.contains("<br>"), "{html}");
        assert!(html.contains("<blockquote>"), "{html}");
        assert!(html.contains(r#"<a href="https://example.org/a" rel="nofollow ugc noopener">المصدر</a>"#), "{html}");
        assert_eq!(formatted.links, 1);
    }

    #[test]
    fn markup_typed_by_readers_is_text() {
        let html = format("<script>alert(1)</script> <b onclick=x>نص</b>").html;
        assert!(!html.contains("<script"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(!html.contains("<b"), "{html}");
    }

    #[test]
    fn images_and_dangerous_links_do_not_survive() {
        for body in [
            "![صورة](https://example.org/x.png)",
            "[x](javascript:alert(1))",
            "[x](JaVaScRiPt:alert(1))",
            "[x](data:text/html;base64,PHNjcmlwdD4=)",
            "[x](vbscript:msgbox)",
            "<javascript:alert(1)>",
            "[x](/relative)",
        ] {
            let html = format(body).html;
            assert!(!html.contains("<img"), "{body}: {html}");
            assert!(!html.to_ascii_lowercase().contains("href=\"javascript"), "{body}: {html}");
            assert!(!html.contains("href=\"data:"), "{body}: {html}");
            assert!(!html.contains("href=\"vbscript"), "{body}: {html}");
            assert!(!html.contains("href=\"/relative"), "{body}: {html}");
        }
        assert!(format("![وصف الصورة](https://example.org/x.png)").html.contains("وصف الصورة"));
    }

    #[test]
    fn sanitizing_twice_changes_nothing() {
        for body in [
            "**a** _b_ [c](https://x.org/\"><svg onload=alert(1)>)",
            "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
            "> quote\n>> nested <a href=javascript:1>x</a>",
            "plain\u{202e}reversed",
            "[a](https://x.org 'title\" onmouseover=\"alert(1)')",
        ] {
            let once = format(body).html;
            assert_eq!(sanitize(&once), once, "{body}");
        }
    }

    proptest::proptest! {
        /// Whatever a reader types, what we store is a fixed point of the
        /// sanitizer: nothing left that a second pass would still remove.
        #[test]
        fn sanitizing_is_idempotent(body in "(\\PC|[<>\"'=/:&;\\[\\]()*_>!-]){0,200}") {
            let once = format(&body).html;
            proptest::prop_assert_eq!(sanitize(&once), once);
        }

        #[test]
        fn raw_html_is_idempotent_too(html in "(<[a-z]{1,6}( [a-z]{1,8}=\"[^\"]{0,20}\")?>|[^<]{0,10}|</[a-z]{1,6}>){0,12}") {
            let once = sanitize(&html);
            proptest::prop_assert_eq!(sanitize(&once), once);
        }
    }

    #[test]
    fn excerpts_are_cut_on_characters() {
        assert_eq!(plain_excerpt("تعليق   قصير\nجدًا", 100), "تعليق قصير جدًا");
        assert_eq!(plain_excerpt("أبجد هوز", 4), "أبجد…");
    }
}
