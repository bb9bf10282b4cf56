//! Digit shapes: each site chooses whether readers see Latin (0-9) or Arabic-Indic (٠-٩)
//! digits; everything stored and compared uses ASCII.

use std::fmt;
use std::str::FromStr;

/// Which digits numbers shown to readers use. A site setting, hence `FromStr`/`Display` for
/// the config file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum DigitStyle {
    /// 0-9, the common choice of Maghreb and most online Arabic news.
    #[default]
    Latin,
    /// ٠-٩ (Arabic-Indic), common in the Mashriq and the Gulf.
    Arabic,
}

impl DigitStyle {
    /// The config spelling, the inverse of `FromStr`.
    pub fn as_str(self) -> &'static str {
        match self {
            DigitStyle::Latin => "latin",
            DigitStyle::Arabic => "arabic",
        }
    }
}

impl fmt::Display for DigitStyle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A config value that names no digit style.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown digit style {input:?}: expected \"latin\" or \"arabic\"")]
pub struct ParseDigitStyleError {
    /// What was given, for the message.
    pub input: String,
}

impl FromStr for DigitStyle {
    type Err = ParseDigitStyleError;

    /// Accepts "latin" and "arabic", ignoring ASCII case and surrounding spaces, since the value
    /// comes from hand-edited config and environment variables.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if t.eq_ignore_ascii_case("latin") {
            Ok(DigitStyle::Latin)
        } else if t.eq_ignore_ascii_case("arabic") {
            Ok(DigitStyle::Arabic)
        } else {
            Err(ParseDigitStyleError { input: s.to_owned() })
        }
    }
}

const ARABIC_INDIC_ZERO: u32 = 0x0660;
const PERSIAN_ZERO: u32 = 0x06F0;

/// The Arabic thousands separator (U+066C), CLDR's grouping sign for `arab` digits.
const ARABIC_GROUP_SEPARATOR: char = '\u{066C}';

/// ASCII digits to Arabic-Indic; everything else untouched, so it can be applied to a whole
/// rendered string (dates, counts inside a sentence).
pub fn to_arabic_indic(text: &str) -> String {
    text.chars().map(ascii_to_arabic_indic).collect()
}

/// Arabic-Indic and Persian digits to ASCII, for parsing what readers and editors type.
pub fn to_ascii(text: &str) -> String {
    text.chars().map(digit_to_ascii).collect()
}

/// Renders ASCII digits in `text` in the site's style.
pub fn apply(text: &str, style: DigitStyle) -> String {
    match style {
        DigitStyle::Latin => text.to_owned(),
        DigitStyle::Arabic => to_arabic_indic(text),
    }
}

/// Formats an integer with CLDR Arabic grouping ("1,234" / "١٬٢٣٤", grouping from four
/// digits on).
///
/// Written by hand rather than with `icu_decimal` so it is infallible and needs no formatter
/// instance; the tests check it against ICU4X for non-negative numbers. Negative numbers get a
/// plain '-' with no bidi mark (ICU4X would prefix U+200E or U+061C); wrap them in `<bdi>` when
/// they are shown inside RTL text.
pub fn format_integer(n: i64, style: DigitStyle) -> String {
    group(n.unsigned_abs(), n < 0, style)
}

/// [`format_integer`] for counts beyond `i64` (plural phrases take `u64`).
pub(crate) fn format_unsigned(n: u64, style: DigitStyle) -> String {
    group(n, false, style)
}

fn group(magnitude: u64, negative: bool, style: DigitStyle) -> String {
    let digits = magnitude.to_string();
    let separator = match style {
        DigitStyle::Latin => ',',
        DigitStyle::Arabic => ARABIC_GROUP_SEPARATOR,
    };
    let len = digits.len();
    let mut out = String::with_capacity(len * 3);
    if negative {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (len - i).is_multiple_of(3) {
            out.push(separator);
        }
        out.push(match style {
            DigitStyle::Latin => c,
            DigitStyle::Arabic => ascii_to_arabic_indic(c),
        });
    }
    out
}

fn ascii_to_arabic_indic(c: char) -> char {
    match c.to_digit(10) {
        Some(d) if c.is_ascii_digit() => char::from_u32(ARABIC_INDIC_ZERO + d).unwrap_or(c),
        _ => c,
    }
}

