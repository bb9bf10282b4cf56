//! The ballot box: one task writes every vote, many at a time. Each request
//! hands its ballot over and waits; the box stores whatever is waiting in
//! one transaction (one disk flush for the lot) and then answers each. So a
//! vote is acknowledged only once committed, and a storm of votes costs one
//! flush per batch rather than one per vote.
//!
//! The box also keeps each busy poll's counts in memory: it is the only
//! writer of votes on this node, so after each commit it raises them by
//! exactly what it stored, and answers every voter with the counts that
//! include their vote, without a query. Counts older than a second are
//! re-read from the database, which brings in other nodes' votes.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;

use tokio::sync::{mpsc, oneshot};

use super::store::{Ballot, Counted};
use super::PollsError;
use crate::store::{now_seconds, Store};

/// Ballots stored together at most.
const BATCH: usize = 1024;
/// Ballots waiting at most before new voters wait for room.
const QUEUE: usize = 16_384;
/// Counts kept in memory are re-read from the database this often.
const TALLY_FRESHNESS: Duration = Duration::from_secs(1);
/// Below the site's threads (0), above the newsletter's sending (10): a
/// reader waits for a vote's answer, not for a digest. Measured with
/// bench/polls.sh on 2 cores: at 3, a storm took so much that page reads
/// fell to 0.44x their idle rate; at 7, votes fell under 10,000/s; 6 kept
/// both (11-12 thousand votes/s, reads 0.59-0.63x idle).
const WRITING_NICENESS: i32 = 6;

/// A poll's counts at one moment: voters, and votes per option.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    pub voters: i64,
    pub votes: HashMap<i64, i64>,
}

/// The counts every voter of one batch is answered with, and those results
/// as JSON once the first of them has written it: in a storm a batch holds
/// dozens of voters, and formatting the same Arabic counts and percentages
/// for each of them was a good part of a vote's cost.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub tally: Tally,
    rendered: OnceLock<Bytes>,
}

impl Snapshot {
    pub fn rendered(&self, render: impl FnOnce() -> Bytes) -> Bytes {
        self.rendered.get_or_init(render).clone()
    }
}

type Reply = oneshot::Sender<Result<(Counted, Arc<Snapshot>), ()>>;

pub struct BallotBox {
    sender: mpsc::Sender<(Ballot, Reply)>,
}

impl BallotBox {
    /// The box writes on a thread of its own at a lower CPU priority, with
    /// a database connection of its own made there (SQLite's connection
    /// thread inherits the priority): when readers and voters both want the
    /// CPU, pages win, and votes wait a little longer for a bigger batch,
    /// which is also cheaper per vote.
    pub fn start(store: Store) -> BallotBox {
        let (sender, receiver) = mpsc::channel(QUEUE);
        // The receiver goes to the thread once its runtime runs; if there is
        // no thread or no runtime, it stays here and the box writes beside the site.
        let slot = Arc::new(std::sync::Mutex::new(Some(receiver)));
        let (taken, was_taken) = std::sync::mpsc::channel::<bool>();
        let started = std::thread::Builder::new().name("ballots".to_owned()).spawn({
            let store = store.clone();
            let slot = Arc::clone(&slot);
            move || {
                #[cfg(unix)]
                if let Err(error) = rustix::process::setpriority_process(None, WRITING_NICENESS) {
                    tracing::debug!(%error, "could not lower the ballot box's priority");
                }
                let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    Ok(runtime) => runtime,
                    Err(error) => {
                        tracing::warn!(%error, "no runtime of its own for the ballot box");
                        let _ = taken.send(false);
                        return;
                    }
                };
                let receiver = slot.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
                let _ = taken.send(receiver.is_some());
                let Some(receiver) = receiver else { return };
                runtime.block_on(async move {
                    let own = match store.connection_of_its_own().await {
                        Ok(own) => own,
                        Err(error) => {
                            tracing::warn!(%error, "the ballot box shares the site's connections");
                            store
                        }
                    };
                    write(own, receiver).await;
                });
            }
        });
        let on_its_thread = started.is_ok() && was_taken.recv().unwrap_or(false);
        if !on_its_thread {
            tracing::warn!("the ballot box writes beside the site, at the same priority");
            if let Some(receiver) = slot.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take() {
                tokio::spawn(write(store, receiver));
            }
        }
        BallotBox { sender }
    }

    /// Returns once the ballot is committed (or refused), with the poll's
    /// counts as they stand after it.
    pub async fn cast(&self, ballot: Ballot) -> Result<(Counted, Arc<Snapshot>), PollsError> {
        let (reply, answer) = oneshot::channel();
        self.sender.send((ballot, reply)).await.map_err(|_| PollsError::BallotBoxStopped)?;
        match answer.await {
            Ok(Ok(answer)) => Ok(answer),
            _ => Err(PollsError::BallotBoxStopped),
        }
    }
}

