//! Arabic-preserving URL slugs.
//!
//! Readers share links in Arabic, so slugs keep Arabic letters instead of transliterating;
//! they are folded so that re-typing a headline with or without diacritics, hamza seats or
//! tatweel gives the same slug. Percent-encoding is left to the URL layer.

use crate::normalize::fold;
use unicode_normalization::char::{decompose_canonical, is_combining_mark};

/// Longest slug in characters (not bytes): long enough to read, short enough that a
/// percent-encoded Arabic slug (up to 6 bytes a letter) stays well under URL length limits.
pub const MAX_SLUG_CHARS: usize = 80;

/// Builds a slug from a title.
///
/// Stable and idempotent, so a slug can be recomputed and compared, and an editor may paste a
/// slug back in as a title. Output has only `[a-z0-9-]` and the Arabic letters U+0621–U+064A;
/// Persian/Urdu letters without an Arabic-alphabet slot are mapped to the nearest Arabic letter
/// (پ -> ب, چ -> ج, ژ -> ز, گ -> ك, ڤ -> ف), Latin letters lose their accents, and anything else
/// separates words. May return "" (a title of only punctuation or emoji); the caller picks a
/// fallback.
pub fn slugify(title: &str) -> String {
    let mut slug = String::with_capacity(title.len());
    let mut pending_separator = false;
    for c in fold(title).chars() {
        match slug_char(c) {
            SlugChar::Keep(k) => {
                if pending_separator && !slug.is_empty() {
                    slug.push('-');
                }
                pending_separator = false;
                slug.push(k);
            }
            SlugChar::Skip => {}
            SlugChar::Separator => pending_separator = true,
        }
    }
    truncate_at_word(slug)
}

enum SlugChar {
    Keep(char),
    /// Leftover combining marks: part of the word, nothing to show.
    Skip,
    Separator,
}

fn slug_char(c: char) -> SlugChar {
    if is_slug_arabic_letter(c) || c.is_ascii_lowercase() || c.is_ascii_digit() {
        return SlugChar::Keep(c);
    }
    if c.is_ascii_uppercase() {
        return SlugChar::Keep(c.to_ascii_lowercase());
    }
    if let Some(mapped) = persian_to_arabic(c) {
        return SlugChar::Keep(mapped);
    }
    if is_combining_mark(c) {
        return SlugChar::Skip;
    }
    match latin_base(c) {
        Some(base) => SlugChar::Keep(base),
        None => SlugChar::Separator,
    }
}

/// The Arabic letters a slug may contain: hamza through yeh, without tatweel (U+0640).
fn is_slug_arabic_letter(c: char) -> bool {
    matches!(c, '\u{0621}'..='\u{063F}' | '\u{0641}'..='\u{064A}')
}

fn persian_to_arabic(c: char) -> Option<char> {
    Some(match c {
        'پ' => 'ب',
        'چ' => 'ج',
        'ژ' => 'ز',
        'گ' | 'ڭ' => 'ك',
        'ڤ' | 'ڥ' => 'ف',
        'ڨ' => 'ق',
        'ۀ' | 'ە' | 'ھ' => 'ه',
        'ے' | 'ې' | 'ۍ' => 'ي',
        'ۆ' | 'ۇ' | 'ۈ' | 'ۋ' | 'ۏ' => 'و',
        _ => return None,
    })
}

/// "é" -> 'e': the ASCII letter a Latin character decomposes to, if it is one plus marks.
fn latin_base(c: char) -> Option<char> {
    let mut base = None;
    let mut ok = true;
    decompose_canonical(c, |d| {
        if base.is_none() {
            base = Some(d);
        } else if !is_combining_mark(d) {
            ok = false;
        }
    });
    let base = base?;
    (ok && base != c && base.is_ascii_alphanumeric()).then(|| base.to_ascii_lowercase())
}

