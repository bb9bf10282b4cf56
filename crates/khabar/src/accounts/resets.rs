//! Password reset links: single use, valid for 30 minutes, stored hashed.

use crate::accounts::sessions::random_token;
use crate::accounts::tokens::hash_token;
use crate::store::{with_pool, Store, StoreError};

pub const RESET_SECONDS: i64 = 30 * 60;
/// Reset emails one account can trigger in an hour: enough for a person, useless for flooding an inbox.
pub const RESETS_PER_HOUR: i64 = 3;

impl Store {
    /// A new reset token for the account, or `None` when it asked too often.
    /// Counting and inserting are one statement, so requests racing each
    /// other cannot both slip under the cap.
    pub async fn create_password_reset(&self, staff_id: i64, now: i64) -> Result<Option<String>, StoreError> {
        let token = random_token();
        let inserted = with_pool!(self, pool => sqlx::query(
            "INSERT INTO password_resets (token_hash, staff_id, created_at, expires_at) \
             SELECT $1, $2, $3, $4 \
             WHERE (SELECT COUNT(*) FROM password_resets WHERE staff_id = $2 AND created_at > $5) < $6",
        )
        .bind(hash_token(&token))
        .bind(staff_id)
        .bind(now)
        .bind(now + RESET_SECONDS)
        .bind(now - 3600)
        .bind(RESETS_PER_HOUR)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        Ok((inserted > 0).then_some(token))
    }

    /// The account a live, unused token belongs to.
    pub async fn password_reset_owner(&self, token: &str, now: i64) -> Result<Option<i64>, StoreError> {
        let owner = with_pool!(self, pool => sqlx::query_scalar::<_, i64>(
            "SELECT staff_id FROM password_resets WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
        )
        .bind(hash_token(token))
        .bind(now)
        .fetch_optional(pool)
        .await)?;
        Ok(owner)
    }

    /// Uses the token up; false if it was used (or expired) meanwhile.
    pub async fn use_password_reset(&self, token: &str, now: i64) -> Result<bool, StoreError> {
        let used = with_pool!(self, pool => sqlx::query(
            "UPDATE password_resets SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1",
        )
        .bind(now)
        .bind(hash_token(token))
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        Ok(used > 0)
    }
}
