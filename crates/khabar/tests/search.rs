//! Search over HTTP: Arabic folding and stemming, phrases, variants added in
//! the admin, filters, bad input, the index following every change, and
//! rebuilding it from the database.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{Backend, TestApp};
use serde_json::{json, Value};

async fn search(app: &TestApp, query: &str) -> Value {
    let url = format!("/api/content/search?q={}", urlencoded(query));
    let response = app.get(&url).await;
    assert_eq!(response.status(), 200, "{query}");
    response.json().await.unwrap()
}

fn urlencoded(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (byte as char).to_string(),
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

fn ids(result: &Value) -> Vec<i64> {
    result["hits"].as_array().unwrap().iter().map(|hit| hit["id"].as_i64().unwrap()).collect()
}

/// Waits (at most 5 s) until a query's hits satisfy `wanted`; how long it took.
async fn until(app: &TestApp, query: &str, wanted: impl Fn(&[i64]) -> bool) -> Duration {
    let started = Instant::now();
    loop {
        let found = ids(&search(app, query).await);
        if wanted(&found) {
            return started.elapsed();
        }
        assert!(started.elapsed() < Duration::from_secs(5), "{query}: still {found:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn index_ready(app: &TestApp) {
    until(app, "المفاوضات", |found| !found.is_empty()).await;
}

async fn follows_every_change(backend: Backend) {
    let Some(app) = TestApp::builder().backend(backend).demo().start().await else { return };
    index_ready(&app).await;
    let token = app.token().await;

    // Published through the API: found within a second.
    let response = app
        .post_article(
            &token,
            &json!({
                "title": "افتتاح مرصد فلكي جديد في وادي رم",
                "body_markdown": "افتُتح اليوم **مرصدٌ** فلكيّ في وادي رم لرصد النيازك والمذنّبات.",
                "section": "محليات",
                "status": "published",
            }),
        )
        .await;
    assert_eq!(response.status(), 201);
    let id = response.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let waited = until(&app, "المذنبات", |found| found.contains(&id)).await;
    assert!(waited < Duration::from_secs(3), "publishing showed in search after {waited:?}");
    let hit = &search(&app, "المذنبات").await["hits"][0];
    assert_eq!(hit["id"], id);
    assert!(hit["snippet"].as_str().unwrap().contains("<mark>والمذنّبات</mark>"), "as written: {hit}");
    assert!(hit["url"].as_str().unwrap().starts_with(&format!("/news/{id}/")));

    // Updated: the new words are found, the old ones no longer.
    let response = app
        .client
        .put(app.url(&format!("/api/admin/articles/{id}")))
        .bearer_auth(&token)
        .json(&json!({
            "title": "افتتاح مرصد فلكي جديد في وادي رم",
            "body_markdown": "افتُتح اليوم مرصد لرصد الكواكب البعيدة.",
            "section": "محليات",
            "status": "published",
        }))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    until(&app, "الكواكب", |found| found.contains(&id)).await;
    until(&app, "المذنبات", |found| !found.contains(&id)).await;

    // Deleted: gone.
    let response =
        app.client.delete(app.url(&format!("/api/admin/articles/{id}"))).bearer_auth(&token).send().await.unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    until(&app, "الكواكب", |found| !found.contains(&id)).await;
    app.stop().await;
}
on_both_backends!(index_follows_changes, follows_every_change);

#[tokio::test]
async fn arabic_spellings_meet() {
    let app = TestApp::builder().demo().start().await.unwrap();
    index_ready(&app).await;
    // 01.md says «المفاوضات» and «والمفاوضات»; every spelling below must find it.
    for query in ["مفاوضات", "والمفاوضات", "المُفَاوَضَات", "المفاوضـــات", "بالمفاوضات", "مفاوضات المياه"]
    {
        assert!(ids(&search(&app, query).await).contains(&1), "{query}");
    }
    // Arabic-Indic digits meet ASCII digits.
    let latin = ids(&search(&app, "20").await);
    assert!(!latin.is_empty());
    assert_eq!(ids(&search(&app, "٢٠").await), latin);
    // A quoted phrase matches the words in order only.
    assert_eq!(ids(&search(&app, "\"المياه المشتركة\"").await), vec![1]);
    assert!(ids(&search(&app, "\"المشتركة المياه\"").await).is_empty());
    let phrase = search(&app, "«المياه المشتركة»").await;
    assert!(phrase["hits"][0]["snippet"].as_str().unwrap().contains("<mark>"), "{phrase}");

    // Bad input: a normal answer, never an error.
    // Over the 200 characters a query keeps (and within what a URL may carry).
    let long = "كلمة ".repeat(100);
    for query in ["", "   ", "!!!؟؟", "\"", "\"\"", "ًٌٍَُِّْ", "AND OR NOT", "مفاوضات 🙂", "((()))", "*", long.as_str()]
    {
        let result = search(&app, query).await;
        assert!(result["hits"].is_array(), "{query}");
    }
    for query in ["", "\"المياه", "🙂"] {
        let page = app.get(&format!("/search?q={}", urlencoded(query))).await;
        assert_eq!(page.status(), 200, "{query}");
        assert!(page.text().await.unwrap().contains("dir=\"rtl\""));
    }
    let page =
        app.get("/search?q=%D9%85%D9%81%D8%A7%D9%88%D8%B6%D8%A7%D8%AA&page=abc&from=yesterday&to=2026-99-99").await;
    assert_eq!(page.status(), 200, "bad filters are ignored");
    app.stop().await;
}

#[tokio::test]
async fn filters_and_pages() {
    let app = TestApp::builder().demo().start().await.unwrap();
    index_ready(&app).await;
    let everything = search(&app, "في").await;
    assert_eq!(everything["total"], 0, "a stopword alone finds nothing, quietly");
    let all = search(&app, "مليون").await;
    let total = all["total"].as_u64().unwrap();
    assert!(total >= 1);
    let sections: Value = app.get("/api/content/sections").await.json().await.unwrap();
    let mut by_section = 0;
    for section in sections.as_array().unwrap() {
        let slug = section["slug"].as_str().unwrap();
        let url = format!("/api/content/search?q={}&section={}", urlencoded("مليون"), urlencoded(slug));
        let result: Value = app.get(&url).await.json().await.unwrap();
        by_section += result["total"].as_u64().unwrap();
    }
    assert_eq!(by_section, total, "every hit is in exactly one section");
    let future = app.get(&format!("/api/content/search?q={}&from=2100-01-01", urlencoded("مليون"))).await;
    assert_eq!(future.json::<Value>().await.unwrap()["total"], 0);
    let past = app.get(&format!("/api/content/search?q={}&to=٢٠٠٠-٠١-٠١", urlencoded("مليون"))).await;
    assert_eq!(past.json::<Value>().await.unwrap()["total"], 0, "Arabic-Indic digits in dates are read");
    let html = app.get(&format!("/search?q={}", urlencoded("مليون"))).await.text().await.unwrap();
    assert!(html.contains("class=\"search-hit\"") && html.contains("<mark>"));
    app.stop().await;
}

#[tokio::test]
async fn a_missing_or_broken_index_is_rebuilt_from_the_database() {
    let app = TestApp::builder().demo().start().await.unwrap();
    index_ready(&app).await;
    for broken in [false, true] {
        let elsewhere = tempfile::tempdir().unwrap();
        if broken {
            std::fs::create_dir_all(elsewhere.path().join("index")).unwrap();
            std::fs::write(elsewhere.path().join("index/meta.json"), "{ not json").unwrap();
        }
        let index = khabar::search::index::SearchIndex::open(elsewhere.path()).unwrap();
        assert_eq!(index.document_count(), 0);
        let mut writer = index.writer().unwrap();
        let progress = std::sync::Mutex::new(Vec::new());
        let indexed = index
            .rebuild(&mut writer, app.store(), &|done, total| progress.lock().unwrap().push((done, total)))
            .await
            .unwrap();
        assert_eq!(progress.lock().unwrap().last(), Some(&(30, 30)), "the progress bar's figures");
        assert_eq!(indexed, 30, "broken: {broken}");
        assert_eq!(index.document_count(), 30);
        drop(writer);
        // Opened again, the committed index and its place in the change log are kept.
        let reopened = khabar::search::index::SearchIndex::open(elsewhere.path()).unwrap();
        assert_eq!(reopened.document_count(), 30);
    }
    app.stop().await;
}

#[tokio::test]
async fn editors_declare_spellings_the_same_without_reindexing() {
    let app = TestApp::builder().demo().start().await.unwrap();
    index_ready(&app).await;
    // 23.md writes «الكيميائي»; a reader types «الكيماوي».
    let before = ids(&search(&app, "السماد الكيماوي").await);
    let password = "كلمة مرور طويلة للمحرر";
    let hash = khabar::accounts::passwords::hash(password.to_owned()).await.unwrap();
    let role = khabar::accounts::staff::Role::Editor;
    app.store().create_staff("editor@example.com", "محرر", role, &hash, khabar::store::now_seconds()).await.unwrap();
    let mut editor = common::Browser::new(&app);
    editor.log_in("editor@example.com", password).await;
    let csrf = editor.hidden("/admin/search", "csrf").await;
    let refused = editor.post("/admin/search/variants", &[("csrf", &csrf), ("words", "وحيدة")]).await;
    assert_eq!(refused.status(), 422);
    let added = editor.post("/admin/search/variants", &[("csrf", &csrf), ("words", "الكيماوي = الكيميائي")]).await;
    assert_eq!(added.status(), 303);
    let after = ids(&search(&app, "السماد الكيماوي").await);
    assert!(after.contains(&23), "before {before:?}, after {after:?}");
    assert!(!before.contains(&23) || before.len() > 1, "the variant made the difference: {before:?}");
    let page = editor.get("/admin/search").await.text().await.unwrap();
    assert!(page.contains("الكيماوي = الكيميائي"));
    // The recency preference: a number from 0 to 5 (Arabic-Indic digits read).
    let bad = editor.post("/admin/search", &[("csrf", &csrf), ("recency", "كثير")]).await;
    assert_eq!(bad.status(), 422);
    let saved = editor.post("/admin/search", &[("csrf", &csrf), ("recency", "٠٫٥")]).await;
    assert_eq!(saved.status(), 303);
    assert_eq!(app.state.settings().search_recency, Some(0.5));
    // An author may not change them.
    let author = khabar::accounts::staff::Role::Author;
    app.store().create_staff("author@example.com", "كاتب", author, &hash, 0).await.unwrap();
    let mut writer = common::Browser::new(&app);
    writer.log_in("author@example.com", password).await;
    assert_eq!(writer.get("/admin/search").await.status(), 403);
    app.stop().await;
}
