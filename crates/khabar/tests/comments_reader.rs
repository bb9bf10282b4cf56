//! Comments, the reader's side and the editors' mail: the form ticket
//! (minimum time to submit), editing and deleting one's own comment for ten
//! minutes, reports, pages of a long thread, reply emails with their
//! unsubscribe link, the editors' digest, erasure, and the moderation queue
//! in the admin.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Backend, TestApp};
use khabar::store::{now_seconds, Pool};
use reqwest::header;
use serde_json::Value;

const JSON: &str = "application/json";

async fn set(app: &TestApp, values: &[(&str, &str)]) {
    let values: Vec<(String, String)> =
        values.iter().map(|(key, value)| (key.to_string(), value.to_string())).collect();
    app.store().save_settings(&values).await.unwrap();
    app.state.reload_settings().await.unwrap();
}

/// A reader's browser: keeps the cookies the site sets.
struct Reader<'a> {
    app: &'a TestApp,
    cookies: Vec<(String, String)>,
}

impl<'a> Reader<'a> {
    fn new(app: &'a TestApp) -> Self {
        Reader { app, cookies: Vec::new() }
    }

    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(name, value)| format!("{name}={value}")).collect::<Vec<_>>().join("; ")
    }

    fn keep(&mut self, response: &reqwest::Response) {
        for value in response.headers().get_all(header::SET_COOKIE) {
            let pair = value.to_str().unwrap().split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            self.cookies.retain(|(kept, _)| kept != name);
            self.cookies.push((name.to_owned(), value.to_owned()));
        }
    }

    async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let response = self
            .app
            .client
            .post(self.app.url(path))
            .header(header::ACCEPT, JSON)
            .header(header::COOKIE, self.cookie_header())
            .form(fields)
            .send()
            .await
            .unwrap();
        self.keep(&response);
        response
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.app.client.get(self.app.url(path)).header(header::COOKIE, self.cookie_header()).send().await.unwrap()
    }

    /// Posts a comment as the page does: form token, and a ticket `age` seconds old.
    async fn comment(&mut self, article: i64, email: &str, body: &str, extra: &[(&str, &str)]) -> (u16, Value) {
        let csrf = self.app.state.comments.form_token(article);
        let ticket = self.app.state.comments.ticket(article, now_seconds() - 30);
        let mut fields = vec![
            ("csrf", csrf.as_str()),
            ("ticket", ticket.as_str()),
            ("name", "قارئة"),
            ("email", email),
            ("body", body),
        ];
        fields.extend_from_slice(extra);
        let response = self.post(&format!("/news/{article}/comments"), &fields).await;
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }
}

async fn page_of(app: &TestApp, article: i64) -> String {
    let response = app.get(&format!("/news/{article}")).await;
    let location = response.headers()[header::LOCATION].to_str().unwrap().to_owned();
    app.get(&location).await.text().await.unwrap()
}

async fn approve(app: &TestApp, token: &str, id: i64) {
    let response =
        app.client.post(app.url(&format!("/api/admin/comments/{id}/approve"))).bearer_auth(token).send().await.unwrap();
    assert_eq!(response.status(), 200);
}

/// Moves a comment's creation time back, as if minutes had passed.
async fn age_comment(app: &TestApp, id: i64, seconds: i64) {
    let sql = "UPDATE comments SET created_at = created_at - $1 WHERE id = $2";
    match app.store().pool() {
        Pool::Sqlite(pool) => sqlx::query(sql).bind(seconds).bind(id).execute(pool).await.map(|_| ()),
        Pool::Postgres(pool) => sqlx::query(sql).bind(seconds).bind(id).execute(pool).await.map(|_| ()),
    }
    .unwrap();
}

