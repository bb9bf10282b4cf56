//! Login throttling. Three limits, each over the last hour:
//! - guessing one account from one address waits longer after each failure;
//!   failures from untrusted browsers and from trusted ones are counted apart,
//!   so a colleague's (or an attacker's) typos behind the same office address
//!   do not slow down a browser that logged in to the account before;
//! - one client address may fail at most `CLIENT_LIMIT` times, whatever the accounts;
//! - one account may see at most `ACCOUNT_LIMIT` failures from untrusted browsers;
//!   browsers that logged in to it before are exempt, so an attacker's
//!   guessing cannot lock the real user out of their own desk.

use crate::store::{with_pool, Store, StoreError};

pub const WINDOW_SECONDS: i64 = 3600;
pub const ACCOUNT_LIMIT: i64 = 100;
pub const CLIENT_LIMIT: i64 = 100;
/// Failures allowed before delays start.
const FREE_FAILURES: i64 = 3;
const MAX_DELAY_SECONDS: i64 = 300;

#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    /// Try again in this many seconds.
    Wait(i64),
}

/// 5, 10, 20, … seconds after the free failures, capped: a person who
/// mistyped waits a moment, a guesser gets a few hundred tries an hour.
pub fn delay_after(failures: i64) -> i64 {
    if failures < FREE_FAILURES {
        return 0;
    }
    let exponent = u32::try_from((failures - FREE_FAILURES).min(16)).unwrap_or(16);
    (5 * 2_i64.pow(exponent)).min(MAX_DELAY_SECONDS)
}

impl Store {
    pub async fn login_verdict(
        &self,
        email: &str,
        client_hash: &str,
        trusted: bool,
        now: i64,
    ) -> Result<Verdict, StoreError> {
        let since = now - WINDOW_SECONDS;
        let (pair_failures, last_pair_failure, client_failures, account_failures): (i64, Option<i64>, i64, i64) = with_pool!(self, pool => sqlx::query_as(
                "SELECT \
                 (SELECT COUNT(*) FROM login_attempts WHERE email = $1 AND client_hash = $2 AND trusted = $4 \
                  AND NOT succeeded AND attempted_at > $3), \
                 (SELECT MAX(attempted_at) FROM login_attempts WHERE email = $1 AND client_hash = $2 AND trusted = $4 \
                  AND NOT succeeded AND attempted_at > $3), \
                 (SELECT COUNT(*) FROM login_attempts WHERE client_hash = $2 AND NOT succeeded AND attempted_at > $3), \
                 (SELECT COUNT(*) FROM login_attempts WHERE email = $1 AND NOT trusted AND NOT succeeded AND attempted_at > $3)",
            )
            .bind(email)
            .bind(client_hash)
            .bind(since)
            .bind(trusted)
            .fetch_one(pool)
            .await)?;
        if !trusted && (client_failures >= CLIENT_LIMIT || account_failures >= ACCOUNT_LIMIT) {
            return Ok(Verdict::Wait(WINDOW_SECONDS / 4));
        }
        let delay = delay_after(pair_failures);
        if let Some(last) = last_pair_failure {
            let ready_at = last + delay;
            if ready_at > now {
                return Ok(Verdict::Wait(ready_at - now));
            }
        }
        Ok(Verdict::Allowed)
    }

    pub async fn record_login_attempt(
        &self,
        email: &str,
        client_hash: &str,
        trusted: bool,
        succeeded: bool,
        now: i64,
    ) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query("DELETE FROM login_attempts WHERE attempted_at < $1")
                .bind(now - 2 * WINDOW_SECONDS)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO login_attempts (email, client_hash, trusted, succeeded, attempted_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(email)
            .bind(client_hash)
            .bind(trusted)
            .bind(succeeded)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            tx.commit().await
        })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::delay_after;

    #[test]
    fn delays_grow_and_stop_growing() {
        assert_eq!((0..3).map(delay_after).collect::<Vec<_>>(), vec![0, 0, 0]);
        assert_eq!((3..7).map(delay_after).collect::<Vec<_>>(), vec![5, 10, 20, 40]);
        assert_eq!(delay_after(50), 300);
    }
}
