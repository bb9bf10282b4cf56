//! Comments over HTTP: posting with and without JavaScript, replies, the
//! moderation modes, the moderation API, bans, rate limits, links and
//! banned words, closed comments, and what the article page shows.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Backend, TestApp};
use reqwest::header;
use serde_json::Value;

const JSON: &str = "application/json";

async fn set(app: &TestApp, values: &[(&str, &str)]) {
    let values: Vec<(String, String)> =
        values.iter().map(|(key, value)| (key.to_string(), value.to_string())).collect();
    app.store().save_settings(&values).await.unwrap();
    app.state.reload_settings().await.unwrap();
}

fn form_token(app: &TestApp, article: i64) -> String {
    app.state.comments.form_token(article)
}

/// The ticket the page script fetches, as if the reader began writing a while ago.
fn unhurried_ticket(app: &TestApp, article: i64) -> String {
    app.state.comments.ticket(article, khabar::store::now_seconds() - 30)
}

/// A comment as the page's form sends it (with its script's ticket), answered in JSON.
async fn post(app: &TestApp, article: i64, fields: &[(&str, &str)]) -> reqwest::Response {
    let csrf = form_token(app, article);
    let ticket = unhurried_ticket(app, article);
    let mut form: Vec<(&str, &str)> = vec![("csrf", csrf.as_str()), ("ticket", ticket.as_str())];
    form.extend_from_slice(fields);
    app.client
        .post(app.url(&format!("/news/{article}/comments")))
        .header(header::ACCEPT, JSON)
        .form(&form)
        .send()
        .await
        .unwrap()
}

