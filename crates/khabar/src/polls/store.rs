//! Poll queries. Votes are written by the ballot box in batches; everything
//! else here is the ordinary reads and edits of polls and their options.

use sqlx::FromRow;

use crate::store::reads::sqlite_row;
use crate::store::Arg;
use crate::store::{with_pool, Store, StoreError};

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct PollRow {
    pub id: i64,
    pub question: String,
    pub multiple: bool,
    pub placement: String,
    pub article_id: Option<i64>,
    pub status: String,
    pub opens_at: Option<i64>,
    pub closes_at: Option<i64>,
    pub staff_only: bool,
    pub address_allowance: i64,
    pub voters: i64,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
}

sqlite_row!(PollRow {
    id,
    question,
    multiple,
    placement,
    article_id,
    status,
    opens_at,
    closes_at,
    staff_only,
    address_allowance,
    voters,
    created_by,
    created_at,
    updated_at,
});

const POLL_COLUMNS: &str = "id, question, multiple, placement, article_id, status, opens_at, closes_at, staff_only, \
     address_allowance, voters, created_by, created_at, updated_at";

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct OptionRow {
    pub id: i64,
    pub poll_id: i64,
    pub position: i64,
    pub label: String,
    pub hidden: bool,
    pub votes: i64,
}

sqlite_row!(OptionRow { id, poll_id, position, label, hidden, votes });

/// A poll as written by the newsroom.
#[derive(Debug, Clone)]
pub struct PollWrite {
    pub question: String,
    pub options: Vec<String>,
    pub multiple: bool,
    pub placement: String,
    pub article_id: Option<i64>,
    pub opens_at: Option<i64>,
    pub closes_at: Option<i64>,
    pub staff_only: bool,
    pub address_allowance: i64,
}

