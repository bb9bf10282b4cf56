//! Bearer tokens for the admin API. Only a SHA-256 of each token is stored:
//! tokens are 256 random bits, so a slow password hash would add nothing.

use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::store::{now_seconds, with_pool, Store, StoreError};

const TOKEN_PREFIX: &str = "khabar_";

pub fn hash_token(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    hex::encode(digest)
}

fn new_token() -> String {
    let mut secret = [0u8; 32];
    rand::rng().fill_bytes(&mut secret);
    let hex: String = hex::encode(secret);
    format!("{TOKEN_PREFIX}{hex}")
}

impl Store {
    /// Creates a token and returns it; this is the only time it is seen in clear.
    pub async fn create_api_token(&self, name: &str) -> Result<String, StoreError> {
        let token = new_token();
        let hash = hash_token(&token);
        let now = now_seconds();
        with_pool!(self, pool => sqlx::query("INSERT INTO api_tokens (name, token_hash, created_at) VALUES ($1, $2, $3)")
            .bind(name)
            .bind(&hash)
            .bind(now)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(token)
    }

    /// The token's name when it is valid; marks it as used.
    pub async fn verify_api_token(&self, token: &str) -> Result<Option<String>, StoreError> {
        if !token.starts_with(TOKEN_PREFIX) {
            return Ok(None);
        }
        let hash = hash_token(token);
        let name: Option<String> = with_pool!(self, pool => sqlx::query_scalar(
            "UPDATE api_tokens SET last_used_at = $1 WHERE token_hash = $2 RETURNING name",
        )
        .bind(now_seconds())
        .bind(&hash)
        .fetch_optional(pool)
        .await)?;
        Ok(name)
    }
}

/// Proof that the request carries a valid admin API token.
pub struct ApiCaller {
    pub token_name: String,
}

impl axum::extract::FromRequestParts<crate::app::AppState> for ApiCaller {
    type Rejection = crate::error::AppError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &crate::app::AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or(crate::error::AppError::Unauthorized)?;
        let token_name = state.store.verify_api_token(token).await?.ok_or(crate::error::AppError::Unauthorized)?;
        Ok(ApiCaller { token_name })
    }
}
