//! `khabar import wordpress --data DIR FILE.xml [--uploads DIR] [--dry-run]`:
//! a WordPress export into the site, with a progress bar and a report. It
//! may run beside a serving khabar: the server notices within seconds and
//! refreshes its pages, and its search index takes in the new articles.

use std::path::PathBuf;

use indicatif::{ProgressBar, ProgressStyle};

use crate::app::AppState;
use crate::cli::{CliError, SiteOptions};
use crate::import::{Options, Progress};
use crate::site;

#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Import a WordPress export (Tools → Export → All content): posts, pages,
    /// categories, tags, authors, comments and images, with redirects from every old address.
    Wordpress {
        #[command(flatten)]
        site: SiteOptions,
        /// A copy of the old site's wp-content/uploads folder: images are read from it (nothing is downloaded).
        #[arg(long, value_name = "DIR")]
        uploads: Option<PathBuf>,
        /// Read and check everything and print the report, but write nothing.
        #[arg(long)]
        dry_run: bool,
        /// The old site's permalink structure when posts answered elsewhere than their
        /// exported links, e.g. '/%postname%/' or '/archives/%post_id%'.
        #[arg(long, value_name = "STRUCTURE")]
        permalink: Option<String>,
        /// The export file (WXR 1.1 or 1.2).
        file: PathBuf,
    },
}

struct Bar(ProgressBar);

impl Progress for Bar {
    fn phase(&self, name: &'static str, total: u64) {
        self.0.set_length(total);
        self.0.set_position(0);
        self.0.set_message(name);
    }

    fn set(&self, done: u64) {
        self.0.set_position(done);
    }
}

pub async fn run(action: Action) -> Result<(), CliError> {
    let Action::Wordpress { site: options, uploads, dry_run, permalink, file } = action;
    site::require_site(&options.data)?;
    if !file.is_file() {
        return Err(CliError::Usage(format!("cannot read {}: no such file", file.display())));
    }
    let (config, store) = site::open(&options.data, options.database.as_deref()).await?;
    let state = AppState::new(config, &options.data, store.clone()).await?;
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {percent}% ({elapsed}, {eta} left)")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let started = std::time::Instant::now();
    let import_options = Options { uploads, dry_run, permalink };
    let outcome = crate::import::wordpress::import(&state, &file, &import_options, &Bar(bar.clone())).await;
    bar.finish_and_clear();
    store.close().await;
    let report = outcome.map_err(|error| CliError::Usage(format!("{}: {error}", file.display())))?;
    print!("{report}");
    println!("took {:.1} s", started.elapsed().as_secs_f64());
    if report.incomplete() {
        let skipped = report.skipped.len();
        let reason = match &report.failure {
            Some(failure) => format!("the import stopped early: {failure}"),
            None => format!("{skipped} item{} skipped (see above)", if skipped == 1 { " was" } else { "s were" }),
        };
        return Err(CliError::Usage(reason));
    }
    Ok(())
}
