//! Writing the XML documents khabar serves (feeds, sitemaps) through one
//! writer, so every text and attribute is escaped exactly once.

use quick_xml::events::{BytesDecl, BytesText, Event};
use quick_xml::Writer;

pub type XmlWriter = Writer<Vec<u8>>;

/// A writer that has already written the `<?xml ... UTF-8?>` declaration.
pub fn document() -> XmlWriter {
    let mut writer = Writer::new_with_indent(Vec::new(), b' ', 1);
    // Writing into a Vec cannot fail.
    let _ = writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)));
    writer
}

pub fn finish(writer: XmlWriter) -> String {
    let mut bytes = writer.into_inner();
    bytes.push(b'\n');
    // Everything written came from `&str`, so this never loses anything.
    String::from_utf8(bytes).unwrap_or_else(|error| String::from_utf8_lossy(error.as_bytes()).into_owned())
}

/// Text as XML 1.0 allows it: control characters other than tab and line
/// breaks (an imported title may carry one) would make the whole document
/// unreadable to a strict parser, so they are dropped.
pub fn clean(text: &str) -> String {
    text.chars()
        .filter(|character| {
            matches!(character, '\t' | '\n' | '\r')
                || (!character.is_control() && !matches!(character, '\u{FFFE}' | '\u{FFFF}'))
        })
        .collect()
}

/// `<name>text</name>`.
pub fn text_element(writer: &mut XmlWriter, name: &str, text: &str) -> std::io::Result<()> {
    let text = clean(text);
    writer.create_element(name).write_text_content(BytesText::new(&text))?;
    Ok(())
}

/// A moment as RFC 3339 in UTC (Atom, sitemaps).
pub fn rfc3339(seconds: i64) -> String {
    jiff::Timestamp::from_second(seconds).unwrap_or(jiff::Timestamp::UNIX_EPOCH).to_string()
}

/// A moment as RFC 822 (RFC 2822) in UTC, as RSS 2.0 wants it.
pub fn rfc822(seconds: i64) -> String {
    let zoned =
        jiff::Timestamp::from_second(seconds).unwrap_or(jiff::Timestamp::UNIX_EPOCH).to_zoned(jiff::tz::TimeZone::UTC);
    jiff::fmt::rfc2822::to_string(&zoned).unwrap_or_default()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_both_formats() {
        assert_eq!(rfc3339(1_796_000_000), "2026-11-30T00:53:20Z");
        assert_eq!(rfc822(1_796_000_000), "Mon, 30 Nov 2026 00:53:20 +0000");
    }

    #[test]
    fn text_is_escaped_once_and_control_characters_dropped() {
        let mut writer = document();
        text_element(&mut writer, "title", "«الأسعار» & <الأجور>\u{0008}").unwrap();
        let xml = finish(writer);
        assert!(xml.contains("<title>«الأسعار» &amp; &lt;الأجور&gt;</title>"), "{xml}");
    }
}
