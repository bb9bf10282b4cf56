//! `/api/content/sections`, `/tags` and `/authors`: what exists and how much
//! a reader can see in each.

use axum::extract::State;
use axum::Json;
use serde::Serialize;

use crate::app::AppState;
use crate::error::AppError;
use crate::store::now_seconds;
use crate::web::encode_path_segment;

#[derive(Serialize)]
pub struct SectionJson {
    pub name: String,
    pub slug: String,
    pub url: String,
    pub description: String,
    pub position: i64,
    pub article_count: i64,
}

#[derive(Serialize)]
pub struct TagJson {
    pub name: String,
    pub slug: String,
    pub url: String,
    pub article_count: i64,
}

#[derive(Serialize)]
pub struct AuthorJson {
    pub name: String,
    pub slug: String,
    pub url: String,
    pub bio: String,
    pub article_count: i64,
}

fn url(state: &AppState, kind: &str, slug: &str) -> String {
    state.absolute_url(&format!("/{kind}/{}", encode_path_segment(slug)))
}

pub async fn sections(State(state): State<AppState>) -> Result<Json<Vec<SectionJson>>, AppError> {
    let rows = state.store.sections(now_seconds()).await?;
    Ok(Json(
        rows.into_iter()
            .map(|row| SectionJson {
                url: url(&state, "section", &row.slug),
                name: row.name,
                slug: row.slug,
                description: row.description,
                position: row.position,
                article_count: row.article_count,
            })
            .collect(),
    ))
}

pub async fn tags(State(state): State<AppState>) -> Result<Json<Vec<TagJson>>, AppError> {
    let rows = state.store.tags(now_seconds()).await?;
    Ok(Json(
        rows.into_iter()
            .map(|row| TagJson {
                url: url(&state, "tag", &row.slug),
                name: row.name,
                slug: row.slug,
                article_count: row.article_count,
            })
            .collect(),
    ))
}

pub async fn authors(State(state): State<AppState>) -> Result<Json<Vec<AuthorJson>>, AppError> {
    let rows = state.store.authors(now_seconds()).await?;
    Ok(Json(
        rows.into_iter()
            .map(|row| AuthorJson {
                url: url(&state, "author", &row.slug),
                name: row.name,
                slug: row.slug,
                bio: row.bio,
                article_count: row.article_count,
            })
            .collect(),
    ))
}