#[tokio::test]
async fn the_ticket_holds_hurried_and_scriptless_comments() {
    let app = TestApp::builder().demo().config("comments_min_seconds", "5").start().await.unwrap();
    set(&app, &[("comments_mode", "open")]).await;
    let csrf = app.state.comments.form_token(1);
    let ticket = app.get("/news/1/comments/ticket").await;
    assert_eq!(ticket.headers()[header::CACHE_CONTROL], "no-store");
    let fresh = ticket.json::<Value>().await.unwrap()["ticket"].as_str().unwrap().to_owned();
    let old = app.state.comments.ticket(1, now_seconds() - 60);
    let other_article = app.state.comments.ticket(2, now_seconds() - 60);
    let stale = app.state.comments.ticket(1, now_seconds() - 3 * 86_400);
    let forged = format!("{}.{}", now_seconds() - 60, "0".repeat(64));
    let cases = [
        ("fresh", fresh.as_str(), "unverified"),
        ("none", "", "unverified"),
        ("another article's", other_article.as_str(), "unverified"),
        ("a day old", stale.as_str(), "unverified"),
        ("forged", forged.as_str(), "unverified"),
        ("a minute old", old.as_str(), ""),
    ];
    for (index, (label, ticket, held_for)) in cases.into_iter().enumerate() {
        let email = format!("t{index}@example.com");
        let body = format!("تعليق رقم {index}");
        let fields = [
            ("csrf", csrf.as_str()),
            ("ticket", ticket),
            ("name", "قارئ"),
            ("email", email.as_str()),
            ("body", body.as_str()),
        ];
        let response = app
            .client
            .post(app.url("/news/1/comments"))
            .header(header::ACCEPT, JSON)
            .form(&fields)
            .send()
            .await
            .unwrap();
        let answer: Value = response.json().await.unwrap();
        let stored = app.store().comment(answer["id"].as_i64().unwrap()).await.unwrap().unwrap();
        assert_eq!(stored.held_for, held_for, "{label} ticket");
        assert_eq!(stored.status == "approved", held_for.is_empty(), "{label} ticket");
    }
    app.stop().await;
}

