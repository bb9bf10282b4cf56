//! How numbers, counts and dates are shown to readers: the site's time zone
//! and digit style applied through khabar-arabic, built once at start.

use khabar_arabic::plural::CountedNoun;
use khabar_arabic::{ArabicDates, ArabicPlurals, DigitStyle};
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum LocaleError {
    #[error("cannot load Arabic date data: {0}")]
    Dates(#[from] khabar_arabic::DateError),
    #[error("cannot load Arabic plural rules: {0}")]
    Plurals(#[from] khabar_arabic::PluralError),
}

pub struct ReaderLocale {
    time_zone: jiff::tz::TimeZone,
    digits: DigitStyle,
    dates: ArabicDates,
    plurals: ArabicPlurals,
}

/// A moment as the templates show it.
#[derive(Debug, Clone, Serialize, Default)]
pub struct ShownDate {
    /// "الأحد، 29 نوفمبر 2026"
    pub gregorian: String,
    /// "19 جمادى الآخرة 1448 هـ"
    pub hijri: String,
    /// "3:45 م"
    pub time: String,
    /// RFC 3339 with the site's offset, for `<time datetime>` and APIs.
    pub iso: String,
}

impl ReaderLocale {
    pub fn new(time_zone: jiff::tz::TimeZone, digits: DigitStyle) -> Result<Self, LocaleError> {
        Ok(ReaderLocale { time_zone, digits, dates: ArabicDates::new(digits)?, plurals: ArabicPlurals::new()? })
    }

    pub fn digits(&self) -> DigitStyle {
        self.digits
    }

    pub fn time_zone(&self) -> &jiff::tz::TimeZone {
        &self.time_zone
    }

    pub fn zoned(&self, seconds: i64) -> jiff::Zoned {
        let timestamp = jiff::Timestamp::from_second(seconds).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        timestamp.to_zoned(self.time_zone.clone())
    }

    pub fn date(&self, seconds: i64) -> ShownDate {
        let zoned = self.zoned(seconds);
        let (year, month, day) = (i32::from(zoned.year()), zoned.month().unsigned_abs(), zoned.day().unsigned_abs());
        let (hour, minute) = (zoned.hour().unsigned_abs(), zoned.minute().unsigned_abs());
        // A date ICU cannot format still shows as its ISO form rather than failing the page.
        let iso_date = format!("{year:04}-{month:02}-{day:02}");
        ShownDate {
            gregorian: self.dates.gregorian_with_weekday(year, month, day).unwrap_or_else(|_| iso_date.clone()),
            hijri: self.dates.hijri_long(year, month, day).unwrap_or_default(),
            time: self.dates.time_of_day(hour, minute).unwrap_or_else(|_| format!("{hour:02}:{minute:02}")),
            iso: zoned.timestamp().display_with_offset(zoned.offset()).to_string(),
        }
    }

    pub fn count(&self, n: u64, noun: &CountedNoun) -> String {
        self.plurals.phrase(n, noun, self.digits)
    }

    pub fn number(&self, n: i64) -> String {
        khabar_arabic::digits::format_integer(n, self.digits)
    }

    /// Seconds until the next midnight in the site's zone: pages that show
    /// today's date must not outlive the day.
    pub fn seconds_until_midnight(&self, now: i64) -> i64 {
        let zoned = self.zoned(now);
        let next = zoned
            .date()
            .tomorrow()
            .ok()
            .and_then(|date| date.to_zoned(self.time_zone.clone()).ok())
            .map(|midnight| midnight.timestamp().as_second());
        next.map_or(3600, |midnight| (midnight - now).max(1))
    }
}
