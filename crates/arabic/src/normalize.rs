//! Letter folding: the one place that decides which spellings of a word count as "the same".
//!
//! Text is stored as written (NFC); folding is only for comparison (search terms, slugs,
//! banned-word matching, duplicate detection). Arabic writers vary freely in hamza seats on
//! alef, final yeh vs. alef maqsura, teh marbuta vs. heh, diacritics, tatweel, Persian
//! keyboard letters and digit shapes; a reader searching for "الاسد" must find "الأسد".

use unicode_normalization::char::{decompose_compatible, is_combining_mark};
use unicode_normalization::UnicodeNormalization;

/// Folds text for comparison.
///
/// Besides the rules in DESIGN.md it also drops Quranic annotation marks (they are
/// diacritics for our purposes) and invisible format characters (bidi marks, ZWJ/ZWNJ,
/// BOM), because pasted text often carries them and they would make equal words unequal.
///
/// NFC is applied before and after the letter mapping: before, so that decomposed input
/// (alef + combining hamza) folds like precomposed input; after, because removing a mark can
/// unblock a composition, and the result must itself be NFC for `fold` to be idempotent.
pub fn fold(text: &str) -> String {
    let mut mapped = String::with_capacity(text.len());
    for c in text.nfc() {
        if is_presentation_form(c) {
            decompose_compatible(c, |d| push_folded(&mut mapped, d));
        } else {
            push_folded(&mut mapped, c);
        }
    }
    if unicode_normalization::is_nfc(&mapped) {
        mapped
    } else {
        mapped.nfc().collect()
    }
}

/// [`fold`] plus hamza seats on waw and yeh, which the stemmer needs (ؤ -> و, ئ -> ي) but which
/// would be too lossy for slugs.
pub fn fold_for_stemming(text: &str) -> String {
    fold(text)
        .chars()
        .map(|c| match c {
            'ؤ' => 'و',
            'ئ' => 'ي',
            other => other,
        })
        .collect()
}

/// Splits text into word tokens, returning each token's byte offset in `text`.
///
/// Offsets refer to the original (unfolded) text so search highlights can be mapped back to
/// what the writer wrote. A token is a run of letters and digits (any script), carrying along
/// the combining marks and joiners inside it so that "مُحَمَّد" stays one token.
pub fn tokens_with_offsets(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    // (start, end of last letter/digit/mark) of the token being built.
    let mut current: Option<(usize, usize)> = None;
    for (i, c) in text.char_indices() {
        let end = i + c.len_utf8();
        if is_word_base(c) {
            current = Some(match current {
                Some((start, _)) => (start, end),
                None => (i, end),
            });
        } else if is_word_mark(c) {
            // Marks belong to the preceding letter; on their own they start nothing.
            if let Some((start, _)) = current {
                current = Some((start, end));
            }
        } else if is_joiner(c) {
            // Joiners may sit inside a word (Persian-style ZWNJ); they neither start nor end a
            // token, and a trailing one is dropped because the token end only advances on
            // letters and marks.
        } else if let Some((start, stop)) = current.take() {
            push_token(&mut out, text, start, stop);
        }
    }
    if let Some((start, stop)) = current {
        push_token(&mut out, text, start, stop);
    }
    out
}

/// [`tokens_with_offsets`] without the offsets.
pub fn tokens(text: &str) -> Vec<&str> {
    tokens_with_offsets(text).into_iter().map(|(_, token)| token).collect()
}

fn push_token<'a>(out: &mut Vec<(usize, &'a str)>, text: &'a str, start: usize, stop: usize) {
    if let Some(token) = text.get(start..stop) {
        if !token.is_empty() {
            out.push((start, token));
        }
    }
}

/// Letters and digits that can start a token. Unicode counts the harakat as Alphabetic, so
/// marks are excluded here: a stray fatha between spaces is not a word.
fn is_word_base(c: char) -> bool {
    // The common cases first: Unicode's general lookups are slow for
    // non-ASCII letters, and tokenizing is most of indexing.
    if c.is_ascii() {
        return c.is_ascii_alphanumeric();
    }
    if is_basic_arabic_letter(c) {
        return true;
    }
    c.is_alphanumeric() && !is_combining_mark(c)
}

/// Hamza to yeh (U+0621–U+063A, U+0641–U+064A): letters, never marks.
fn is_basic_arabic_letter(c: char) -> bool {
    matches!(c, '\u{0621}'..='\u{063A}' | '\u{0641}'..='\u{064A}')
}

