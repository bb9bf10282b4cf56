//! Article bodies are written in Markdown and stored twice: the source, for
//! editing, and sanitized HTML, rendered once at write time rather than on
//! every page view.

use pulldown_cmark::{html, Event, Options, Parser};

pub struct RenderedBody {
    pub html: String,
    pub word_count: i64,
}

pub fn render(markdown: &str) -> RenderedBody {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_FOOTNOTES;
    let mut word_count: i64 = 0;
    let events = Parser::new_ext(markdown, options).inspect(|event| {
        match event {
            Event::Text(text) | Event::Code(text) => {
                word_count += i64::try_from(text.split_whitespace().count()).unwrap_or(0);
            }
            // Bodies written (or imported) as HTML count their words too.
            Event::Html(html) | Event::InlineHtml(html) => {
                word_count += i64::try_from(html_text(html).split_whitespace().count()).unwrap_or(0);
            }
            _ => {}
        }
    });
    let mut unsafe_html = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut unsafe_html, events);
    RenderedBody { html: sanitize(&unsafe_html), word_count }
}

/// Writers are trusted less than the page: no script, no event handlers, no
/// inline styles (the CSP forbids them anyway), links that cannot be abused.
pub fn sanitize(html: &str) -> String {
    ammonia::Builder::default()
        .link_rel(Some("noopener noreferrer"))
        .add_generic_attributes(["dir"])
        .clean(html)
        .to_string()
}

/// The words of HTML: tags dropped (each as a space), the entities the
/// sanitizer writes decoded. For counting and search, not for display.
pub fn html_text(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        text.push_str(&rest[..open]);
        text.push(' ');
        match rest[open..].find('>') {
            Some(close) => rest = &rest[open + close + 1..],
            None => rest = "",
        }
    }
    text.push_str(rest);
    if !text.contains('&') {
        return text;
    }
    let mut decoded = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(at) = rest.find('&') {
        decoded.push_str(&rest[..at]);
        let after = &rest[at..];
        let end = after.find(';').filter(|end| *end <= 10);
        let entity = end.map(|end| &after[1..end]);
        let character = match entity {
            Some("amp") => Some('&'),
            Some("lt") => Some('<'),
            Some("gt") => Some('>'),
            Some("quot") => Some('"'),
            Some("apos") => Some('\''),
            Some("nbsp") => Some(' '),
            Some(numeric) if numeric.starts_with('#') => {
                let digits = &numeric[1..];
                let code = match digits.strip_prefix(['x', 'X']) {
                    Some(hex) => u32::from_str_radix(hex, 16).ok(),
                    None => digits.parse::<u32>().ok(),
                };
                code.and_then(char::from_u32)
            }
            _ => None,
        };
        match (character, end) {
            (Some(character), Some(end)) => {
                decoded.push(character);
                rest = &after[end + 1..];
            }
            _ => {
                decoded.push('&');
                rest = &after[1..];
            }
        }
    }
    decoded.push_str(rest);
    decoded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_and_handlers_are_removed() {
        let body = render("مرحبًا <script>alert(1)</script> <img src=x onerror=alert(2)> [رابط](javascript:alert(3))");
        assert!(!body.html.contains("<script"), "{}", body.html);
        assert!(!body.html.contains("onerror"), "{}", body.html);
        assert!(!body.html.contains("javascript:"), "{}", body.html);
        assert!(body.html.contains("مرحبًا"));
    }

    #[test]
    fn html_bodies_count_their_words() {
        let body = render("<p>فقرة <strong>مهمة</strong> جدًا</p>\n<p>ثانية&nbsp;هنا &amp; هناك</p>");
        assert_eq!(body.word_count, 7);
        assert_eq!(html_text("<p>أ&#8230;ب &lt;x&gt;</p>").trim(), "أ…ب <x>");
    }

    #[test]
    fn markdown_becomes_html_and_words_are_counted() {
        let body = render("## عنوان\n\nفقرة **مهمة** جدًا.\n\n> اقتباس قصير");
        assert!(body.html.contains("<h2>عنوان</h2>"), "{}", body.html);
        assert!(body.html.contains("<strong>مهمة</strong>"));
        assert!(body.html.contains("<blockquote>"));
        assert_eq!(body.word_count, 6);
    }
}