struct Kept {
    tally: Tally,
    read_at: Instant,
}

async fn write(store: Store, mut receiver: mpsc::Receiver<(Ballot, Reply)>) {
    let mut tallies: HashMap<i64, Kept> = HashMap::new();
    while let Some(first) = receiver.recv().await {
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match receiver.try_recv() {
                Ok(more) => batch.push(more),
                Err(_) => break,
            }
        }
        let (ballots, replies): (Vec<Ballot>, Vec<Reply>) = batch.into_iter().unzip();
        let outcomes = match store.cast_ballots(&ballots, now_seconds()).await {
            Ok(outcomes) => outcomes,
            Err(error) => {
                // Nothing of this batch was committed; every voter is told so.
                tracing::error!(%error, ballots = ballots.len(), "could not store votes");
                for reply in replies {
                    let _ = reply.send(Err(()));
                }
                continue;
            }
        };
        // Bring the counts of every poll in the batch up to date: stale or
        // unknown ones are read again (the read includes this batch), the
        // others are raised by what was just stored.
        let mut snapshots: HashMap<i64, Arc<Snapshot>> = HashMap::new();
        for poll_id in ballots.iter().map(|ballot| ballot.poll_id) {
            if snapshots.contains_key(&poll_id) {
                continue;
            }
            let fresh = tallies.get(&poll_id).is_some_and(|kept| kept.read_at.elapsed() < TALLY_FRESHNESS);
            if fresh {
                if let Some(kept) = tallies.get_mut(&poll_id) {
                    for (ballot, outcome) in ballots.iter().zip(&outcomes) {
                        if ballot.poll_id == poll_id && *outcome == Counted::Accepted {
                            kept.tally.voters += 1;
                            for option in &ballot.option_ids {
                                *kept.tally.votes.entry(*option).or_default() += 1;
                            }
                        }
                    }
                }
            } else {
                match store.poll(poll_id).await {
                    Ok(Some((poll, options))) => {
                        let tally = Tally {
                            voters: poll.voters,
                            votes: options.iter().map(|option| (option.id, option.votes)).collect(),
                        };
                        tallies.insert(poll_id, Kept { tally, read_at: Instant::now() });
                    }
                    Ok(None) => {
                        tallies.remove(&poll_id);
                    }
                    Err(error) => {
                        tracing::warn!(%error, poll_id, "could not read a poll's counts");
                        tallies.remove(&poll_id);
                    }
                }
            }
            let tally = tallies.get(&poll_id).map(|kept| kept.tally.clone()).unwrap_or_default();
            snapshots.insert(poll_id, Arc::new(Snapshot { tally, rendered: OnceLock::new() }));
        }
        for ((reply, outcome), ballot) in replies.into_iter().zip(outcomes).zip(&ballots) {
            let snapshot = snapshots.get(&ballot.poll_id).cloned().unwrap_or_default();
            let _ = reply.send(Ok((outcome, snapshot)));
        }
        if tallies.len() > 1000 {
            tallies.retain(|_, kept| kept.read_at.elapsed() < TALLY_FRESHNESS * 60);
        }
    }
}
