//! The server's allocator: mimalloc, set to give freed memory back to the
//! system at once.
//!
//! mimalloc (3.x) keeps freed memory committed for a second, ten for whole
//! arena ranges, in case it is needed again. A page cache that renders and
//! compresses pages while it fills frees tens of megabytes a second, so that
//! delay alone kept 30–40 MB more resident than the cache held
//! (bench/pages.sh, step 6: peak RSS 392 MB with the default delay, 350 MB
//! without, at the same requests per second).

pub use mimalloc::MiMalloc;

use libmimalloc_sys::{mi_option_get, mi_option_set, mi_option_t};

/// `mi_option_purge_delay` in mimalloc.h; libmimalloc-sys does not name it.
/// The test below fails if an update moves it.
const PURGE_DELAY: mi_option_t = 15;

/// The environment variable mimalloc reads the purge delay from; an operator
/// who sets it keeps their value.
const PURGE_DELAY_VARIABLE: &str = "MIMALLOC_PURGE_DELAY";

/// Freed memory goes back to the system at once. Call first thing in `main`.
pub fn return_freed_memory_at_once() {
    if std::env::var_os(PURGE_DELAY_VARIABLE).is_some() {
        return;
    }
    // SAFETY: mi_option_set stores an integer in mimalloc's option table
    // (valid for any option number and value, and safe from any thread).
    #[allow(unsafe_code)]
    unsafe {
        mi_option_set(PURGE_DELAY, 0)
    }
}

/// The purge delay in milliseconds now in force.
pub fn purge_delay_milliseconds() -> std::ffi::c_long {
    // SAFETY: mi_option_get reads an integer from mimalloc's option table.
    #[allow(unsafe_code)]
    unsafe {
        mi_option_get(PURGE_DELAY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_option_number_is_mimallocs_purge_delay() {
        if std::env::var_os(PURGE_DELAY_VARIABLE).is_some() {
            return;
        }
        // mimalloc 3's documented default: a different number here means the
        // option moved and PURGE_DELAY must follow it.
        assert_eq!(purge_delay_milliseconds(), 1000);
        return_freed_memory_at_once();
        assert_eq!(purge_delay_milliseconds(), 0);
    }
}