async fn own_comments_flow(backend: Backend) {
    let Some(app) = TestApp::builder().backend(backend).demo().config("comment_reports_to_queue", "2").start().await
    else {
        return;
    };
    let token = app.token().await;
    set(&app, &[("comments_mode", "open")]).await;
    let mut writer = Reader::new(&app);
    let (status, posted) = writer.comment(1, "writer@example.com", "نص أول فيه خطأ", &[]).await;
    assert_eq!(status, 201, "{posted}");
    let id = posted["id"].as_i64().unwrap();
    assert!(writer.cookies.iter().any(|(name, _)| name == &format!("khabar_comment_{id}")));
    assert!(writer.cookies.iter().any(|(name, _)| name == "khabar_commented"), "the script's hint");

    // The writer's browser sees it among its own; another browser does not.
    let mine: Value = writer.get("/news/1/comments/mine").await.json().await.unwrap();
    assert_eq!(mine["comments"][0]["id"], id, "{mine}");
    assert_eq!(mine["comments"][0]["markdown"], "نص أول فيه خطأ");
    let stranger = Reader::new(&app);
    let theirs: Value = stranger.get("/news/1/comments/mine").await.json().await.unwrap();
    assert_eq!(theirs["comments"].as_array().unwrap().len(), 0);

    // Editing from the same browser changes the (cached) article page.
    let csrf = app.state.comments.form_token(1);
    assert!(page_of(&app, 1).await.contains("نص أول فيه خطأ"));
    let edit_path = format!("/news/1/comments/{id}/edit");
    let edited = writer.post(&edit_path, &[("csrf", &csrf), ("body", "نص *مصحح*")]).await;
    assert_eq!(edited.status(), 200);
    let page = page_of(&app, 1).await;
    assert!(page.contains("نص <em>مصحح</em>") && !page.contains("نص أول فيه خطأ"));
    // Not from another browser, nor with another article's token, nor with two links added.
    let mut stranger = Reader::new(&app);
    let refused = stranger.post(&edit_path, &[("csrf", &csrf), ("body", "تخريب")]).await;
    assert_eq!(refused.status(), 403);
    assert_eq!(refused.json::<Value>().await.unwrap()["error"]["code"], "edit_window_over");
    let forged = writer.post(&edit_path, &[("csrf", &app.state.comments.form_token(2)), ("body", "x")]).await;
    assert_eq!(forged.status(), 403);
    let linked =
        writer.post(&edit_path, &[("csrf", &csrf), ("body", "[أ](https://a.example/) [ب](https://b.example/)")]).await;
    assert_eq!(linked.json::<Value>().await.unwrap()["status"], "pending", "links added by editing wait too");
    approve(&app, &token, id).await;

    // Ten minutes later the key no longer works.
    age_comment(&app, id, 601).await;
    let late = writer.post(&edit_path, &[("csrf", &csrf), ("body", "متأخر")]).await;
    assert_eq!(late.status(), 403);
    let late = writer.post(&format!("/news/1/comments/{id}/delete"), &[("csrf", &csrf)]).await;
    assert_eq!(late.status(), 403);

    // Deleting within the window takes it off the page.
    let (_, second) = writer.comment(1, "writer@example.com", "تعليق سأحذفه", &[]).await;
    let second_id = second["id"].as_i64().unwrap();
    assert!(page_of(&app, 1).await.contains("تعليق سأحذفه"));
    let deleted = writer.post(&format!("/news/1/comments/{second_id}/delete"), &[("csrf", &csrf)]).await;
    assert_eq!(deleted.status(), 200);
    assert!(!page_of(&app, 1).await.contains("تعليق سأحذفه"));
    assert!(app.store().comment(second_id).await.unwrap().is_none());

    // Reports: one per reader; the threshold (2 here) sends it back to the queue.
    let report_path = format!("/news/1/comments/{id}/report");
    assert_eq!(app.get(&report_path).await.status(), 200, "a page that asks first");
    let mut reporter = Reader::new(&app);
    for _ in 0..3 {
        assert_eq!(reporter.post(&report_path, &[("csrf", &csrf)]).await.status(), 200);
    }
    let stored = app.store().comment(id).await.unwrap().unwrap();
    assert_eq!((stored.reports, stored.status.as_str()), (1, "approved"), "the same reader counts once");
    assert!(app.store().report_comment(id, "another-reader", 2, now_seconds()).await.unwrap());
    let stored = app.store().comment(id).await.unwrap().unwrap();
    assert_eq!((stored.status.as_str(), stored.held_for.as_str()), ("pending", "reported"));
    assert!(!page_of(&app, 1).await.contains("نص <em>مصحح</em>"), "hidden while editors look");

    // Erasure: every comment written with the email goes, in any letter case.
    let (_, third) = writer.comment(2, "writer@example.com", "تعليق على خبر آخر", &[]).await;
    assert_eq!(third["status"], "approved");
    let erased = app
        .client
        .post(app.url("/api/admin/comments/erase"))
        .bearer_auth(&token)
        .json(&serde_json::json!({ "email": "Writer@Example.com" }))
        .send()
        .await
        .unwrap();
    assert_eq!(erased.status(), 200);
    assert_eq!(erased.json::<Value>().await.unwrap()["erased"], 2);
    assert!(!page_of(&app, 2).await.contains("تعليق على خبر آخر"));
    let bad = app
        .client
        .post(app.url("/api/admin/comments/erase"))
        .bearer_auth(&token)
        .json(&serde_json::json!({ "email": "not an email" }))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    app.stop().await;
}
on_both_backends!(own_comments, own_comments_flow);

