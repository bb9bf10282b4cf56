//! Site configuration, read once at start: defaults, then `khabar.toml` in the
//! data folder, then `KHABAR_*` environment variables (one per key).

use std::path::{Path, PathBuf};

use khabar_arabic::DigitStyle;
use serde::{Deserialize, Serialize};

pub const CONFIG_FILE: &str = "khabar.toml";

/// Keys without a default, which the environment may still set.
const OPTIONAL_KEYS: &[&str] = &[
    "theme_dir",
    "cdn_purge_url",
    "cdn_purge_token",
    "database_url",
    "smtp_url",
    "dkim_selector",
    "dkim_domain",
    "dkim_private_key_file",
    "list_unsubscribe_mailto",
];

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("{path} is not valid TOML: {message}")]
    Syntax { path: PathBuf, message: String },
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Shown in the masthead, titles and feeds.
    pub site_name: String,
    pub site_description: String,
    /// Absolute URL the site is reached at; used for canonical links.
    pub base_url: String,
    /// IANA time zone in which dates are shown to readers.
    pub timezone: String,
    /// "latin" or "arabic" (Arabic-Indic) digits in everything shown to readers.
    pub digits: String,
    /// Articles per list page.
    pub page_size: u32,
    /// Memory the rendered-page cache may use, in bytes.
    pub page_cache_bytes: u64,
    /// A folder whose templates and static files override the built-in ones.
    pub theme_dir: Option<PathBuf>,
    /// A `postgres://` URL to keep the site's data in PostgreSQL instead of `khabar.db`.
    pub database_url: Option<String>,
    /// Where mail is sent: `smtp://host:port` (plain, e.g. a local relay), `smtp://user:pass@host:587?tls=required`
    /// (STARTTLS; `?tls=opportunistic` when offered) or `smtps://user:pass@host:465`. Without it, mail is
    /// logged and not sent.
    pub smtp_url: Option<String>,
    /// The sender of every email.
    pub mail_from: String,
    /// DKIM signing: the selector and domain published in DNS, and the private key
    /// (an RSA key in PKCS#1 PEM, or a base64 Ed25519 seed), relative to the data folder.
    pub dkim_selector: Option<String>,
    pub dkim_domain: Option<String>,
    pub dkim_private_key_file: Option<PathBuf>,
    /// "rsa" (every receiver checks it) or "ed25519".
    pub dkim_algorithm: String,
    /// An address that unsubscribes whoever writes to it, offered in List-Unsubscribe beside the link.
    pub list_unsubscribe_mailto: Option<String>,
    /// Local time ("HH:MM", in the site's time zone) of the daily digest; empty for none.
    pub newsletter_digest_time: String,
    /// SMTP connections used at once by a newsletter send.
    pub newsletter_concurrency: u32,
    /// Messages per second at most (0: as fast as the relay accepts).
    pub newsletter_rate: u32,
    /// Permanent delivery failures after which an address is no longer mailed.
    pub newsletter_bounce_limit: u32,
    /// Ask a small arithmetic question (in Arabic words) before accepting a signup.
    pub newsletter_challenge: bool,
    /// Comments accepted per 10 minutes from one email, and from one client
    /// address (an office or a mobile carrier shares one: keep it higher).
    pub comments_per_email: u32,
    pub comments_per_address: u32,
    /// A comment sent sooner than this after its form was opened is held for
    /// review (people take longer than scripts to write).
    pub comments_min_seconds: u32,
    /// Readers' reports that send an approved comment back to the queue.
    pub comment_reports_to_queue: u32,
    /// Editors get an email listing new pending comments at most this often (0: never).
    pub comments_digest_hours: u32,
    /// Seconds before a failed webhook delivery is tried again; each further
    /// failure doubles it (up to six hours) until `webhook_attempts` are spent.
    pub webhook_retry_seconds: u32,
    pub webhook_attempts: u32,
    /// How long a webhook receiver may take to answer, in seconds.
    pub webhook_timeout_seconds: u32,
    /// How long shared caches (a CDN, Varnish) may keep a page (`s-maxage`; 0: they may not).
    pub shared_cache_seconds: u32,
    /// A CDN's purge-by-tag endpoint, called on every invalidation; and its bearer token.
    pub cdn_purge_url: Option<String>,
    pub cdn_purge_token: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            site_name: "خبر".to_owned(),
            site_description: "أخبار محلية وعربية ودولية على مدار الساعة".to_owned(),
            base_url: "http://127.0.0.1:8080".to_owned(),
            timezone: "Asia/Damascus".to_owned(),
            digits: "latin".to_owned(),
            page_size: 12,
            page_cache_bytes: 128 * 1024 * 1024,
            theme_dir: None,
            database_url: None,
            smtp_url: None,
            mail_from: "خبر <newsroom@localhost>".to_owned(),
            dkim_selector: None,
            dkim_domain: None,
            dkim_private_key_file: None,
            dkim_algorithm: "rsa".to_owned(),
            list_unsubscribe_mailto: None,
            newsletter_digest_time: "07:00".to_owned(),
            newsletter_concurrency: 8,
            newsletter_rate: 0,
            newsletter_bounce_limit: 3,
            newsletter_challenge: false,
            comments_per_email: 5,
            comments_per_address: 20,
            comments_min_seconds: 3,
            comment_reports_to_queue: 3,
            comments_digest_hours: 6,
            webhook_retry_seconds: 30,
            webhook_attempts: 15,
            webhook_timeout_seconds: 10,
            shared_cache_seconds: 30,
            cdn_purge_url: None,
            cdn_purge_token: None,
        }
    }
}

