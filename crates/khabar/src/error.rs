//! The one place errors become responses. Handlers return `AppError`; it
//! becomes a JSON error with a stable code. `shape_errors` then gives every
//! error outside `/api/` an Arabic page, and wraps the framework's own plain
//! text rejections (405, 413, 408…) under `/api/` in the same JSON shape.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::app::AppState;
use crate::store::StoreError;

pub type FieldErrors = BTreeMap<String, String>;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    BadRequest(String),
    #[error("{message}")]
    Validation { message: String, fields: FieldErrors },
    #[error("missing or invalid bearer token")]
    Unauthorized,
    /// A staff page asked for without a session: log in, then come back to the path.
    #[error("login required")]
    LoginRequired(String),
    #[error("{0}")]
    Forbidden(String),
    /// Go elsewhere first (303), e.g. to set up two-factor login when the site requires it.
    #[error("redirect to {0}")]
    Redirect(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("template error: {0}")]
    Template(#[from] minijinja::Error),
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        let mut fields = FieldErrors::new();
        fields.insert(field.to_owned(), message.clone());
        AppError::Validation { message: format!("{field}: {message}"), fields }
    }
}

/// Marks a response as a page already written for people, so the error
/// shaper keeps it (a form shown again with its mistakes marked, say).
#[derive(Clone, Copy, Debug)]
pub struct PageForPeople;

/// Carried by error responses so the edge knows they are already shaped.
#[derive(Debug, Clone)]
pub struct ShapedError {
    pub reference: Option<String>,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Serialize)]
struct ErrorDetail<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    fields: Option<&'a FieldErrors>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reference: Option<&'a str>,
}

fn code_for(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::REQUEST_TIMEOUT => "timeout",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::URI_TOO_LONG => "uri_too_long",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "validation_failed",
        StatusCode::SERVICE_UNAVAILABLE => "unavailable",
        _ if status.is_server_error() => "internal_error",
        _ => "error",
    }
}

fn json_error(status: StatusCode, message: &str, fields: Option<&FieldErrors>, reference: Option<String>) -> Response {
    let body =
        ErrorBody { error: ErrorDetail { code: code_for(status), message, fields, reference: reference.as_deref() } };
    let json = serde_json::to_vec(&body).unwrap_or_else(|_| b"{\"error\":{\"code\":\"internal_error\"}}".to_vec());
    let mut response = (status, [(header::CONTENT_TYPE, "application/json")], json).into_response();
    response.extensions_mut().insert(ShapedError { reference });
    response
}

fn new_reference() -> String {
    format!("{:08x}", rand::random::<u32>())
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match &self {
            AppError::NotFound => json_error(StatusCode::NOT_FOUND, "not found", None, None),
            AppError::BadRequest(message) => json_error(StatusCode::BAD_REQUEST, message, None, None),
            AppError::Validation { message, fields } => {
                json_error(StatusCode::UNPROCESSABLE_ENTITY, message, Some(fields), None)
            }
            AppError::Unauthorized => {
                let mut response = json_error(StatusCode::UNAUTHORIZED, "missing or invalid bearer token", None, None);
                response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                response
            }
            AppError::LoginRequired(next) => {
                let location = format!("/admin/login?next={}", crate::web::encode_path_segment(next));
                let mut response = axum::http::StatusCode::SEE_OTHER.into_response();
                if let Ok(location) = HeaderValue::from_str(&location) {
                    response.headers_mut().insert(header::LOCATION, location);
                }
                response
            }
            AppError::Forbidden(message) => json_error(StatusCode::FORBIDDEN, message, None, None),
            AppError::Redirect(location) => {
                let mut response = StatusCode::SEE_OTHER.into_response();
                if let Ok(location) = HeaderValue::from_str(location) {
                    response.headers_mut().insert(header::LOCATION, location);
                }
                response
            }
            AppError::UnsupportedMediaType(message) => {
                json_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, message, None, None)
            }
            AppError::PayloadTooLarge(message) => json_error(StatusCode::PAYLOAD_TOO_LARGE, message, None, None),
            AppError::Store(_) | AppError::Template(_) | AppError::Internal(_) => {
                // The detail goes to the log only; the reader or client gets a reference to quote.
                let reference = new_reference();
                tracing::error!(reference = %reference, error = %self, "request failed");
                json_error(StatusCode::INTERNAL_SERVER_ERROR, "internal error", None, Some(reference))
            }
        }
    }
}

