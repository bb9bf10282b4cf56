//! Articles: the page a reader lands on, the content API, and the admin API
//! scripts publish through.

pub mod admin_store;
pub mod api;
pub mod changes;
pub mod markdown;
pub mod pages;
pub mod readership;
pub mod store;
pub mod views;

use axum::routing::get;
use axum::Router;

use crate::app::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/news/{id}", get(pages::article_without_slug))
        .route("/news/{id}/", get(pages::article_without_slug))
        .route("/news/{id}/{slug}", get(pages::article_page))
        .route("/api/content/articles", get(api::list_articles))
        .route("/api/content/articles/{id}", get(api::get_article))
        .route("/api/admin/articles", axum::routing::post(api::create_article))
        .route(
            "/api/admin/articles/{id}",
            get(api::admin_get_article).put(api::update_article).delete(api::delete_article),
        )
}
