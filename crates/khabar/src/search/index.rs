//! The index under DIR/index: its schema, the one writer (a thread of its
//! own that applies the database's change log and commits in batches), and
//! the readers (reloaded after each commit, never blocked by it).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tantivy::schema::{IndexRecordOption, Schema, TextFieldIndexing, TextOptions, Value, FAST, INDEXED, STORED};
use tantivy::{doc, Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

use super::analyzer::{register, FOLDED, STEMMED};
use super::store::IndexedArticle;
use super::SearchError;
use crate::store::{now_seconds, Store};

/// Memory for the writer's buffer before it flushes a segment.
const WRITER_MEMORY: usize = 64 * 1024 * 1024;
/// How often the writer looks at the change log without being woken (other
/// nodes' edits, scheduled jobs).
const POLL: Duration = Duration::from_secs(1);
/// Changes applied per commit at most (a bulk import is caught up in steps).
const CHANGES_PER_COMMIT: i64 = 5_000;
/// How long an id skipped in the change log may still appear (a transaction
/// that took it has not committed yet), and how many are watched at most.
const GAP_PATIENCE_SECONDS: u64 = 60;
const MAX_GAPS: usize = 10_000;
/// The change log keeps a month; a node further behind rebuilds.
const LOG_KEPT_SECONDS: i64 = 30 * 86_400;
const REBUILD_BATCH: i64 = 500;

#[derive(Clone, Copy)]
pub struct Fields {
    pub id: tantivy::schema::Field,
    pub title: tantivy::schema::Field,
    pub body: tantivy::schema::Field,
    pub title_exact: tantivy::schema::Field,
    pub body_exact: tantivy::schema::Field,
    pub section: tantivy::schema::Field,
    pub published_at: tantivy::schema::Field,
}

fn schema() -> (Schema, Fields) {
    let text = |tokenizer: &str| {
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(tokenizer)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        )
    };
    let mut builder = Schema::builder();
    let fields = Fields {
        id: builder.add_u64_field("id", INDEXED | STORED | FAST),
        title: builder.add_text_field("title", text(STEMMED)),
        body: builder.add_text_field("body", text(STEMMED)),
        title_exact: builder.add_text_field("title_exact", text(FOLDED)),
        body_exact: builder.add_text_field("body_exact", text(FOLDED)),
        section: builder.add_u64_field("section", INDEXED),
        published_at: builder.add_i64_field("published_at", INDEXED | FAST),
    };
    (builder.build(), fields)
}

/// An article's searchable text: the summary and the body's words, without Markdown.
pub fn plain_text(article: &IndexedArticle) -> String {
    use pulldown_cmark::{Event, Parser, TagEnd};
    let mut text = String::with_capacity(article.summary.len() + article.body_markdown.len());
    text.push_str(&article.summary);
    text.push('\n');
    for event in Parser::new(&article.body_markdown) {
        match event {
            Event::Text(words) | Event::Code(words) => text.push_str(&words),
            // Bodies written (or imported) as HTML: their words, without the tags.
            Event::Html(html) | Event::InlineHtml(html) => {
                text.push_str(&crate::articles::markdown::html_text(&html));
                text.push(' ');
            }
            Event::SoftBreak | Event::HardBreak => text.push(' '),
            Event::End(TagEnd::Paragraph | TagEnd::Heading(_) | TagEnd::Item | TagEnd::BlockQuote(_)) => {
                text.push('\n')
            }
            _ => {}
        }
    }
    text
}

pub struct SearchIndex {
    pub index: Index,
    pub reader: IndexReader,
    pub fields: Fields,
    path: PathBuf,
    /// The last change-log id the committed index reflects.
    cursor: AtomicI64,
    /// Set when the index is new or unreadable: the writer rebuilds it first.
    needs_rebuild: AtomicBool,
    wake: Mutex<Option<mpsc::Sender<()>>>,
}

