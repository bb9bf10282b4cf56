//! Delivering a send to its recipients, exactly once each.
//!
//! A send's recipients are rows fixed when it was created. Workers, one per
//! SMTP connection, take recipients in id order; after each message, the
//! worker waits until its outcome is committed before it takes the next one.
//! A recorder task commits the outcomes of all workers together (one disk
//! flush for many messages), so waiting costs little. A crash can therefore
//! only lose the outcome of messages the relay was answering at that instant;
//! on restart, everything committed is skipped and the rest is sent.
//!
//! The one unavoidable gap (RFC 1047): a relay that accepted a message just
//! as khabar died gets it again on restart. Every message carries a
//! Message-ID fixed by send and subscriber, so receivers that fold duplicate
//! Message-IDs show it once.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::Mailbox;
use lettre::{Address, Message};
use tokio::sync::{mpsc, oneshot, watch, Mutex};

use super::links::{Purpose, CONFIRM_LINK_SECONDS};
use super::relay::{Connection, Relay, RelayError};
use super::store::{Delivery, Outcome, QueuedRecipient, SendKind, SendRow};
use super::NewsletterError;
use crate::app::AppState;
use crate::store::now_seconds;
use crate::templates::escape_html;

pub const LEASE_SECONDS: i64 = 30;
/// Niceness of the thread that sends newsletters inside the server (Linux
/// sets it per thread): below the threads answering readers.
pub const SENDING_NICENESS: i32 = 10;
const LEASE_RENEW_EVERY: Duration = Duration::from_secs(5);
const BATCH: i64 = 500;
/// Outcomes committed together at most.
const RECORD_BATCH: usize = 512;
/// Temporary failures are retried after these waits, then given up.
const RETRY_AFTER_SECONDS: &[i64] = &[60, 300, 900, 1800, 3600, 7200, 14400];

pub const NAME_SLOT: &str = "@@reader_name@@";
pub const PREFERENCES_SLOT: &str = "@@preferences_url@@";
pub const UNSUBSCRIBE_SLOT: &str = "@@unsubscribe_url@@";
pub const CONFIRM_SLOT: &str = "@@confirm_url@@";

/// What every message of one send shares.
struct Issue {
    send_id: i64,
    kind: SendKind,
    subject: String,
    text: Filled,
    html: Filled,
    from: Mailbox,
    domain: String,
    base_url: String,
    mailto: Option<String>,
}

/// How a send ended this time round.
#[derive(Debug, PartialEq, Eq)]
pub enum Ending {
    /// Every recipient has an outcome.
    Finished,
    /// Some recipients wait for a retry at this time.
    RetryLater(i64),
    /// Asked to stop (shutdown), or another node took over.
    Stopped,
}

type Acknowledgement = oneshot::Sender<bool>;

/// Spaces messages out to at most `rate` a second, across all workers.
struct Pacer {
    interval: Option<Duration>,
    next: Mutex<tokio::time::Instant>,
}

impl Pacer {
    fn new(rate: u32) -> Pacer {
        let interval = (rate > 0).then(|| Duration::from_secs(1) / rate);
        Pacer { interval, next: Mutex::new(tokio::time::Instant::now()) }
    }

