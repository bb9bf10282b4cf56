//! Site settings the newsroom edits in the admin: the masthead's name,
//! tagline and logo, the "follow us" links, time zone, digits and base URL
//! (each replacing khabar.toml's when set), and publishing and login policy.
//! They are read once at start and after every save, so pages never wait on
//! them; a save refreshes every cached page.

pub mod admin;

use serde::Serialize;

use crate::store::{with_pool, Store, StoreError};

/// The networks a "follow us" link may point to, in the order shown.
pub const NETWORKS: &[Network] = &[
    Network { key: "facebook", label: "فيسبوك", host_hint: "facebook.com" },
    Network { key: "x", label: "إكس", host_hint: "x.com" },
    Network { key: "telegram", label: "تيليغرام", host_hint: "t.me" },
    Network { key: "youtube", label: "يوتيوب", host_hint: "youtube.com" },
    Network { key: "instagram", label: "إنستغرام", host_hint: "instagram.com" },
    Network { key: "whatsapp", label: "قناة واتساب", host_hint: "whatsapp.com" },
];

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Network {
    pub key: &'static str,
    pub label: &'static str,
    pub host_hint: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct FollowLink {
    pub network: &'static str,
    pub label: &'static str,
    pub url: String,
}

#[derive(Debug, Clone, Default)]
pub struct SiteSettings {
    pub site_name: Option<String>,
    pub site_description: Option<String>,
    pub authors_may_publish: bool,
    /// Every staff member must use two-factor login.
    pub require_two_factor: bool,
    pub follow: Vec<FollowLink>,
    /// A library image shown in the masthead instead of the name in type.
    pub logo: Option<String>,
    /// These three replace khabar.toml's when set.
    pub timezone: Option<String>,
    pub digits: Option<String>,
    pub base_url: Option<String>,
    /// "moderated", "first_moderated" (the default) or "open".
    pub comments_mode: Option<String>,
    /// Comments turned off on the whole site.
    pub comments_off: bool,
    /// Articles stop taking comments this many days after publication (none when unset).
    pub comments_close_after_days: Option<i64>,
    /// Words that send a comment to the moderation queue, matched after Arabic folding.
    pub comment_banned_words: Vec<String>,
    /// How much newer articles are preferred in search (0: not at all; the default 0.3).
    pub search_recency: Option<f32>,
    /// Feeds carry whole articles (the default) or only their summaries.
    pub feed_full_text: bool,
    /// The publication name in the Google News sitemap (the site name when unset).
    pub news_publication_name: Option<String>,
    /// Hosts webhooks may reach although they resolve to private or local
    /// addresses (an internal bot, a test receiver): the admin's explicit choice.
    pub webhook_allowed_hosts: Vec<String>,
}

fn follow_key(network: &str) -> String {
    format!("follow.{network}")
}

impl Store {
    pub async fn settings_map(&self) -> Result<std::collections::HashMap<String, String>, StoreError> {
        let rows: Vec<(String, String)> =
            with_pool!(self, pool => sqlx::query_as("SELECT key, value FROM site_settings").fetch_all(pool).await)?;
        Ok(rows.into_iter().collect())
    }

    /// Writes all given settings at once; an empty value removes the key.
    pub async fn save_settings(&self, values: &[(String, String)]) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            for (key, value) in values {
                if value.is_empty() {
                    sqlx::query("DELETE FROM site_settings WHERE key = $1").bind(key).execute(&mut *tx).await?;
                } else {
                    sqlx::query(
                        "INSERT INTO site_settings (key, value) VALUES ($1, $2) \
                         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    )
                    .bind(key)
                    .bind(value)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            tx.commit().await
        })?;
        Ok(())
    }

    pub async fn site_settings(&self) -> Result<SiteSettings, StoreError> {
        let map = self.settings_map().await?;
        let text = |key: &str| map.get(key).map(|value| value.trim().to_owned()).filter(|value| !value.is_empty());
        Ok(SiteSettings {
            site_name: text("site_name"),
            site_description: text("site_description"),
            authors_may_publish: text("authors_may_publish").is_some_and(|value| value == "true"),
            require_two_factor: text("require_two_factor").is_some_and(|value| value == "true"),
            logo: text("logo"),
            timezone: text("timezone"),
            digits: text("digits"),
            base_url: text("base_url"),
            comments_mode: text("comments_mode"),
            comments_off: text("comments_off").is_some_and(|value| value == "true"),
            comments_close_after_days: text("comments_close_after_days")
                .and_then(|value| value.parse().ok())
                .filter(|days: &i64| *days > 0),
            comment_banned_words: text("comment_banned_words")
                .map(|words| {
                    words
                        .split(['\n', ',', '،'])
                        .map(str::trim)
                        .filter(|word| !word.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
            search_recency: text("search_recency")
                .and_then(|value| value.parse::<f32>().ok())
                .filter(|weight| (0.0..=5.0).contains(weight)),
            feed_full_text: text("feed_full_text").is_none_or(|value| value != "false"),
            news_publication_name: text("news_publication_name"),
            webhook_allowed_hosts: text("webhook_allowed_hosts")
                .map(|hosts| {
                    hosts
                        .split(['\n', ',', ' '])
                        .map(|host| host.trim().trim_matches(['[', ']']).to_ascii_lowercase())
                        .filter(|host| !host.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            follow: NETWORKS
                .iter()
                .filter_map(|network| {
                    text(&follow_key(network.key)).map(|url| FollowLink {
                        network: network.key,
                        label: network.label,
                        url,
                    })
                })
                .collect(),
        })
    }
}

/// Only absolute https links (or http, for sites that still use it) are accepted.
pub fn is_acceptable_link(url: &str) -> bool {
    let url = url.trim();
    (url.starts_with("https://") || url.starts_with("http://"))
        && url.len() <= 500
        && !url.contains(|character: char| character.is_whitespace() || character == '"' || character == '<')
        && url.split("://").nth(1).is_some_and(|rest| rest.split('/').next().is_some_and(|host| host.contains('.')))
}

#[cfg(test)]
mod tests {
    use super::is_acceptable_link;

    #[test]
    fn follow_links_must_be_web_addresses() {
        assert!(is_acceptable_link("https://t.me/khabar_news"));
        for bad in ["javascript:alert(1)", "t.me/khabar", "https://", "https://x.com/a b", "https://x.com/\"><script>"]
        {
            assert!(!is_acceptable_link(bad), "{bad}");
        }
    }
}
