//! The article page, served from the page cache.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use crate::app::AppState;
use crate::articles::store::{ArticleCard, ArticleRow, AttachedName};
use crate::articles::views::{article_view, card_view, complete_cards};
use crate::cache::render::{cached_or_render, respond_at, RenderedPage, HTML};
use crate::cache::{tags, CachedPage};
use crate::error::AppError;
use crate::sections::navigation;
use crate::store::now_seconds;
use crate::web::{article_path, decode_path_segment, raw_segment};

const RELATED_COUNT: i64 = 6;

/// Ids are positive whole numbers; anything else cannot name an article.
pub fn parse_id(raw: &str) -> Option<i64> {
    if raw.is_empty() || raw.len() > 18 || !raw.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    raw.parse::<i64>().ok().filter(|id| *id > 0)
}

pub fn redirect_permanently(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(location) => (StatusCode::MOVED_PERMANENTLY, [(header::LOCATION, location)]).into_response(),
        Err(_) => AppError::NotFound.into_response(),
    }
}

/// The article's page as the cache keeps it (rendered when it is not there).
pub async fn cached_article(state: &AppState, id: i64) -> Result<std::sync::Arc<CachedPage>, AppError> {
    cached_or_render(state, article_key(id), || render_article(state, id)).await
}

fn article_key(id: i64) -> String {
    format!("article:{id}")
}

pub async fn article_without_slug(State(state): State<AppState>, uri: Uri) -> Result<Response, AppError> {
    let id = raw_segment(&uri, 1).and_then(parse_id).ok_or(AppError::NotFound)?;
    let page = cached_article(&state, id).await?;
    let canonical = page.canonical_path.as_deref().ok_or(AppError::NotFound)?;
    Ok(redirect_permanently(canonical))
}

pub async fn article_page(
    State(state): State<AppState>,
    uri: Uri,
    request_headers: HeaderMap,
) -> Result<Response, AppError> {
    let id = raw_segment(&uri, 1).and_then(parse_id).ok_or(AppError::NotFound)?;
    let page = cached_article(&state, id).await?;
    let canonical = page.canonical_path.as_deref().ok_or(AppError::NotFound)?;
    let requested_slug = raw_segment(&uri, 2).and_then(decode_path_segment);
    if requested_slug.map(|slug| article_path(id, &slug)).as_deref() != Some(canonical) {
        return Ok(redirect_permanently(canonical));
    }
    state.reads.record(id);
    Ok(respond_at(&state, &uri, &article_key(id), &page, &request_headers, Some(id)))
}

async fn render_article(state: &AppState, id: i64) -> Result<RenderedPage, AppError> {
    let now = now_seconds();
    let row = state.store.article_for_page(id).await?.filter(|row| row.is_visible(now)).ok_or(AppError::NotFound)?;
    let ids = [row.id];
    let authors = state.store.authors_of(&ids).await?;
    let tags = state.store.tags_of(&ids).await?;
    let reference_time = row.published_at.unwrap_or(row.created_at);
    let related = state.store.related_articles(row.id, row.section_id, reference_time, now, RELATED_COUNT).await?;
    let mut article = article_view(state, &row, &authors, &tags);
    let mut cache_tags = related_tags(state, &row, &tags, &related).await?;
    let mut related: Vec<_> = related.iter().map(|card| card_view(state, card)).collect();
    complete_cards(state, related.iter_mut()).await?;
    if let Some(url) = &article.image_url {
        article.image_srcset = crate::media::srcsets(state, vec![url.clone()]).await?.remove(url);
    }
    // A poll attached to this article sits under it (the same form for every reader).
    let poll = match state.store.article_poll_id(row.id).await? {
        Some(poll_id) => {
            cache_tags.push(tags::poll(poll_id));
            state.store.poll(poll_id).await?.map(|(poll, options)| state.polls.form(&poll, &options, now))
        }
        None => None,
    };
    let comments = crate::comments::pages::article_comments(state, &(&row).into(), 1, now).await?;
    let sharing = crate::sharing::article_sharing(state, &row, &article).await?;
    // The form must leave the page when comments close by themselves.
    let max_age = match (state.settings().comments_close_after_days, row.published_at) {
        (Some(days), Some(at)) if at + days * 86_400 > now => {
            Some(std::time::Duration::from_secs((at + days * 86_400 - now).unsigned_abs()))
        }
        _ => None,
    };
    let html = state.templates.render(
        "article.html",
        minijinja::context! {
            site => state.site_view(),
            sections => navigation(state, now).await?,
            current_section => row.section_slug,
            article => article,
            related => related,
            article_poll => poll,
            comments => comments,
            sharing => sharing,
        },
    )?;
    Ok(RenderedPage {
        html,
        max_age,
        canonical_path: Some(article_path(row.id, &row.slug)),
        content_type: HTML,
        tags: cache_tags,
    })
}

/// What the article page shows besides itself: its related articles. The
/// list ranks shared tags, then the same section, then nearness in time
/// across the whole site. So a new article can only displace an entry that
/// is there for time alone ("filler"), or join through the article's
/// section or tags: the page is tagged with those, and with every
/// article's change (`latest`) only when it holds a filler.
async fn related_tags(
    state: &AppState,
    row: &ArticleRow,
    own_tags: &[AttachedName],
    related: &[ArticleCard],
) -> Result<Vec<String>, AppError> {
    let mut cache_tags = vec![tags::article(row.id), tags::related_section(&row.section_slug)];
    cache_tags.extend(own_tags.iter().map(|tag| tags::related_tag(&tag.slug)));
    cache_tags.extend(related.iter().map(|card| tags::article(card.id)));
    let related_ids: Vec<i64> = related.iter().map(|card| card.id).collect();
    let their_tags = state.store.tags_of(&related_ids).await?;
    let has_filler = related.len() < usize::try_from(RELATED_COUNT).unwrap_or(usize::MAX)
        || related.iter().any(|card| {
            card.section_slug != row.section_slug
                && !their_tags
                    .iter()
                    .any(|tag| tag.article_id == card.id && own_tags.iter().any(|own| own.slug == tag.slug))
        });
    if has_filler {
        cache_tags.push(tags::RELATED_LATEST.to_owned());
    }
    Ok(cache_tags)
}

#[cfg(test)]
mod tests {
    use super::parse_id;

    #[test]
    fn ids_are_positive_whole_numbers() {
        assert_eq!(parse_id("42"), Some(42));
        for bad in ["", "0", "-1", "4a", "١٢", "99999999999999999999", "1.5", " 1"] {
            assert_eq!(parse_id(bad), None, "{bad}");
        }
    }
}