/// Cuts to [`MAX_SLUG_CHARS`], at the last word boundary if there is one in range, so a slug
/// never ends mid-word unless its first word alone is too long.
fn truncate_at_word(slug: String) -> String {
    let Some((cut_byte, _)) = slug.char_indices().nth(MAX_SLUG_CHARS) else {
        return slug;
    };
    let head = slug.get(..cut_byte).unwrap_or_default();
    let at_boundary = slug.get(cut_byte..).is_some_and(|rest| rest.starts_with('-'));
    let cut = if at_boundary {
        head
    } else {
        match head.rfind('-') {
            Some(i) if i > 0 => head.get(..i).unwrap_or(head),
            _ => head,
        }
    };
    cut.trim_end_matches('-').to_owned()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn arabic_titles() {
        assert_eq!(slugify("الرئيسُ يلتقي وزيرَ الخارجية في القاهرة"), "الرئيس-يلتقي-وزير-الخارجيه-في-القاهره");
        assert_eq!(slugify("أسعار النفط تـــرتفع!"), "اسعار-النفط-ترتفع");
        assert_eq!(slugify("«عاجل»: زلزال بقوة ٦٫٢ درجة"), "عاجل-زلزال-بقوه-6-2-درجه");
        assert_eq!(slugify("مؤتمر   —   إلى أين؟"), "مؤتمر-الي-اين");
    }

    #[test]
    fn mixed_and_latin_titles() {
        assert_eq!(slugify("Apple تطلق iPhone 17"), "apple-تطلق-iphone-17");
        assert_eq!(slugify("Café Müller à Paris"), "cafe-muller-a-paris");
        assert_eq!(slugify("COVID-19: ما الجديد؟"), "covid-19-ما-الجديد");
        assert_eq!(slugify("ڤيروس پاکستان"), "فيروس-باكستان");
    }

    #[test]
    fn empty_and_symbol_only_titles() {
        assert_eq!(slugify(""), "");
        assert_eq!(slugify("   "), "");
        assert_eq!(slugify("؟!…🙂"), "");
        assert_eq!(slugify("---"), "");
        assert_eq!(slugify("\u{064E}\u{0640}"), "");
    }

    #[test]
    fn diacritic_variants_share_a_slug() {
        assert_eq!(slugify("مُحَمَّد"), slugify("محمد"));
        assert_eq!(slugify("الأسد"), slugify("الاسد"));
        assert_eq!(slugify("مستشفى"), slugify("مستشفي"));
    }

    #[test]
    fn truncates_at_a_word_boundary() {
        let title = "كلمة ".repeat(40);
        let slug = slugify(&title);
        assert!(slug.chars().count() <= MAX_SLUG_CHARS);
        assert!(slug.split('-').all(|w| w == "كلمه"));
        // 16 words of 4 letters + 15 dashes = 79 chars.
        assert_eq!(slug.chars().count(), 79);

        let one_long_word = "ب".repeat(200);
        assert_eq!(slugify(&one_long_word).chars().count(), MAX_SLUG_CHARS);

        // Exactly at the limit with a word boundary right after.
        let exact = format!("{} {}", "a".repeat(MAX_SLUG_CHARS), "b");
        assert_eq!(slugify(&exact), "a".repeat(MAX_SLUG_CHARS));
    }

    fn percent_encode_path_segment(s: &str) -> String {
        let mut out = String::new();
        for b in s.bytes() {
            if b.is_ascii_alphanumeric() || b == b'-' {
                out.push(char::from(b));
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
        out
    }

    fn is_allowed(c: char) -> bool {
        c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || is_slug_arabic_letter(c)
    }

    proptest! {
        #[test]
        fn stable_idempotent_and_well_formed(title in any::<String>()) {
            let slug = slugify(&title);
            prop_assert_eq!(slugify(&title), slug.clone());
            prop_assert_eq!(slugify(&slug), slug.clone());
            prop_assert!(slug.chars().all(is_allowed), "bad char in {:?}", slug);
            prop_assert!(!slug.starts_with('-') && !slug.ends_with('-'));
            prop_assert!(!slug.contains("--"));
            prop_assert!(slug.chars().count() <= MAX_SLUG_CHARS);
        }

        #[test]
        fn arabic_titles_are_well_formed(
            title in "[\\u{0600}-\\u{06FF}\\u{0750}-\\u{077F}a-zA-Z0-9 \\-_.,!?؟،«»]{0,200}"
        ) {
            let slug = slugify(&title);
            prop_assert_eq!(slugify(&slug), slug.clone());
            prop_assert!(slug.chars().all(is_allowed), "bad char in {:?}", slug);
            prop_assert!(slug.chars().count() <= MAX_SLUG_CHARS);
        }

        #[test]
        fn url_path_safe_after_percent_encoding(title in any::<String>()) {
            let encoded = percent_encode_path_segment(&slugify(&title));
            prop_assert!(encoded
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'%'));
            prop_assert!(encoded != "." && encoded != "..");
            prop_assert!(!encoded.contains('/') && !encoded.contains('?') && !encoded.contains('#'));
        }
    }
}
