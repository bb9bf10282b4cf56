//! The home page and the section, tag and author lists, all served from the
//! page cache.

use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use serde::Serialize;

use crate::app::AppState;
use crate::articles::readership::day_number;
use crate::articles::store::ListFilter;
use crate::articles::views::{card_view, complete_cards, CardView};
use crate::cache::render::{cached_or_render, respond_at, RenderedPage, HTML};
use crate::cache::tags;
use crate::error::AppError;
use crate::sections::navigation;
use crate::store::now_seconds;
use crate::web::{decode_path_segment, encode_path_segment, page_count, page_number, query_params, raw_segment};
use khabar_arabic::plural;

const LATEST_COUNT: i64 = 8;
const SECTION_BLOCK_COUNT: i64 = 4;
const MOST_READ_COUNT: i64 = 5;
const MOST_READ_DAYS: i64 = 7;
/// A breaking story leads the home page for this long.
const BREAKING_LEAD_SECONDS: i64 = 24 * 3600;
/// "Most read" moves as readers read; the home page is rebuilt this often for it.
const HOME_MAX_AGE: Duration = Duration::from_secs(120);

#[derive(Serialize)]
struct SectionBlock {
    name: String,
    url: String,
    articles: Vec<CardView>,
}

#[derive(Serialize)]
struct MostRead {
    article: CardView,
    reads: String,
}

pub async fn home(State(state): State<AppState>, uri: Uri, request_headers: HeaderMap) -> Result<Response, AppError> {
    // `/?p=101` and the like are a WordPress site's links: not the home
    // page, but a 404 the error shaper answers from the redirects.
    if crate::redirects::is_wordpress_query(uri.query()) {
        return Err(AppError::NotFound);
    }
    let page = cached_or_render(&state, "home".to_owned(), || render_home(&state)).await?;
    Ok(respond_at(&state, &uri, "home", &page, &request_headers, None))
}

async fn render_home(state: &AppState) -> Result<RenderedPage, AppError> {
    let now = now_seconds();
    let everything = ListFilter::default();
    let latest = state.store.latest_cards(&everything, now, LATEST_COUNT + 1).await?;
    let top_index =
        latest.iter().position(|card| card.breaking && now - card.published_at < BREAKING_LEAD_SECONDS).unwrap_or(0);
    let top_id = latest.get(top_index).map(|card| card.id);
    let mut top = latest.get(top_index).map(|card| card_view(state, card));
    let mut latest: Vec<CardView> = latest
        .iter()
        .enumerate()
        .filter(|(index, _)| *index != top_index)
        .take(usize::try_from(LATEST_COUNT).unwrap_or(8))
        .map(|(_, card)| card_view(state, card))
        .collect();
    let sections = navigation(state, now).await?;
    let mut blocks = Vec::with_capacity(sections.len());
    for section in &sections {
        let filter = ListFilter { section: Some(section.slug.clone()), ..ListFilter::default() };
        let cards = state.store.latest_cards(&filter, now, SECTION_BLOCK_COUNT + 1).await?;
        // The lead story is already at the top of the page.
        let articles = cards
            .iter()
            .filter(|card| Some(card.id) != top_id)
            .take(usize::try_from(SECTION_BLOCK_COUNT).unwrap_or(4))
            .map(|card| card_view(state, card))
            .collect();
        blocks.push(SectionBlock { name: section.name.clone(), url: section.url.clone(), articles });
    }
    complete_cards(
        state,
        top.iter_mut().chain(latest.iter_mut()).chain(blocks.iter_mut().flat_map(|block| block.articles.iter_mut())),
    )
    .await?;
    let most_read: Vec<MostRead> = state
        .store
        .most_read(now, day_number(now) - MOST_READ_DAYS, MOST_READ_COUNT)
        .await?
        .iter()
        .map(|(card, reads)| MostRead {
            article: card_view(state, card),
            reads: state.locale().count(reads.unsigned_abs(), &plural::READS),
        })
        .collect();
    let shown_ids: Vec<i64> = top
        .iter()
        .chain(latest.iter())
        .chain(blocks.iter().flat_map(|block| block.articles.iter()))
        .chain(most_read.iter().map(|item| &item.article))
        .map(|card| card.id)
        .collect();
    let html = state.templates.render(
        "home.html",
        minijinja::context! {
            site => state.site_view(),
            sections => sections,
            current_section => "",
            top => top,
            latest => latest,
            blocks => blocks,
            most_read => most_read,
            structured_data => crate::sharing::home_structured_data(state),
        },
    )?;
    let mut tags = vec![tags::LATEST.to_owned()];
    tags.extend(shown_ids.into_iter().map(tags::article));
    Ok(RenderedPage {
        html,
        max_age: Some(HOME_MAX_AGE),
        canonical_path: Some("/".to_owned()),
        content_type: HTML,
        tags,
    })
}

