//! Dates and times for readers, via ICU4X's CLDR `ar` data: month names, the Arabic comma
//! after the weekday, "ص"/"م" for AM/PM, and the Umm al-Qura Hijri calendar.
//!
//! Inputs are civil fields already converted to the site's time zone by the caller; this
//! module knows nothing about instants or zones, which keeps it deterministic and testable.

use icu_calendar::cal::hijri::UmmAlQura;
use icu_calendar::cal::{Gregorian, Hijri};
use icu_calendar::Date;
use icu_datetime::fieldsets::{T, YMD, YMDE};
use icu_datetime::input::Time;
use icu_datetime::{
    DateTimeFormatterLoadError, DateTimeFormatterPreferences, FixedCalendarDateTimeFormatter, NoCalendarFormatter,
};
use icu_locale_core::{locale, Locale};

use crate::DigitStyle;

/// Why a date could not be formatted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DateError {
    /// The fields name no day of the proleptic Gregorian calendar (month 13, 30 February), or
    /// a year outside what ICU4X supports.
    #[error("invalid date {year:04}-{month:02}-{day:02}")]
    InvalidDate {
        /// As given.
        year: i32,
        /// As given.
        month: u8,
        /// As given.
        day: u8,
    },
    /// Hour outside 0..=23 or minute outside 0..=59.
    #[error("invalid time {hour:02}:{minute:02}")]
    InvalidTime {
        /// As given.
        hour: u8,
        /// As given.
        minute: u8,
    },
    /// ICU4X's compiled data lacked something a formatter needs. With `compiled_data` this
    /// means a broken build, so it is reported at start, from [`ArabicDates::new`].
    #[error("could not load ICU4X date formatting data for {what}")]
    Data {
        /// Which formatter failed.
        what: &'static str,
        /// ICU4X's error.
        #[source]
        source: DateTimeFormatterLoadError,
    },
}

/// Formats dates and times in Arabic in one digit style. Build once at start and share: the
/// formatters hold ICU4X data and pattern selection that are not worth rebuilding per request.
#[derive(Debug)]
pub struct ArabicDates {
    style: DigitStyle,
    gregorian: FixedCalendarDateTimeFormatter<Gregorian, YMD>,
    gregorian_weekday: FixedCalendarDateTimeFormatter<Gregorian, YMDE>,
    hijri: FixedCalendarDateTimeFormatter<Hijri<UmmAlQura>, YMD>,
    time: NoCalendarFormatter<T>,
}

impl ArabicDates {
    /// Builds the formatters for `ar-u-nu-latn` or `ar-u-nu-arab`.
    ///
    /// The numbering system is always explicit: CLDR's default for plain `ar` has changed
    /// between releases, and the site setting must win whatever the data says.
    pub fn new(style: DigitStyle) -> Result<Self, DateError> {
        let locale: Locale = match style {
            DigitStyle::Latin => locale!("ar-u-nu-latn"),
            DigitStyle::Arabic => locale!("ar-u-nu-arab"),
        };
        let prefs = DateTimeFormatterPreferences::from(&locale);
        let data = |what| move |source| DateError::Data { what, source };
        Ok(Self {
            style,
            gregorian: FixedCalendarDateTimeFormatter::try_new(prefs, YMD::long())
                .map_err(data("Gregorian long date"))?,
            gregorian_weekday: FixedCalendarDateTimeFormatter::try_new(prefs, YMDE::long())
                .map_err(data("Gregorian date with weekday"))?,
            hijri: FixedCalendarDateTimeFormatter::try_new(prefs, YMD::long()).map_err(data("Hijri long date"))?,
            time: NoCalendarFormatter::try_new(prefs, T::hm()).map_err(data("time of day"))?,
        })
    }

    /// The digit style these formatters were built for.
    pub fn style(&self) -> DigitStyle {
        self.style
    }

