//! Who may change the site. For now: admin API tokens for scripts; staff
//! accounts and sessions arrive with the newsroom.

pub mod tokens;
