//! A light stemmer for the search analyzer: strip clitic prefixes and common suffixes so that
//! "والمفاوضات", "المفاوضات" and "مفاوضات" meet in one index term.
//!
//! Light (affix-stripping) stemming is the approach that works best for Arabic retrieval;
//! root extraction conflates too much. Snowball's Arabic stemmer (the one tantivy ships) leaves
//! "وال" on, so this is our own, modelled on Larkey et al.'s "light10". Where a rule is unsure
//! it leaves letters on: a missed conflation costs a little recall (and the unstemmed field
//! still matches exactly), a wrong one puts unrelated articles in the results.
//!
//! Input is one word already passed through
//! [`fold_for_stemming`](crate::normalize::fold_for_stemming), so teh marbuta is heh, alef
//! hamza seats are bare alef, and so on.

/// Article-bearing prefixes, longest first; at most one is stripped from a word.
const ARTICLE_PREFIXES: [&str; 6] = ["وال", "بال", "كال", "فال", "لل", "ال"];

/// Suffixes in the order they are tried, each once, so "مفاوضاتها" loses "ها" then "ات". This
/// is light10's list with the pronoun "ه" moved before the plural endings, so "مفاوضاته" also
/// reaches "مفاوض"; "يه" (folded "ية") then only matters when no "ه" came off.
const SUFFIXES: [&str; 8] = ["ها", "ه", "ان", "ات", "ون", "ين", "يه", "ي"];

/// The least a word may keep after "ال" or "لل": "الدم" -> "دم" is right.
const MIN_AFTER_SHORT_ARTICLE: usize = 2;
/// The least a word may keep after "وال", "بال", "كال", "فال": "والده" (his father) is not
/// "و" + "ال" + "ده".
const MIN_AFTER_LONG_ARTICLE: usize = 3;
/// The least a word may keep after the conjunction "و" (light10's rule).
const MIN_AFTER_WAW: usize = 3;
/// The least a word may keep after a suffix: two-letter remainders after a suffix are nearly
/// always a broken root ("دمها" stays).
const MIN_AFTER_SUFFIX: usize = 3;

/// Stems one folded word.
///
/// Only words made entirely of Arabic letters are stemmed; Latin words, numbers and mixed
/// tokens come back unchanged. The result is never empty for non-empty input, never longer
/// than the input, and a word of three letters or fewer is returned as is.
///
/// The one-letter prepositions "ب" "ك" "ل" and the conjunction "ف" come off only together
/// with the article ("بال", "كال", "لل", "فال"). Alone they are left on: they also begin a
/// great many words (كتاب, بيان, لبنان, فلسطين), and any length threshold for stripping them
/// makes short and long forms of one word disagree ("لاعب" vs "لاعبان" -> "اعب"), which costs
/// more than missing "بلبنان" ~ "لبنان". light10 likewise strips only "و" on its own.
///
/// The conjunction "و" is stripped wherever it stands before or after the article, repeatedly:
/// that makes `stem("و" + w) == stem(w)` and `stem("ال" + w) == stem(w)` even where "و" is
/// really a root letter ("وزير", "الوزير", "ووزير" all give "زير").
pub fn stem(folded_word: &str) -> String {
    let chars: Vec<char> = folded_word.chars().collect();
    if chars.len() <= 3 || !chars.iter().all(|&c| is_arabic_letter(c)) {
        return folded_word.to_owned();
    }
    let mut word: &[char] = &chars;

    let mut article_done = false;
    loop {
        if !article_done {
            if let Some(rest) = strip_article(word) {
                word = rest;
                article_done = true;
                continue;
            }
        }
        match strip_waw(word) {
            Some(rest) => word = rest,
            None => break,
        }
    }

    for suffix in SUFFIXES {
        if let Some(rest) = strip_suffix(word, suffix) {
            word = rest;
        }
    }

    word.iter().collect()
}

fn strip_article(word: &[char]) -> Option<&[char]> {
    ARTICLE_PREFIXES.iter().find_map(|prefix| {
        let rest = strip_prefix(word, prefix)?;
        let min = if prefix.chars().count() == 2 { MIN_AFTER_SHORT_ARTICLE } else { MIN_AFTER_LONG_ARTICLE };
        (rest.len() >= min).then_some(rest)
    })
}

fn strip_waw(word: &[char]) -> Option<&[char]> {
    let rest = word.strip_prefix(&['و'])?;
    // "و" directly before "ال" would have been taken with it as "وال"; if that failed the
    // word is too short for it, so this "و" is part of the root (والد, والي).
    if rest.len() < MIN_AFTER_WAW || rest.starts_with(&['ا', 'ل']) {
        return None;
    }
    Some(rest)
}

