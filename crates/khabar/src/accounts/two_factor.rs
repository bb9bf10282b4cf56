//! TOTP two-factor login (RFC 6238: 6 digits, 30-second steps, SHA-1, as
//! every authenticator app expects), with a one-step clock allowance and no
//! code accepted twice.

use totp_rs::{Algorithm, Secret, TOTP};

use crate::accounts::sessions::random_token;
use crate::accounts::tokens::hash_token;
use crate::store::{with_pool, Store, StoreError};

const STEP_SECONDS: u64 = 30;
/// Wrong codes allowed for one password login before it must start over.
pub const MAX_CODE_FAILURES: i64 = 5;
pub const CHALLENGE_SECONDS: i64 = 300;

#[derive(Debug, thiserror::Error)]
pub enum TwoFactorError {
    #[error("invalid two-factor secret: {0}")]
    Secret(String),
}

pub fn new_secret() -> String {
    match Secret::generate_secret().to_encoded() {
        Secret::Encoded(text) => text,
        Secret::Raw(bytes) => hex::encode(bytes),
    }
}

fn totp(secret: &str, issuer: &str, account: &str) -> Result<TOTP, TwoFactorError> {
    let bytes =
        Secret::Encoded(secret.to_owned()).to_bytes().map_err(|error| TwoFactorError::Secret(format!("{error:?}")))?;
    TOTP::new(Algorithm::SHA1, 6, 1, STEP_SECONDS, bytes, Some(issuer.to_owned()), account.to_owned())
        .map_err(|error| TwoFactorError::Secret(error.to_string()))
}

/// The `otpauth://` link authenticator apps read from the QR code.
pub fn setup_url(secret: &str, issuer: &str, account: &str) -> Result<String, TwoFactorError> {
    Ok(totp(secret, issuer, account)?.get_url())
}

/// The QR code of the setup link, as inline SVG.
pub fn setup_qr_svg(url: &str) -> Option<String> {
    let code = qrcode::QrCode::new(url.as_bytes()).ok()?;
    let svg = code.render::<qrcode::render::svg::Color>().min_dimensions(200, 200).quiet_zone(true).build();
    // Inline in HTML, so without the XML declaration.
    Some(match svg.find("<svg") {
        Some(start) => svg[start..].to_owned(),
        None => svg,
    })
}