#[derive(Clone, Copy)]
enum ListKind {
    Section,
    Tag,
    Author,
}

impl ListKind {
    fn path_word(self) -> &'static str {
        match self {
            ListKind::Section => "section",
            ListKind::Tag => "tag",
            ListKind::Author => "author",
        }
    }
}

#[derive(Serialize)]
struct Pagination {
    page: u32,
    pages: u32,
    label: String,
    previous_url: Option<String>,
    next_url: Option<String>,
}

pub async fn section_page(state: State<AppState>, uri: Uri, request_headers: HeaderMap) -> Result<Response, AppError> {
    list_page(state, uri, request_headers, ListKind::Section).await
}

pub async fn tag_page(state: State<AppState>, uri: Uri, request_headers: HeaderMap) -> Result<Response, AppError> {
    list_page(state, uri, request_headers, ListKind::Tag).await
}

pub async fn author_page(state: State<AppState>, uri: Uri, request_headers: HeaderMap) -> Result<Response, AppError> {
    list_page(state, uri, request_headers, ListKind::Author).await
}

async fn list_page(
    State(state): State<AppState>,
    uri: Uri,
    request_headers: HeaderMap,
    kind: ListKind,
) -> Result<Response, AppError> {
    let slug = raw_segment(&uri, 1).and_then(decode_path_segment).ok_or(AppError::NotFound)?;
    let page_number = page_number(&query_params(&uri))?;
    let key = format!("{}:{slug}:{page_number}", kind.path_word());
    let page = cached_or_render(&state, key.clone(), || render_list(&state, kind, &slug, page_number)).await?;
    Ok(respond_at(&state, &uri, &key, &page, &request_headers, None))
}

async fn render_list(state: &AppState, kind: ListKind, slug: &str, page: u32) -> Result<RenderedPage, AppError> {
    let now = now_seconds();
    let (heading, description, filter) = match kind {
        ListKind::Section => {
            let section = state.store.section_by_slug(slug).await?.ok_or(AppError::NotFound)?;
            (section.name, section.description, ListFilter { section: Some(section.slug), ..Default::default() })
        }
        ListKind::Tag => {
            let tag = state.store.tag_by_slug(slug).await?.ok_or(AppError::NotFound)?;
            (tag.name, String::new(), ListFilter { tag: Some(tag.slug), ..Default::default() })
        }
        ListKind::Author => {
            let author = state.store.author_by_slug(slug).await?.ok_or(AppError::NotFound)?;
            (author.name, author.bio, ListFilter { author: Some(author.slug), ..Default::default() })
        }
    };
    let per_page = state.config.page_size;
    let offset = i64::from(page - 1) * i64::from(per_page);
    let (cards, total) = state.store.list_articles(&filter, now, offset, i64::from(per_page)).await?;
    let pages = page_count(total, per_page);
    if page > pages {
        return Err(AppError::NotFound);
    }
    let base_path = format!("/{}/{}", kind.path_word(), encode_path_segment(slug));
    let page_url = |number: u32| {
        if number == 1 {
            base_path.clone()
        } else {
            format!("{base_path}?page={number}")
        }
    };
    let pagination = Pagination {
        page,
        pages,
        label: format!(
            "الصفحة {} من {}",
            state.locale().number(i64::from(page)),
            state.locale().number(i64::from(pages))
        ),
        previous_url: (page > 1).then(|| page_url(page - 1)),
        next_url: (page < pages).then(|| page_url(page + 1)),
    };
    let shown_ids: Vec<i64> = cards.iter().map(|card| card.id).collect();
    let mut articles: Vec<CardView> = cards.iter().map(|card| card_view(state, card)).collect();
    complete_cards(state, articles.iter_mut()).await?;
    let html = state.templates.render(
        "list.html",
        minijinja::context! {
            site => state.site_view(),
            sections => navigation(state, now).await?,
            current_section => if matches!(kind, ListKind::Section) { slug } else { "" },
            kind => kind.path_word(),
            heading => heading,
            description => description,
            count => state.locale().count(total.unsigned_abs(), &plural::ARTICLES),
            articles => articles,
            pagination => pagination,
            canonical_url => state.absolute_url(&page_url(page)),
            feeds => {
                let (rss, atom) = crate::feeds::feed_links(&base_path);
                minijinja::context! { rss => rss, atom => atom }
            },
        },
    )?;
    let mut tags = vec![match kind {
        ListKind::Section => tags::section(slug),
        ListKind::Tag => tags::tag(slug),
        ListKind::Author => tags::author(slug),
    }];
    tags.extend(shown_ids.into_iter().map(tags::article));
    Ok(RenderedPage { html, max_age: None, canonical_path: Some(page_url(page)), content_type: HTML, tags })
}
