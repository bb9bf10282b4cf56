//! Counted nouns ("٣ مقالات", "١١ مقالًا") via CLDR plural rules.
//!
//! Arabic has all six CLDR categories and picks them by the last two digits, which is easy to
//! get wrong (fluent's `intl_pluralrules` misplaces 103 and 111), so the category comes from
//! ICU4X's data and a test cross-checks it against the rules written out by hand.

use icu_locale_core::locale;
use icu_plurals::{PluralRules, PluralRulesPreferences};

use crate::digits::{format_unsigned, DigitStyle};

/// A CLDR plural category; our own type so callers need not depend on ICU4X.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PluralCategory {
    /// 0
    Zero,
    /// 1
    One,
    /// 2
    Two,
    /// n % 100 in 3..=10 (3, 10, 103)
    Few,
    /// n % 100 in 11..=99 (11, 99, 111)
    Many,
    /// everything else (100, 101, 102, 200, 1000)
    Other,
}

impl From<icu_plurals::PluralCategory> for PluralCategory {
    fn from(c: icu_plurals::PluralCategory) -> Self {
        match c {
            icu_plurals::PluralCategory::Zero => PluralCategory::Zero,
            icu_plurals::PluralCategory::One => PluralCategory::One,
            icu_plurals::PluralCategory::Two => PluralCategory::Two,
            icu_plurals::PluralCategory::Few => PluralCategory::Few,
            icu_plurals::PluralCategory::Many => PluralCategory::Many,
            icu_plurals::PluralCategory::Other => PluralCategory::Other,
        }
    }
}

/// The plural rules could not be loaded.
#[derive(Debug, thiserror::Error)]
#[error("could not load ICU4X plural rules for Arabic")]
pub struct PluralError(#[source] icu_provider::DataError);

/// Arabic cardinal plural rules. Build once at start and share.
#[derive(Debug)]
pub struct ArabicPlurals {
    rules: PluralRules,
}

impl ArabicPlurals {
    /// Loads the `ar` cardinal rules from ICU4X's compiled data.
    pub fn new() -> Result<Self, PluralError> {
        let prefs = PluralRulesPreferences::from(&locale!("ar"));
        let rules = PluralRules::try_new_cardinal(prefs).map_err(PluralError)?;
        Ok(Self { rules })
    }

    /// The category Arabic grammar uses for `n` things.
    pub fn category(&self, n: u64) -> PluralCategory {
        self.rules.category_for(n).into()
    }

    /// The noun form for `n`, with "{n}" replaced by `n` in the site's digits ("١٬٢٣٤").
    ///
    /// Forms without "{n}" (zero, one, two) spell the number out in the noun, as Arabic does:
    /// "مقالان", not "2 مقالان".
    pub fn phrase(&self, n: u64, noun: &CountedNoun, style: DigitStyle) -> String {
        let form = noun.form(self.category(n));
        if form.contains("{n}") {
            form.replace("{n}", &format_unsigned(n, style))
        } else {
            form.to_owned()
        }
    }
}

/// The six forms of a counted noun. Forms may contain "{n}" where the number goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CountedNoun {
    /// n = 0: "لا مقالات".
    pub zero: &'static str,
    /// n = 1: "مقال واحد".
    pub one: &'static str,
    /// n = 2, dual: "مقالان".
    pub two: &'static str,
    /// 3–10 (by the last two digits): plural, genitive: "{n} مقالات".
    pub few: &'static str,
    /// 11–99 (by the last two digits): singular, accusative (tamyiz): "{n} مقالًا".
    pub many: &'static str,
    /// 100, 101, 102, 1000...: singular, genitive: "{n} مقال".
    pub other: &'static str,
}

impl CountedNoun {
    /// The form for a category.
    pub fn form(&self, category: PluralCategory) -> &'static str {
        match category {
            PluralCategory::Zero => self.zero,
            PluralCategory::One => self.one,
            PluralCategory::Two => self.two,
            PluralCategory::Few => self.few,
            PluralCategory::Many => self.many,
            PluralCategory::Other => self.other,
        }
    }
}

/// مقال (article).
pub const ARTICLES: CountedNoun = CountedNoun {
    zero: "لا مقالات",
    one: "مقال واحد",
    two: "مقالان",
    few: "{n} مقالات",
    many: "{n} مقالًا",
    other: "{n} مقال",
};

/// صوت (poll vote).
pub const VOTES: CountedNoun = CountedNoun {
    zero: "لا أصوات",
    one: "صوت واحد",
    two: "صوتان",
    few: "{n} أصوات",
    many: "{n} صوتًا",
    other: "{n} صوت",
};

/// تعليق (comment).
pub const COMMENTS: CountedNoun = CountedNoun {
    zero: "لا تعليقات",
    one: "تعليق واحد",
    two: "تعليقان",
    few: "{n} تعليقات",
    many: "{n} تعليقًا",
    other: "{n} تعليق",
};

/// ردّ (a reply to a comment).
pub const REPLIES: CountedNoun =
    CountedNoun {
        zero: "لا ردود", one: "ردّ واحد", two: "ردّان", few: "{n} ردود", many: "{n} ردًّا", other: "{n} ردّ"
    };

/// مشترك (newsletter subscriber).
pub const SUBSCRIBERS: CountedNoun = CountedNoun {
    zero: "لا مشتركين",
    one: "مشترك واحد",
    two: "مشتركان",
    few: "{n} مشتركين",
    many: "{n} مشتركًا",
    other: "{n} مشترك",
};