fn is_word_mark(c: char) -> bool {
    if c.is_ascii() || is_basic_arabic_letter(c) {
        return false;
    }
    is_combining_mark(c) || c == '\u{0640}'
}

fn is_joiner(c: char) -> bool {
    matches!(c, '\u{200C}' | '\u{200D}')
}

/// Maps one (NFC) character to its folded form, or drops it.
fn fold_char(c: char) -> Option<char> {
    let folded = match c {
        // Harakat, Quranic annotation signs and superscript alef: pronunciation aids.
        '\u{064B}'..='\u{065F}'
        | '\u{0670}'
        | '\u{0610}'..='\u{061A}'
        | '\u{06D6}'..='\u{06DC}'
        | '\u{06DF}'..='\u{06E4}'
        | '\u{06E7}'..='\u{06E8}'
        | '\u{06EA}'..='\u{06ED}' => return None,
        // Tatweel: typographic stretching only.
        '\u{0640}' => return None,
        // Invisible format characters: bidi marks and controls, ZW(N)J, BOM, soft hyphen.
        '\u{00AD}'
        | '\u{061C}'
        | '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{2069}'
        | '\u{FEFF}' => return None,
        // Alef with hamza above/below, madda, wasla.
        'أ' | 'إ' | 'آ' | 'ٱ' => 'ا',
        'ى' => 'ي',
        'ة' => 'ه',
        // Persian keyboard letters that stand in for Arabic ones.
        'ک' => 'ك',
        'ی' => 'ي',
        'ہ' => 'ه',
        // Arabic-Indic and Persian (Extended Arabic-Indic) digits.
        '\u{0660}'..='\u{0669}' => shift_digit(c, '\u{0660}'),
        '\u{06F0}'..='\u{06F9}' => shift_digit(c, '\u{06F0}'),
        other => other,
    };
    Some(folded)
}

fn shift_digit(c: char, zero: char) -> char {
    let offset = u32::from(c).saturating_sub(u32::from(zero));
    char::from_digit(offset, 10).unwrap_or(c)
}

/// Folds one character and lowercases it (Arabic has no case, so only other scripts change).
fn push_folded(out: &mut String, c: char) {
    if let Some(f) = fold_char(c) {
        out.extend(f.to_lowercase());
    }
}

/// Arabic presentation forms (contextual glyph shapes and ligatures such as "ﻻ" and "ﷺ") come
/// from text copied out of PDFs and old software; they are the same letters, so they fold to
/// their compatibility decomposition. Other compatibility characters (superscripts, full-width
/// Latin) are left alone: NFKC everywhere would change more than comparison needs.
fn is_presentation_form(c: char) -> bool {
    matches!(c, '\u{FB50}'..='\u{FDFF}' | '\u{FE70}'..='\u{FEFF}')
}

