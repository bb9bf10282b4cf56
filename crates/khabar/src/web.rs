//! Request parsing shared by the page and API routes. Everything here is
//! lenient about encoding (lossy decoding never fails) and strict about
//! meaning (a page number must be a positive number).

use std::collections::HashMap;

use axum::extract::{FromRequest, Request};
use axum::http::Uri;
use axum::Json;
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::de::DeserializeOwned;

use crate::error::AppError;

/// Characters left as they are in a path segment; everything else, Arabic
/// letters included, is percent-encoded on the wire.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

pub const MAX_PAGE: u32 = 100_000;

/// Whether the client asked for JSON (the pages' scripts and API clients do).
pub fn wants_json(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(axum::http::header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|accept| accept.contains("application/json"))
}

pub fn encode_path_segment(segment: &str) -> String {
    utf8_percent_encode(segment, PATH_SEGMENT).to_string()
}

/// Decodes one raw path segment; `None` when it is not valid UTF-8.
pub fn decode_path_segment(raw: &str) -> Option<String> {
    percent_decode_str(raw).decode_utf8().ok().map(|text| text.into_owned())
}

/// The raw (still percent-encoded) segment at `index` of the request path.
/// Routes read their parameters this way rather than through axum's path
/// extractors, which refuse segments that do not decode to UTF-8 before a
/// handler can choose a kinder answer (a redirect, a 404).
pub fn raw_segment(uri: &Uri, index: usize) -> Option<&str> {
    uri.path().split('/').filter(|segment| !segment.is_empty()).nth(index)
}

/// The query string's parameters; the last value wins for repeated keys.
pub fn query_params(uri: &Uri) -> HashMap<String, String> {
    uri.query().map(|query| form_urlencoded::parse(query.as_bytes()).into_owned().collect()).unwrap_or_default()
}

/// `?page=N`: absent means 1; anything but a whole number from 1 up is a bad request.
pub fn page_number(params: &HashMap<String, String>) -> Result<u32, AppError> {
    match params.get("page").map(|value| value.trim()) {
        None | Some("") => Ok(1),
        Some(value) => match value.parse::<u32>() {
            Ok(page) if (1..=MAX_PAGE).contains(&page) => Ok(page),
            Ok(page) if page > MAX_PAGE => Err(AppError::NotFound),
            _ => Err(AppError::BadRequest(format!("page must be a whole number from 1, got '{value}'"))),
        },
    }
}

/// How many pages `total` items fill, at least one so an empty list still has a page 1.
pub fn page_count(total: i64, per_page: u32) -> u32 {
    let per_page = i64::from(per_page.max(1));
    let pages = (total.max(0) + per_page - 1) / per_page;
    u32::try_from(pages.max(1)).unwrap_or(u32::MAX)
}

pub fn article_path(id: i64, slug: &str) -> String {
    format!("/news/{id}/{}", encode_path_segment(slug))
}

/// A JSON body whose every rejection is one of ours: malformed JSON is 400,
/// well-formed JSON of the wrong shape 422, a wrong content type 415.
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        use axum::extract::rejection::JsonRejection;
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(ApiJson(value)),
            Err(JsonRejection::JsonDataError(error)) => {
                Err(AppError::Validation { message: error.body_text(), fields: Default::default() })
            }
            Err(JsonRejection::JsonSyntaxError(error)) => Err(AppError::BadRequest(error.body_text())),
            Err(JsonRejection::MissingJsonContentType(_)) => {
                Err(AppError::UnsupportedMediaType("expected a body with Content-Type: application/json".to_owned()))
            }
            Err(JsonRejection::BytesRejection(error)) => {
                if error.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    Err(AppError::PayloadTooLarge(error.body_text()))
                } else {
                    Err(AppError::BadRequest(error.body_text()))
                }
            }
            Err(other) => Err(AppError::BadRequest(other.body_text())),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn page_numbers_are_strict_about_meaning() {
        let params = |value: &str| HashMap::from([("page".to_owned(), value.to_owned())]);
        assert_eq!(page_number(&HashMap::new()).unwrap(), 1);
        assert_eq!(page_number(&params("3")).unwrap(), 3);
        assert!(matches!(page_number(&params("0")), Err(AppError::BadRequest(_))));
        assert!(matches!(page_number(&params("-1")), Err(AppError::BadRequest(_))));
        assert!(matches!(page_number(&params("abc")), Err(AppError::BadRequest(_))));
        assert!(matches!(page_number(&params("99999999999999999999")), Err(AppError::BadRequest(_))));
        assert!(matches!(page_number(&params("4000000000")), Err(AppError::NotFound)));
    }

    #[test]
    fn arabic_slugs_round_trip_through_the_path() {
        let slug = "مفاوضات-المياه-2026";
        let encoded = encode_path_segment(slug);
        assert!(encoded.is_ascii());
        assert!(encoded.ends_with("-2026"));
        assert_eq!(decode_path_segment(&encoded).unwrap(), slug);
        assert!(decode_path_segment("%ZZ").as_deref() == Some("%ZZ"));
        assert!(decode_path_segment("%FF%FE").is_none());
    }

    #[test]
    fn page_counts() {
        assert_eq!(page_count(0, 12), 1);
        assert_eq!(page_count(12, 12), 1);
        assert_eq!(page_count(13, 12), 2);
    }
}