impl Config {
    /// Reads `DIR/khabar.toml` when present, then applies the environment.
    pub fn load(data_dir: &Path) -> Result<Self, ConfigError> {
        Self::load_with_env(data_dir, std::env::vars())
    }

    pub fn load_with_env(
        data_dir: &Path,
        environment: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let path = data_dir.join(CONFIG_FILE);
        let mut table = match std::fs::read_to_string(&path) {
            Ok(text) => text
                .parse::<toml::Table>()
                .map_err(|error| ConfigError::Syntax { path: path.clone(), message: error.message().to_owned() })?,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => toml::Table::new(),
            Err(source) => return Err(ConfigError::Read { path, source }),
        };
        let known_keys = default_table();
        for (name, value) in environment {
            let Some(key) = name.strip_prefix("KHABAR_") else {
                continue;
            };
            let key = key.to_ascii_lowercase();
            // Only keys the file could hold: other KHABAR_ variables belong to other concerns.
            let is_known = known_keys.contains_key(&key) || OPTIONAL_KEYS.contains(&key.as_str());
            if !is_known {
                continue;
            }
            let typed = match known_keys.get(&key) {
                Some(toml::Value::Integer(_)) => value
                    .trim()
                    .parse::<i64>()
                    .map(toml::Value::Integer)
                    .map_err(|_| ConfigError::Invalid(format!("{name} must be a whole number, got '{value}'")))?,
                Some(toml::Value::Boolean(_)) => match value.trim() {
                    "true" | "1" | "yes" => toml::Value::Boolean(true),
                    "false" | "0" | "no" => toml::Value::Boolean(false),
                    _ => return Err(ConfigError::Invalid(format!("{name} must be true or false, got '{value}'"))),
                },
                _ => toml::Value::String(value),
            };
            table.insert(key, typed);
        }
        let config: Config = table
            .try_into()
            .map_err(|error: toml::de::Error| ConfigError::Syntax { path, message: error.message().to_owned() })?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        self.time_zone()?;
        self.digit_style()?;
        if self.page_size == 0 || self.page_size > 100 {
            return Err(ConfigError::Invalid("page_size must be between 1 and 100".to_owned()));
        }
        if !self.newsletter_digest_time.is_empty() && self.digest_time().is_none() {
            return Err(ConfigError::Invalid(format!(
                "newsletter_digest_time must be HH:MM (24-hour) or empty, got '{}'",
                self.newsletter_digest_time
            )));
        }
        if self.newsletter_concurrency == 0 || self.newsletter_concurrency > 256 {
            return Err(ConfigError::Invalid("newsletter_concurrency must be between 1 and 256".to_owned()));
        }
        if self.comments_per_email == 0 || self.comments_per_address == 0 {
            return Err(ConfigError::Invalid(
                "comments_per_email and comments_per_address must be at least 1".to_owned(),
            ));
        }
        if self.webhook_retry_seconds == 0 || self.webhook_attempts == 0 || self.webhook_timeout_seconds == 0 {
            return Err(ConfigError::Invalid(
                "webhook_retry_seconds, webhook_attempts and webhook_timeout_seconds must be at least 1".to_owned(),
            ));
        }
        if self.comment_reports_to_queue == 0 {
            return Err(ConfigError::Invalid("comment_reports_to_queue must be at least 1".to_owned()));
        }
        if self.newsletter_bounce_limit == 0 {
            return Err(ConfigError::Invalid("newsletter_bounce_limit must be at least 1".to_owned()));
        }
        if self.dkim_algorithm != "rsa" && self.dkim_algorithm != "ed25519" {
            return Err(ConfigError::Invalid(format!(
                "dkim_algorithm must be 'rsa' or 'ed25519', got '{}'",
                self.dkim_algorithm
            )));
        }
        let dkim_parts =
            [self.dkim_selector.is_some(), self.dkim_domain.is_some(), self.dkim_private_key_file.is_some()];
        if dkim_parts.iter().any(|set| *set) && !dkim_parts.iter().all(|set| *set) {
            return Err(ConfigError::Invalid(
                "DKIM needs all three of dkim_selector, dkim_domain and dkim_private_key_file".to_owned(),
            ));
        }
        if !(self.base_url.starts_with("http://") || self.base_url.starts_with("https://")) {
            return Err(ConfigError::Invalid(format!(
                "base_url must start with http:// or https://, got '{}'",
                self.base_url
            )));
        }
        Ok(())
    }