/// True for characters a fold never produces.
#[cfg(test)]
pub(crate) fn is_removed_by_fold(c: char) -> bool {
    fold_char(c).is_none()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn removes_harakat_and_tatweel() {
        assert_eq!(fold("مُحَمَّدٌ"), "محمد");
        assert_eq!(fold("كتـــاب"), "كتاب");
        assert_eq!(fold("هٰذا"), "هذا");
        assert_eq!(fold("عِلْمٌ نَافِعٌ"), "علم نافع");
    }

    #[test]
    fn folds_alef_yeh_teh_marbuta() {
        assert_eq!(fold("الأسد"), "الاسد");
        assert_eq!(fold("إسلام"), "اسلام");
        assert_eq!(fold("آمن"), "امن");
        assert_eq!(fold("ٱلله"), "الله");
        assert_eq!(fold("مستشفى"), "مستشفي");
        assert_eq!(fold("مدينة"), "مدينه");
        assert_eq!(fold("إلى"), "الي");
    }

    #[test]
    fn decomposed_hamza_folds_like_precomposed() {
        // alef + combining hamza above / below / madda
        assert_eq!(fold("\u{0627}\u{0654}سد"), fold("أسد"));
        assert_eq!(fold("\u{0627}\u{0655}سلام"), fold("إسلام"));
        assert_eq!(fold("\u{0627}\u{0653}من"), fold("آمن"));
    }

    #[test]
    fn folds_persian_letters_and_digits() {
        assert_eq!(fold("کتاب"), "كتاب");
        assert_eq!(fold("علی"), "علي");
        assert_eq!(fold("ہذا"), "هذا");
        assert_eq!(fold("٢٠٢٦"), "2026");
        assert_eq!(fold("۱۲۳۴۵۶۷۸۹۰"), "1234567890");
        assert_eq!(fold("٠١٢٣٤٥٦٧٨٩"), "0123456789");
    }

    #[test]
    fn folds_presentation_forms() {
        // Isolated/final/initial/medial glyph forms, as pasted from PDFs.
        assert_eq!(fold("\u{FEE3}\u{FEA4}\u{FEE4}\u{FEAA}"), "محمد");
        assert_eq!(fold("\u{FEFB}"), "لا");
        assert_eq!(fold("\u{FEF7}"), "لا"); // lam with alef with hamza above
        assert_eq!(fold("\u{FE8E}\u{FEDF}\u{FE94}"), "اله");
        assert_eq!(fold("ﷲ"), "الله");
        assert_eq!(fold(&fold("ﷺ")), fold("ﷺ"));
    }

    #[test]
    fn lowercases_latin() {
        assert_eq!(fold("BBC عربي"), "bbc عربي");
        assert_eq!(fold("Ünïcode"), "ünïcode");
    }

    #[test]
    fn keeps_hamza_seats_on_waw_and_yeh_unless_stemming() {
        assert_eq!(fold("مؤتمر رئيس"), "مؤتمر رئيس");
        assert_eq!(fold_for_stemming("مؤتمر رئيس"), "موتمر رييس");
        assert_eq!(fold_for_stemming("المُؤتمَرُ"), "الموتمر");
    }

    #[test]
    fn drops_invisible_format_characters() {
        assert_eq!(fold("\u{200F}غزة\u{200E}"), "غزه");
        assert_eq!(fold("\u{FEFF}خبر"), "خبر");
        assert_eq!(fold("می\u{200C}خواهم"), "ميخواهم");
    }

    #[test]
    fn output_is_nfc_even_when_a_removed_mark_was_blocking() {
        // s + hamza below (ccc 220, removed) + dot below (ccc 220): once the hamza is gone the
        // dot below composes with s.
        let folded = fold("s\u{0655}\u{0323}");
        assert_eq!(folded, "\u{1E63}");
        assert_eq!(fold(&folded), folded);
    }

    #[test]
    fn removed_characters_never_survive() {
        let text = "أَهْلًا وَسَهْلًا ـــ \u{200F}";
        assert!(!fold(text).chars().any(is_removed_by_fold));
    }

    #[test]
    fn tokens_keep_original_offsets() {
        let text = "قالَ الرئيسُ، في 2026: «السلام»!";
        let toks = tokens_with_offsets(text);
        let words: Vec<&str> = toks.iter().map(|(_, t)| *t).collect();
        assert_eq!(words, vec!["قالَ", "الرئيسُ", "في", "2026", "السلام"]);
        for (start, tok) in toks {
            assert_eq!(&text[start..start + tok.len()], tok);
        }
    }

    #[test]
    fn tokens_handle_mixed_scripts_digits_and_joiners() {
        assert_eq!(tokens("BBC's ٢٠٢٦ ميخواهم\u{200C} x"), vec!["BBC", "s", "٢٠٢٦", "ميخواهم", "x"]);
        assert_eq!(tokens("می\u{200C}خواهم"), vec!["می\u{200C}خواهم"]);
        assert_eq!(tokens("كتـــاب"), vec!["كتـــاب"]);
        assert!(tokens("").is_empty());
        assert!(tokens(" ،؛ - \u{064E} ").is_empty());
    }

    proptest! {
        #[test]
        fn fold_is_idempotent(s in any::<String>()) {
            let once = fold(&s);
            prop_assert_eq!(fold(&once), once);
        }

        #[test]
        fn fold_is_idempotent_on_arabic(s in "[\\u{0600}-\\u{06FF}\\u{0300}-\\u{036F}a-zA-Z \\u{200C}-\\u{200F}]{0,40}") {
            let once = fold(&s);
            prop_assert_eq!(fold(&once), once.clone());
            let stem_once = fold_for_stemming(&s);
            prop_assert_eq!(fold_for_stemming(&stem_once), stem_once);
        }

        #[test]
        fn tokens_are_slices_at_their_offsets(s in any::<String>()) {
            for (start, tok) in tokens_with_offsets(&s) {
                prop_assert!(!tok.is_empty());
                prop_assert_eq!(s.get(start..start + tok.len()), Some(tok));
            }
        }
    }
}
