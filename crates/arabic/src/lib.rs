//! Arabic text tools for khabar: folding for comparison, light stemming, digits, slugs, and
//! ICU4X-backed date and plural formatting.
//!
//! Everything here is pure (no I/O, no globals) and never panics on any input, so it can sit in
//! a request path and in the search analyzer without defensive wrapping. The ICU4X-backed types
//! ([`ArabicDates`], [`ArabicPlurals`]) are built once at start and are `Send + Sync`, so the
//! server can keep them in shared state.

pub mod dates;
pub mod digits;
pub mod normalize;
pub mod plural;
pub mod slug;
pub mod stem;

pub use dates::{ArabicDates, DateError};
pub use digits::DigitStyle;
pub use plural::{ArabicPlurals, CountedNoun, PluralCategory, PluralError};

/// The server shares these across worker threads. This is checked in every build, not only
/// in tests, so an ICU4X upgrade (or a lost `icu_provider/sync` feature, without which ICU4X
/// data payloads use `Rc`) breaks the build here rather than in the server crate.
const fn assert_send_sync<T: Send + Sync>() {}

const _: () = {
    assert_send_sync::<ArabicDates>();
    assert_send_sync::<ArabicPlurals>();
    assert_send_sync::<CountedNoun>();
    assert_send_sync::<DigitStyle>();
    assert_send_sync::<DateError>();
    assert_send_sync::<PluralError>();
};

#[cfg(test)]
mod send_sync {
    #[test]
    fn formatters_are_send_and_sync() {
        fn check<T: Send + Sync + 'static>() {}
        check::<crate::ArabicDates>();
        check::<crate::ArabicPlurals>();
        // And they really can be used from another thread.
        let dates = std::sync::Arc::new(crate::ArabicDates::new(crate::DigitStyle::Arabic).ok());
        let handle =
            std::thread::spawn(move || dates.as_ref().as_ref().and_then(|d| d.gregorian_long(2026, 11, 29).ok()));
        assert_eq!(handle.join().ok().flatten().as_deref(), Some("٢٩ نوفمبر ٢٠٢٦"));
    }
}
