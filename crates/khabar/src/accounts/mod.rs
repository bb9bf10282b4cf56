//! Who may change the site: admin API tokens for scripts, staff accounts with
//! roles, their sessions, and login throttling.

pub mod passwords;
pub mod resets;
pub mod sessions;
pub mod staff;
pub mod throttle;
pub mod tokens;
pub mod two_factor;
