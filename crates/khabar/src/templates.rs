//! Page templates: built into the binary, each replaceable by a file of the
//! same name in `THEME/templates/`. Loaded and compiled once at start.

use std::path::Path;
use std::sync::Arc;

use minijinja::{AutoEscape, Environment, Output, State, Value};
use serde::Serialize;

use crate::app::AppState;
use crate::assets::StaticAssets;

const BUILT_IN: &[(&str, &str)] = &[
    ("base.html", include_str!("../templates/base.html")),
    ("macros.html", include_str!("../templates/macros.html")),
    ("home.html", include_str!("../templates/home.html")),
    ("article.html", include_str!("../templates/article.html")),
    ("comments.html", include_str!("../templates/comments.html")),
    ("comment_reply.html", include_str!("../templates/comment_reply.html")),
    ("comments_page.html", include_str!("../templates/comments_page.html")),
    ("search.html", include_str!("../templates/search.html")),
    ("admin/search.html", include_str!("../templates/admin/search.html")),
    ("admin/webhooks.html", include_str!("../templates/admin/webhooks.html")),
    ("comment_own.html", include_str!("../templates/comment_own.html")),
    ("comment_report.html", include_str!("../templates/comment_report.html")),
    ("comment_unsubscribe.html", include_str!("../templates/comment_unsubscribe.html")),
    ("admin/comments.html", include_str!("../templates/admin/comments.html")),
    ("admin/comment_edit.html", include_str!("../templates/admin/comment_edit.html")),
    ("list.html", include_str!("../templates/list.html")),
    ("page.html", include_str!("../templates/page.html")),
    ("admin/pages.html", include_str!("../templates/admin/pages.html")),
    ("admin/page_form.html", include_str!("../templates/admin/page_form.html")),
    ("admin/redirects.html", include_str!("../templates/admin/redirects.html")),
    ("error.html", include_str!("../templates/error.html")),
    ("admin/base.html", include_str!("../templates/admin/base.html")),
    ("admin/macros.html", include_str!("../templates/admin/macros.html")),
    ("admin/head.html", include_str!("../templates/admin/head.html")),
    ("admin/bare.html", include_str!("../templates/admin/bare.html")),
    ("admin/login.html", include_str!("../templates/admin/login.html")),
    ("admin/dashboard.html", include_str!("../templates/admin/dashboard.html")),
    ("admin/activity.html", include_str!("../templates/admin/activity.html")),
    ("admin/articles.html", include_str!("../templates/admin/articles.html")),
    ("admin/editor.html", include_str!("../templates/admin/editor.html")),
    ("admin/revisions.html", include_str!("../templates/admin/revisions.html")),
    ("admin/staff.html", include_str!("../templates/admin/staff.html")),
    ("admin/settings.html", include_str!("../templates/admin/settings.html")),
    ("admin/taxonomy.html", include_str!("../templates/admin/taxonomy.html")),
    ("admin/media.html", include_str!("../templates/admin/media.html")),
    ("admin/account.html", include_str!("../templates/admin/account.html")),
    ("admin/code.html", include_str!("../templates/admin/code.html")),
    ("admin/forgot.html", include_str!("../templates/admin/forgot.html")),
    ("email/comment_reply.subject", include_str!("../templates/email/comment_reply.subject")),
    ("email/comment_reply.txt", include_str!("../templates/email/comment_reply.txt")),
    ("email/comment_reply.html", include_str!("../templates/email/comment_reply.html")),
    ("email/comments_digest.subject", include_str!("../templates/email/comments_digest.subject")),
    ("email/comments_digest.txt", include_str!("../templates/email/comments_digest.txt")),
    ("email/comments_digest.html", include_str!("../templates/email/comments_digest.html")),
    ("email/password_reset.subject", include_str!("../templates/email/password_reset.subject")),
    ("email/password_reset.txt", include_str!("../templates/email/password_reset.txt")),
    ("email/password_reset.html", include_str!("../templates/email/password_reset.html")),
    ("follow_icons.html", include_str!("../templates/follow_icons.html")),
    ("newsletter.html", include_str!("../templates/newsletter.html")),
    ("poll_box.html", include_str!("../templates/poll_box.html")),
    ("admin/polls.html", include_str!("../templates/admin/polls.html")),
    ("admin/poll.html", include_str!("../templates/admin/poll.html")),
    ("admin/poll_form.html", include_str!("../templates/admin/poll_form.html")),
    ("poll.html", include_str!("../templates/poll.html")),
    ("polls.html", include_str!("../templates/polls.html")),
    ("admin/newsletter.html", include_str!("../templates/admin/newsletter.html")),
    ("admin/newsletter_import.html", include_str!("../templates/admin/newsletter_import.html")),
    ("admin/newsletter_sends.html", include_str!("../templates/admin/newsletter_sends.html")),
    ("admin/newsletter_send.html", include_str!("../templates/admin/newsletter_send.html")),
    ("email/newsletter_confirm.subject", include_str!("../templates/email/newsletter_confirm.subject")),
    ("email/newsletter_confirm.txt", include_str!("../templates/email/newsletter_confirm.txt")),
    ("email/newsletter_confirm.html", include_str!("../templates/email/newsletter_confirm.html")),
    ("email/newsletter_already.subject", include_str!("../templates/email/newsletter_already.subject")),
    ("email/newsletter_already.txt", include_str!("../templates/email/newsletter_already.txt")),
    ("email/newsletter_already.html", include_str!("../templates/email/newsletter_already.html")),
    ("email/newsletter_digest.subject", include_str!("../templates/email/newsletter_digest.subject")),
    ("email/newsletter_digest.txt", include_str!("../templates/email/newsletter_digest.txt")),
    ("email/newsletter_digest.html", include_str!("../templates/email/newsletter_digest.html")),
    ("email/newsletter_alert.subject", include_str!("../templates/email/newsletter_alert.subject")),
    ("email/newsletter_alert.txt", include_str!("../templates/email/newsletter_alert.txt")),
    ("email/newsletter_alert.html", include_str!("../templates/email/newsletter_alert.html")),
];

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("cannot read theme template {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("template {name} does not compile: {source}")]
    Compile { name: String, source: minijinja::Error },
}

