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
        if let Event::Text(text) | Event::Code(text) = event {
            word_count += i64::try_from(text.split_whitespace().count()).unwrap_or(0);
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
    fn markdown_becomes_html_and_words_are_counted() {
        let body = render("## عنوان\n\nفقرة **مهمة** جدًا.\n\n> اقتباس قصير");
        assert!(body.html.contains("<h2>عنوان</h2>"), "{}", body.html);
        assert!(body.html.contains("<strong>مهمة</strong>"));
        assert!(body.html.contains("<blockquote>"));
        assert_eq!(body.word_count, 6);
    }
}
