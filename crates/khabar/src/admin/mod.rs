//! The newsroom: staff log in here to write, review, schedule and publish.
//! Server-rendered, Arabic and right-to-left; a little JavaScript adds live
//! preview, and everything works without it.

pub mod account;
pub mod articles;
pub mod dashboard;
pub mod login;
pub mod reset;
pub mod session;
pub mod staff;

use axum::extract::{FromRequest, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::app::AppState;
use crate::error::{AppError, PageForPeople};
use session::Staff;

pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/admin", get(dashboard::dashboard))
        .route("/admin/", get(dashboard::dashboard))
        .route("/admin/login", get(login::login_page).post(login::log_in))
        .route("/admin/login/code", post(login::check_code))
        .route("/admin/forgot", get(reset::forgot_page).post(reset::send_link))
        .route("/admin/reset", get(reset::reset_page).post(reset::choose_password))
        .route("/admin/logout", post(login::log_out))
        .route("/admin/articles", get(articles::list))
        .route("/admin/articles/new", get(articles::new_article).post(articles::create))
        .route("/admin/articles/{id}", get(articles::edit).post(articles::save))
        .route("/admin/articles/{id}/revisions", get(articles::revisions))
        .route("/admin/articles/{id}/revisions/{revision}/restore", post(articles::restore))
        .route("/admin/preview", post(articles::preview))
        .route("/admin/staff", get(staff::list).post(staff::create))
        .route("/admin/staff/{id}", post(staff::update))
        .route("/admin/activity", get(dashboard::activity))
        .route("/admin/account", get(account::account_page))
        .route("/admin/account/password", post(account::change_password))
        .route("/admin/account/two-factor", post(account::two_factor))
        .route(
            "/admin/media",
            get(crate::media::admin::library)
                .post(crate::media::admin::upload)
                .layer(axum::extract::DefaultBodyLimit::max(crate::media::images::MAX_UPLOAD_BYTES + 64 * 1024)),
        )
        .route("/admin/media/{id}", post(crate::media::admin::describe))
        .route("/admin/sections", get(crate::sections::admin::list).post(crate::sections::admin::create))
        .route("/admin/tags", get(crate::sections::admin::list))
        .route("/admin/authors", get(crate::sections::admin::list))
        .route("/admin/sections/{id}", post(crate::sections::admin::update))
        .route("/admin/tags/{id}", post(crate::sections::admin::update))
        .route("/admin/authors/{id}", post(crate::sections::admin::update))
        .route("/admin/pages", get(crate::pages::admin::list))
        .route("/admin/pages/new", get(crate::pages::admin::new_page).post(crate::pages::admin::create))
        .route("/admin/pages/{id}", get(crate::pages::admin::edit).post(crate::pages::admin::save))
        .route("/admin/redirects", get(crate::redirects::admin::list).post(crate::redirects::admin::create))
        .route("/admin/redirects/{id}/delete", post(crate::redirects::admin::delete))
        .route(
            "/admin/settings",
            get(crate::settings::admin::settings_page).post(crate::settings::admin::save_settings),
        )
        .route("/admin/polls", get(crate::polls::admin::list).post(crate::polls::admin::create))
        .route("/admin/polls/{id}", get(crate::polls::admin::edit).post(crate::polls::admin::save))
        .route("/admin/polls/{id}/action", post(crate::polls::admin::act))
        .route("/admin/polls/{id}/results.csv", get(crate::polls::admin::export))
        .route("/admin/polls/{id}/results.json", get(crate::polls::admin::export_json))
        .route("/admin/search", get(crate::search::admin::page).post(crate::search::admin::save_recency))
        .route("/admin/search/variants", post(crate::search::admin::add_variants))
        .route("/admin/search/variants/{id}/delete", post(crate::search::admin::delete_variants))
        .route("/admin/webhooks", get(crate::webhooks::admin::page).post(crate::webhooks::admin::create))
        .route("/admin/webhooks/settings", post(crate::webhooks::admin::save_settings))
        .route("/admin/webhooks/{id}/action", post(crate::webhooks::admin::act))
        .route("/admin/webhooks/deliveries/{id}/retry", post(crate::webhooks::admin::retry))
        .route("/admin/comments", get(crate::comments::admin::queue))
        .route("/admin/comments/bulk", post(crate::comments::admin::bulk))
        .route("/admin/comments/settings", post(crate::comments::admin::save_settings))
        .route("/admin/comments/erase", post(crate::comments::admin::erase))
        .route("/admin/comments/{id}", get(crate::comments::admin::edit).post(crate::comments::admin::save))
        .route("/admin/comments/{id}/action", post(crate::comments::admin::act))
        .route("/admin/newsletter", get(crate::newsletter::admin::subscribers))
        .route("/admin/newsletter/subscribers/{id}/erase", post(crate::newsletter::admin::erase))
        .route(
            "/admin/newsletter/import",
            post(crate::newsletter::admin::import)
                .layer(axum::extract::DefaultBodyLimit::max(crate::newsletter::admin::MAX_IMPORT_BYTES)),
        )
        .route("/admin/newsletter/export.csv", get(crate::newsletter::admin::export))
        .route("/admin/newsletter/sends", get(crate::newsletter::admin::sends))
        .route("/admin/newsletter/sends/{id}", get(crate::newsletter::admin::send_details))
        .route("/admin/newsletter/sends/{id}/cancel", post(crate::newsletter::admin::cancel))
        .route("/admin/newsletter/alert", post(crate::newsletter::admin::send_alert))
        .route("/admin/newsletter/digest", post(crate::newsletter::admin::send_digest_now))
        .layer(middleware::from_fn_with_state(state, guard_admin_requests))
}

