//! Search (البحث) that understands Arabic: khabar-arabic's folding and light
//! stemming as tantivy tokenizers, quoted phrases on an unstemmed field,
//! editors' spelling variants applied to queries, close spellings for rare
//! words (transliterated names), recent articles preferred, and snippets
//! cut from the original text with the matched words marked.

pub mod admin;
pub mod analyzer;
pub mod index;
pub mod pages;
pub mod query;
pub mod store;

use std::sync::{Arc, PoisonError, RwLock};

use axum::routing::get;
use axum::Router;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::Query;
use tantivy::snippet::SnippetGenerator;
use tantivy::{DocAddress, Score, SegmentReader, TantivyDocument};

use crate::app::AppState;
use crate::store::{Store, StoreError};
use index::SearchIndex;
use query::{Filters, ParsedQuery, Variants};

/// How much a brand-new article's score is raised, by default (an editor can change it).
pub const DEFAULT_RECENCY: f32 = 0.3;
/// The recency bonus halves every this many days.
const RECENCY_HALF_LIFE_DAYS: f32 = 30.0;
/// Body text shown around the matches under a hit. tantivy counts bytes
/// here: Arabic letters take two, so this is about 240 letters.
const SNIPPET_BYTES: usize = 480;
/// Titles are shown whole, marks and all.
const WHOLE_TITLE_BYTES: usize = 4096;

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("search index folder: {0}")]
    Io(std::io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<SearchError> for crate::error::AppError {
    fn from(error: SearchError) -> Self {
        match error {
            SearchError::Store(error) => crate::error::AppError::Store(error),
            other => crate::error::AppError::Internal(other.to_string()),
        }
    }
}

impl From<tantivy::directory::error::OpenReadError> for SearchError {
    fn from(error: tantivy::directory::error::OpenReadError) -> Self {
        SearchError::Index(error.into())
    }
}

pub struct Search {
    pub index: Arc<SearchIndex>,
    variants: RwLock<Arc<Variants>>,
}

/// One page of hits: (score, article id), best first, and how many there are in all.
pub struct Found {
    pub hits: Vec<(Score, i64)>,
    pub total: usize,
    /// The query as run, for snippets.
    pub query: Option<Box<dyn Query>>,
}

impl Search {
    pub async fn open(data_dir: &std::path::Path, store: &Store) -> Result<Search, SearchError> {
        let search = Search { index: Arc::new(SearchIndex::open(data_dir)?), variants: RwLock::new(Arc::default()) };
        search.reload_variants(store).await?;
        Ok(search)
    }

    /// Reads the editors' variant groups again (after an edit in the admin).
    pub async fn reload_variants(&self, store: &Store) -> Result<(), SearchError> {
        let groups: Vec<Vec<String>> = store
            .search_variants()
            .await?
            .into_iter()
            .map(|group| {
                group.words.lines().map(str::trim).filter(|word| !word.is_empty()).map(str::to_owned).collect()
            })
            .collect();
        *self.variants.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(Variants::new(&groups));
        Ok(())
    }

    fn variants(&self) -> Arc<Variants> {
        Arc::clone(&self.variants.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Runs a query: every word required first, any word when that finds nothing.
    pub fn find(
        &self,
        parsed: &ParsedQuery,
        filters: &Filters,
        offset: usize,
        limit: usize,
        recency: f32,
    ) -> Result<Found, SearchError> {
        let searcher = self.index.reader.searcher();
        let fields = self.index.fields;
        let variants = self.variants();
        let now = filters.now;
        let mut found = Found { hits: Vec::new(), total: 0, query: None };
        for all_words in [true, false] {
            let Some(query) = query::build(&searcher, fields, &variants, parsed, filters, all_words) else {
                return Ok(found);
            };
            let top =
                TopDocs::with_limit(limit.max(1)).and_offset(offset).tweak_score(move |segment: &SegmentReader| {
                    let published =
                        segment.fast_fields().i64("published_at").map(|column| column.first_or_default_col(0)).ok();
                    move |doc, score: Score| {
                        let Some(published) = &published else { return score };
                        let age_days = ((now - published.get_val(doc)).max(0) as f32) / 86_400.0;
                        score * (1.0 + recency * 0.5f32.powf(age_days / RECENCY_HALF_LIFE_DAYS))
                    }
                });
            let (top, total) = searcher.search(&*query, &(top, Count))?;
            found.total = total;
            found.hits.clear();
            for (score, address) in top {
                let address: DocAddress = address;
                let document: TantivyDocument = searcher.doc(address)?;
                if let Some(id) = self.index.id_of(&document) {
                    found.hits.push((score, id));
                }
            }
            found.query = Some(query);
            if total > 0 || parsed.words.len() < 2 {
                break;
            }
        }
        Ok(found)
    }

    /// Snippet generators for a query as run: the title and the body, each
    /// by stems and by exact words (what quoted phrases match).
    pub fn snippets(&self, query: &dyn Query) -> Result<Snippets, SearchError> {
        let searcher = self.index.reader.searcher();
        let fields = self.index.fields;
        let generator = |field, limit| -> Result<SnippetGenerator, SearchError> {
            let mut generator = SnippetGenerator::create(&searcher, query, field)?;
            generator.set_max_num_chars(limit);
            Ok(generator)
        };
        Ok(Snippets {
            title: generator(fields.title, WHOLE_TITLE_BYTES)?,
            title_phrases: generator(fields.title_exact, WHOLE_TITLE_BYTES)?,
            body: generator(fields.body, SNIPPET_BYTES)?,
            body_phrases: generator(fields.body_exact, SNIPPET_BYTES)?,
        })
    }
}

pub struct Snippets {
    pub title: SnippetGenerator,
    pub title_phrases: SnippetGenerator,
    pub body: SnippetGenerator,
    pub body_phrases: SnippetGenerator,
}

impl Snippets {
    /// The text with its matches marked (escaped HTML): by stems, else by
    /// exact words; None when nothing in it matched.
    pub fn mark(stems: &SnippetGenerator, exact: &SnippetGenerator, text: &str) -> Option<String> {
        let mut snippet = stems.snippet(text);
        if snippet.highlighted().is_empty() {
            snippet = exact.snippet(text);
        }
        if snippet.highlighted().is_empty() {
            return None;
        }
        snippet.set_snippet_prefix_postfix("<mark>", "</mark>");
        Some(snippet.to_html())
    }
}

pub fn router() -> Router<AppState> {
    Router::new().route("/search", get(pages::search_page)).route("/api/content/search", get(pages::search_api))
}
