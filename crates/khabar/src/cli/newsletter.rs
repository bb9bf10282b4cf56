//! `khabar newsletter`: import subscribers from CSV and send the digest,
//! from the shell, with progress bars.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

use crate::app::AppState;
use crate::cli::{CliError, SiteOptions};
use crate::newsletter::sender::{deliver_to_the_end, Ending};
use crate::site;
use crate::store::now_seconds;

#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Add subscribers from a CSV file whose first line names the columns (email, name).
    Import {
        #[command(flatten)]
        site: SiteOptions,
        /// The new addresses are already confirmed (their owners agreed elsewhere).
        #[arg(long, conflicts_with = "pending")]
        confirmed: bool,
        /// The new addresses must confirm first: each is sent a confirmation request.
        #[arg(long)]
        pending: bool,
        /// The CSV file.
        file: PathBuf,
    },
    /// Send the digest of what was published since the previous one, now, and wait until it is delivered.
    SendDigest {
        #[command(flatten)]
        site: SiteOptions,
    },
}

fn bar(length: Option<u64>, message: &'static str) -> ProgressBar {
    let bar = match length {
        Some(length) => ProgressBar::new(length),
        None => ProgressBar::new_spinner(),
    };
    let template =
        if length.is_some() { "{msg} [{bar:40}] {pos}/{len} ({per_sec}, {eta})" } else { "{msg} {pos} ({per_sec})" };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(message);
    bar
}

pub async fn run(action: Action) -> Result<(), CliError> {
    match action {
        Action::Import { site: options, confirmed, pending, file } => {
            if confirmed == pending {
                return Err(CliError::Usage("say --confirmed or --pending for the new addresses".to_owned()));
            }
            site::require_site(&options.data)?;
            let input = std::fs::File::open(&file)
                .map_err(|error| CliError::Usage(format!("cannot read {}: {error}", file.display())))?;
            let (config, store) = site::open(&options.data, options.database.as_deref()).await?;
            let state = AppState::new(config, &options.data, store.clone()).await?;
            let progress = bar(None, "lines read");
            let report = crate::newsletter::import::import_csv(&store, input, confirmed, now_seconds(), |lines| {
                progress.set_position(lines)
            })
            .await
            .map_err(|error| CliError::Usage(format!("{}: {error}", file.display())))?;
            progress.finish_and_clear();
            for problem in &report.problems {
                eprintln!("line {}: {} — {}", problem.line, problem.value, problem.problem);
            }
            println!(
                "{} lines: {} added, {} already on the list, {} refused",
                report.lines, report.added, report.already_listed, report.refused
            );
            if pending && !report.added_ids.is_empty() {
                match crate::newsletter::issues::create_confirmation_requests(&state, &report.added_ids, "shell")
                    .await
                    .map_err(|error| CliError::Usage(error.to_string()))?
                {
                    Some(send_id) => {
                        println!("confirmation requests queued as send #{send_id}; a running server sends them")
                    }
                    None => println!("no confirmation requests were needed"),
                }
            }
            store.close().await;
            Ok(())
        }
        Action::SendDigest { site: options } => {
            site::require_site(&options.data)?;
            let (config, store) = site::open(&options.data, options.database.as_deref()).await?;
            let state = AppState::new(config, &options.data, store.clone()).await?;
            let relay = state.newsletter.relay().map_err(|error| CliError::Usage(error.to_string()))?;
            let key = format!("digest-now-{}", now_seconds());
            let created = crate::newsletter::issues::create_digest(&state, &key, "shell")
                .await
                .map_err(|error| CliError::Usage(error.to_string()))?;
            let Some((send_id, articles)) = created else {
                store.close().await;
                return Err(CliError::Usage("no digest: nothing was published since the previous one".to_owned()));
            };
            // Its own lease name, so a server running beside it leaves this send alone.
            let holder = format!("{}-shell-{}", state.newsletter.holder, std::process::id());
            let leased =
                store.claim_send(send_id, &holder, now_seconds(), crate::newsletter::sender::LEASE_SECONDS).await?;
            if !leased {
                store.close().await;
                return Err(CliError::Usage(format!(
                    "send #{send_id} was taken by a running server, which delivers it"
                )));
            }
            let total = store.send_by_id(send_id).await?.map_or(0, |send| send.total);
            let progress = bar(Some(u64::try_from(total).unwrap_or(0)), "sending");
            let counter = progress.clone();
            let started = Instant::now();
            let (_stop, stop_receiver) = tokio::sync::watch::channel(false);
            let ending = deliver_to_the_end(
                &state,
                send_id,
                &holder,
                relay,
                stop_receiver,
                Some(Arc::new(move |count| counter.inc(count))),
            )
            .await
            .map_err(|error| CliError::Usage(error.to_string()))?;
            progress.finish_and_clear();
            let elapsed = started.elapsed().as_secs_f64();
            let stats = store.send_progress(send_id).await?;
            let _ = store.release_lease(send_id, &holder).await;
            store.close().await;
            println!(
                "digest #{send_id} ({articles} articles): {} sent, {} failed, {} skipped of {total} in {elapsed:.1} s ({:.0} messages/s)",
                stats.sent,
                stats.failed,
                stats.skipped,
                stats.sent as f64 / elapsed.max(0.001)
            );
            match ending {
                Ending::Finished => Ok(()),
                _ => Err(CliError::Usage(format!(
                    "digest #{send_id} is not finished: {} recipients wait for a retry; a running server completes it",
                    stats.queued
                ))),
            }
        }
    }
}