impl SearchIndex {
    /// Opens DIR/index, or makes a new one when it is missing, unreadable or
    /// of another schema (it is rebuilt from the database, never trusted blindly).
    pub fn open(data_dir: &Path) -> Result<SearchIndex, SearchError> {
        let path = data_dir.join("index");
        let (schema, fields) = schema();
        let opened = Index::open_in_dir(&path).ok().filter(|index| index.schema() == schema);
        let (index, fresh) = match opened {
            Some(index) => (index, false),
            None => {
                if path.exists() {
                    tracing::warn!(path = %path.display(), "search index unreadable or outdated; rebuilding it");
                    std::fs::remove_dir_all(&path).map_err(SearchError::Io)?;
                }
                std::fs::create_dir_all(&path).map_err(SearchError::Io)?;
                (Index::create_in_dir(&path, schema)?, true)
            }
        };
        register(&index);
        let cursor = index.load_metas()?.payload.and_then(|payload| payload.parse::<i64>().ok());
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        Ok(SearchIndex {
            index,
            reader,
            fields,
            path,
            cursor: AtomicI64::new(cursor.unwrap_or(0)),
            needs_rebuild: AtomicBool::new(fresh || cursor.is_none()),
            wake: Mutex::new(None),
        })
    }

    /// Tells the writer to look at the change log now.
    pub fn wake(&self) {
        if let Some(sender) = self.wake.lock().unwrap_or_else(PoisonError::into_inner).as_ref() {
            let _ = sender.send(());
        }
    }