fn digit_to_ascii(c: char) -> char {
    let code = u32::from(c);
    let offset = match code {
        0x0660..=0x0669 => code - ARABIC_INDIC_ZERO,
        0x06F0..=0x06F9 => code - PERSIAN_ZERO,
        _ => return c,
    };
    char::from_digit(offset, 10).unwrap_or(c)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_styles() {
        assert_eq!("latin".parse::<DigitStyle>(), Ok(DigitStyle::Latin));
        assert_eq!("arabic".parse::<DigitStyle>(), Ok(DigitStyle::Arabic));
        assert_eq!(" Arabic ".parse::<DigitStyle>(), Ok(DigitStyle::Arabic));
        let err = "hindi".parse::<DigitStyle>().unwrap_err();
        assert_eq!(err.to_string(), "unknown digit style \"hindi\": expected \"latin\" or \"arabic\"");
        assert_eq!(DigitStyle::default(), DigitStyle::Latin);
        for style in [DigitStyle::Latin, DigitStyle::Arabic] {
            assert_eq!(style.to_string().parse::<DigitStyle>(), Ok(style));
        }
    }

    #[test]
    fn converts_digits() {
        assert_eq!(to_arabic_indic("2026-11-29, 3:45"), "٢٠٢٦-١١-٢٩, ٣:٤٥");
        assert_eq!(to_arabic_indic("abc ٣"), "abc ٣");
        assert_eq!(to_ascii("٢٠٢٦ و۱۴۰۵"), "2026 و1405");
        assert_eq!(apply("12 مقالًا", DigitStyle::Latin), "12 مقالًا");
        assert_eq!(apply("12 مقالًا", DigitStyle::Arabic), "١٢ مقالًا");
        // Superscripts and other "digits" are not ASCII digits and stay.
        assert_eq!(to_arabic_indic("x²"), "x²");
    }

    #[test]
    fn formats_integers_with_cldr_grouping() {
        let cases: [(i64, &str, &str); 9] = [
            (0, "0", "٠"),
            (7, "7", "٧"),
            (999, "999", "٩٩٩"),
            (1000, "1,000", "١٬٠٠٠"),
            (1234, "1,234", "١٬٢٣٤"),
            (12345, "12,345", "١٢٬٣٤٥"),
            (1234567, "1,234,567", "١٬٢٣٤٬٥٦٧"),
            (-1234, "-1,234", "-١٬٢٣٤"),
            (i64::MIN, "-9,223,372,036,854,775,808", "-٩٬٢٢٣٬٣٧٢٬٠٣٦٬٨٥٤٬٧٧٥٬٨٠٨"),
        ];
        for (n, latin, arabic) in cases {
            assert_eq!(format_integer(n, DigitStyle::Latin), latin);
            assert_eq!(format_integer(n, DigitStyle::Arabic), arabic);
        }
    }

    fn icu_format(n: i64, locale: &str) -> String {
        let locale: icu_locale_core::Locale = locale.parse().unwrap();
        let formatter = icu_decimal::DecimalFormatter::try_new(locale.into(), Default::default()).unwrap();
        formatter.format(&icu_decimal::input::Decimal::from(n)).to_string()
    }

    #[test]
    fn grouping_matches_icu4x_for_common_sizes() {
        for n in [0, 5, 42, 999, 1000, 1001, 9999, 10000, 123456, 1000000, i64::MAX] {
            assert_eq!(format_integer(n, DigitStyle::Latin), icu_format(n, "ar-u-nu-latn"));
            assert_eq!(format_integer(n, DigitStyle::Arabic), icu_format(n, "ar-u-nu-arab"));
        }
    }

    proptest! {
        #[test]
        fn ascii_digits_round_trip(s in "[0-9]{0,30}") {
            prop_assert_eq!(to_ascii(&to_arabic_indic(&s)), s);
        }

        #[test]
        fn round_trip_leaves_other_text_alone(s in "[0-9a-z ,.\\u{0621}-\\u{064A}]{0,30}") {
            prop_assert_eq!(to_ascii(&to_arabic_indic(&s)), s);
        }

        #[test]
        fn conversions_never_panic(s in any::<String>()) {
            let _ = to_ascii(&s);
            let _ = to_arabic_indic(&s);
        }

        #[test]
        fn non_negative_grouping_matches_icu4x(n in 0i64..=i64::MAX) {
            prop_assert_eq!(format_integer(n, DigitStyle::Latin), icu_format(n, "ar-u-nu-latn"));
            prop_assert_eq!(format_integer(n, DigitStyle::Arabic), icu_format(n, "ar-u-nu-arab"));
        }

        #[test]
        fn grouping_strips_back_to_the_number(n in any::<i64>()) {
            let latin = format_integer(n, DigitStyle::Latin).replace(',', "");
            prop_assert_eq!(latin.parse::<i64>().unwrap(), n);
            let arabic = to_ascii(&format_integer(n, DigitStyle::Arabic)).replace('\u{066C}', "");
            prop_assert_eq!(arabic.parse::<i64>().unwrap(), n);
        }
    }
}
