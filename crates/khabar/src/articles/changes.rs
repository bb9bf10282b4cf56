//! What an article's change touches: its own page, every page that shows it
//! as a card, and every list it was or is on (the home page, feeds and
//! sitemaps, its sections', tags' and authors' pages); the sections' menu
//! when a section gains its first article or loses its last. Those pages go
//! from the cache here, on the other nodes and in the CDN; webhooks are told.

use crate::app::AppState;
use crate::articles::store::{ArticleRow, AttachedName};
use crate::cache::tags;
use crate::store::{now_seconds, StoreError};

/// An article as it was before a change: its row and the lists it was on.
pub struct Snapshot {
    pub row: ArticleRow,
    tags: Vec<AttachedName>,
    authors: Vec<AttachedName>,
}

pub async fn snapshot(state: &AppState, id: i64) -> Result<Option<Snapshot>, StoreError> {
    let Some(row) = state.store.article_by_id(id).await? else {
        return Ok(None);
    };
    let tags = state.store.tags_of(&[id]).await?;
    let authors = state.store.authors_of(&[id]).await?;
    Ok(Some(Snapshot { row, tags, authors }))
}

/// The tags of the pages an article's change may alter, from how it was
/// (`before`, None for a new article) and how it is (`after`, None once deleted).
pub fn touched(id: i64, before: Option<&Snapshot>, after: Option<&Snapshot>, now: i64) -> Vec<String> {
    let mut touched = vec![tags::article(id)];
    let listed = |snapshot: &Option<&Snapshot>| snapshot.is_some_and(|snapshot| snapshot.row.is_visible(now));
    if listed(&before) || listed(&after) {
        touched.push(tags::LATEST.to_owned());
        for snapshot in [before, after].into_iter().flatten() {
            touched.push(tags::section(&snapshot.row.section_slug));
            touched.extend(snapshot.tags.iter().map(|tag| tags::tag(&tag.slug)));
            touched.extend(snapshot.authors.iter().map(|author| tags::author(&author.slug)));
        }
    }
    // Entering other articles' "related news" (or rising in it) needs it
    // visible now; pages it leaves show it, and go by `article:{id}`.
    if let Some(after) = after.filter(|after| after.row.is_visible(now)) {
        touched.push(tags::RELATED_LATEST.to_owned());
        touched.push(tags::related_section(&after.row.section_slug));
        touched.extend(after.tags.iter().map(|tag| tags::related_tag(&tag.slug)));
    }
    touched.sort();
    touched.dedup();
    touched
}

/// After an article was written (created, edited, published, unpublished,
/// scheduled, deleted). When its new state cannot be read, every page goes:
/// a page too many is better than a stale one.
pub async fn article_changed(state: &AppState, before: Option<&Snapshot>, id: i64) {
    let now = now_seconds();
    let after = match snapshot(state, id).await {
        Ok(after) => after,
        Err(error) => {
            tracing::error!(%error, article = id, "could not read the changed article; refreshing every page");
            state.content_changed();
            return;
        }
    };
    let mut touched = touched(id, before, after.as_ref(), now);
    match crate::sections::navigation_changed(state, now).await {
        Ok(false) => {}
        Ok(true) => touched.push(tags::LAYOUT.to_owned()),
        Err(error) => {
            tracing::warn!(%error, "could not compare the sections' menu; refreshing every page");
            touched.push(tags::LAYOUT.to_owned());
        }
    }
    state.changed(touched);
    crate::webhooks::article_written(state, before.map(|snapshot| &snapshot.row), id).await;
}