/// قراءة (article read / view).
pub const READS: CountedNoun = CountedNoun {
    zero: "لا قراءات",
    one: "قراءة واحدة",
    two: "قراءتان",
    few: "{n} قراءات",
    many: "{n} قراءة",
    other: "{n} قراءة",
};

/// دقيقة (minutes of reading time). Zero reads "less than a minute": a reading time is
/// never literally zero.
pub const MINUTES: CountedNoun = CountedNoun {
    zero: "أقل من دقيقة",
    one: "دقيقة واحدة",
    two: "دقيقتان",
    few: "{n} دقائق",
    many: "{n} دقيقة",
    other: "{n} دقيقة",
};

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// CLDR's Arabic cardinal rules, written out independently of ICU4X.
    fn cldr_arabic(n: u64) -> PluralCategory {
        match (n, n % 100) {
            (0, _) => PluralCategory::Zero,
            (1, _) => PluralCategory::One,
            (2, _) => PluralCategory::Two,
            (_, 3..=10) => PluralCategory::Few,
            (_, 11..=99) => PluralCategory::Many,
            _ => PluralCategory::Other,
        }
    }

    #[test]
    fn categories_match_cldr_rules_up_to_1200() {
        let p = ArabicPlurals::new().unwrap();
        for n in 0..=1200 {
            assert_eq!(p.category(n), cldr_arabic(n), "n = {n}");
        }
    }

    #[test]
    fn tricky_categories() {
        let p = ArabicPlurals::new().unwrap();
        use PluralCategory::*;
        let cases = [
            (0, Zero),
            (1, One),
            (2, Two),
            (3, Few),
            (10, Few),
            (11, Many),
            (99, Many),
            (100, Other),
            (101, Other),
            (102, Other),
            (103, Few),
            (110, Few),
            (111, Many),
            (200, Other),
            (1000, Other),
            (1002, Other),
            (1011, Many),
            (u64::MAX, Many), // ...615
        ];
        for (n, cat) in cases {
            assert_eq!(p.category(n), cat, "n = {n}");
        }
    }

    #[test]
    fn article_phrases() {
        let p = ArabicPlurals::new().unwrap();
        let a = DigitStyle::Arabic;
        assert_eq!(p.phrase(0, &ARTICLES, a), "لا مقالات");
        assert_eq!(p.phrase(1, &ARTICLES, a), "مقال واحد");
        assert_eq!(p.phrase(2, &ARTICLES, a), "مقالان");
        assert_eq!(p.phrase(3, &ARTICLES, a), "٣ مقالات");
        assert_eq!(p.phrase(11, &ARTICLES, a), "١١ مقالًا");
        assert_eq!(p.phrase(100, &ARTICLES, a), "١٠٠ مقال");
        assert_eq!(p.phrase(101, &ARTICLES, a), "١٠١ مقال");
        assert_eq!(p.phrase(102, &ARTICLES, a), "١٠٢ مقال");
        assert_eq!(p.phrase(103, &ARTICLES, a), "١٠٣ مقالات");
        assert_eq!(p.phrase(111, &ARTICLES, a), "١١١ مقالًا");
        assert_eq!(p.phrase(1234, &ARTICLES, a), "١٬٢٣٤ مقالًا");
        let l = DigitStyle::Latin;
        assert_eq!(p.phrase(3, &ARTICLES, l), "3 مقالات");
        assert_eq!(p.phrase(1000, &ARTICLES, l), "1,000 مقال");
        assert_eq!(p.phrase(u64::MAX, &ARTICLES, l), "18,446,744,073,709,551,615 مقالًا");
    }

    #[test]
    fn other_nouns() {
        let p = ArabicPlurals::new().unwrap();
        let a = DigitStyle::Arabic;
        assert_eq!(p.phrase(0, &VOTES, a), "لا أصوات");
        assert_eq!(p.phrase(2, &VOTES, a), "صوتان");
        assert_eq!(p.phrase(25, &VOTES, a), "٢٥ صوتًا");
        assert_eq!(p.phrase(1, &COMMENTS, a), "تعليق واحد");
        assert_eq!(p.phrase(7, &COMMENTS, a), "٧ تعليقات");
        assert_eq!(p.phrase(2, &SUBSCRIBERS, a), "مشتركان");
        assert_eq!(p.phrase(40, &SUBSCRIBERS, a), "٤٠ مشتركًا");
        assert_eq!(p.phrase(1, &READS, a), "قراءة واحدة");
        assert_eq!(p.phrase(5, &READS, a), "٥ قراءات");
        assert_eq!(p.phrase(300, &READS, a), "٣٠٠ قراءة");
        assert_eq!(p.phrase(0, &MINUTES, a), "أقل من دقيقة");
        assert_eq!(p.phrase(2, &MINUTES, a), "دقيقتان");
        assert_eq!(p.phrase(4, &MINUTES, a), "٤ دقائق");
        assert_eq!(p.phrase(15, &MINUTES, a), "١٥ دقيقة");
    }

    #[test]
    fn every_noun_has_the_number_exactly_where_needed() {
        for noun in [ARTICLES, VOTES, COMMENTS, SUBSCRIBERS, READS, MINUTES] {
            for form in [noun.zero, noun.one, noun.two] {
                assert!(!form.contains("{n}"), "{form}");
            }
            for form in [noun.few, noun.many, noun.other] {
                assert_eq!(form.matches("{n}").count(), 1, "{form}");
            }
        }
    }

    proptest! {
        #[test]
        fn categories_match_cldr_rules(n in any::<u64>()) {
            let p = ArabicPlurals::new().unwrap();
            prop_assert_eq!(p.category(n), cldr_arabic(n));
        }
    }
}