pub struct Templates {
    environment: Environment<'static>,
}

impl Templates {
    pub fn load(
        theme_dir: Option<&Path>,
        assets: Arc<StaticAssets>,
        sidebar_poll: Arc<std::sync::RwLock<Option<Value>>>,
    ) -> Result<Self, TemplateError> {
        let mut environment = Environment::new();
        for (name, built_in) in BUILT_IN {
            let source = match theme_dir.map(|dir| dir.join("templates").join(name)) {
                Some(path) if path.is_file() => std::fs::read_to_string(&path)
                    .map_err(|source| TemplateError::Read { path: path.display().to_string(), source })?,
                _ => (*built_in).to_owned(),
            };
            environment
                .add_template_owned(*name, source)
                .map_err(|source| TemplateError::Compile { name: (*name).to_owned(), source })?;
        }
        environment.set_formatter(escape_html_minimally);
        environment.add_function("asset", move |name: &str| assets.url(name));
        // The sidebar poll lives in memory (refreshed when polls change), so
        // every page can show it without a query of its own.
        environment.add_function("sidebar_poll", move || {
            sidebar_poll.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone().unwrap_or(Value::from(()))
        });
        environment.add_filter("urlencode_path", |segment: &str| crate::web::encode_path_segment(segment));
        Ok(Templates { environment })
    }

    pub fn render<S: Serialize>(&self, name: &str, context: S) -> Result<String, minijinja::Error> {
        self.environment.get_template(name)?.render(context)
    }

    /// Error pages must render even when the database is down, so they use
    /// only what is in memory; a broken theme falls back to plain text.
    pub fn render_error(
        &self,
        state: &AppState,
        status: u16,
        title: &str,
        explanation: &str,
        reference: Option<&str>,
    ) -> String {
        let context = minijinja::context! {
            site => state.site_view(),
            status => state.locale().number(i64::from(status)),
            title => title,
            explanation => explanation,
            reference => reference,
            sections => Value::from(Vec::<Value>::new()),
            current_section => "none",
        };
        self.render("error.html", context).unwrap_or_else(|_| {
            format!("<!doctype html><html lang=\"ar\" dir=\"rtl\"><title>{title}</title><p>{explanation}</p></html>")
        })
    }
}