    async fn wait(&self) {
        let Some(interval) = self.interval else {
            return;
        };
        let slot = {
            let mut next = self.next.lock().await;
            let now = tokio::time::Instant::now();
            let slot = (*next).max(now);
            *next = slot + interval;
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

/// The reader-specific slots of a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Name,
    Preferences,
    Unsubscribe,
    Confirm,
}

const SLOTS: [(&str, Slot); 4] = [
    (NAME_SLOT, Slot::Name),
    (PREFERENCES_SLOT, Slot::Preferences),
    (UNSUBSCRIBE_SLOT, Slot::Unsubscribe),
    (CONFIRM_SLOT, Slot::Confirm),
];

/// A rendered template cut at its slots once per send, so filling it for
/// each reader is one pass and one allocation.
struct Filled {
    pieces: Vec<(String, Option<Slot>)>,
}

impl Filled {
    fn new(template: &str) -> Filled {
        let mut pieces = Vec::new();
        let mut rest = template;
        loop {
            let next = SLOTS
                .iter()
                .filter_map(|(marker, slot)| rest.find(marker).map(|at| (at, *marker, *slot)))
                .min_by_key(|(at, _, _)| *at);
            match next {
                Some((at, marker, slot)) => {
                    pieces.push((rest[..at].to_owned(), Some(slot)));
                    rest = &rest[at + marker.len()..];
                }
                None => {
                    pieces.push((rest.to_owned(), None));
                    return Filled { pieces };
                }
            }
        }
    }

    fn fill<'value>(&self, value: impl Fn(Slot) -> &'value str) -> String {
        let mut filled = String::with_capacity(self.pieces.iter().map(|(text, _)| text.len() + 80).sum());
        for (text, slot) in &self.pieces {
            filled.push_str(text);
            if let Some(slot) = slot {
                filled.push_str(value(*slot));
            }
        }
        filled
    }
}

impl Issue {
    /// The message for one recipient: their name, their own links, a
    /// Message-ID fixed by send and subscriber, and the unsubscribe headers.
    fn message(&self, state: &AppState, recipient: &QueuedRecipient, now: i64) -> Result<Message, NewsletterError> {
        let signer = &state.newsletter.signer;
        let link = |purpose: Purpose, path: &str, expires: Option<i64>| {
            format!(
                "{}/newsletter/{path}/{}",
                self.base_url,
                signer.link(purpose, recipient.subscriber_id, &recipient.link_key, expires)
            )
        };
        let preferences = link(Purpose::Preferences, "preferences", None);
        let unsubscribe = link(Purpose::Unsubscribe, "unsubscribe", None);
        let confirm = if self.kind == SendKind::Confirmation {
            link(Purpose::Confirm, "confirm", Some(now + CONFIRM_LINK_SECONDS))
        } else {
            String::new()
        };
        let escaped_name = escape_html(&recipient.name);
        let text = self.text.fill(|slot| match slot {
            Slot::Name => &recipient.name,
            Slot::Preferences => &preferences,
            Slot::Unsubscribe => &unsubscribe,
            Slot::Confirm => &confirm,
        });
        let html = self.html.fill(|slot| match slot {
            Slot::Name => &escaped_name,
            Slot::Preferences => &preferences,
            Slot::Unsubscribe => &unsubscribe,
            Slot::Confirm => &confirm,
        });
        let address: Address =
            recipient.email.parse().map_err(|_| NewsletterError::Address(recipient.email.clone()))?;
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(Some(recipient.name.clone()), address))
            .subject(self.subject.clone())
            .message_id(Some(format!("<khabar.{}.{}@{}>", self.send_id, recipient.subscriber_id, self.domain)))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Id"),
                format!("<newsletter.{}>", self.domain),
            ));
        if self.kind != SendKind::Confirmation {
            let mut value = format!("<{unsubscribe}>");
            if let Some(mailto) = &self.mailto {
                // The signed token, so whatever reads that mailbox can check the request is genuine.
                let token = unsubscribe.rsplit('/').next().unwrap_or_default();
                value.push_str(&format!(", <mailto:{mailto}?subject=unsubscribe%20{token}>"));
            }
            builder = builder
                .raw_header(HeaderValue::new(HeaderName::new_from_ascii_str("List-Unsubscribe"), value))
                .raw_header(HeaderValue::new(
                    HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                    "List-Unsubscribe=One-Click".to_owned(),
                ));
        }
        let mut message = builder
            .multipart(crate::mail::alternatives(text, html))
            .map_err(|error| NewsletterError::Build(error.to_string()))?;
        state.mailer.sign(&mut message);
        Ok(message)
    }
}

/// Whether this recipient should still get this send.
fn still_wanted(kind: SendKind, recipient: &QueuedRecipient) -> bool {
    match kind {
        SendKind::Digest => recipient.status == "confirmed" && recipient.wants_digest,
        SendKind::Alert => recipient.status == "confirmed" && recipient.wants_alerts,
        SendKind::Confirmation => recipient.status == "pending",
    }
}

fn classify(error: &RelayError, attempts: i64, now: i64) -> Delivery {
    let reply = error.to_string();
    if error.is_permanent() {
        return Delivery::Failed { reply, bounced: true };
    }
    let attempt = usize::try_from(attempts).unwrap_or(usize::MAX);
    match RETRY_AFTER_SECONDS.get(attempt) {
        Some(wait) => Delivery::Retry { at: now + wait, reply },
        None => Delivery::Failed { reply: format!("gave up after {} tries: {reply}", attempts + 1), bounced: false },
    }
}