async fn long_thread_flow(backend: Backend) {
    let Some(app) = TestApp::builder()
        .backend(backend)
        .demo()
        .config("comments_per_email", "1000")
        .config("comments_per_address", "1000")
        .start()
        .await
    else {
        return;
    };
    set(&app, &[("comments_mode", "open")]).await;
    let article = 5;
    let before = app.store().approved_comment_totals(article).await.unwrap().1;
    let mut reader = Reader::new(&app);
    let mut ids = Vec::new();
    for index in 0..(30 - before) {
        let (status, posted) =
            reader.comment(article, "long@example.com", &format!("تعليق طويل رقم {index}"), &[]).await;
        assert_eq!(status, 201, "{posted}");
        ids.push(posted["id"].as_i64().unwrap());
    }
    let parent = ids[0].to_string();
    for index in 0..5 {
        let body = format!("ردّ رقم {index} على الأول");
        let (_, reply) = reader.comment(article, "long@example.com", &body, &[("parent", &parent)]).await;
        assert_eq!(reply["status"], "approved");
    }
    let last = *ids.last().unwrap();

    // Page 1 (the article): 20 top-level comments, and 3 of the 5 replies with a link to the rest.
    let first_page = page_of(&app, article).await;
    assert!(first_page.contains("ردّ رقم 2 على الأول") && !first_page.contains("ردّ رقم 3 على الأول"));
    assert!(first_page.contains("اعرض بقية الردود (ردّان)"), "the rest counted with its Arabic plural");
    assert!(!first_page.contains(&format!("id=\"comment-{last}\"")), "the 30th is on page 2");
    assert!(first_page.contains(&format!("href=\"/news/{article}/comments?page=2\"")));
    assert_eq!(first_page.matches("class=\"comment\"").count(), 23);
    let replies = app.get(&format!("/news/{article}/comments/{parent}/reply")).await.text().await.unwrap();
    assert_eq!(replies.matches("على الأول").count(), 5, "the reply page has them all");
    let second = app.get(&format!("/news/{article}/comments?page=2")).await;
    assert_eq!(second.status(), 200);
    let second = second.text().await.unwrap();
    assert!(second.contains(&format!("id=\"comment-{last}\"")));
    assert_eq!(second.matches("class=\"comment\"").count(), 10);
    assert!(second.contains("rel=\"prev\"") && !second.contains("التعليقات مغلقة"));
    assert_eq!(app.get(&format!("/news/{article}/comments?page=3")).await.status(), 404);
    assert_eq!(app.store().approved_comment_totals(article).await.unwrap(), (35, 30));
    app.stop().await;
}
on_both_backends!(long_thread, long_thread_flow);

fn decoded(message: &str) -> String {
    use base64::Engine;
    let mut text = String::new();
    for part in message.split("\n--") {
        let Some((headers, body)) = part.split_once("\n\n") else { continue };
        if headers.contains("Content-Transfer-Encoding: base64") {
            let joined: String = body.lines().take_while(|line| !line.starts_with("--")).collect();
            if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(joined.trim()) {
                text.push_str(&String::from_utf8_lossy(&bytes));
            }
        } else {
            text.push_str(body);
        }
    }
    text
}

