//! Making sends: the daily digest, a breaking-news alert, confirmation
//! requests for imported addresses. Each is rendered once from its email
//! templates, with slots for what differs per reader (name and links), and
//! frozen in the send row.

use serde::Serialize;

use super::sender::{CONFIRM_SLOT, NAME_SLOT, PREFERENCES_SLOT, UNSUBSCRIBE_SLOT};
use super::store::{Audience, NewSend, SendKind};
use super::NewsletterError;
use crate::app::AppState;
use crate::articles::store::ArticleCard;
use crate::store::now_seconds;
use crate::web::article_path;

/// Articles in one digest at most.
const DIGEST_ARTICLES: i64 = 20;
/// The first digest of a site covers its latest articles up to this many.
const FIRST_DIGEST_ARTICLES: i64 = 10;

#[derive(Serialize)]
struct EmailArticle {
    title: String,
    summary: String,
    url: String,
    /// `/news/ID` redirects to the article: short enough to read in a plain-text email.
    short_url: String,
    section: String,
    image_url: Option<String>,
    date: String,
    breaking: bool,
}

#[derive(Serialize)]
struct EmailSite {
    name: String,
    url: String,
}

fn email_site(state: &AppState) -> EmailSite {
    EmailSite { name: state.site_view().name, url: state.base_url() }
}

fn email_article(state: &AppState, card: &ArticleCard) -> EmailArticle {
    let locale = state.locale();
    // Mail clients do not show SVG, and relative links mean nothing in an inbox.
    let image_url = card.featured_image.as_deref().filter(|path| !path.ends_with(".svg")).map(|path| {
        if path.starts_with("http") {
            path.to_owned()
        } else {
            state.absolute_url(path)
        }
    });
    EmailArticle {
        title: card.title.clone(),
        summary: card.summary.clone(),
        url: state.absolute_url(&article_path(card.id, &card.slug)),
        short_url: state.absolute_url(&format!("/news/{}", card.id)),
        section: card.section_name.clone(),
        image_url,
        date: locale.date(card.published_at).gregorian,
        breaking: card.breaking,
    }
}

fn render_triplet<C: Serialize>(
    state: &AppState,
    name: &str,
    context: &C,
) -> Result<(String, String, String), NewsletterError> {
    let context = minijinja::Value::from_serialize(context);
    let subject = state.templates.render(&format!("email/{name}.subject"), &context)?;
    let text = state.templates.render(&format!("email/{name}.txt"), &context)?;
    let html = state.templates.render(&format!("email/{name}.html"), &context)?;
    // Subjects are one line whatever the template holds.
    let subject = subject.split_whitespace().collect::<Vec<_>>().join(" ");
    Ok((subject, text, html))
}

/// Creates the digest of what was published since the previous one. `key`
/// makes it once-only (the scheduler uses the local date). `None` when a
/// send with that key exists already or nothing new was published.
pub async fn create_digest(
    state: &AppState,
    key: &str,
    requested_by: &str,
) -> Result<Option<(i64, usize)>, NewsletterError> {
    if state.store.send_exists(key).await? {
        return Ok(None);
    }
    let now = now_seconds();
    let since = state.store.last_digest_end().await?;
    let limit = if since.is_some() { DIGEST_ARTICLES } else { FIRST_DIGEST_ARTICLES };
    let cards = state.store.published_in(since.unwrap_or(0), now, limit).await?;
    if cards.is_empty() {
        return Ok(None);
    }
    let articles: Vec<EmailArticle> = cards.iter().map(|card| email_article(state, card)).collect();
    let context = minijinja::context! {
        site => email_site(state),
        date => state.locale().date(now).gregorian,
        count => state.locale().count(articles.len() as u64, &khabar_arabic::plural::ARTICLES),
        articles => articles,
        reader_name => NAME_SLOT,
        preferences_url => PREFERENCES_SLOT,
        unsubscribe_url => UNSUBSCRIBE_SLOT,
    };
    let (subject, body_text, body_html) = render_triplet(state, "newsletter_digest", &context)?;
    let send = NewSend {
        kind: SendKind::Digest,
        dedupe_key: key.to_owned(),
        article_id: None,
        subject,
        body_text,
        body_html,
        requested_by: requested_by.to_owned(),
        period_start: since,
        period_end: Some(now),
    };
    let created = state.store.create_send(&send, Audience::Digest, now).await?;
    state.newsletter.wake.notify_one();
    Ok(created.map(|id| (id, cards.len())))
}

#[derive(Debug, thiserror::Error)]
pub enum AlertRefusal {
    #[error("the article is not published")]
    NotPublished,
    #[error("an alert for this article was sent already")]
    AlreadySent,
}

/// Creates the breaking-news alert for one published article; once per article.
pub async fn create_alert(
    state: &AppState,
    article_id: i64,
    requested_by: &str,
) -> Result<Result<i64, AlertRefusal>, NewsletterError> {
    let now = now_seconds();
    let Some(card) = state.store.visible_card(article_id, now).await? else {
        return Ok(Err(AlertRefusal::NotPublished));
    };
    let context = minijinja::context! {
        site => email_site(state),
        article => email_article(state, &card),
        reader_name => NAME_SLOT,
        preferences_url => PREFERENCES_SLOT,
        unsubscribe_url => UNSUBSCRIBE_SLOT,
    };
    let (subject, body_text, body_html) = render_triplet(state, "newsletter_alert", &context)?;
    let send = NewSend {
        kind: SendKind::Alert,
        dedupe_key: format!("alert-{article_id}"),
        article_id: Some(article_id),
        subject,
        body_text,
        body_html,
        requested_by: requested_by.to_owned(),
        period_start: None,
        period_end: None,
    };
    let created = state.store.create_send(&send, Audience::Alerts, now).await?;
    state.newsletter.wake.notify_one();
    Ok(created.ok_or(AlertRefusal::AlreadySent))
}

/// Asks imported, unconfirmed addresses to confirm, through the same
/// exactly-once sending as the news.
pub async fn create_confirmation_requests(
    state: &AppState,
    subscriber_ids: &[i64],
    requested_by: &str,
) -> Result<Option<i64>, NewsletterError> {
    if subscriber_ids.is_empty() {
        return Ok(None);
    }
    let now = now_seconds();
    let context = confirmation_context(state, NAME_SLOT, CONFIRM_SLOT);
    let (subject, body_text, body_html) = render_triplet(state, "newsletter_confirm", &context)?;
    let send = NewSend {
        kind: SendKind::Confirmation,
        dedupe_key: format!("confirm-{now}-{}", super::links::new_link_key()),
        article_id: None,
        subject,
        body_text,
        body_html,
        requested_by: requested_by.to_owned(),
        period_start: None,
        period_end: None,
    };
    let created = state.store.create_send(&send, Audience::Pending(subscriber_ids), now).await?;
    state.newsletter.wake.notify_one();
    Ok(created)
}

pub fn confirmation_context(state: &AppState, reader_name: &str, confirm_url: &str) -> minijinja::Value {
    minijinja::context! {
        site => email_site(state),
        reader_name => reader_name,
        confirm_url => confirm_url,
    }
}

pub fn already_context(state: &AppState, reader_name: &str, preferences_url: &str) -> minijinja::Value {
    minijinja::context! {
        site => email_site(state),
        reader_name => reader_name,
        preferences_url => preferences_url,
    }
}
