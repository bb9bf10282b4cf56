//! The ballot box: one task writes every vote, many at a time. Each request
//! hands its ballot over and waits; the box stores whatever is waiting in
//! one transaction (one disk flush for the lot) and then answers each. So a
//! vote is acknowledged only once committed, and a storm of votes costs one
//! flush per batch rather than one per vote.

use tokio::sync::{mpsc, oneshot};

use super::store::{Ballot, Counted};
use super::PollsError;
use crate::store::{now_seconds, Store};

/// Ballots stored together at most.
const BATCH: usize = 1024;
/// Ballots waiting at most before new voters wait for room.
const QUEUE: usize = 16_384;

type Reply = oneshot::Sender<Result<Counted, ()>>;

pub struct BallotBox {
    sender: mpsc::Sender<(Ballot, Reply)>,
}

impl BallotBox {
    pub fn start(store: Store) -> BallotBox {
        let (sender, receiver) = mpsc::channel(QUEUE);
        tokio::spawn(write(store, receiver));
        BallotBox { sender }
    }

    /// Returns once the ballot is committed (or refused).
    pub async fn cast(&self, ballot: Ballot) -> Result<Counted, PollsError> {
        let (reply, answer) = oneshot::channel();
        self.sender.send((ballot, reply)).await.map_err(|_| PollsError::BallotBoxStopped)?;
        match answer.await {
            Ok(Ok(counted)) => Ok(counted),
            _ => Err(PollsError::BallotBoxStopped),
        }
    }
}

async fn write(store: Store, mut receiver: mpsc::Receiver<(Ballot, Reply)>) {
    while let Some(first) = receiver.recv().await {
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match receiver.try_recv() {
                Ok(more) => batch.push(more),
                Err(_) => break,
            }
        }
        let (ballots, replies): (Vec<Ballot>, Vec<Reply>) = batch.into_iter().unzip();
        match store.cast_ballots(&ballots, now_seconds()).await {
            Ok(outcomes) => {
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    let _ = reply.send(Ok(outcome));
                }
            }
            Err(error) => {
                // Nothing of this batch was committed; every voter is told so.
                tracing::error!(%error, ballots = ballots.len(), "could not store votes");
                for reply in replies {
                    let _ = reply.send(Err(()));
                }
            }
        }
    }
}
