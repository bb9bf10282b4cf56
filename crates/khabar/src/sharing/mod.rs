//! How an article travels: share links (plain anchors, no third-party
//! scripts), the short link `/n/{id}` for messaging apps that mangle long
//! percent-encoded Arabic URLs, and what those apps and search engines read
//! from the page: OpenGraph, Twitter card and schema.org JSON-LD.

use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde::Serialize;
use serde_json::{json, Value};

use crate::app::AppState;
use crate::articles::store::ArticleRow;
use crate::articles::views::ArticleView;
use crate::error::AppError;
use crate::templates::json_in_script;
use crate::web::raw_segment;

pub fn router() -> Router<AppState> {
    Router::new().route("/n/{id}", get(short_link))
}

/// `/n/{id}` → the article's canonical URL. Permanent: the id never names another article.
async fn short_link(State(state): State<AppState>, uri: Uri) -> Result<Response, AppError> {
    let id = raw_segment(&uri, 1).and_then(crate::articles::pages::parse_id).ok_or(AppError::NotFound)?;
    let page = crate::articles::pages::cached_article(&state, id).await?;
    let canonical = page.canonical_path.as_deref().ok_or(AppError::NotFound)?;
    Ok(crate::articles::pages::redirect_permanently(canonical))
}

pub fn short_path(id: i64) -> String {
    format!("/n/{id}")
}