fn strip_prefix<'a>(word: &'a [char], prefix: &str) -> Option<&'a [char]> {
    let n = prefix.chars().count();
    let head = word.get(..n)?;
    if head.iter().copied().eq(prefix.chars()) {
        word.get(n..)
    } else {
        None
    }
}

fn strip_suffix<'a>(word: &'a [char], suffix: &str) -> Option<&'a [char]> {
    let n = suffix.chars().count();
    let keep = word.len().checked_sub(n)?;
    if keep < MIN_AFTER_SUFFIX {
        return None;
    }
    let tail = word.get(keep..)?;
    if tail.iter().copied().eq(suffix.chars()) {
        word.get(..keep)
    } else {
        None
    }
}

fn is_arabic_letter(c: char) -> bool {
    matches!(c, '\u{0621}'..='\u{063F}' | '\u{0641}'..='\u{064A}')
}

/// Sorted so lookups can binary-search; every entry is in `fold_for_stemming` form (checked by
/// a test), which is what the analyzer passes in.
const STOPWORDS: [&str; 134] = [
    "اثناء",
    "اذ",
    "اذا",
    "الا",
    "التي",
    "الذي",
    "الذين",
    "اللاتي",
    "اللتان",
    "اللتين",
    "اللذان",
    "اللذين",
    "الي",
    "اليه",
    "اليها",
    "ام",
    "اما",
    "امام",
    "ان",
    "انا",
    "انت",
    "انتم",
    "انتما",
    "انتن",
    "انما",
    "انه",
    "انها",
    "او",
    "اوليك",
    "اي",
    "ايضا",
    "اين",
    "بان",
    "بانه",
    "بعد",
    "بعدما",
    "بعض",
    "بل",
    "به",
    "بها",
    "بين",
    "تحت",
    "تلك",
    "تم",
    "ثم",
    "حتي",
    "حول",
    "حيث",
    "حين",
    "خلال",
    "دون",
    "ذلك",
    "ذو",
    "ذي",
    "سوف",
    "ضد",
    "عبر",
    "علي",
    "عليه",
    "عليها",
    "عليهم",
    "عن",
    "عند",
    "عندما",
    "غير",
    "فان",
    "فقد",
    "فقط",
    "فهو",
    "في",
    "فيه",
    "فيها",
    "قبل",
    "قد",
    "كان",
    "كانت",
    "كذلك",
    "كل",
    "كلا",
    "كما",
    "كي",
    "كيف",
    "لا",
    "لان",
    "لدي",
    "لديه",
    "لذلك",
    "لقد",
    "لكن",
    "لكي",
    "لم",
    "لما",
    "لن",
    "له",
    "لها",
    "لهم",
    "لو",
    "لولا",
    "ليس",
    "ليست",
    "ما",
    "مثل",
    "مع",
    "من",
    "منذ",
    "منه",
    "منها",
    "منهم",
    "نحن",
    "نحو",
    "هذا",
    "هذان",
    "هذه",
    "هذين",
    "هل",
    "هم",
    "هما",
    "هن",
    "هنا",
    "هناك",
    "هو",
    "هولاء",
    "هي",
    "وان",
    "وفي",
    "وقد",
    "وكان",
    "ولا",
    "ولم",
    "وما",
    "ومن",
    "وهو",
    "وهي",
    "يكون",
];