/// What a reader sees for each failure, in Arabic.
fn arabic_explanation(status: StatusCode) -> (&'static str, &'static str) {
    match status {
        StatusCode::NOT_FOUND => {
            ("الصفحة غير موجودة", "لم نعثر على الصفحة التي تطلبها. ربما نُقلت أو حُذفت، أو أن الرابط غير صحيح.")
        }
        StatusCode::BAD_REQUEST => ("طلب غير صالح", "تعذّر فهم هذا الطلب. تحقّق من الرابط وحاول مجددًا."),
        StatusCode::METHOD_NOT_ALLOWED => ("طريقة غير مسموحة", "لا يقبل هذا العنوان هذا النوع من الطلبات."),
        StatusCode::PAYLOAD_TOO_LARGE => ("الطلب كبير جدًا", "حجم ما أرسلته يتجاوز الحد المسموح به."),
        StatusCode::URI_TOO_LONG => ("الرابط طويل جدًا", "هذا الرابط أطول من الحد المسموح به."),
        StatusCode::REQUEST_TIMEOUT => ("انتهت مهلة الطلب", "استغرق الطلب وقتًا أطول من المسموح. حاول مجددًا بعد قليل."),
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => ("غير مسموح", "ليست لديك صلاحية الوصول إلى هذه الصفحة."),
        status if status.is_server_error() => {
            ("حدث خطأ غير متوقع", "نعتذر، حدث خطأ من جهتنا أثناء عرض هذه الصفحة. فريقنا التقني يتابع المشكلة.")
        }
        _ => ("تعذّر إتمام الطلب", "حدث خطأ أثناء معالجة طلبك. حاول مجددًا."),
    }
}

pub async fn shape_errors(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let is_api = request.uri().path().starts_with("/api/");
    // Old addresses are looked up only for requests that would be a 404 (the
    // URI's clone shares its bytes: pages that exist pay nothing).
    let old_address = (!is_api && matches!(*request.method(), axum::http::Method::GET | axum::http::Method::HEAD))
        .then(|| request.uri().clone());
    let response = next.run(request).await;
    let status = response.status();
    if status == StatusCode::NOT_FOUND {
        if let Some(uri) = old_address {
            if let Some(redirect) = crate::redirects::answer(&state, uri.path(), uri.query()).await {
                return redirect;
            }
        }
    }
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    if response.extensions().get::<PageForPeople>().is_some() {
        return response;
    }
    let shaped = response.extensions().get::<ShapedError>().cloned();
    if is_api {
        if shaped.is_some() {
            return response;
        }
        let message = status.canonical_reason().unwrap_or("error").to_ascii_lowercase();
        let reference = status.is_server_error().then(new_reference);
        if let Some(reference) = &reference {
            tracing::error!(reference = %reference, status = %status, "request failed outside a handler");
        }
        return json_error(status, &message, None, reference);
    }
    let reference = shaped.and_then(|shaped| shaped.reference);
    let (title, explanation) = arabic_explanation(status);
    let html = state.templates.render_error(&state, status.as_u16(), title, explanation, reference.as_deref());
    let mut page = Response::new(Body::from(html));
    *page.status_mut() = status;
    let headers = page.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(allow) = response.headers().get(header::ALLOW) {
        headers.insert(header::ALLOW, allow.clone());
    }
    page
}