/// Escapes the five characters HTML needs, in text and in quoted attributes;
/// also for text placed into already rendered HTML (newsletter slots).
/// Structured data for a `<script type="application/ld+json">`, written once
/// in Rust rather than turned into template values and back by `tojson`
/// (3% of an article's render). The characters that could end the script
/// or start markup are JSON escapes, as `tojson` writes them; they can only
/// occur inside JSON strings, where the escape means the same character.
pub fn json_in_script(value: &serde_json::Value) -> minijinja::Value {
    let json = value.to_string();
    let mut safe = String::with_capacity(json.len() + 16);
    let mut copied = 0;
    for (at, character) in json.char_indices() {
        let escape = match character {
            '<' => "\\u003c",
            '>' => "\\u003e",
            '&' => "\\u0026",
            '\'' => "\\u0027",
            _ => continue,
        };
        safe.push_str(&json[copied..at]);
        safe.push_str(escape);
        copied = at + 1;
    }
    safe.push_str(&json[copied..]);
    minijinja::Value::from_safe_string(safe)
}

pub fn escape_html(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    // Writing to a String cannot fail.
    let _ = write_escaped(&mut escaped, text);
    escaped
}

/// Copies the text between the characters that need escaping in whole runs:
/// Arabic text is almost all runs, and going character by character decoded
/// and re-encoded every letter (5% of an uncached article render).
fn write_escaped(output: &mut impl std::fmt::Write, text: &str) -> std::fmt::Result {
    let mut run_start = 0;
    for (index, byte) in text.bytes().enumerate() {
        let replacement = match byte {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            _ => continue,
        };
        // ASCII bytes always sit on character boundaries in UTF-8.
        output.write_str(text.get(run_start..index).unwrap_or_default())?;
        output.write_str(replacement)?;
        run_start = index + 1;
    }
    output.write_str(text.get(run_start..).unwrap_or_default())
}

/// minijinja's HTML escaping also escapes `/`, which bloats every URL in a
/// page; escaping the five characters HTML needs is as safe in text and in
/// quoted attributes, and keeps pages smaller.
fn escape_html_minimally(output: &mut Output, state: &State, value: &Value) -> Result<(), minijinja::Error> {
    match (state.auto_escape(), value.as_str()) {
        (AutoEscape::Html, Some(text)) if !value.is_safe() => write_escaped(output, text)
            .map_err(|error| minijinja::Error::new(minijinja::ErrorKind::WriteFailure, error.to_string())),
        _ => minijinja::escape_formatter(output, state, value),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::{escape_html, json_in_script};

    #[test]
    fn json_for_a_script_cannot_close_it_and_reads_back_the_same() {
        let value = serde_json::json!({"headline": "</script><b>'سارة' & ليلى</b>", "n": 1});
        let written = json_in_script(&value);
        let text = written.as_str().unwrap();
        for forbidden in ["<", ">", "&", "'"] {
            assert!(!text.contains(forbidden), "{forbidden} in {text}");
        }
        assert_eq!(serde_json::from_str::<serde_json::Value>(text).unwrap(), value);
        assert!(written.is_safe(), "printed as it is, not escaped for HTML again");
        let mut environment = minijinja::Environment::new();
        environment.add_template("item.html", "{{ item }}").unwrap();
        let page = environment
            .get_template("item.html")
            .unwrap()
            .render(minijinja::context! { item => written.clone() })
            .unwrap();
        assert_eq!(page, text);
    }

    #[test]
    fn escaping_keeps_arabic_runs_and_replaces_the_five_characters() {
        assert_eq!(escape_html("خبر عاجل"), "خبر عاجل");
        assert_eq!(escape_html("<b>\"سارة\" & 'ليلى'</b>"), "&lt;b&gt;&quot;سارة&quot; &amp; &#39;ليلى&#39;&lt;/b&gt;");
        assert_eq!(escape_html("&"), "&amp;");
        assert_eq!(escape_html("نص/مع/شرطات"), "نص/مع/شرطات");
        assert_eq!(escape_html(""), "");
    }
}
