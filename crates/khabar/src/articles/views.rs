//! What templates and the content API see of articles: display-ready values
//! built from rows, kept apart from the rows themselves.

use serde::Serialize;

use crate::app::AppState;
use crate::articles::store::{ArticleCard, ArticleRow, AttachedName};
use crate::locale::ShownDate;
use crate::web::{article_path, encode_path_segment};
use khabar_arabic::plural;

/// Words an Arabic reader reads in a minute, for "reading time".
const WORDS_PER_MINUTE: i64 = 180;

#[derive(Debug, Clone, Serialize)]
pub struct LinkView {
    pub name: String,
    pub slug: String,
    pub url: String,
}

impl LinkView {
    pub fn new(kind: &str, name: &str, slug: &str) -> Self {
        LinkView { name: name.to_owned(), slug: slug.to_owned(), url: format!("/{kind}/{}", encode_path_segment(slug)) }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct CardView {
    pub id: i64,
    pub url: String,
    pub title: String,
    pub summary: String,
    pub section: LinkView,
    pub breaking: bool,
    pub image_url: Option<String>,
    /// Responsive copies, for library images whose copies are ready.
    pub image_srcset: Option<String>,
    pub image_alt: String,
    pub date: ShownDate,
    pub reading_time: String,
    /// Approved comments, counted in words ("٣ تعليقات"); None when there are none.
    pub comments: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ArticleView {
    pub id: i64,
    pub url: String,
    pub canonical_url: String,
    pub title: String,
    pub summary: String,
    pub section: LinkView,
    pub body_html: String,
    pub breaking: bool,
    pub image_url: Option<String>,
    pub image_srcset: Option<String>,
    pub image_caption: String,
    pub image_credit: String,
    /// What search engines show: the SEO description, or else the summary.
    pub description: String,
    pub published: ShownDate,
    pub updated: Option<ShownDate>,
    pub authors: Vec<LinkView>,
    pub tags: Vec<LinkView>,
    pub reading_time: String,
}

pub fn reading_time(state: &AppState, word_count: i64) -> String {
    let minutes = ((word_count + WORDS_PER_MINUTE - 1) / WORDS_PER_MINUTE).max(1);
    state.locale().count(minutes.unsigned_abs(), &plural::MINUTES)
}

pub fn card_view(state: &AppState, card: &ArticleCard) -> CardView {
    CardView {
        id: card.id,
        url: article_path(card.id, &card.slug),
        title: card.title.clone(),
        summary: card.summary.clone(),
        section: LinkView::new("section", &card.section_name, &card.section_slug),
        breaking: card.breaking,
        image_url: card.featured_image.clone(),
        image_srcset: None,
        image_alt: if card.featured_caption.is_empty() { card.title.clone() } else { card.featured_caption.clone() },
        date: state.locale().date(card.published_at),
        reading_time: reading_time(state, card.word_count),
        comments: None,
    }
}

pub fn links_for(kind: &str, article_id: i64, attached: &[AttachedName]) -> Vec<LinkView> {
    attached
        .iter()
        .filter(|item| item.article_id == article_id)
        .map(|item| LinkView::new(kind, &item.name, &item.slug))
        .collect()
}

/// An update is worth showing only when it came well after publication.
const SHOW_UPDATE_AFTER_SECONDS: i64 = 15 * 60;

pub fn article_view(
    state: &AppState,
    row: &ArticleRow,
    authors: &[AttachedName],
    tags: &[AttachedName],
) -> ArticleView {
    let published_at = row.published_at.unwrap_or(row.created_at);
    let url = article_path(row.id, &row.slug);
    ArticleView {
        id: row.id,
        canonical_url: state.absolute_url(&url),
        url,
        title: row.title.clone(),
        summary: row.summary.clone(),
        section: LinkView::new("section", &row.section_name, &row.section_slug),
        body_html: row.body_html.clone(),
        breaking: row.breaking,
        image_url: row.featured_image.clone(),
        image_srcset: None,
        image_caption: row.featured_caption.clone(),
        image_credit: row.featured_credit.clone(),
        description: if row.seo_description.is_empty() { row.summary.clone() } else { row.seo_description.clone() },
        published: state.locale().date(published_at),
        updated: (row.updated_at - published_at.max(row.created_at) > SHOW_UPDATE_AFTER_SECONDS)
            .then(|| state.locale().date(row.updated_at)),
        authors: links_for("author", row.id, authors),
        tags: links_for("tag", row.id, tags),
        reading_time: reading_time(state, row.word_count),
    }
}

/// Fills in `srcset` for cards whose image comes from the media library.
/// What cards show beyond their rows: responsive image copies, and how
/// many comments each article has.
pub async fn complete_cards<'a>(
    state: &AppState,
    cards: impl IntoIterator<Item = &'a mut CardView>,
) -> Result<(), crate::store::StoreError> {
    let mut cards: Vec<&mut CardView> = cards.into_iter().collect();
    let paths: Vec<String> = cards.iter().filter_map(|card| card.image_url.clone()).collect();
    let sets = crate::media::srcsets(state, paths).await?;
    let ids: Vec<i64> = cards.iter().map(|card| card.id).collect();
    let counts = state.store.approved_comment_counts(&ids).await?;
    let locale = state.locale();
    for card in &mut cards {
        card.image_srcset = card.image_url.as_ref().and_then(|url| sets.get(url).cloned());
        card.comments = counts
            .get(&card.id)
            .filter(|count| **count > 0)
            .map(|count| locale.count(count.unsigned_abs(), &khabar_arabic::plural::COMMENTS));
    }
    Ok(())
}
