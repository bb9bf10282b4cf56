//! Server-side staff sessions. The cookie holds a random token; the database
//! holds its SHA-256, so a leaked database does not leak live sessions.

use rand::RngCore;
use sqlx::FromRow;

use crate::accounts::staff::StaffRow;
use crate::accounts::tokens::hash_token;
use crate::store::{with_pool, Store, StoreError};

/// A session ends after this long without use…
pub const IDLE_SECONDS: i64 = 12 * 3600;
/// …and after this long in any case.
pub const MAX_AGE_SECONDS: i64 = 14 * 24 * 3600;
/// Browsers that logged in successfully are remembered this long.
pub const TRUSTED_DEVICE_SECONDS: i64 = 180 * 24 * 3600;

pub fn random_token() -> String {
    let mut secret = [0u8; 32];
    rand::rng().fill_bytes(&mut secret);
    hex::encode(secret)
}

#[derive(Debug, Clone)]
pub struct ActiveSession {
    pub token_hash: String,
    pub csrf_token: String,
    pub staff: StaffRow,
}

#[derive(FromRow)]
struct SessionRow {
    token_hash: String,
    csrf_token: String,
    last_seen_at: i64,
    expires_at: i64,
    #[sqlx(flatten)]
    staff: StaffRow,
}

impl Store {
    /// Starts a session and returns the cookie's token (a new one at every login).
    pub async fn create_session(&self, staff_id: i64, now: i64) -> Result<String, StoreError> {
        let token = random_token();
        with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            // Old sessions of anyone are swept as new ones start: no separate job needed.
            sqlx::query("DELETE FROM staff_sessions WHERE expires_at < $1 OR last_seen_at < $2")
                .bind(now)
                .bind(now - IDLE_SECONDS)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO staff_sessions (token_hash, staff_id, csrf_token, created_at, last_seen_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $4, $5)",
            )
            .bind(hash_token(&token))
            .bind(staff_id)
            .bind(random_token())
            .bind(now)
            .bind(now + MAX_AGE_SECONDS)
            .execute(&mut *tx)
            .await?;
            tx.commit().await
        })?;
        Ok(token)
    }

    /// The live session for a cookie token, if any; keeps it alive.
    pub async fn session(&self, token: &str, now: i64) -> Result<Option<ActiveSession>, StoreError> {
        let token_hash = hash_token(token);
        let row = with_pool!(self, pool => sqlx::query_as::<_, SessionRow>(
            "SELECT s.token_hash, s.csrf_token, s.last_seen_at, s.expires_at, \
             t.id, t.email, t.name, t.role, t.password_hash, t.author_id, t.disabled, t.created_at, \
             (t.totp_secret IS NOT NULL) AS two_factor \
             FROM staff_sessions s JOIN staff t ON t.id = s.staff_id WHERE s.token_hash = $1",
        )
        .bind(&token_hash)
        .fetch_optional(pool)
        .await)?;
        let Some(row) = row else { return Ok(None) };
        if row.expires_at < now || row.last_seen_at < now - IDLE_SECONDS || row.staff.disabled {
            self.end_session(&row.token_hash).await?;
            return Ok(None);
        }
        // Touch at most once a minute: a page view should not always be a write.
        if now - row.last_seen_at > 60 {
            with_pool!(self, pool => sqlx::query("UPDATE staff_sessions SET last_seen_at = $1 WHERE token_hash = $2")
                .bind(now)
                .bind(&row.token_hash)
                .execute(pool)
                .await
                .map(|_| ()))?;
        }
        Ok(Some(ActiveSession { token_hash: row.token_hash, csrf_token: row.csrf_token, staff: row.staff }))
    }

    pub async fn end_session(&self, token_hash: &str) -> Result<(), StoreError> {
        with_pool!(self, pool => sqlx::query("DELETE FROM staff_sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    pub async fn trust_device(&self, staff_id: i64, now: i64) -> Result<String, StoreError> {
        let token = random_token();
        with_pool!(self, pool => sqlx::query(
            "INSERT INTO trusted_devices (token_hash, staff_id, created_at, last_used_at) VALUES ($1, $2, $3, $3)",
        )
        .bind(hash_token(&token))
        .bind(staff_id)
        .bind(now)
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok(token)
    }

    /// Whether the device token was given to this account by an earlier login.
    pub async fn is_trusted_device(&self, token: &str, email: &str, now: i64) -> Result<bool, StoreError> {
        let count: i64 = with_pool!(self, pool => sqlx::query_scalar(
            "SELECT COUNT(*) FROM trusted_devices d JOIN staff t ON t.id = d.staff_id \
             WHERE d.token_hash = $1 AND t.email = $2 AND d.created_at > $3",
        )
        .bind(hash_token(token))
        .bind(crate::accounts::staff::normalize_email(email))
        .bind(now - TRUSTED_DEVICE_SECONDS)
        .fetch_one(pool)
        .await)?;
        Ok(count > 0)
    }
}