#[tokio::test]
async fn replies_are_emailed_to_those_who_asked_until_they_stop() {
    let smtp = common::SmtpSink::start().await;
    let app = TestApp::builder()
        .demo()
        .config("smtp_url", &format!("\"{}\"", smtp.url))
        .config("comments_digest_hours", "0")
        .start()
        .await
        .unwrap();
    let token = app.token().await;
    set(&app, &[("comments_mode", "open")]).await;
    let mut asker = Reader::new(&app);
    let (_, asked) = asker.comment(3, "asker@example.com", "من يعرف المزيد؟", &[("notify", "1")]).await;
    let parent = asked["id"].as_i64().unwrap().to_string();
    let mut quiet = Reader::new(&app);
    let (_, silent) = quiet.comment(3, "quiet@example.com", "لا أريد رسائل", &[]).await;

    // The writer's own reply sends nothing; someone else's does, once.
    asker.comment(3, "asker@example.com", "أضيف سؤالًا", &[("parent", &parent)]).await;
    let mut replier = Reader::new(&app);
    let (_, reply) =
        replier.comment(3, "replier@example.com", "نعم، **التفاصيل** في البيان", &[("parent", &parent)]).await;
    assert_eq!(reply["status"], "approved");
    let messages = smtp.wait_for(1).await;
    let email = decoded(&messages[0]);
    assert!(messages[0].contains("asker@example.com"));
    assert!(email.contains("ردّ قارئة على تعليقك") || email.contains("قارئة"), "{email}");
    assert!(email.contains("التفاصيل في البيان"), "a plain excerpt: {email}");
    assert!(email.contains("dir=\"rtl\""), "an RTL HTML part");
    assert!(!email.contains("replier@example.com"), "the replier's email is never shown");
    // Approving the same reply again (after a reject) does not mail twice.
    let reply_id = reply["id"].as_i64().unwrap();
    app.client
        .post(app.url(&format!("/api/admin/comments/{reply_id}/reject")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    approve(&app, &token, reply_id).await;
    // A reply to someone who did not ask sends nothing.
    let quiet_parent = silent["id"].as_i64().unwrap().to_string();
    replier.comment(3, "replier@example.com", "وأنت؟", &[("parent", &quiet_parent)]).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(smtp.count(), 1);

    // The unsubscribe link: a page that asks, then a POST that stops them.
    let start = email.find("/comments/unsubscribe?").unwrap();
    let link: String = email[start..]
        .chars()
        .take_while(|character| !character.is_whitespace() && !"\"<".contains(*character))
        .collect();
    let link = link.replace("&amp;", "&");
    let page = app.get(&link).await;
    assert_eq!(page.status(), 200, "{link}");
    let page = page.text().await.unwrap();
    let field = |name: &str| {
        let marker = format!("name=\"{name}\" value=\"");
        let start = page.find(&marker).unwrap() + marker.len();
        page[start..start + page[start..].find('"').unwrap()].to_owned()
    };
    let (reader, signature) = (field("reader"), field("signature"));
    let forged = app
        .client
        .post(app.url("/comments/unsubscribe"))
        .form(&[("reader", reader.as_str()), ("signature", "0")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    let done = app
        .client
        .post(app.url("/comments/unsubscribe"))
        .form(&[("reader", reader.as_str()), ("signature", signature.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 200);
    assert!(done.text().await.unwrap().contains("لن تصلك"));
    let mut another = Reader::new(&app);
    another.comment(3, "another@example.com", "ردّ بعد الإيقاف", &[("parent", &parent)]).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(smtp.count(), 1, "no more reply emails");
    assert_eq!(app.get("/comments/unsubscribe?reader=x&signature=y").await.status(), 404);
    app.stop().await;
}

#[tokio::test]
async fn editors_get_a_digest_of_waiting_comments() {
    let smtp = common::SmtpSink::start().await;
    let app = TestApp::builder()
        .demo()
        .config("smtp_url", &format!("\"{}\"", smtp.url))
        .config("comments_digest_hours", "1")
        .start()
        .await
        .unwrap();
    let hash = khabar::accounts::passwords::hash("كلمة مرور طويلة للمحررة".to_owned()).await.unwrap();
    let now = now_seconds();
    let store = app.store();
    store
        .create_staff("editor@example.com", "رنا المحررة", khabar::accounts::staff::Role::Editor, &hash, now)
        .await
        .unwrap();
    store.create_staff("author@example.com", "كاتب", khabar::accounts::staff::Role::Author, &hash, now).await.unwrap();
    let mut reader = Reader::new(&app);
    let (_, held) = reader.comment(1, "new@example.com", "أول تعليق لي ينتظر", &[]).await;
    assert_eq!(held["status"], "pending");
    // The jobs loop runs every 5 s: one digest, to the editor and not the author.
    let messages = smtp.wait_for(1).await;
    tokio::time::sleep(std::time::Duration::from_secs(6)).await;
    let to_editor: Vec<&String> = messages.iter().filter(|message| message.contains("editor@example.com")).collect();
    assert_eq!(to_editor.len(), 1);
    assert!(!smtp.wait_for(1).await.iter().any(|message| message.contains("author@example.com")));
    let email = decoded(to_editor[0]);
    assert!(email.contains("أول تعليق لي ينتظر") && email.contains("/admin/comments"), "{email}");
    assert!(email.contains("تعليق واحد"), "a count with its Arabic plural: {email}");
    let sent = smtp.count();
    tokio::time::sleep(std::time::Duration::from_secs(6)).await;
    assert_eq!(smtp.count(), sent, "not again within the hour");
    app.stop().await;
}