/// One reader's ballot, checked against the poll already.
#[derive(Debug, Clone)]
pub struct Ballot {
    pub poll_id: i64,
    pub voter: String,
    /// '' when the poll has no per-address allowance: nothing is kept then.
    pub address_hash: String,
    pub option_ids: Vec<i64>,
    pub address_allowance: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counted {
    /// Stored and counted.
    Accepted,
    /// This voter had voted in this poll already; nothing changed.
    AlreadyVoted,
    /// This client address used up the poll's hourly allowance.
    OverAllowance,
}

/// The window of the per-address allowance.
pub const ALLOWANCE_WINDOW_SECONDS: i64 = 3600;

/// The newest poll attached to article `$1`, not archived (through `polls_by_article`).
const ARTICLE_POLL_SQL: &str = "SELECT id FROM polls WHERE placement = 'article' AND article_id = $1 \
                                AND status <> 'archived' ORDER BY id DESC LIMIT 1";

impl Store {
    pub async fn create_poll(&self, poll: &PollWrite, created_by: &str, now: i64) -> Result<i64, StoreError> {
        let id = with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO polls (question, multiple, placement, article_id, status, opens_at, closes_at, staff_only, \
                 address_allowance, created_by, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, 'open', $5, $6, $7, $8, $9, $10, $10) RETURNING id",
            )
            .bind(&poll.question)
            .bind(poll.multiple)
            .bind(&poll.placement)
            .bind(poll.article_id)
            .bind(poll.opens_at)
            .bind(poll.closes_at)
            .bind(poll.staff_only)
            .bind(poll.address_allowance)
            .bind(created_by)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            for (position, label) in poll.options.iter().enumerate() {
                sqlx::query("INSERT INTO poll_options (poll_id, position, label) VALUES ($1, $2, $3)")
                    .bind(id)
                    .bind(i64::try_from(position).unwrap_or(i64::MAX))
                    .bind(label)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok::<_, sqlx::Error>(id)
        })?;
        Ok(id)
    }

    /// Replaces a poll's settings and labels. Options keep their ids and
    /// counts by position; once votes exist an option is hidden, never removed.
    pub async fn update_poll(&self, id: i64, poll: &PollWrite, now: i64) -> Result<bool, StoreError> {
        let updated = with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let changed = sqlx::query(
                "UPDATE polls SET question = $2, multiple = $3, placement = $4, article_id = $5, opens_at = $6, \
                 closes_at = $7, staff_only = $8, address_allowance = $9, updated_at = $10 WHERE id = $1",
            )
            .bind(id)
            .bind(&poll.question)
            .bind(poll.multiple)
            .bind(&poll.placement)
            .bind(poll.article_id)
            .bind(poll.opens_at)
            .bind(poll.closes_at)
            .bind(poll.staff_only)
            .bind(poll.address_allowance)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if changed == 0 {
                return Ok(false);
            }
            let existing: Vec<(i64, i64, i64)> =
                sqlx::query_as("SELECT id, position, votes FROM poll_options WHERE poll_id = $1 ORDER BY position")
                    .bind(id)
                    .fetch_all(&mut *tx)
                    .await?;
            for (position, label) in poll.options.iter().enumerate() {
                let position = i64::try_from(position).unwrap_or(i64::MAX);
                match existing.iter().find(|(_, at, _)| *at == position) {
                    Some((option_id, _, _)) => {
                        sqlx::query("UPDATE poll_options SET label = $2, hidden = FALSE WHERE id = $1")
                            .bind(option_id)
                            .bind(label)
                            .execute(&mut *tx)
                            .await?;
                    }
                    None => {
                        sqlx::query("INSERT INTO poll_options (poll_id, position, label) VALUES ($1, $2, $3)")
                            .bind(id)
                            .bind(position)
                            .bind(label)
                            .execute(&mut *tx)
                            .await?;
                    }
                }
            }
            let kept = i64::try_from(poll.options.len()).unwrap_or(i64::MAX);
            for (option_id, position, votes) in &existing {
                if *position >= kept {
                    if *votes > 0 {
                        sqlx::query("UPDATE poll_options SET hidden = TRUE WHERE id = $1").bind(option_id).execute(&mut *tx).await?;
                    } else {
                        sqlx::query("DELETE FROM poll_options WHERE id = $1").bind(option_id).execute(&mut *tx).await?;
                    }
                }
            }
            tx.commit().await?;
            Ok::<_, sqlx::Error>(true)
        })?;
        Ok(updated)
    }

    pub async fn set_poll_status(&self, id: i64, status: &str, now: i64) -> Result<bool, StoreError> {
        let changed = with_pool!(self, pool => sqlx::query("UPDATE polls SET status = $2, updated_at = $3 WHERE id = $1")
            .bind(id)
            .bind(status)
            .bind(now)
            .execute(pool)
            .await
            .map(|result| result.rows_affected()))?;
        Ok(changed == 1)
    }

    pub async fn delete_poll(&self, id: i64) -> Result<bool, StoreError> {
        let changed = with_pool!(self, pool => sqlx::query("DELETE FROM polls WHERE id = $1")
            .bind(id)
            .execute(pool)
            .await
            .map(|result| result.rows_affected()))?;
        Ok(changed == 1)
    }

    pub async fn poll(&self, id: i64) -> Result<Option<(PollRow, Vec<OptionRow>)>, StoreError> {
        let sql = format!("SELECT {POLL_COLUMNS} FROM polls WHERE id = $1");
        let Some(poll) = self.read_optional::<PollRow>(&sql, &[Arg::Int(id)]).await? else {
            return Ok(None);
        };
        let options = self
            .read_all(
                "SELECT id, poll_id, position, label, hidden, votes FROM poll_options \
                 WHERE poll_id = $1 ORDER BY position",
                &[Arg::Int(id)],
            )
            .await?;
        Ok(Some((poll, options)))
    }

    /// The newest poll placed in the sidebar that is not archived.
    pub async fn sidebar_poll_id(&self) -> Result<Option<i64>, StoreError> {
        let id: Option<(i64,)> = self
            .read_optional(
                "SELECT id FROM polls WHERE placement = 'sidebar' AND status <> 'archived' ORDER BY id DESC LIMIT 1",
                &[],
            )
            .await?;
        Ok(id.map(|(id,)| id))
    }

    /// The newest poll attached to an article, not archived.
    pub async fn article_poll_id(&self, article_id: i64) -> Result<Option<i64>, StoreError> {
        let id: Option<(i64,)> = self.read_optional(ARTICLE_POLL_SQL, &[Arg::Int(article_id)]).await?;
        Ok(id.map(|(id,)| id))
    }

    pub async fn polls_list(&self, limit: i64) -> Result<Vec<PollRow>, StoreError> {
        let sql = format!("SELECT {POLL_COLUMNS} FROM polls ORDER BY id DESC LIMIT $1");
        let rows = with_pool!(self, pool => sqlx::query_as::<_, PollRow>(&sql).bind(limit).fetch_all(pool).await)?;
        Ok(rows)
    }

    pub async fn has_voted(&self, poll_id: i64, voter: &str) -> Result<bool, StoreError> {
        let found: Option<i64> = with_pool!(self, pool => sqlx::query_scalar(
            "SELECT poll_id FROM poll_votes WHERE poll_id = $1 AND voter = $2",
        )
        .bind(poll_id)
        .bind(voter)
        .fetch_optional(pool)
        .await)?;
        Ok(found.is_some())
    }

    /// Stores a batch of ballots in one transaction and raises the counts by
    /// exactly the ballots stored. Each ballot's fate is returned in order.
    /// Rows go in with multi-row statements: a batch of a thousand votes is a
    /// handful of statements, not two thousand.
    pub async fn cast_ballots(&self, ballots: &[Ballot], now: i64) -> Result<Vec<Counted>, StoreError> {
        use std::collections::{BTreeMap, HashSet};
        let outcomes = with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let mut outcomes = vec![Counted::AlreadyVoted; ballots.len()];
            // The allowance is checked per ballot, counting the ones before it in this batch.
            let mut allowed = vec![true; ballots.len()];
            let mut used_in_batch: BTreeMap<(i64, &str), i64> = BTreeMap::new();
            for (index, ballot) in ballots.iter().enumerate() {
                if ballot.address_allowance <= 0 {
                    continue;
                }
                let key = (ballot.poll_id, ballot.address_hash.as_str());
                let before: i64 = match used_in_batch.get(&key) {
                    Some(_) => 0,
                    // (`address_hash <> ''` lets the partial index on these rows serve.)
                    None => sqlx::query_scalar(
                        "SELECT COUNT(*) FROM poll_votes \
                         WHERE poll_id = $1 AND address_hash = $2 AND address_hash <> '' AND voted_at > $3",
                    )
                    .bind(ballot.poll_id)
                    .bind(&ballot.address_hash)
                    .bind(now - ALLOWANCE_WINDOW_SECONDS)
                    .fetch_one(&mut *tx)
                    .await?,
                };
                let used = used_in_batch.entry(key).or_insert(before);
                if *used >= ballot.address_allowance {
                    allowed[index] = false;
                    outcomes[index] = Counted::OverAllowance;
                } else {
                    *used += 1;
                }
            }
            let candidates: Vec<usize> = (0..ballots.len()).filter(|index| allowed[*index]).collect();
            let mut stored: HashSet<(i64, String)> = HashSet::new();
            for chunk in candidates.chunks(500) {
                let mut sql =
                    String::from("INSERT INTO poll_votes (poll_id, voter, option_id, address_hash, voted_at) VALUES ");
                for (position, _) in chunk.iter().enumerate() {
                    let base = position * 5;
                    if position > 0 {
                        sql.push(',');
                    }
                    sql.push_str(&format!(
                        "(${}, ${}, ${}, ${}, ${})",
                        base + 1,
                        base + 2,
                        base + 3,
                        base + 4,
                        base + 5
                    ));
                }
                sql.push_str(" ON CONFLICT (poll_id, voter) DO NOTHING RETURNING poll_id, voter");
                let mut query = sqlx::query_as::<_, (i64, String)>(&sql);
                for index in chunk {
                    let ballot = &ballots[*index];
                    // One answer is kept in the vote's own row; several go to poll_vote_choices.
                    let only_answer = match ballot.option_ids.as_slice() {
                        [only] => Some(*only),
                        _ => None,
                    };
                    query = query
                        .bind(ballot.poll_id)
                        .bind(&ballot.voter)
                        .bind(only_answer)
                        .bind(&ballot.address_hash)
                        .bind(now);
                }
                stored.extend(query.fetch_all(&mut *tx).await?);
            }
            // The first ballot of a stored voter is the one counted; a second
            // ballot from the same voter in the same batch is a repeat.
            let mut counted_once: HashSet<(i64, &str)> = HashSet::new();
            let mut choices: Vec<(i64, &str, i64)> = Vec::new();
            let mut raised: BTreeMap<i64, i64> = BTreeMap::new();
            let mut voters: BTreeMap<i64, i64> = BTreeMap::new();
            for index in candidates {
                let ballot = &ballots[index];
                let key = (ballot.poll_id, ballot.voter.clone());
                if stored.contains(&key) && counted_once.insert((ballot.poll_id, ballot.voter.as_str())) {
                    outcomes[index] = Counted::Accepted;
                    for option_id in &ballot.option_ids {
                        if ballot.option_ids.len() > 1 {
                            choices.push((ballot.poll_id, ballot.voter.as_str(), *option_id));
                        }
                        *raised.entry(*option_id).or_default() += 1;
                    }
                    *voters.entry(ballot.poll_id).or_default() += 1;
                }
            }
            for chunk in choices.chunks(500) {
                let mut sql = String::from("INSERT INTO poll_vote_choices (poll_id, voter, option_id) VALUES ");
                for (position, _) in chunk.iter().enumerate() {
                    let base = position * 3;
                    if position > 0 {
                        sql.push(',');
                    }
                    sql.push_str(&format!("(${}, ${}, ${})", base + 1, base + 2, base + 3));
                }
                let mut query = sqlx::query(&sql);
                for (poll_id, voter, option_id) in chunk {
                    query = query.bind(*poll_id).bind(*voter).bind(*option_id);
                }
                query.execute(&mut *tx).await?;
            }
            for (option_id, count) in raised {
                sqlx::query("UPDATE poll_options SET votes = votes + $2 WHERE id = $1")
                    .bind(option_id)
                    .bind(count)
                    .execute(&mut *tx)
                    .await?;
            }
            for (poll_id, count) in voters {
                sqlx::query("UPDATE polls SET voters = voters + $2 WHERE id = $1")
                    .bind(poll_id)
                    .bind(count)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok::<_, sqlx::Error>(outcomes)
        })?;
        Ok(outcomes)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::store::reads::Arg;

    /// Every article page asks for its poll: through the article, not a walk
    /// over every article's polls.
    #[tokio::test]
    async fn an_article_poll_is_found_through_the_article() {
        let steps = crate::store::reads::sqlite_query_plan(super::ARTICLE_POLL_SQL, &[Arg::Int(1)]).await;
        assert!(steps.iter().any(|step| step.contains("polls_by_article (article_id=?)")), "{steps:?}");
    }
}
