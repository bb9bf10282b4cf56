//! Staff passwords: argon2id with OWASP's minimum parameters (19 MiB, two
//! passes, one lane), hashed off the async threads because a hash takes tens
//! of milliseconds by design.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

pub const MIN_PASSWORD_CHARS: usize = 12;
const MAX_PASSWORD_BYTES: usize = 1024;

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("{0}")]
    Weak(String),
    #[error("password hashing failed: {0}")]
    Hashing(String),
}

fn hasher() -> Result<Argon2<'static>, PasswordError> {
    let params = Params::new(19 * 1024, 2, 1, None).map_err(|error| PasswordError::Hashing(error.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Refuses passwords a guesser would try early. The message is shown to the
/// person choosing the password, so it says what to do.
pub fn check_strength(password: &str, email: &str, name: &str) -> Result<(), PasswordError> {
    let characters = password.chars().count();
    if characters < MIN_PASSWORD_CHARS {
        return Err(PasswordError::Weak(format!(
            "password too short: use at least {MIN_PASSWORD_CHARS} characters (a few unrelated words work well)"
        )));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(PasswordError::Weak(format!("password too long: at most {MAX_PASSWORD_BYTES} bytes")));
    }
    let distinct: std::collections::BTreeSet<char> = password.chars().collect();
    if distinct.len() < 5 {
        return Err(PasswordError::Weak("password too repetitive: use more different characters".to_owned()));
    }
    let lowered = password.to_lowercase();
    let local_part = email.split('@').next().unwrap_or("").to_lowercase();
    if local_part.chars().count() >= 4 && lowered.contains(&local_part) {
        return Err(PasswordError::Weak("password must not contain your email address".to_owned()));
    }
    let name = name.trim().to_lowercase();
    if name.chars().count() >= 4 && lowered.contains(&name) {
        return Err(PasswordError::Weak("password must not contain your name".to_owned()));
    }
    const COMMON: &[&str] =
        &["password", "123456", "qwerty", "letmein", "admin", "welcome", "khabar", "iloveyou", "abc123", "111111"];
    if COMMON.iter().any(|common| lowered.contains(common)) {
        return Err(PasswordError::Weak("password too easy to guess: avoid common words and sequences".to_owned()));
    }
    Ok(())
}

/// What is wrong with a newly chosen password and its confirmation, in the
/// Arabic shown on the form; `None` when it may be used.
pub fn new_password_problem(password: &str, confirmation: &str, email: &str, name: &str) -> Option<String> {
    if password != confirmation {
        return Some("كلمتا المرور غير متطابقتين.".to_owned());
    }
    check_strength(password, email, name).err().map(|error| format!("كلمة المرور ضعيفة: {error}"))
}

pub async fn hash(password: String) -> Result<String, PasswordError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        hasher()?
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|error| PasswordError::Hashing(error.to_string()))
    })
    .await
    .map_err(|error| PasswordError::Hashing(error.to_string()))?
}

/// A hash of nothing in particular, verified against when the email is
/// unknown, so both answers take the same time.
const DECOY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$3Zt2oYQ8tvDTs1q3mG8T6ZbN9Qe0O7y8yJc8cVQ1lJ4";

pub async fn verify(password: String, stored_hash: Option<String>) -> bool {
    let known = stored_hash.is_some();
    let stored = stored_hash.unwrap_or_else(|| DECOY_HASH.to_owned());
    let matches = tokio::task::spawn_blocking(move || {
        let Ok(parsed) = PasswordHash::new(&stored) else { return false };
        hasher().is_ok_and(|hasher| hasher.verify_password(password.as_bytes(), &parsed).is_ok())
    })
    .await
    .unwrap_or(false);
    known && matches
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn weak_passwords_are_refused_with_a_reason() {
        for (password, reason) in [
            ("short", "too short"),
            ("aaaaaaaaaaaaaaaa", "repetitive"),
            ("my-password-is-long", "easy to guess"),
            ("layla.haddad-2026!", "email"),
        ] {
            let error = check_strength(password, "layla.haddad@example.com", "ليلى").unwrap_err();
            assert!(error.to_string().contains(reason), "{password}: {error}");
        }
        check_strength("زيتون أخضر على الطاولة", "layla@example.com", "ليلى").unwrap();
    }

    #[tokio::test]
    async fn hashes_verify_only_their_password() {
        let hash = hash("correct horse battery".to_owned()).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify("correct horse battery".to_owned(), Some(hash.clone())).await);
        assert!(!verify("wrong horse battery".to_owned(), Some(hash)).await);
        assert!(!verify("anything".to_owned(), None).await);
    }
}
