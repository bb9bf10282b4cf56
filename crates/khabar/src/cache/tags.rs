//! The names of what cached pages show, shared by the pages that carry them
//! and the changes that invalidate them.

pub const ALL: &str = "all";
/// The masthead (site name, logo, follow links), the sections' menu and the sidebar poll.
pub const LAYOUT: &str = "layout";
/// Everything that lists all articles: the home page, the site's feeds, the sitemaps.
pub const LATEST: &str = "latest";

pub fn article(id: i64) -> String {
    format!("article:{id}")
}

/// A section's list and feeds, and the "related news" of its articles.
pub fn section(slug: &str) -> String {
    format!("section:{slug}")
}

pub fn tag(slug: &str) -> String {
    format!("tag:{slug}")
}

pub fn author(slug: &str) -> String {
    format!("author:{slug}")
}

/// On article pages: their "related news" may take in any article of this
/// section (or with this tag, or, for `RELATED_LATEST`, any at all) that is
/// published or edited. An article leaving does not touch them unless they
/// show it (`article:{id}`), so these are apart from the lists' own tags.
pub fn related_section(slug: &str) -> String {
    format!("related-section:{slug}")
}

pub fn related_tag(slug: &str) -> String {
    format!("related-tag:{slug}")
}

pub const RELATED_LATEST: &str = "related-latest";

pub fn poll(id: i64) -> String {
    format!("poll:{id}")
}

/// The article tags of cards or items shown on a page.
pub fn articles(ids: impl IntoIterator<Item = i64>) -> Vec<String> {
    ids.into_iter().map(article).collect()
}