/// Staff pages are never stored by browsers or proxies, and state-changing
/// requests must come from this site's own pages (CSRF tokens are checked too).
async fn guard_admin_requests(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let changes_state = !matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if changes_state && !same_origin(&state, request.headers()) {
        return AppError::Forbidden("cross-site request refused".to_owned()).into_response();
    }
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::HeaderName::from_static("x-robots-tag"), HeaderValue::from_static("noindex"));
    response
}

fn host_of(url: &str) -> Option<&str> {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.split('/').next()
}

/// The Origin (or, lacking it, Fetch Metadata) must name this site: the
/// configured base URL's host, or the Host the request was sent to.
pub fn same_origin(state: &AppState, headers: &axum::http::HeaderMap) -> bool {
    let request_host = headers.get(header::HOST).and_then(|value| value.to_str().ok());
    let base = state.base_url();
    let site_host = host_of(&base);
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|value| value.to_str().ok()) {
        if origin == "null" {
            return false;
        }
        let origin_host = host_of(origin);
        return origin_host.is_some() && (origin_host == site_host || origin_host == request_host);
    }
    match headers.get("sec-fetch-site").and_then(|value| value.to_str().ok()) {
        Some(site) => site == "same-origin" || site == "none",
        None => true,
    }
}

pub fn page_with_status(status: StatusCode, html: String) -> Response {
    let mut response = (status, Html(html)).into_response();
    response.extensions_mut().insert(PageForPeople);
    response
}

pub fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(location) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

#[derive(Serialize)]
struct Me<'a> {
    id: i64,
    name: &'a str,
    role: &'a str,
    role_name: &'a str,
    csrf: &'a str,
    edits_all: bool,
    manages_site: bool,
}

/// Renders an admin template with what every admin page shows.
pub fn render(
    state: &AppState,
    staff: &Staff,
    template: &str,
    active: &str,
    context: minijinja::Value,
) -> Result<String, AppError> {
    let role = staff.role();
    let me = Me {
        id: staff.id(),
        name: staff.name(),
        role: role.as_str(),
        role_name: role.arabic_name(),
        csrf: staff.csrf(),
        edits_all: role.edits_all_articles(),
        manages_site: role.manages_site(),
    };
    let base = minijinja::context! { site => state.site_view(), me => me, active => active };
    Ok(state.templates.render(template, minijinja::value::merge_maps([base, context]))?)
}

/// A form body whose rejection is a 400 page rather than plain text.
pub struct PageForm<T>(pub T);

impl<T, S> FromRequest<S> for PageForm<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Form::<T>::from_request(request, state).await {
            Ok(Form(value)) => Ok(PageForm(value)),
            Err(rejection) => Err(AppError::BadRequest(rejection.body_text())),
        }
    }
}