/// True for function words that carry no search meaning on their own. They are dropped from
/// the stemmed field only; phrase search uses the unstemmed field, so "في غزة" still matches
/// as a phrase.
pub fn is_stopword(folded_word: &str) -> bool {
    STOPWORDS.binary_search(&folded_word).is_ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::normalize::fold_for_stemming;
    use proptest::prelude::*;

    fn s(word: &str) -> String {
        stem(&fold_for_stemming(word))
    }

    fn assert_same_stem(words: &[&str]) {
        let first = s(words[0]);
        for w in words {
            assert_eq!(s(w), first, "{w} should stem like {}", words[0]);
        }
    }

    #[test]
    fn brief_examples() {
        assert_same_stem(&["والمفاوضات", "مفاوضات", "المفاوضات"]);
        assert_eq!(s("والمفاوضات"), "مفاوض");
        assert_same_stem(&["بالمدينة", "مدينة", "المدينة"]);
        assert_eq!(s("المدينة"), "مدين");
        assert_same_stem(&["الأسد", "الاسد"]);
    }

    #[test]
    fn article_prefixes() {
        assert_same_stem(&["الكتاب", "والكتاب", "بالكتاب", "كالكتاب", "فالكتاب", "كتاب"]);
        assert_same_stem(&["للحكومة", "الحكومة", "حكومة", "والحكومة"]);
        assert_eq!(s("الدم"), "دم");
        assert_eq!(s("للبيت"), "بيت");
    }

    #[test]
    fn waw_prefix() {
        assert_same_stem(&["وكتاب", "كتاب"]);
        assert_same_stem(&["وبالمدينة", "المدينة"]);
        assert_same_stem(&["ومصر", "مصر"]);
        assert_same_stem(&["الوزير", "وزير", "والوزير", "ووزير", "بالوزير"]);
        assert_same_stem(&["الوطن", "وطن", "والوطن"]);
        assert_eq!(s("الوزير"), "زير");
    }

    #[test]
    fn one_letter_prepositions_stay_on() {
        // Left on deliberately: see `stem`'s docs.
        assert_eq!(s("بلبنان"), "بلبن");
        assert_eq!(s("بمشاركة"), "بمشارك");
        assert_same_stem(&["لاعبان", "لاعبين", "اللاعب", "لاعب"]);
        assert_same_stem(&["كتابه", "كتاب", "وكتابه", "الكتاب"]);
        assert_same_stem(&["برلمان", "البرلمان", "للبرلمان"]);
    }

    #[test]
    fn suffixes() {
        assert_same_stem(&["مفاوضاتها", "مفاوضات", "مفاوضاته", "ومفاوضاتها"]);
        assert_same_stem(&["الأمريكية", "أمريكي", "الأمريكي"]);
        assert_same_stem(&["المعلمون", "معلمين", "المعلمين"]);
        assert_eq!(s("بيتها"), "بيت");
        assert_eq!(s("صحفيون"), "صحف");
        assert_eq!(s("رئيسية"), "رييس");
        assert_eq!(s("المؤتمر"), "موتمر");
    }

    #[test]
    fn does_not_over_strip() {
        // Three letters or fewer: untouched.
        for w in ["بيت", "علي", "كتب", "لله", "الم", "ولد", "سنة", "يده", "في", "و"] {
            assert_eq!(s(w), fold_for_stemming(w), "{w}");
        }
        // Root letters that look like particles.
        assert_eq!(s("كتاب"), "كتاب");
        assert_eq!(s("بيان"), "بيان");
        assert_eq!(s("لندن"), "لندن");
        assert_eq!(s("فرنسا"), "فرنسا");
        assert_eq!(s("والد"), "والد");
        assert_eq!(s("والده"), "والد");
        // Never below two letters; two-letter remainders only after an article.
        assert_eq!(s("دمها"), "دمها");
        assert_eq!(s("الي"), "الي");
        assert_eq!(s("لها"), "لها");
    }

    #[test]
    fn non_arabic_words_pass_through() {
        for w in ["covid", "2026", "g20", "bbcعربي", "", "x"] {
            assert_eq!(stem(w), w);
        }
    }

    #[test]
    fn stopwords() {
        for w in [
            "في",
            "من",
            "على",
            "إلى",
            "عن",
            "أن",
            "إن",
            "ما",
            "لا",
            "هذا",
            "هذه",
            "ذلك",
            "التي",
            "الذي",
            "حتى",
            "أيضاً",
            "لدى",
        ] {
            assert!(is_stopword(&fold_for_stemming(w)), "{w}");
        }
        for w in ["غزة", "الرئيس", "مفاوضات", "قال", ""] {
            assert!(!is_stopword(&fold_for_stemming(w)), "{w}");
        }
    }

    #[test]
    fn stopword_list_is_sorted_unique_and_folded() {
        for pair in STOPWORDS.windows(2) {
            assert!(pair[0] < pair[1], "{} !< {}", pair[0], pair[1]);
        }
        for w in STOPWORDS {
            assert_eq!(fold_for_stemming(w), w);
        }
    }

    proptest! {
        #[test]
        fn never_panics_on_anything(w in any::<String>()) {
            let _ = stem(&w);
            let _ = is_stopword(&w);
        }

        #[test]
        fn never_longer_never_empty(w in "[\\u{0621}-\\u{064A}]{0,12}") {
            let out = stem(&w);
            prop_assert!(out.chars().count() <= w.chars().count());
            prop_assert_eq!(out.is_empty(), w.is_empty());
            if !w.is_empty() {
                prop_assert!(out.chars().count() >= w.chars().count().min(2));
            }
        }

        #[test]
        fn is_a_substring_of_the_input(w in "[ابتلهوينفكد]{0,10}") {
            let out = stem(&w);
            prop_assert!(w.contains(&out));
        }

        #[test]
        fn article_forms_conflate(noun in "[تثجحخدذرزسشصضطظعغقمن][ابتثجحخدذرزسشصضطظعغقمن]{2,7}") {
            let bare = stem(&noun);
            prop_assert_eq!(stem(&format!("ال{noun}")), bare.clone());
            prop_assert_eq!(stem(&format!("وال{noun}")), bare.clone());
            prop_assert_eq!(stem(&format!("بال{noun}")), bare.clone());
            prop_assert_eq!(stem(&format!("للـ{noun}").replace('ـ', "")), bare.clone());
            prop_assert_eq!(stem(&format!("و{noun}")), bare);
        }
    }
}