    /// "29 نوفمبر 2026" / "٢٩ نوفمبر ٢٠٢٦".
    pub fn gregorian_long(&self, year: i32, month: u8, day: u8) -> Result<String, DateError> {
        let date = gregorian_date(year, month, day)?;
        Ok(self.gregorian.format(&date).to_string())
    }

    /// "الأحد، 29 نوفمبر 2026" / "الأحد، ٢٩ نوفمبر ٢٠٢٦".
    pub fn gregorian_with_weekday(&self, year: i32, month: u8, day: u8) -> Result<String, DateError> {
        let date = gregorian_date(year, month, day)?;
        Ok(self.gregorian_weekday.format(&date).to_string())
    }

    /// The same civil day in the Umm al-Qura Hijri calendar: "19 جمادى الآخرة 1448 هـ".
    ///
    /// Umm al-Qura is the calendar Saudi Arabia publishes in advance; actual month starts in
    /// other countries follow moon sighting and can differ by a day, so pages should not
    /// present this as authoritative for religious dates.
    pub fn hijri_long(&self, year: i32, month: u8, day: u8) -> Result<String, DateError> {
        let date = gregorian_date(year, month, day)?.to_calendar(Hijri::new_umm_al_qura());
        Ok(self.hijri.format(&date).to_string())
    }

    /// "3:45 م" / "٣:٤٥ م" (12-hour clock, as CLDR `ar` prefers).
    pub fn time_of_day(&self, hour: u8, minute: u8) -> Result<String, DateError> {
        let time = Time::try_new(hour, minute, 0, 0).map_err(|_| DateError::InvalidTime { hour, minute })?;
        Ok(self.time.format(&time).to_string())
    }
}

