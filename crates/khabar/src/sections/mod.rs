//! The ways into the news: the home page, section, tag and author pages, and
//! their content API lists.

pub mod admin;
pub mod api;
pub mod pages;
pub mod store;

use axum::routing::get;
use std::sync::Arc;

use axum::Router;
use serde::Serialize;

use crate::app::AppState;
use crate::error::AppError;
use crate::web::encode_path_segment;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(pages::home))
        .route("/section/{slug}", get(pages::section_page))
        .route("/tag/{slug}", get(pages::tag_page))
        .route("/author/{slug}", get(pages::author_page))
        .route("/api/content/sections", get(api::sections))
        .route("/api/content/tags", get(api::tags))
        .route("/api/content/authors", get(api::authors))
}

#[derive(Debug, Clone, Serialize)]
pub struct NavItem {
    pub name: String,
    pub slug: String,
    pub url: String,
}

/// The masthead's section links, in the newsroom's order; empty sections are
/// left out. Kept until content changes (the page cache's generation moves:
/// scheduled articles going live move it too).
pub async fn navigation(state: &AppState, now: i64) -> Result<Vec<NavItem>, AppError> {
    let generation = state.pages.generation();
    let kept = state.navigation.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
    if let Some((kept_generation, items)) = kept {
        if kept_generation == generation {
            return Ok(items.as_ref().clone());
        }
    }
    let items = fresh_navigation(state, now).await?;
    *state.navigation.lock().unwrap_or_else(std::sync::PoisonError::into_inner) =
        Some((generation, Arc::new(items.clone())));
    Ok(items)
}

async fn fresh_navigation(state: &AppState, now: i64) -> Result<Vec<NavItem>, crate::store::StoreError> {
    Ok(state
        .store
        .sections(now)
        .await?
        .into_iter()
        .filter(|section| section.article_count > 0)
        .map(|section| NavItem {
            url: format!("/section/{}", encode_path_segment(&section.slug)),
            name: section.name,
            slug: section.slug,
        })
        .collect())
}

/// Whether the menu cached pages show differs from the sections as they are
/// now (one gained its first article or lost its last). Nothing was shown
/// when no page has been rendered since the start.
pub async fn navigation_changed(state: &AppState, now: i64) -> Result<bool, crate::store::StoreError> {
    let shown = state.navigation.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
    let Some((_, shown)) = shown else {
        return Ok(false);
    };
    let fresh = fresh_navigation(state, now).await?;
    let names = |items: &[NavItem]| items.iter().map(|item| (item.slug.clone(), item.name.clone())).collect::<Vec<_>>();
    Ok(names(&shown) != names(&fresh))
}