#[derive(Debug, Clone, Serialize)]
pub struct ShareLink {
    pub network: &'static str,
    pub label: &'static str,
    pub url: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ImageMeta {
    pub url: String,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub mime: &'static str,
    pub alt: String,
}

/// Everything the article page's head and share box show.
#[derive(Debug, Clone, Serialize)]
pub struct ArticleSharing {
    pub short_url: String,
    pub links: Vec<ShareLink>,
    pub image: ImageMeta,
    /// A large-image card when the article has its own picture.
    pub twitter_card: &'static str,
    pub published_time: String,
    pub modified_time: String,
    /// Each a JSON document ready for its script element.
    pub structured_data: Vec<minijinja::Value>,
}

fn query(pairs: &[(&str, &str)]) -> String {
    let mut serializer = form_urlencoded::Serializer::new(String::new());
    for (key, value) in pairs {
        serializer.append_pair(key, value);
    }
    serializer.finish()
}

/// Facebook and X fetch the page and read its card from the canonical URL;
/// Telegram and WhatsApp put the link in a message, where the short one survives.
pub fn share_links(title: &str, canonical_url: &str, short_url: &str) -> Vec<ShareLink> {
    vec![
        ShareLink {
            network: "facebook",
            label: "فيسبوك",
            url: format!("https://www.facebook.com/sharer/sharer.php?{}", query(&[("u", canonical_url)])),
        },
        ShareLink {
            network: "x",
            label: "إكس",
            url: format!("https://x.com/intent/post?{}", query(&[("text", title), ("url", canonical_url)])),
        },
        ShareLink {
            network: "telegram",
            label: "تيليغرام",
            url: format!("https://t.me/share/url?{}", query(&[("url", short_url), ("text", title)])),
        },
        ShareLink {
            network: "whatsapp",
            label: "واتساب",
            url: format!("https://wa.me/?{}", query(&[("text", &format!("{title}\n{short_url}"))])),
        },
    ]
}

/// The picture cards show: the article's share image, else its featured
/// image, else the site's logo; with its size when the file is ours.
async fn card_image(state: &AppState, row: &ArticleRow) -> Result<ImageMeta, AppError> {
    // Share cards are raster images: an SVG illustration is not shown by the apps.
    let chosen = [&row.social_image, &row.featured_image]
        .into_iter()
        .flatten()
        .find(|path| !path.to_ascii_lowercase().ends_with(".svg"))
        .cloned();
    let Some(path) = chosen else {
        return Ok(logo_image(state));
    };
    let (width, height) = image_size(state, &path).await?;
    Ok(ImageMeta {
        url: state.absolute_link(&path),
        width,
        height,
        mime: crate::feeds::image_type(&path),
        alt: if row.featured_caption.is_empty() { row.title.clone() } else { row.featured_caption.clone() },
    })
}

fn logo_image(state: &AppState) -> ImageMeta {
    match &state.settings().logo {
        Some(logo) => ImageMeta {
            url: state.absolute_link(logo),
            width: None,
            height: None,
            mime: crate::feeds::image_type(logo),
            alt: state.site_view().name,
        },
        None => ImageMeta {
            url: state.absolute_url(&state.assets.url("logo.png")),
            width: Some(512),
            height: Some(512),
            mime: "image/png",
            alt: state.site_view().name,
        },
    }
}

/// The library knows its images' sizes; other files under /media are read
/// for their header only. Remote images stay without a size.
async fn image_size(state: &AppState, path: &str) -> Result<(Option<u32>, Option<u32>), AppError> {
    if let Some(media) = state.store.media_by_paths(&[path.to_owned()]).await?.into_iter().next() {
        return Ok((u32::try_from(media.width).ok(), u32::try_from(media.height).ok()));
    }
    let Some(file) = crate::media::file_for(&state.data_dir, path) else {
        return Ok((None, None));
    };
    let size = tokio::task::spawn_blocking(move || {
        image::ImageReader::open(file)
            .ok()
            .and_then(|reader| reader.with_guessed_format().ok())
            .and_then(|reader| reader.into_dimensions().ok())
    })
    .await
    .ok()
    .flatten();
    Ok(size.map_or((None, None), |(width, height)| (Some(width), Some(height))))
}

fn publisher(state: &AppState) -> Value {
    let site = state.site_view();
    let logo = logo_image(state);
    let mut logo_json = json!({"@type": "ImageObject", "url": logo.url});
    if let (Some(width), Some(height)) = (logo.width, logo.height) {
        logo_json["width"] = json!(width);
        logo_json["height"] = json!(height);
    }
    json!({
        "@type": "NewsMediaOrganization",
        "name": site.name,
        "url": state.absolute_url("/"),
        "logo": logo_json,
    })
}

pub async fn article_sharing(
    state: &AppState,
    row: &ArticleRow,
    article: &ArticleView,
) -> Result<ArticleSharing, AppError> {
    let short_url = state.absolute_url(&short_path(row.id));
    let image = card_image(state, row).await?;
    let published = row.published_at.unwrap_or(row.created_at);
    let published_time = crate::xml::rfc3339(published);
    let modified_time = crate::xml::rfc3339(row.updated_at.max(published));
    let authors: Vec<Value> = if article.authors.is_empty() {
        vec![json!({"@type": "Organization", "name": state.site_view().name, "url": state.absolute_url("/")})]
    } else {
        article
            .authors
            .iter()
            .map(|author| json!({"@type": "Person", "name": author.name, "url": state.absolute_url(&author.url)}))
            .collect()
    };
    let mut image_json = json!({"@type": "ImageObject", "url": image.url});
    if let (Some(width), Some(height)) = (image.width, image.height) {
        image_json["width"] = json!(width);
        image_json["height"] = json!(height);
    }
    let keywords: Vec<&str> = article.tags.iter().map(|tag| tag.name.as_str()).collect();
    let news_article = json!({
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": headline(&row.title),
        "description": article.description,
        "image": [image_json],
        "datePublished": published_time,
        "dateModified": modified_time,
        "author": authors,
        "publisher": publisher(state),
        "mainEntityOfPage": {"@type": "WebPage", "@id": article.canonical_url},
        "url": article.canonical_url,
        "articleSection": row.section_name,
        "keywords": keywords,
        "inLanguage": "ar",
        "isAccessibleForFree": true,
    });
    let breadcrumbs = json!({
        "@context": "https://schema.org",
        "@type": "BreadcrumbList",
        "itemListElement": [
            {"@type": "ListItem", "position": 1, "name": "الرئيسية", "item": state.absolute_url("/")},
            {"@type": "ListItem", "position": 2, "name": row.section_name, "item": state.absolute_url(&article.section.url)},
            {"@type": "ListItem", "position": 3, "name": row.title, "item": article.canonical_url},
        ],
    });
    Ok(ArticleSharing {
        links: share_links(&row.title, &article.canonical_url, &short_url),
        short_url,
        twitter_card: if image.width.is_some_and(|width| width >= 600) { "summary_large_image" } else { "summary" },
        image,
        published_time,
        modified_time,
        structured_data: vec![json_in_script(&news_article), json_in_script(&breadcrumbs)],
    })
}

/// Search engines cut headlines near 110 characters; a cut one ends with an ellipsis.
fn headline(title: &str) -> String {
    const LIMIT: usize = 110;
    if title.chars().count() <= LIMIT {
        return title.to_owned();
    }
    let cut: String = title.chars().take(LIMIT - 1).collect();
    format!("{}…", cut.trim_end())
}

/// The home page says who publishes the site and how to search it.
pub fn home_structured_data(state: &AppState) -> Vec<minijinja::Value> {
    let mut organization = publisher(state);
    organization["@context"] = json!("https://schema.org");
    let settings = state.settings();
    let same_as: Vec<&str> = settings.follow.iter().map(|link| link.url.as_str()).collect();
    if !same_as.is_empty() {
        organization["sameAs"] = json!(same_as);
    }
    let site = state.site_view();
    let website = json!({
        "@context": "https://schema.org",
        "@type": "WebSite",
        "name": site.name,
        "description": site.description,
        "url": state.absolute_url("/"),
        "inLanguage": "ar",
        "potentialAction": {
            "@type": "SearchAction",
            "target": {"@type": "EntryPoint", "urlTemplate": format!("{}?q={{search_term_string}}", state.absolute_url("/search"))},
            "query-input": "required name=search_term_string",
        },
    });
    vec![json_in_script(&organization), json_in_script(&website)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn share_links_carry_encoded_arabic_and_the_short_link_for_messages() {
        let links = share_links("مفاوضات المياه & الطاقة", "https://k.example/news/1/%D9%85", "https://k.example/n/1");
        let whatsapp =
            links.iter().find(|link| link.network == "whatsapp").map(|link| link.url.clone()).unwrap_or_default();
        assert!(whatsapp.starts_with("https://wa.me/?text="), "{whatsapp}");
        assert!(whatsapp.contains("https%3A%2F%2Fk.example%2Fn%2F1"), "{whatsapp}");
        assert!(!whatsapp.contains('&'), "the & in the title must be encoded: {whatsapp}");
        let facebook =
            links.iter().find(|link| link.network == "facebook").map(|link| link.url.clone()).unwrap_or_default();
        assert!(facebook.contains("u=https%3A%2F%2Fk.example%2Fnews%2F1%2F%25D9%2585"), "{facebook}");
    }

    #[test]
    fn long_headlines_are_cut_on_characters() {
        assert_eq!(headline("خبر قصير"), "خبر قصير");
        let long = "ك".repeat(200);
        assert_eq!(headline(&long).chars().count(), 110);
    }
}