fn gregorian_date(year: i32, month: u8, day: u8) -> Result<Date<Gregorian>, DateError> {
    Date::try_new_gregorian(year, month, day).map_err(|_| DateError::InvalidDate { year, month, day })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn latin() -> ArabicDates {
        ArabicDates::new(DigitStyle::Latin).unwrap()
    }

    fn arabic() -> ArabicDates {
        ArabicDates::new(DigitStyle::Arabic).unwrap()
    }

    #[test]
    fn gregorian_long_both_styles() {
        assert_eq!(latin().gregorian_long(2026, 11, 29).unwrap(), "29 نوفمبر 2026");
        assert_eq!(arabic().gregorian_long(2026, 11, 29).unwrap(), "٢٩ نوفمبر ٢٠٢٦");
        assert_eq!(latin().gregorian_long(2025, 1, 5).unwrap(), "5 يناير 2025");
        assert_eq!(arabic().gregorian_long(2024, 2, 29).unwrap(), "٢٩ فبراير ٢٠٢٤");
    }

    #[test]
    fn gregorian_with_weekday_both_styles() {
        assert_eq!(latin().gregorian_with_weekday(2026, 11, 29).unwrap(), "الأحد، 29 نوفمبر 2026");
        assert_eq!(arabic().gregorian_with_weekday(2026, 11, 29).unwrap(), "الأحد، ٢٩ نوفمبر ٢٠٢٦");
        assert_eq!(latin().gregorian_with_weekday(2025, 3, 1).unwrap(), "السبت، 1 مارس 2025");
    }

    #[test]
    fn hijri_long_both_styles() {
        assert_eq!(latin().hijri_long(2026, 11, 29).unwrap(), "19 جمادى الآخرة 1448 هـ");
        assert_eq!(arabic().hijri_long(2026, 11, 29).unwrap(), "١٩ جمادى الآخرة ١٤٤٨ هـ");
    }

    #[test]
    fn hijri_matches_published_umm_al_qura_dates() {
        let d = latin();
        // Saudi Arabia announced 1 Ramadan 1446 for Saturday 1 March 2025.
        assert_eq!(d.hijri_long(2025, 3, 1).unwrap(), "1 رمضان 1446 هـ");
        assert_eq!(d.hijri_long(2025, 2, 28).unwrap(), "29 شعبان 1446 هـ");
        // Eid al-Fitr 1445 (1 Shawwal) was Wednesday 10 April 2024 in Saudi Arabia.
        assert_eq!(d.hijri_long(2024, 4, 10).unwrap(), "1 شوال 1445 هـ");
        // Umm al-Qura: 1 Muharram 1446 = 7 July 2024; 1 Ramadan 1447 = 18 February 2026.
        assert_eq!(d.hijri_long(2024, 7, 7).unwrap(), "1 محرم 1446 هـ");
        assert_eq!(d.hijri_long(2026, 2, 18).unwrap(), "1 رمضان 1447 هـ");
    }

    #[test]
    fn time_of_day_both_styles() {
        assert_eq!(latin().time_of_day(15, 45).unwrap(), "3:45 م");
        assert_eq!(arabic().time_of_day(15, 45).unwrap(), "٣:٤٥ م");
        assert_eq!(latin().time_of_day(0, 5).unwrap(), "12:05 ص");
        assert_eq!(latin().time_of_day(12, 0).unwrap(), "12:00 م");
        assert_eq!(arabic().time_of_day(9, 7).unwrap(), "٩:٠٧ ص");
    }

    #[test]
    fn invalid_inputs_are_errors() {
        let d = latin();
        for (y, m, day) in [(2026, 13, 1), (2026, 2, 30), (2026, 0, 1), (2026, 1, 0), (2025, 2, 29)] {
            assert!(matches!(d.gregorian_long(y, m, day), Err(DateError::InvalidDate { .. })));
            assert!(d.gregorian_with_weekday(y, m, day).is_err());
            assert!(d.hijri_long(y, m, day).is_err());
        }
        assert!(matches!(d.time_of_day(24, 0), Err(DateError::InvalidTime { hour: 24, minute: 0 })));
        assert!(d.time_of_day(23, 60).is_err());
        assert_eq!(d.gregorian_long(2026, 2, 30).unwrap_err().to_string(), "invalid date 2026-02-30");
    }

    #[test]
    fn style_is_kept() {
        assert_eq!(latin().style(), DigitStyle::Latin);
        assert_eq!(arabic().style(), DigitStyle::Arabic);
    }

    #[test]
    fn outputs_have_no_invisible_characters() {
        let d = arabic();
        let all = [
            d.gregorian_long(2026, 11, 29).unwrap(),
            d.gregorian_with_weekday(2026, 11, 29).unwrap(),
            d.hijri_long(2026, 11, 29).unwrap(),
            d.time_of_day(15, 45).unwrap(),
        ];
        for s in all {
            assert!(
                !s.chars().any(|c| c.is_control()
                    || matches!(c, '\u{061C}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{00A0}' | '\u{202F}')),
                "{s:?}"
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        #[test]
        fn never_panics(year in any::<i32>(), month in any::<u8>(), day in any::<u8>(), hour in any::<u8>(), minute in any::<u8>()) {
            let d = latin();
            let _ = d.gregorian_long(year, month, day);
            let _ = d.gregorian_with_weekday(year, month, day);
            let _ = d.hijri_long(year, month, day);
            let _ = d.time_of_day(hour, minute);
        }

        #[test]
        fn never_panics_near_supported_range(year in -300_000i32..300_000, month in 1u8..=12, day in 1u8..=31) {
            let d = arabic();
            let _ = d.gregorian_long(year, month, day);
            let _ = d.hijri_long(year, month, day);
        }

        #[test]
        fn valid_modern_dates_format(year in 1900i32..2200, month in 1u8..=12, day in 1u8..=28) {
            let d = latin();
            let g = d.gregorian_long(year, month, day).unwrap();
            prop_assert!(g.ends_with(&year.to_string()));
            let h = d.hijri_long(year, month, day).unwrap();
            prop_assert!(h.ends_with(" هـ"));
        }
    }
}
