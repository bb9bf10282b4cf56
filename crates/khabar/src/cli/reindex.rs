//! `khabar reindex --data DIR`: rebuilds the search index from the database,
//! with a progress bar. The server rebuilds by itself when the index is
//! missing or unreadable; this is for doing it on demand.

use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::{CliError, SiteOptions};
use crate::search::index::SearchIndex;
use crate::site;

#[derive(Debug, clap::Args)]
pub struct Options {
    #[command(flatten)]
    pub site: SiteOptions,
}

pub async fn run(options: Options) -> Result<(), CliError> {
    site::require_site(&options.site.data)?;
    let (_, store) = site::open(&options.site.data, options.site.database.as_deref()).await?;
    let index = SearchIndex::open(&options.site.data).map_err(|error| CliError::Usage(error.to_string()))?;
    let mut writer = index.bulk_writer().map_err(|_| {
        CliError::Usage(
            "the search index is in use: a khabar server is running on this folder. It keeps the index up to \
             date by itself; to rebuild, stop it and run this again (or delete DIR/index and restart it)"
                .to_owned(),
        )
    })?;
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({per_sec}, {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message("indexing articles");
    let started = std::time::Instant::now();
    let done = index
        .rebuild(&mut writer, &store, &|done, total| {
            bar.set_length(total);
            bar.set_position(done);
        })
        .await
        .map_err(|error| CliError::Usage(error.to_string()))?;
    writer.wait_merging_threads().map_err(|error| CliError::Usage(error.to_string()))?;
    bar.finish_and_clear();
    store.close().await;
    println!("indexed {done} articles in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}