    pub fn time_zone(&self) -> Result<jiff::tz::TimeZone, ConfigError> {
        jiff::tz::TimeZone::get(&self.timezone)
            .map_err(|_| ConfigError::Invalid(format!("unknown time zone '{}' (key timezone)", self.timezone)))
    }

    pub fn digit_style(&self) -> Result<DigitStyle, ConfigError> {
        self.digits
            .parse::<DigitStyle>()
            .map_err(|_| ConfigError::Invalid(format!("digits must be 'latin' or 'arabic', got '{}'", self.digits)))
    }

    /// The daily digest's local hour and minute, when there is one.
    pub fn digest_time(&self) -> Option<(i8, i8)> {
        let (hour, minute) = self.newsletter_digest_time.trim().split_once(':')?;
        let hour: i8 = hour.parse().ok()?;
        let minute: i8 = minute.parse().ok()?;
        ((0..24).contains(&hour) && (0..60).contains(&minute)).then_some((hour, minute))
    }

    /// The base URL without a trailing slash, ready to prefix paths.
    pub fn base(&self) -> &str {
        self.base_url.trim_end_matches('/')
    }

    /// Writes a starting `khabar.toml` for a new site.
    pub fn write_new(&self, data_dir: &Path) -> Result<(), ConfigError> {
        let path = data_dir.join(CONFIG_FILE);
        let text = format!(
            "# khabar site configuration. Any key can be overridden by KHABAR_<KEY> in the environment.\n{}",
            toml::to_string_pretty(self).map_err(|error| ConfigError::Invalid(error.to_string()))?
        );
        std::fs::write(&path, text).map_err(|source| ConfigError::Write { path, source })
    }
}

fn default_table() -> toml::Table {
    toml::Table::try_from(Config::default()).unwrap_or_default()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn environment_overrides_file_and_ignores_foreign_variables() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(CONFIG_FILE), "site_name = \"من الملف\"\npage_size = 5\n").unwrap();
        let config = Config::load_with_env(
            dir.path(),
            [
                ("KHABAR_PAGE_SIZE".to_owned(), "7".to_owned()),
                ("KHABAR_DIGITS".to_owned(), "arabic".to_owned()),
                ("KHABAR_PASSWORD".to_owned(), "not a config key".to_owned()),
            ],
        )
        .unwrap();
        assert_eq!(config.site_name, "من الملف");
        assert_eq!(config.page_size, 7);
        assert_eq!(config.digit_style().unwrap(), DigitStyle::Arabic);
    }

    #[test]
    fn bad_values_are_reported_precisely() {
        let dir = tempfile::tempdir().unwrap();
        let error =
            Config::load_with_env(dir.path(), [("KHABAR_TIMEZONE".to_owned(), "Mars/Olympus".to_owned())]).unwrap_err();
        assert!(error.to_string().contains("Mars/Olympus"), "{error}");
        let error =
            Config::load_with_env(dir.path(), [("KHABAR_PAGE_SIZE".to_owned(), "many".to_owned())]).unwrap_err();
        assert!(error.to_string().contains("KHABAR_PAGE_SIZE"), "{error}");
        std::fs::write(dir.path().join(CONFIG_FILE), "site_nam = 1\n").unwrap();
        let error = Config::load_with_env(dir.path(), []).unwrap_err();
        assert!(error.to_string().contains("site_nam"), "{error}");
    }
}