async fn work(
    state: AppState,
    issue: Arc<Issue>,
    mut connection: Connection,
    pacer: Arc<Pacer>,
    queue: Arc<Mutex<mpsc::Receiver<QueuedRecipient>>>,
    recorder: mpsc::Sender<(Outcome, Acknowledgement)>,
) {
    loop {
        let next = queue.lock().await.recv().await;
        let Some(recipient) = next else {
            connection.close().await;
            return;
        };
        let now = now_seconds();
        let delivery = if !still_wanted(issue.kind, &recipient) {
            Delivery::Skipped
        } else {
            match issue.message(&state, &recipient, now) {
                Err(error) => Delivery::Failed { reply: error.to_string(), bounced: false },
                Ok(message) => {
                    pacer.wait().await;
                    match connection.send(message).await {
                        Ok(_) => Delivery::Sent,
                        Err(error) => classify(&error, recipient.attempts, now_seconds()),
                    }
                }
            }
        };
        let (acknowledge, acknowledged) = oneshot::channel();
        let outcome = Outcome { subscriber_id: recipient.subscriber_id, delivery };
        if recorder.send((outcome, acknowledge)).await.is_err() {
            return;
        }
        // The next message waits until this one's outcome is on disk.
        if !matches!(acknowledged.await, Ok(true)) {
            return;
        }
    }
}

/// Commits outcomes in batches: whatever is waiting when the last commit ends.
async fn record(
    state: AppState,
    send_id: i64,
    mut outcomes: mpsc::Receiver<(Outcome, Acknowledgement)>,
    progress: Option<Arc<dyn Fn(u64) + Send + Sync>>,
) {
    let bounce_limit = i64::from(state.config.newsletter_bounce_limit);
    while let Some(first) = outcomes.recv().await {
        let mut batch = vec![first];
        while batch.len() < RECORD_BATCH {
            match outcomes.try_recv() {
                Ok(more) => batch.push(more),
                Err(_) => break,
            }
        }
        let (results, acknowledgements): (Vec<Outcome>, Vec<Acknowledgement>) = batch.into_iter().unzip();
        let saved = match state.store.record_outcomes(send_id, &results, bounce_limit, now_seconds()).await {
            Ok(()) => true,
            Err(error) => {
                tracing::error!(%error, send_id, "could not record deliveries; stopping this send until restart");
                false
            }
        };
        if saved {
            if let Some(progress) = &progress {
                progress(results.len() as u64);
            }
        }
        for acknowledge in acknowledgements {
            let _ = acknowledge.send(saved);
        }
        if !saved {
            return;
        }
    }
}