/// The time step a code matches (now, or one step either side), if any.
pub fn matching_step(secret: &str, code: &str, now: i64) -> Option<i64> {
    let code: String = code.chars().filter(|character| !character.is_whitespace()).collect();
    let code = khabar_arabic::digits::to_ascii(&code);
    if code.len() != 6 || !code.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    let generator = totp(secret, "khabar", "staff").ok()?;
    let step = now.div_euclid(STEP_SECONDS as i64);
    [step, step - 1, step + 1].into_iter().find(|candidate| {
        let at = u64::try_from(candidate * STEP_SECONDS as i64).unwrap_or(0);
        generator.generate(at) == code
    })
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Challenge {
    pub staff_id: i64,
    pub next_path: String,
    pub trusted: bool,
    pub failures: i64,
    pub expires_at: i64,
}

impl Store {
    pub async fn start_totp_setup(&self, staff_id: i64) -> Result<String, StoreError> {
        let secret = new_secret();
        with_pool!(self, pool => sqlx::query("UPDATE staff SET totp_pending = $1 WHERE id = $2")
            .bind(&secret)
            .bind(staff_id)
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(secret)
    }

    pub async fn totp_state(&self, staff_id: i64) -> Result<(Option<String>, Option<String>, Option<i64>), StoreError> {
        let row: Option<(Option<String>, Option<String>, Option<i64>)> = with_pool!(self, pool => sqlx::query_as(
            "SELECT totp_secret, totp_pending, totp_last_step FROM staff WHERE id = $1",
        )
        .bind(staff_id)
        .fetch_optional(pool)
        .await)?;
        Ok(row.unwrap_or((None, None, None)))
    }

    /// Turns the pending secret on, remembering the step just used.
    pub async fn enable_totp(&self, staff_id: i64, step: i64) -> Result<(), StoreError> {
        with_pool!(self, pool => sqlx::query(
            "UPDATE staff SET totp_secret = totp_pending, totp_pending = NULL, totp_last_step = $1 WHERE id = $2",
        )
        .bind(step)
        .bind(staff_id)
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    pub async fn disable_totp(&self, staff_id: i64) -> Result<(), StoreError> {
        with_pool!(self, pool => sqlx::query(
            "UPDATE staff SET totp_secret = NULL, totp_pending = NULL, totp_last_step = NULL WHERE id = $1",
        )
        .bind(staff_id)
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// Records a used step; false when it (or a later one) was used already.
    pub async fn use_totp_step(&self, staff_id: i64, step: i64) -> Result<bool, StoreError> {
        let changed = with_pool!(self, pool => sqlx::query(
            "UPDATE staff SET totp_last_step = $1 WHERE id = $2 AND (totp_last_step IS NULL OR totp_last_step < $1)",
        )
        .bind(step)
        .bind(staff_id)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        Ok(changed > 0)
    }

    pub async fn create_challenge(
        &self,
        staff_id: i64,
        next_path: &str,
        trusted: bool,
        now: i64,
    ) -> Result<String, StoreError> {
        let token = random_token();
        with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query("DELETE FROM login_challenges WHERE expires_at < $1").bind(now).execute(&mut *tx).await?;
            sqlx::query(
                "INSERT INTO login_challenges (token_hash, staff_id, next_path, trusted, expires_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(hash_token(&token))
            .bind(staff_id)
            .bind(next_path)
            .bind(trusted)
            .bind(now + CHALLENGE_SECONDS)
            .execute(&mut *tx)
            .await?;
            tx.commit().await
        })?;
        Ok(token)
    }

    pub async fn challenge(&self, token: &str) -> Result<Option<Challenge>, StoreError> {
        let row = with_pool!(self, pool => sqlx::query_as::<_, Challenge>(
            "SELECT staff_id, next_path, trusted, failures, expires_at FROM login_challenges WHERE token_hash = $1",
        )
        .bind(hash_token(token))
        .fetch_optional(pool)
        .await)?;
        Ok(row)
    }

    pub async fn fail_challenge(&self, token: &str) -> Result<(), StoreError> {
        with_pool!(self, pool => sqlx::query("UPDATE login_challenges SET failures = failures + 1 WHERE token_hash = $1")
            .bind(hash_token(token))
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    pub async fn end_challenge(&self, token: &str) -> Result<(), StoreError> {
        with_pool!(self, pool => sqlx::query("DELETE FROM login_challenges WHERE token_hash = $1")
            .bind(hash_token(token))
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_their_step_and_neighbours_only() {
        let secret = new_secret();
        let generator = totp(&secret, "khabar", "a@example.com").unwrap();
        let now = 1_800_000_000_i64;
        let code = generator.generate(now as u64);
        assert_eq!(matching_step(&secret, &code, now), Some(now / 30));
        assert_eq!(matching_step(&secret, &code, now + 30), Some(now / 30), "one step of clock drift");
        assert_eq!(matching_step(&secret, &code, now + 120), None);
        let arabic: String = khabar_arabic::digits::to_arabic_indic(&code);
        assert_eq!(matching_step(&secret, &arabic, now), Some(now / 30), "Arabic-Indic digits typed on a phone");
        assert_eq!(matching_step(&secret, "12345", now), None);
        assert!(setup_url(&secret, "خبر", "a@example.com").unwrap().starts_with("otpauth://totp/"));
        assert!(setup_qr_svg("otpauth://totp/x").unwrap().starts_with("<svg"));
    }
}