    pub fn document_count(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// The server's writer: one indexing thread, so readers keep the other cores.
    pub fn writer(&self) -> Result<IndexWriter, SearchError> {
        Ok(self.index.writer_with_num_threads(1, WRITER_MEMORY)?)
    }

    /// A writer for rebuilding from the shell, with the server stopped: every core.
    pub fn bulk_writer(&self) -> Result<IndexWriter, SearchError> {
        let threads = std::thread::available_parallelism().map(usize::from).unwrap_or(1).clamp(1, 4);
        Ok(self.index.writer_with_num_threads(threads, WRITER_MEMORY * threads)?)
    }

    fn document(&self, article: &IndexedArticle) -> TantivyDocument {
        let fields = self.fields;
        let body = plain_text(article);
        doc!(
            fields.id => article.id.unsigned_abs(),
            fields.title => article.title.as_str(),
            fields.body => body.as_str(),
            fields.title_exact => article.title.as_str(),
            fields.body_exact => body.as_str(),
            fields.section => article.section_id.unsigned_abs(),
            fields.published_at => article.published_at.unwrap_or(0),
        )
    }

    fn commit(&self, writer: &mut IndexWriter, cursor: i64) -> Result<(), SearchError> {
        let mut prepared = writer.prepare_commit()?;
        prepared.set_payload(&cursor.to_string());
        prepared.commit()?;
        self.reader.reload()?;
        self.cursor.store(cursor, Ordering::SeqCst);
        Ok(())
    }

    /// Indexes every published article again, from scratch. `progress` hears (done, total).
    pub async fn rebuild(
        &self,
        writer: &mut IndexWriter,
        store: &Store,
        progress: &dyn Fn(u64, u64),
    ) -> Result<u64, SearchError> {
        // Changes made while this runs are applied afterwards, from here.
        let (newest, _) = store.search_log_bounds().await?;
        let total = store.count_published_articles().await?.unsigned_abs();
        writer.delete_all_documents()?;
        let mut after = 0;
        let mut done = 0u64;
        loop {
            let batch = store.articles_for_index(after, REBUILD_BATCH).await?;
            let Some(last) = batch.last() else { break };
            after = last.id;
            for article in &batch {
                writer.add_document(self.document(article))?;
            }
            done += batch.len() as u64;
            progress(done, total.max(done));
        }
        self.commit(writer, newest)?;
        self.needs_rebuild.store(false, Ordering::SeqCst);
        tracing::info!(articles = done, path = %self.path.display(), "search index rebuilt");
        Ok(done)
    }

    /// Applies the change log since the cursor; returns whether anything changed.
    async fn catch_up(
        &self,
        writer: &mut IndexWriter,
        store: &Store,
        gaps: &mut HashMap<i64, Instant>,
    ) -> Result<bool, SearchError> {
        let cursor = self.cursor.load(Ordering::SeqCst);
        let (newest, oldest) = store.search_log_bounds().await?;
        let fell_behind = cursor > 0 && oldest > cursor + 1;
        // A newest change below the cursor means another database (a restore).
        let other_database = newest > 0 && cursor > newest;
        if self.needs_rebuild.load(Ordering::SeqCst) || fell_behind || other_database {
            self.rebuild(writer, store, &|_, _| {}).await?;
            gaps.clear();
            return Ok(true);
        }
        let mut changes = store.search_changes(cursor, CHANGES_PER_COMMIT).await?;
        let waiting: Vec<i64> = gaps.keys().copied().take(500).collect();
        let late = store.search_changes_among(&waiting).await?;
        for (id, _) in &late {
            gaps.remove(id);
        }
        // Ids skipped between the cursor and what arrived may still commit.
        let mut expected = cursor + 1;
        let now = Instant::now();
        for (id, _) in &changes {
            while expected < *id && gaps.len() < MAX_GAPS {
                gaps.insert(expected, now);
                expected += 1;
            }
            expected = id + 1;
        }
        gaps.retain(|_, since| now.duration_since(*since) < Duration::from_secs(GAP_PATIENCE_SECONDS));
        let newest_applied = changes.last().map(|(id, _)| *id).unwrap_or(cursor).max(cursor);
        changes.extend(late);
        if changes.is_empty() {
            return Ok(false);
        }
        let articles: HashSet<i64> = changes.iter().map(|(_, article)| *article).collect();
        for article_id in articles {
            writer.delete_term(Term::from_field_u64(self.fields.id, article_id.unsigned_abs()));
            if let Some(article) = store.article_for_index(article_id).await? {
                if article.status == "published" {
                    writer.add_document(self.document(&article))?;
                }
            }
        }
        self.commit(writer, newest_applied)?;
        Ok(true)
    }

    /// The writer's loop, on a thread of its own until `stop` is set and it is woken.
    pub fn run_writer(self: Arc<Self>, store: Store, runtime: tokio::runtime::Handle, stop: Arc<AtomicBool>) {
        let (sender, receiver) = mpsc::channel::<()>();
        *self.wake.lock().unwrap_or_else(PoisonError::into_inner) = Some(sender);
        let mut writer = match self.writer() {
            Ok(writer) => writer,
            Err(error) => {
                tracing::error!(%error, "search index writer unavailable (another khabar on this folder?); search will not update");
                return;
            }
        };
        let mut gaps = HashMap::new();
        let mut last_prune = Instant::now() - Duration::from_secs(3600);
        while !stop.load(Ordering::SeqCst) {
            match runtime.block_on(self.catch_up(&mut writer, &store, &mut gaps)) {
                Ok(changed) => {
                    if changed {
                        tracing::debug!(cursor = self.cursor.load(Ordering::SeqCst), "search index updated");
                    }
                }
                Err(error) => tracing::warn!(%error, "could not update the search index; will retry"),
            }
            if last_prune.elapsed() > Duration::from_secs(3600) {
                last_prune = Instant::now();
                if let Err(error) = runtime.block_on(store.prune_search_log(now_seconds() - LOG_KEPT_SECONDS)) {
                    tracing::warn!(%error, "could not prune the search change log");
                }
            }
            match receiver.recv_timeout(POLL) {
                Ok(()) => while receiver.try_recv().is_ok() {},
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
        if let Err(error) = writer.wait_merging_threads() {
            tracing::warn!(%error, "search index merges did not finish cleanly");
        }
    }

    /// The article id stored in a hit.
    pub fn id_of(&self, document: &TantivyDocument) -> Option<i64> {
        document.get_first(self.fields.id).and_then(|value| value.as_u64()).and_then(|id| i64::try_from(id).ok())
    }
}
