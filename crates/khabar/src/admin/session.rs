//! The newsroom's side of sessions: cookies, the `Staff` extractor every
//! admin handler takes, and CSRF checks.

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue};
use cookie::{Cookie, SameSite};

use crate::accounts::sessions::{ActiveSession, MAX_AGE_SECONDS, TRUSTED_DEVICE_SECONDS};
use crate::accounts::staff::Role;
use crate::app::AppState;
use crate::error::AppError;
use crate::store::now_seconds;

pub const SESSION_COOKIE: &str = "khabar_session";
pub const DEVICE_COOKIE: &str = "khabar_device";
pub const LOGIN_COOKIE: &str = "khabar_login";
pub const CHALLENGE_COOKIE: &str = "khabar_challenge";

/// Cookies are `__Host-` prefixed and Secure when the site is served over
/// HTTPS; browsers refuse both on plain HTTP, where the bare name is used.
pub fn cookie_name(state: &AppState, base: &str) -> String {
    if state.base_url().starts_with("https://") {
        format!("__Host-{base}")
    } else {
        base.to_owned()
    }
}

pub fn read_cookie(state: &AppState, headers: &HeaderMap, base: &str) -> Option<String> {
    let wanted = cookie_name(state, base);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| Cookie::split_parse(value.to_owned()))
        .filter_map(Result::ok)
        .find(|cookie| cookie.name() == wanted)
        .map(|cookie| cookie.value().to_owned())
}

pub fn set_cookie(state: &AppState, base: &str, value: &str, max_age_seconds: i64) -> HeaderValue {
    let cookie = Cookie::build((cookie_name(state, base), value.to_owned()))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.base_url().starts_with("https://"))
        .max_age(cookie::time::Duration::seconds(max_age_seconds))
        .build();
    HeaderValue::from_str(&cookie.to_string()).unwrap_or(HeaderValue::from_static("khabar=; Max-Age=0; Path=/"))
}

pub fn session_cookie(state: &AppState, token: &str) -> HeaderValue {
    set_cookie(state, SESSION_COOKIE, token, MAX_AGE_SECONDS)
}

pub fn device_cookie(state: &AppState, token: &str) -> HeaderValue {
    set_cookie(state, DEVICE_COOKIE, token, TRUSTED_DEVICE_SECONDS)
}

pub fn expired_cookie(state: &AppState, base: &str) -> HeaderValue {
    set_cookie(state, base, "", 0)
}

/// The client's address, hashed: the throttle needs to tell clients apart,
/// not to know who they are.
pub fn client_hash(connection: Option<&ConnectInfo<std::net::SocketAddr>>) -> String {
    let address = connection.map(|ConnectInfo(address)| address.ip().to_string()).unwrap_or_default();
    crate::accounts::tokens::hash_token(&format!("client:{address}"))
}

/// Compares secrets in time independent of where they differ.
pub fn same_secret(given: &str, expected: &str) -> bool {
    given.len() == expected.len() && given.bytes().zip(expected.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

/// A logged-in staff member. Handlers that take it are for staff only; an
/// anonymous visitor is sent to the login page and comes back afterwards.
pub struct Staff {
    pub session: ActiveSession,
}

impl Staff {
    pub fn id(&self) -> i64 {
        self.session.staff.id
    }

    pub fn name(&self) -> &str {
        &self.session.staff.name
    }

    pub fn role(&self) -> Role {
        self.session.staff.role()
    }

    pub fn csrf(&self) -> &str {
        &self.session.csrf_token
    }

    pub fn check_csrf(&self, given: &str) -> Result<(), AppError> {
        if same_secret(given, &self.session.csrf_token) {
            Ok(())
        } else {
            Err(AppError::Forbidden("the form expired or came from another site; reload the page and try again".into()))
        }
    }

    pub fn require(&self, allowed: bool) -> Result<(), AppError> {
        if allowed {
            Ok(())
        } else {
            Err(AppError::Forbidden(format!("the {} role may not do this", self.role().as_str())))
        }
    }

    pub async fn audit(&self, state: &AppState, action: &str, subject: &str) {
        if let Err(error) = state.store.record_audit(Some(self.id()), self.name(), action, subject, now_seconds()).await
        {
            tracing::error!(%error, action, "could not write the audit log");
        }
    }
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let next = parts.uri.path_and_query().map(|path| path.as_str().to_owned()).unwrap_or_else(|| "/admin".into());
        let token = read_cookie(state, &parts.headers, SESSION_COOKIE).ok_or(AppError::LoginRequired(next.clone()))?;
        let session = state.store.session(&token, now_seconds()).await?.ok_or(AppError::LoginRequired(next))?;
        // When the site requires two-factor login, staff without it can only set it up (or leave).
        let path = parts.uri.path();
        let may_pass = path.starts_with("/admin/account") || path == "/admin/logout";
        if state.settings().require_two_factor && !session.staff.two_factor && !may_pass {
            return Err(AppError::Redirect("/admin/account?two_factor=required".to_owned()));
        }
        Ok(Staff { session })
    }
}

/// Where to go after logging in: only paths inside the admin of this site.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with("/admin")
                && !path.starts_with("//")
                && !path.contains('\\')
                && !path.chars().any(char::is_control) =>
        {
            path.to_owned()
        }
        _ => "/admin".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_after_login_stay_in_the_admin() {
        assert_eq!(safe_next(Some("/admin/articles?page=2")), "/admin/articles?page=2");
        for hostile in ["https://evil.example", "//evil.example", "/\\evil.example", "/admin\\@evil", "/news/1"] {
            assert_eq!(safe_next(Some(hostile)), "/admin", "{hostile}");
        }
        assert_eq!(safe_next(None), "/admin");
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
    }
}
