//! Old addresses answered with a 301 to what they became: every URL a
//! WordPress site had (filled in by `khabar import wordpress`) and any an
//! editor adds at `/admin/redirects`. Looked up only where a request would
//! otherwise be a 404 (the error shaper asks), so pages that exist pay
//! nothing; the lookup is one indexed query.

pub mod admin;
pub mod store;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::app::AppState;
use crate::store::now_seconds;
use crate::web::encode_path_segment;
use store::Target;

/// Browsers keep a 301; an hour lets an editor's correction reach them the same day.
const REDIRECT_CACHE_CONTROL: &str = "public, max-age=3600";

/// WordPress's query links on the home page: `/?p=ID`, `/?page_id=ID`,
/// `/?cat=ID`, `/?author=ID`, `/?tag=slug`. The home page answers 404 for
/// these (so the error shaper looks them up) instead of showing itself.
pub const WORDPRESS_QUERY_KEYS: [&str; 5] = ["p", "page_id", "cat", "author", "tag"];

/// The form an address is stored and looked up in: percent-decoding done
/// (either case of hex digits), ASCII lower-cased, no trailing slash, no
/// query, except WordPress's query links on `/`, kept as `/?p=101`. `None`
/// for what cannot be an old address (a path that is not UTF-8, `/` alone).
pub fn key(path: &str, query: Option<&str>) -> Option<String> {
    let decoded = percent_encoding::percent_decode_str(path).decode_utf8().ok()?;
    let mut key = decoded.trim().to_owned();
    if !key.starts_with('/') {
        key.insert(0, '/');
    }
    while key.len() > 1 && key.ends_with('/') {
        key.pop();
    }
    key.make_ascii_lowercase();
    if key == "/" {
        let query = query?;
        let params: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
        return WORDPRESS_QUERY_KEYS.iter().find_map(|wanted| {
            params.iter().find(|(name, value)| name == wanted && !value.trim().is_empty()).map(|(name, value)| {
                let value = value.trim().to_ascii_lowercase();
                format!("/?{name}={value}")
            })
        });
    }
    (key.chars().count() <= 1000).then_some(key)
}

/// Whether the home page's query is one of WordPress's links.
pub fn is_wordpress_query(query: Option<&str>) -> bool {
    query.is_some_and(|query| {
        form_urlencoded::parse(query.as_bytes()).any(|(name, _)| WORDPRESS_QUERY_KEYS.contains(&name.as_ref()))
    })
}

/// Where a redirect leads now, or `None` when its target is gone or not
/// visible (a draft, a deleted section): the request stays a 404.
pub fn location(target: &Target) -> Option<String> {
    let slug_path = |word: &str, slug: &Option<String>| {
        slug.as_ref().map(|slug| format!("/{word}/{}{}", encode_path_segment(slug), target.target_path))
    };
    match target.target_kind.as_str() {
        "article" => match (target.article_id, &target.article_slug, target.article_visible) {
            (Some(id), Some(slug), Some(true)) => {
                Some(format!("{}{}", crate::web::article_path(id, slug), target.target_path))
            }
            _ => None,
        },
        "page" => match (&target.page_slug, target.page_visible) {
            (Some(slug), Some(true)) => Some(format!("/page/{}", encode_path_segment(slug))),
            _ => None,
        },
        "section" => slug_path("section", &target.section_slug),
        "tag" => slug_path("tag", &target.tag_slug),
        "author" => slug_path("author", &target.author_slug),
        "path" => Some(target.target_path.clone()).filter(|path| path.starts_with('/') && !path.starts_with("//")),
        _ => None,
    }
}

/// The 301 for a would-be 404, if the address is a known old one.
pub async fn answer(state: &AppState, path: &str, query: Option<&str>) -> Option<Response> {
    let key = key(path, query)?;
    let target = match state.store.redirect_target(&key, now_seconds()).await {
        Ok(target) => target?,
        Err(error) => {
            tracing::warn!(%error, "could not look up a redirect");
            return None;
        }
    };
    let location = location(&target)?;
    // A redirect to itself would loop; the 404 stands.
    if self::key(&location, None).as_deref() == Some(key.as_str()) {
        return None;
    }
    let mut response = StatusCode::MOVED_PERMANENTLY.into_response();
    let headers = response.headers_mut();
    headers.insert(header::LOCATION, HeaderValue::from_str(&location).ok()?);
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(REDIRECT_CACHE_CONTROL));
    Some(response)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn keys_ignore_encoding_case_and_trailing_slashes() {
        let arabic = "/tag/الأمطار";
        assert_eq!(key("/tag/%d8%a7%d9%84%d8%a3%d9%85%d8%b7%d8%a7%d8%b1/", None).as_deref(), Some(arabic));
        assert_eq!(key("/tag/%D8%A7%D9%84%D8%A3%D9%85%D8%B7%D8%A7%D8%B1", None).as_deref(), Some(arabic));
        assert_eq!(key("/Archives/101/", Some("utm_source=x")).as_deref(), Some("/archives/101"));
        assert_eq!(key("/", Some("p=101")).as_deref(), Some("/?p=101"));
        assert_eq!(key("/", Some("utm=1&page_id=5")).as_deref(), Some("/?page_id=5"));
        assert_eq!(key("/", Some("page=2")), None);
        assert_eq!(key("/", None), None);
        assert_eq!(key("/%FF%FE", None), None);
    }

    #[test]
    fn wordpress_queries_are_recognised() {
        assert!(is_wordpress_query(Some("p=12")));
        assert!(is_wordpress_query(Some("x=1&page_id=12")));
        assert!(!is_wordpress_query(Some("page=2")));
        assert!(!is_wordpress_query(None));
    }
}