/// Sends one send's due recipients, then returns how it ended. The caller
/// holds the send's lease; it is renewed here while the send runs.
pub async fn deliver(
    state: &AppState,
    send: &SendRow,
    holder: &str,
    relay: Arc<Relay>,
    mut stop: watch::Receiver<bool>,
    progress: Option<Arc<dyn Fn(u64) + Send + Sync>>,
) -> Result<Ending, NewsletterError> {
    let kind =
        SendKind::parse(&send.kind).ok_or_else(|| NewsletterError::Build(format!("unknown kind {}", send.kind)))?;
    let issue = Arc::new(Issue {
        send_id: send.id,
        kind,
        subject: send.subject.clone(),
        text: Filled::new(&send.body_text),
        html: Filled::new(&send.body_html),
        from: state.mailer.from().clone(),
        domain: state.mailer.from_domain(),
        base_url: state.base_url(),
        mailto: state.config.list_unsubscribe_mailto.clone(),
    });
    let concurrency = usize::try_from(state.config.newsletter_concurrency).unwrap_or(1).max(1);
    let pacer = Arc::new(Pacer::new(state.config.newsletter_rate));

    // The lease is renewed in the background; losing it stops the send.
    let (lease_lost_sender, mut lease_lost) = watch::channel(false);
    let renewer = {
        let state = state.clone();
        let holder = holder.to_owned();
        let send_id = send.id;
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(LEASE_RENEW_EVERY).await;
                match state.store.renew_lease(send_id, &holder, now_seconds() + LEASE_SECONDS).await {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::warn!(send_id, "lost the lease on a send; another node has it");
                        let _ = lease_lost_sender.send(true);
                        return;
                    }
                    Err(error) => tracing::warn!(%error, send_id, "could not renew a send's lease"),
                }
            }
        })
    };

    let (record_sender, record_receiver) = mpsc::channel(concurrency * 2);
    let recorder = tokio::spawn(record(state.clone(), send.id, record_receiver, progress));
    let (queue_sender, queue_receiver) = mpsc::channel::<QueuedRecipient>(concurrency * 2);
    let queue = Arc::new(Mutex::new(queue_receiver));
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            tokio::spawn(work(
                state.clone(),
                Arc::clone(&issue),
                Connection::new(Arc::clone(&relay)),
                Arc::clone(&pacer),
                Arc::clone(&queue),
                record_sender.clone(),
            ))
        })
        .collect();
    drop(record_sender);

    // Keyset order, one pass: rows in flight are still "queued" in the
    // database, so a second pass only starts after every worker is done.
    let mut after = 0;
    let mut stopped = false;
    'feeding: loop {
        if *stop.borrow() || *lease_lost.borrow() {
            stopped = true;
            break;
        }
        let batch = state.store.queued_recipients(send.id, after, now_seconds(), BATCH).await?;
        let Some(last) = batch.last() else {
            break;
        };
        after = last.subscriber_id;
        for recipient in batch {
            tokio::select! {
                sent = queue_sender.send(recipient) => if sent.is_err() { break 'feeding; },
                _ = stop.changed() => { stopped = true; break 'feeding; }
                _ = lease_lost.changed() => { stopped = true; break 'feeding; }
            }
        }
    }
    drop(queue_sender);
    for worker in workers {
        let _ = worker.await;
    }
    let _ = recorder.await;
    renewer.abort();
    if stopped || *lease_lost.borrow() {
        return Ok(Ending::Stopped);
    }
    if state.store.finish_send_if_complete(send.id, now_seconds()).await? {
        return Ok(Ending::Finished);
    }
    match state.store.next_retry(send.id).await? {
        Some(at) => Ok(Ending::RetryLater(at)),
        None => Ok(Ending::Stopped),
    }
}

/// Sends a send to the end, waiting for retries, unless told to stop.
pub async fn deliver_to_the_end(
    state: &AppState,
    send_id: i64,
    holder: &str,
    relay: Arc<Relay>,
    mut stop: watch::Receiver<bool>,
    progress: Option<Arc<dyn Fn(u64) + Send + Sync>>,
) -> Result<Ending, NewsletterError> {
    loop {
        let Some(send) = state.store.send_by_id(send_id).await? else {
            return Ok(Ending::Stopped);
        };
        if send.status != "sending" {
            return Ok(Ending::Finished);
        }
        let ending = deliver(state, &send, holder, Arc::clone(&relay), stop.clone(), progress.clone()).await?;
        match ending {
            Ending::RetryLater(at) => {
                let wait = u64::try_from((at - now_seconds()).max(1)).unwrap_or(1);
                // Keep the lease while waiting, so no other node starts this send.
                let mut waited = 0;
                while waited < wait {
                    let step = wait.saturating_sub(waited).min(LEASE_RENEW_EVERY.as_secs());
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(step)) => {}
                        _ = stop.changed() => return Ok(Ending::Stopped),
                    }
                    waited += step;
                    if !state.store.renew_lease(send_id, holder, now_seconds() + LEASE_SECONDS).await? {
                        return Ok(Ending::Stopped);
                    }
                }
            }
            other => return Ok(other),
        }
    }
}

/// Sends the server is delivering now, so one tick does not start a second copy.
#[derive(Default)]
pub struct Running {
    sends: std::sync::Mutex<HashSet<i64>>,
}

impl Running {
    /// True when this call marked the send as running (it was not already).
    pub fn start(&self, send_id: i64) -> bool {
        self.sends.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(send_id)
    }

    pub fn finish(&self, send_id: i64) {
        self.sends.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&send_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_filled_and_names_escaped_for_html() {
        let template = Filled::new("<p>مرحبًا @@reader_name@@</p><a href=\"@@unsubscribe_url@@\">x</a>@@reader_name@@");
        let name = escape_html("<سارة & \"ليلى\">");
        let html = template.fill(|slot| match slot {
            Slot::Name => &name,
            Slot::Unsubscribe => "https://x/u/1",
            _ => "",
        });
        assert_eq!(
            html,
            "<p>مرحبًا &lt;سارة &amp; &quot;ليلى&quot;&gt;</p><a href=\"https://x/u/1\">x</a>&lt;سارة &amp; &quot;ليلى&quot;&gt;"
        );
        assert_eq!(Filled::new("no slots").fill(|_| "x"), "no slots");
    }
}