async fn comment(app: &TestApp, article: i64, name: &str, email: &str, body: &str) -> (u16, Value) {
    let response = post(app, article, &[("name", name), ("email", email), ("body", body)]).await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

async fn moderate(app: &TestApp, token: &str, id: i64, action: &str) -> reqwest::Response {
    app.client.post(app.url(&format!("/api/admin/comments/{id}/{action}"))).bearer_auth(token).send().await.unwrap()
}

/// The moderation queue, as a moderation script reads it.
async fn pending(app: &TestApp, token: &str) -> Value {
    let response = app.client.get(app.url("/api/admin/comments?status=pending")).bearer_auth(token).send().await;
    response.unwrap().json().await.unwrap()
}

async fn public_comments(app: &TestApp, article: i64) -> Value {
    app.get(&format!("/api/content/articles/{article}/comments")).await.json().await.unwrap()
}

async fn article_page(app: &TestApp, article: i64) -> String {
    let response = app.get(&format!("/news/{article}")).await;
    let location = response.headers()[header::LOCATION].to_str().unwrap().to_owned();
    app.get(&location).await.text().await.unwrap()
}

async fn moderation_flow(backend: Backend) {
    let Some(app) = TestApp::builder().backend(backend).demo().start().await else { return };
    let token = app.token().await;

    // First comment of an email waits (the default mode); the page does not show it.
    let (status, first) = comment(&app, 1, "سلمى", "salma@example.com", "خبر **مهم**، شكرًا.").await;
    assert_eq!((status, first["status"].as_str()), (202, Some("pending")), "{first}");
    let first_id = first["id"].as_i64().unwrap();
    assert!(first["html"].as_str().unwrap().contains("<strong>مهم</strong>"));
    assert_eq!(public_comments(&app, 1).await["count"], 0);
    assert!(!article_page(&app, 1).await.contains("خبر <strong>مهم</strong>"));

    // The queue has it; approving puts it on the (cached) article page at once.
    let queue = pending(&app, &token).await;
    assert!(queue["comments"].as_array().unwrap().iter().any(|item| item["id"] == first_id), "{queue}");
    assert_eq!(queue["comments"][0]["held_for"], "first_comment");
    assert!(!queue.to_string().contains("salma@example.com"), "emails are never exposed");
    assert_eq!(moderate(&app, &token, first_id, "approve").await.status(), 200);
    let page = article_page(&app, 1).await;
    assert!(page.contains(&format!("id=\"comment-{first_id}\"")) && page.contains("<strong>مهم</strong>"));
    assert!(page.contains("تعليق واحد"), "count with its Arabic plural");
    assert!(!page.contains("salma@example.com"));

    // Trusted after the first: the next one (same email, any case) appears at once.
    let (status, second) = comment(&app, 1, "سلمى", "Salma@Example.com", "وأضيف ملاحظة أخرى.").await;
    assert_eq!((status, second["status"].as_str()), (201, Some("approved")), "{second}");

    // A reply to an approved comment; replies to replies are refused.
    let parent = first_id.to_string();
    let response =
        post(&app, 1, &[("name", "مازن"), ("email", "mazen@example.com"), ("body", "أوافقك"), ("parent", &parent)])
            .await;
    assert_eq!(response.status(), 202);
    let reply: Value = response.json().await.unwrap();
    let reply_id = reply["id"].as_i64().unwrap();
    moderate(&app, &token, reply_id, "approve").await;
    let thread = public_comments(&app, 1).await;
    assert_eq!(thread["count"], 3);
    assert_eq!(thread["comments"][0]["replies"][0]["id"], reply_id, "{thread}");
    let nested =
        post(&app, 1, &[("name", "س"), ("email", "s@example.com"), ("body", "رد"), ("parent", &reply_id.to_string())])
            .await;
    assert_eq!(nested.status(), 422);
    let elsewhere =
        post(&app, 2, &[("name", "س"), ("email", "s@example.com"), ("body", "رد"), ("parent", &first_id.to_string())])
            .await;
    assert_eq!(elsewhere.status(), 422, "a parent under another article");

    // Moderated mode holds even trusted readers; open mode lets a newcomer through.
    set(&app, &[("comments_mode", "moderated")]).await;
    let (_, held) = comment(&app, 1, "سلمى", "salma@example.com", "تعليق ثالث").await;
    assert_eq!(held["status"], "pending");
    set(&app, &[("comments_mode", "open")]).await;
    let (_, open) = comment(&app, 1, "جديد", "new@example.com", "أول مرة أعلّق").await;
    assert_eq!(open["status"], "approved");

    // Two links, or a banned word in any spelling, wait even in open mode.
    let (_, links) =
        comment(&app, 1, "روابط", "links@example.com", "[أ](https://a.example/) و[ب](https://b.example/)").await;
    assert_eq!(links["status"], "pending");
    set(&app, &[("comment_banned_words", "مسيء\nكلمة ممنوعة")]).await;
    for (email, body) in [
        ("w1@example.com", "هذا مُسِيء جدًا"),
        ("w2@example.com", "هذا مسـيء"),
        ("w3@example.com", "والمسيء معروف"),
        ("w4@example.com", "قال كلمةٌ ممنوعة"),
    ] {
        let (_, held) = comment(&app, 1, "قارئ", email, body).await;
        assert_eq!(held["status"], "pending", "{body}");
        let id = held["id"].as_i64().unwrap();
        let queued = app.store().comment(id).await.unwrap().unwrap();
        assert_eq!(queued.held_for, "banned_words", "{body}");
    }
    let (_, fine) = comment(&app, 1, "قارئ", "w5@example.com", "كلمة عادية").await;
    assert_eq!(fine["status"], "approved");

    // Rejecting and deleting take comments off the page.
    moderate(&app, &token, open["id"].as_i64().unwrap(), "reject").await;
    let response = app
        .client
        .delete(app.url(&format!("/api/admin/comments/{first_id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let thread = public_comments(&app, 1).await;
    let shown: Vec<i64> =
        thread["comments"].as_array().unwrap().iter().map(|item| item["id"].as_i64().unwrap()).collect();
    assert!(!shown.contains(&first_id) && !shown.contains(&open["id"].as_i64().unwrap()), "{thread}");
    assert!(!thread.to_string().contains(&format!("\"id\":{reply_id}")), "replies go with their comment");

    // The moderation API needs a token.
    let anonymous = app.client.get(app.url("/api/admin/comments")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    app.stop().await;
}
on_both_backends!(moderation, moderation_flow);

async fn refusals(backend: Backend) {
    let Some(app) = TestApp::builder().backend(backend).demo().start().await else { return };
    let token = app.token().await;
    set(&app, &[("comments_mode", "open")]).await;

    // Bad input: a precise message for scripts, an Arabic page for people.
    for (fields, code) in [
        (vec![("name", ""), ("email", "a@example.com"), ("body", "نص")], 422),
        (vec![("name", "اسم"), ("email", "ليس بريدًا"), ("body", "نص")], 422),
        (vec![("name", "اسم"), ("email", "a@example.com"), ("body", "   ")], 422),
        (vec![("name", "اسم\nسطر"), ("email", "a@example.com"), ("body", "نص")], 422),
    ] {
        let response = post(&app, 1, &fields).await;
        assert_eq!(response.status(), code, "{fields:?}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "validation_failed", "{fields:?}");
    }
    let long_name = "ا".repeat(61);
    assert_eq!(post(&app, 1, &[("name", &long_name), ("email", "a@example.com"), ("body", "نص")]).await.status(), 422);
    let long_body = "ب".repeat(5001);
    assert_eq!(post(&app, 1, &[("name", "اسم"), ("email", "a@example.com"), ("body", &long_body)]).await.status(), 422);
    let people = app
        .client
        .post(app.url("/news/1/comments"))
        .form(&[("csrf", form_token(&app, 1).as_str()), ("name", ""), ("email", "a@example.com"), ("body", "نص")])
        .send()
        .await
        .unwrap();
    assert_eq!(people.status(), 422);
    assert!(people.text().await.unwrap().contains("اكتب اسمك"));

    // Forged and missing tokens, another article's token, other sites, GET.
    let forged = app
        .client
        .post(app.url("/news/1/comments"))
        .header(header::ACCEPT, JSON)
        .form(&[("csrf", form_token(&app, 2).as_str()), ("name", "اسم"), ("email", "a@example.com"), ("body", "نص")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    let cross_site = app
        .client
        .post(app.url("/news/1/comments"))
        .header(header::ORIGIN, "https://elsewhere.example")
        .form(&[("csrf", form_token(&app, 1).as_str()), ("name", "اسم"), ("email", "a@example.com"), ("body", "نص")])
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), 403);
    assert_eq!(app.get("/news/1/comments").await.status(), 303, "page 1 of the thread is the article");
    assert_eq!(app.get("/news/1/comments?page=2").await.status(), 404);
    assert_eq!(app.get("/news/1/comments?page=x").await.status(), 400);
    assert_eq!(post(&app, 999_999, &[("name", "اسم"), ("email", "a@example.com"), ("body", "نص")]).await.status(), 404);

    // The honeypot: answered like a held comment, stored nowhere.
    let trapped =
        post(&app, 1, &[("name", "بوت"), ("email", "bot@example.com"), ("body", "رابط"), ("website", "x")]).await;
    assert_eq!(trapped.status(), 202);
    let queue = pending(&app, &token).await;
    assert_eq!(queue["comments"].as_array().unwrap().len(), 0, "{queue}");

    // A repeat of the same text, then too many comments from one email.
    assert_eq!(comment(&app, 1, "قارئ", "r@example.com", "نص مكرر").await.0, 201);
    assert_eq!(comment(&app, 1, "قارئ", "r@example.com", "نص مكرر").await.0, 409);
    for index in 0..4 {
        assert_eq!(comment(&app, 1, "قارئ", "r@example.com", &format!("تعليق {index}")).await.0, 201);
    }
    let (status, limited) = comment(&app, 1, "قارئ", "r@example.com", "واحد زيادة").await;
    assert_eq!(status, 429, "{limited}");

    // Banning by email refuses that reader from then on, in any letter case.
    let (_, troll) = comment(&app, 2, "مزعج", "troll@example.com", "تعليق مزعج").await;
    let response = moderate(&app, &token, troll["id"].as_i64().unwrap(), "ban-email").await;
    assert_eq!(response.status(), 200);
    assert_eq!(app.store().comment(troll["id"].as_i64().unwrap()).await.unwrap().unwrap().status, "spam");
    assert_eq!(comment(&app, 2, "مزعج", "TROLL@example.com", "مرة أخرى").await.0, 403);

    // Closed per article, or site-wide: the form disappears and posts are refused.
    app.store().set_comments_closed(3, true).await.unwrap();
    app.state.content_changed();
    assert_eq!(comment(&app, 3, "قارئ", "c@example.com", "مغلق؟").await.0, 409);
    let page = article_page(&app, 3).await;
    assert!(page.contains("التعليقات مغلقة") && !page.contains("class=\"comment-form\""));
    set(&app, &[("comments_off", "true")]).await;
    assert_eq!(comment(&app, 4, "قارئ", "c@example.com", "مطفأة؟").await.0, 409);
    app.stop().await;
}
on_both_backends!(refused, refusals);

#[tokio::test]
async fn posting_without_javascript_lands_on_the_writers_own_view() {
    let app = TestApp::builder().demo().start().await.unwrap();
    let response = app
        .client
        .post(app.url("/news/1/comments"))
        .form(&[
            ("csrf", form_token(&app, 1).as_str()),
            ("name", "قارئ بلا سكربت"),
            ("email", "plain@example.com"),
            ("body", "تعليق من نموذج عادي"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let id = app.store().comments_with_status("pending", 1).await.unwrap()[0].id;
    let location = response.headers()[header::LOCATION].to_str().unwrap().to_owned();
    assert_eq!(location, format!("/news/1/comments/{id}"));
    // Without the page script there is no ticket: the comment waits for an editor.
    assert_eq!(app.store().comment(id).await.unwrap().unwrap().held_for, "unverified");
    let key: Vec<String> = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|value| value.to_str().unwrap().split(';').next().unwrap().to_owned())
        .collect();
    assert!(key.iter().any(|cookie| cookie.starts_with(&format!("khabar_comment_{id}="))), "{key:?}");
    let own = app.client.get(app.url(&location)).header(header::COOKIE, key.join("; ")).send().await.unwrap();
    assert_eq!(own.status(), 200);
    assert_eq!(own.headers()[header::CACHE_CONTROL], "no-store");
    let own = own.text().await.unwrap();
    assert!(own.contains("بانتظار مراجعة المحررين") && own.contains("تعليق من نموذج عادي"));
    assert!(own.contains(&format!("action=\"/news/1/comments/{id}/edit\"")));
    assert_eq!(app.get(&location).await.status(), 404, "a waiting comment is its writer's alone");

    // The article page carries the same form for everyone, with a token for this article only.
    let page = article_page(&app, 1).await;
    assert!(page.contains("action=\"/news/1/comments\""));
    assert!(page.contains(&format!("value=\"{}\"", form_token(&app, 1))));
    assert!(page.contains("id=\"comments-held\""));

    // Replying without JavaScript: a page of its own with the parent filled in.
    let token = app.token().await;
    moderate(&app, &token, id, "approve").await;
    let others = app.get(&location).await;
    assert_eq!(others.status(), 303, "once approved, others are sent to it under the article");
    let reply = app.get(&format!("/news/1/comments/{id}/reply")).await;
    assert_eq!(reply.status(), 200);
    let reply = reply.text().await.unwrap();
    assert!(reply.contains(&format!("name=\"parent\" value=\"{id}\"")) && reply.contains("تعليق من نموذج عادي"));
    assert!(!reply.contains("name=\"ticket\" value=\"\""), "the uncached reply page carries its own ticket");
    assert_eq!(app.get(&format!("/news/2/comments/{id}/reply")).await.status(), 404);
    app.stop().await;
}

/// Every tag in reader HTML is on the allowlist, with allowed attributes
/// and link schemes only. Text `<` is escaped by the sanitizer, so each
/// literal `<` opens a tag.
fn assert_only_allowed_markup(html: &str, label: &str) {
    const TAGS: [&str; 9] = ["p", "br", "strong", "em", "a", "blockquote", "ul", "ol", "li"];
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        let end =
            rest[start..].find('>').map(|end| start + end).unwrap_or_else(|| panic!("{label}: unclosed tag in {html}"));
        let tag = &rest[start + 1..end];
        let tag = tag.strip_prefix('/').unwrap_or(tag);
        let name: String = tag.chars().take_while(|character| character.is_ascii_alphanumeric()).collect();
        assert!(TAGS.contains(&name.as_str()), "{label}: <{name}> in {html}");
        let attributes = tag[name.len()..].trim();
        if !attributes.is_empty() {
            assert_eq!(name, "a", "{label}: attributes on <{name}> in {html}");
            // A link whose address was refused keeps its text and rel, without href.
            let rel = match attributes.strip_prefix("href=\"") {
                Some(href) => {
                    let (url, after) = href.split_once('"').unwrap();
                    assert!(
                        url.starts_with("http://") || url.starts_with("https://") || url.starts_with("mailto:"),
                        "{label}: href {url}"
                    );
                    after.trim()
                }
                None => attributes,
            };
            assert_eq!(rel, "rel=\"nofollow ugc noopener\"", "{label}: {attributes}");
        }
        rest = &rest[end + 1..];
    }
}

/// Elements on a page by name, after checking that no element anywhere
/// carries an event handler or a script address (the site's own pages have
/// none: the CSP forbids inline script). Text `<` is escaped, so every
/// literal `<` opens a tag.
fn tag_census(page: &str) -> std::collections::BTreeMap<String, usize> {
    let mut census = std::collections::BTreeMap::new();
    let mut rest = page;
    while let Some(start) = rest.find('<') {
        let end = start + rest[start..].find('>').unwrap_or(rest.len() - start);
        let tag = &rest[start + 1..end];
        if !tag.starts_with('/') && !tag.starts_with('!') {
            let name: String = tag.chars().take_while(|character| character.is_ascii_alphanumeric()).collect();
            let lower = tag.to_ascii_lowercase();
            let handler = lower.split_whitespace().skip(1).any(|attribute| attribute.starts_with("on"));
            assert!(!handler, "an event handler on the page: <{tag}>");
            assert!(!lower.contains("javascript:") && !lower.contains("vbscript:"), "a script address: <{tag}>");
            *census.entry(name.to_ascii_lowercase()).or_insert(0) += 1;
        }
        rest = &rest[end.min(rest.len() - 1) + 1..];
    }
    census
}

/// The hostile corpus (e2e/fixtures/comment-xss.json) through the real form:
/// nothing is refused with a 5xx, and whatever is stored and shown carries
/// only allowlisted markup; the article page gains no script, frame or
/// handler, and every name shows as text.
#[tokio::test]
async fn hostile_comments_are_stored_harmless() {
    let corpus: Vec<Value> = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../e2e/fixtures/comment-xss.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert!(corpus.len() >= 50);
    let app = TestApp::builder()
        .demo()
        .config("comments_per_email", "1000")
        .config("comments_per_address", "1000")
        .start()
        .await
        .unwrap();
    set(&app, &[("comments_mode", "open")]).await;
    let before = tag_census(&article_page(&app, 1).await);

    let token = app.token().await;
    for (index, entry) in corpus.iter().enumerate() {
        let id = entry["id"].as_str().unwrap();
        let email = format!("xss{index}@example.com");
        let response = post(
            &app,
            1,
            &[("name", entry["name"].as_str().unwrap()), ("email", &email), ("body", entry["body"].as_str().unwrap())],
        )
        .await;
        let status = response.status().as_u16();
        assert!([201, 202, 409, 422].contains(&status), "{id}: HTTP {status}");
        if status == 201 || status == 202 {
            let posted: Value = response.json().await.unwrap();
            assert_only_allowed_markup(posted["html"].as_str().unwrap(), id);
            // Held ones (two links) are approved too, so the page shows them all.
            if status == 202 {
                moderate(&app, &token, posted["id"].as_i64().unwrap(), "approve").await;
            }
        }
    }
    let thread = public_comments(&app, 1).await;
    assert!(thread["count"].as_u64().unwrap() >= 50, "{}", thread["count"]);
    for comment in thread["comments"].as_array().unwrap() {
        assert_only_allowed_markup(comment["html"].as_str().unwrap(), &comment["id"].to_string());
    }
    let after = article_page(&app, 1).await;
    // More than one page of comments adds the thread's pager: the page's own markup.
    let pager_start = after.find("<nav class=\"comments-pager\"").unwrap();
    let pager_end = pager_start + after[pager_start..].find("</nav>").unwrap() + "</nav>".len();
    let census = tag_census(&format!("{}{}", &after[..pager_start], &after[pager_end..]));
    // Comments may add their own few kinds of element, and nothing else.
    const COMMENT_TAGS: [&str; 16] = [
        "small",
        "p",
        "br",
        "strong",
        "em",
        "a",
        "blockquote",
        "ul",
        "ol",
        "li",
        "article",
        "header",
        "bdi",
        "time",
        "div",
        "section",
    ];
    for (name, count) in &census {
        if !COMMENT_TAGS.contains(&name.as_str()) {
            assert_eq!(Some(count), before.get(name), "<{name}> elements on the article page");
        }
    }
    // Names are text inside <bdi>: never markup of their own.
    let mut names = after.as_str();
    while let Some(start) = names.find("<bdi class=\"comment-name\">") {
        let rest = &names[start + "<bdi class=\"comment-name\">".len()..];
        let end = rest.find("</bdi>").unwrap();
        assert!(!rest[..end].contains('<'), "a name carried markup: {}", &rest[..end]);
        names = &rest[end..];
    }
    app.stop().await;
}

/// /news/{id}/comments is where comments go, so no article may take "comments" as its slug.
#[tokio::test]
async fn an_article_titled_comments_stays_reachable() {
    let app = TestApp::builder().start().await.unwrap();
    let token = app.token().await;
    let response = app
        .post_article(
            &token,
            &serde_json::json!({"title": "Comments", "body_markdown": "نص", "section": "منوعات", "status": "published"}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let id = response.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let redirect = app.get(&format!("/news/{id}")).await;
    let location = redirect.headers()[header::LOCATION].to_str().unwrap().to_owned();
    assert!(!location.ends_with("/comments"), "{location}");
    assert_eq!(app.get(&location).await.status(), 200);
    app.stop().await;
}
