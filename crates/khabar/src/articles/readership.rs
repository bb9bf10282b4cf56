//! Counting reads for "most read". Counting happens on every article view,
//! cached or not, so it must be cheap: a map increment in memory, written to
//! the database in one batch every few seconds by the jobs loop.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use crate::store::{Store, StoreError};

const SECONDS_PER_DAY: i64 = 86_400;

#[derive(Default)]
pub struct ReadCounter {
    pending: Mutex<HashMap<i64, i64>>,
}

impl ReadCounter {
    pub fn record(&self, article_id: i64) {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        *pending.entry(article_id).or_insert(0) += 1;
    }

    /// Writes what was counted; on failure the counts go back for the next try.
    pub async fn flush(&self, store: &Store, now: i64) -> Result<(), StoreError> {
        let drained: Vec<(i64, i64)> = {
            let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
            pending.drain().collect()
        };
        if drained.is_empty() {
            return Ok(());
        }
        let day = day_number(now);
        let rows: Vec<(i64, i64, i64)> = drained.iter().map(|(id, count)| (*id, day, *count)).collect();
        if let Err(error) = store.add_reads(&rows).await {
            let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
            for (id, count) in drained {
                *pending.entry(id).or_insert(0) += count;
            }
            return Err(error);
        }
        Ok(())
    }
}

pub fn day_number(seconds: i64) -> i64 {
    seconds.div_euclid(SECONDS_PER_DAY)
}
