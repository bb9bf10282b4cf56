//! The page cache over HTTP: a change drops exactly the pages that show what
//! it touched (and the others stay cached), the tags reach CDNs in headers
//! and purge calls, revalidation answers 304, a crowd missing a cold page
//! makes one render, and cached bytes are the same for every reader.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Backend, TestApp};
use reqwest::header;
use serde_json::{json, Value};

async fn article(app: &TestApp, id: i64) -> Value {
    app.get(&format!("/api/content/articles/{id}")).await.json().await.unwrap()
}

/// The site path of an article, as the content API gives it.
async fn path_of(app: &TestApp, id: i64) -> String {
    let url = article(app, id).await["url"].as_str().unwrap().to_owned();
    url.trim_start_matches(&app.base).to_owned()
}

async fn warm(app: &TestApp, paths: &[&str]) {
    for path in paths {
        assert_eq!(app.get(path).await.status(), 200, "{path}");
    }
}

/// Article pages outside «رياضة» whose related list does not depend on every
/// change (no `latest` tag): (id, path, section path, the page's tags).
async fn steady_pages(app: &TestApp) -> Vec<(i64, String, String, Vec<String>)> {
    let list: Value = app.get("/api/content/articles?limit=100").await.json().await.unwrap();
    let mut found = Vec::new();
    for item in list["articles"].as_array().unwrap() {
        if item["section"]["name"] == "رياضة" {
            continue;
        }
        let path = item["url"].as_str().unwrap().trim_start_matches(&app.base).to_owned();
        let response = app.get(&path).await;
        let keys: Vec<String> =
            response.headers()["surrogate-key"].to_str().unwrap().split(' ').map(str::to_owned).collect();
        if !keys.iter().any(|key| key == "latest" || key == "related-latest") {
            let section = item["section"]["url"].as_str().unwrap().trim_start_matches(&app.base).to_owned();
            found.push((item["id"].as_i64().unwrap(), path, section, keys));
        }
    }
    found
}

async fn exact_invalidation(backend: Backend) {
    let Some(app) = TestApp::builder().backend(backend).demo().start().await else { return };
    let token = app.token().await;
    let pages = &app.state.pages;
    let steady = steady_pages(&app).await;
    // Two steady pages that do not show each other.
    let (first, second) = steady
        .iter()
        .flat_map(|a| steady.iter().map(move |b| (a, b)))
        .find(|(a, b)| {
            let lists = |keys: &[String]| -> Vec<String> {
                keys.iter().filter(|key| key.contains("section:") || key.contains("tag:")).cloned().collect()
            };
            a.0 != b.0
                && !a.3.contains(&format!("article:{}", b.0))
                && !b.3.contains(&format!("article:{}", a.0))
                && lists(&a.3).iter().all(|key| !lists(&b.3).contains(key))
        })
        .expect("two article pages of the demo that do not depend on each other");
    let (first_id, first_path, first_section, _) = first.clone();
    let (second_id, second_path, _, _) = second.clone();
    warm(&app, &["/", "/feed.xml", "/sitemap.xml", &first_section, &first_path, &second_path]).await;

    // Published in «رياضة»: the home page, the site's feed and sitemaps go;
    // another section's list and unrelated article pages stay cached.
    let response = app
        .post_article(
            &token,
            &json!({"title": "المنتخب يتأهل إلى النهائي", "body_markdown": "نص.", "section": "رياضة", "status": "published"}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let id = response.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    for key in ["home", "feed:feed.xml:site:", "sitemap:index"] {
        assert!(!pages.contains(key), "{key} shows the new article and must go");
    }
    assert!(pages.contains(&format!("article:{first_id}")), "an unrelated article page stays cached");
    assert!(pages.contains(&format!("article:{second_id}")), "an unrelated article page stays cached");
    let section_key = format!("section:{}:1", first_section.trim_start_matches("/section/"));
    let section_key = khabar::web::decode_path_segment(&section_key).unwrap();
    assert!(pages.contains(&section_key), "another section's list stays cached: {section_key}");
    let renders = pages.renders();
    assert_eq!(app.get(&first_path).await.status(), 200);
    assert_eq!(pages.renders(), renders, "served from the cache, not rendered again");
    assert!(app.get("/").await.text().await.unwrap().contains("المنتخب يتأهل إلى النهائي"));

    // An edit of the first article drops its page and the lists showing it, not the second's page.
    warm(&app, &["/", &first_path]).await;
    let first_article = article(&app, first_id).await;
    let response = app
        .client
        .put(app.url(&format!("/api/admin/articles/{first_id}")))
        .bearer_auth(&token)
        .json(&json!({
            "title": format!("{} (محدّث)", first_article["title"].as_str().unwrap()),
            "body_markdown": "نص محدّث.",
            "section": first_article["section"]["name"],
            "tags": first_article["tags"].as_array().unwrap().iter().map(|tag| tag["name"].clone()).collect::<Vec<_>>(),
            "status": "published",
        }))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    assert!(!pages.contains(&format!("article:{first_id}")));
    assert!(!pages.contains("home"), "the home page lists every article");
    assert!(pages.contains(&format!("article:{second_id}")), "the second article's page stays");
    assert!(app.get(&first_path).await.status().is_redirection() || app.get(&first_path).await.status() == 200);

    // A comment approved on the second article: its page changes, the first's stays.
    warm(&app, &[&path_of(&app, first_id).await, &second_path]).await;
    let comment = khabar::comments::store::NewComment {
        article_id: second_id,
        parent_id: None,
        name: "قارئ",
        email_hash: "hash",
        notify_email: "",
        address_hash: "address",
        body_markdown: "تعليق أول",
        body_html: "<p>تعليق أول</p>",
        status: "pending",
        held_for: "first_comment",
        edit_key_hash: "key",
    };
    let comment_id = app.store().insert_comment(&comment, khabar::store::now_seconds()).await.unwrap();
    let response = app
        .client
        .post(app.url(&format!("/api/admin/comments/{comment_id}/approve")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    assert!(!pages.contains(&format!("article:{second_id}")), "the commented article's page goes");
    assert!(pages.contains(&format!("article:{first_id}")), "the other article's page stays");
    assert!(app.get(&second_path).await.text().await.unwrap().contains("تعليق أول"));
    let _ = id;

    // A setting is on every page: everything goes.
    warm(&app, &[&second_path, "/"]).await;
    app.store().save_settings(&[("site_description".to_owned(), "وصف جديد".to_owned())]).await.unwrap();
    app.state.reload_settings().await.unwrap();
    app.state.content_changed();
    assert!(pages.is_empty());
    app.stop().await;
}

on_both_backends!(a_change_drops_exactly_what_it_touched, exact_invalidation);

#[tokio::test]
async fn headers_for_browsers_and_shared_caches() {
    let Some(app) = TestApp::builder().demo().config("shared_cache_seconds", "120").start().await else { return };
    let id = app.get("/api/content/articles?limit=1").await.json::<Value>().await.unwrap()["articles"][0]["id"]
        .as_i64()
        .unwrap();
    let path = path_of(&app, id).await;
    let response = app.get(&path).await;
    let headers = response.headers().clone();
    let keys = headers["surrogate-key"].to_str().unwrap().to_owned();
    assert!(keys.split(' ').any(|key| key == format!("article:{id}")), "{keys}");
    assert!(keys.split(' ').any(|key| key == "layout") && keys.split(' ').any(|key| key == "all"), "{keys}");
    assert!(keys.is_ascii(), "Arabic slugs are percent-encoded in headers: {keys}");
    assert_eq!(headers["cache-tag"].to_str().unwrap(), keys.replace(' ', ","));
    let cache_control = headers[header::CACHE_CONTROL].to_str().unwrap();
    assert!(
        cache_control.contains("s-maxage=120") && cache_control.contains("stale-while-revalidate"),
        "{cache_control}"
    );
    assert!(cache_control.contains("max-age=0"), "browsers revalidate: {cache_control}");
    let last_modified = headers[header::LAST_MODIFIED].to_str().unwrap().to_owned();
    assert!(last_modified.ends_with(" GMT"), "{last_modified}");

    let revalidate = |name: header::HeaderName, value: String| {
        let app = &app;
        let path = path.clone();
        async move { app.client.get(app.url(&path)).header(name, value).send().await.unwrap().status() }
    };
    let etag = headers[header::ETAG].to_str().unwrap().to_owned();
    assert_eq!(revalidate(header::IF_NONE_MATCH, etag).await, 304);
    assert_eq!(revalidate(header::IF_MODIFIED_SINCE, last_modified).await, 304);
    assert_eq!(revalidate(header::IF_MODIFIED_SINCE, "Thu, 01 Jan 2015 00:00:00 GMT".into()).await, 200);
    assert_eq!(revalidate(header::IF_NONE_MATCH, "\"other\"".into()).await, 200);

    // Pages a shared cache must never hold say so, and carry no tags.
    for private in ["/admin/login", "/search?q=%D8%AE%D8%A8%D8%B1"] {
        let response = app.get(private).await;
        assert!(response.headers().get("surrogate-key").is_none(), "{private}");
        let cache_control = response.headers()[header::CACHE_CONTROL].to_str().unwrap().to_owned();
        assert!(!cache_control.contains("s-maxage"), "{private}: {cache_control}");
    }
    app.stop().await;
}

#[tokio::test]
async fn every_invalidation_purges_the_cdn_by_tag() {
    let received: Arc<Mutex<Vec<(String, Value)>>> = Arc::new(Mutex::new(Vec::new()));
    let kept = Arc::clone(&received);
    let receiver = axum::Router::new().route(
        "/purge",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let kept = Arc::clone(&kept);
            async move {
                let key =
                    headers.get("surrogate-key").map(|value| value.to_str().unwrap().to_owned()).unwrap_or_default();
                let authorized = headers.get("authorization").is_some_and(|value| value == "Bearer purge-token");
                assert!(authorized, "the purge carries the token");
                kept.lock().unwrap().push((key, serde_json::from_str(&body).unwrap()));
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let purge_url = format!("\"http://{}/purge\"", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, receiver).await;
    });
    let Some(app) = TestApp::builder()
        .demo()
        .config("cdn_purge_url", &purge_url)
        .config("cdn_purge_token", "\"purge-token\"")
        .start()
        .await
    else {
        return;
    };
    let token = app.token().await;
    let response = app
        .post_article(
            &token,
            &json!({"title": "خبر يُطهّر", "body_markdown": "نص.", "section": "اقتصاد", "status": "published"}),
        )
        .await;
    let id = response.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let started = Instant::now();
    let purged = loop {
        let seen = received.lock().unwrap().clone();
        if let Some(found) = seen
            .into_iter()
            .find(|(_, body)| body["tags"].as_array().unwrap().contains(&json!(format!("article:{id}"))))
        {
            break found;
        }
        assert!(started.elapsed() < Duration::from_secs(5), "no purge for the new article");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let tags: Vec<String> =
        purged.1["tags"].as_array().unwrap().iter().map(|tag| tag.as_str().unwrap().to_owned()).collect();
    assert!(tags.contains(&"latest".to_owned()), "{tags:?}");
    // The section page carries the same short form of its Arabic slug, so a CDN purge by it matches.
    let section_page = app.get(&format!("/section/{}", khabar::web::encode_path_segment("اقتصاد"))).await;
    let section_keys = section_page.headers()["surrogate-key"].to_str().unwrap().to_owned();
    let section_tag = section_keys.split(' ').find(|tag| tag.starts_with("section:")).unwrap().to_owned();
    assert!(section_tag.is_ascii() && section_tag.len() < 24, "{section_tag}");
    assert!(tags.contains(&section_tag), "the section's tag {section_tag} is purged: {tags:?}");
    assert_eq!(purged.0, tags.join(" "), "the same tags in Surrogate-Key");
    app.stop().await;
    server.abort();
}

#[tokio::test]
async fn a_crowd_missing_a_cold_page_makes_one_render() {
    let Some(app) = TestApp::builder().demo().start().await else { return };
    let id = app.get("/api/content/articles?limit=1").await.json::<Value>().await.unwrap()["articles"][0]["id"]
        .as_i64()
        .unwrap();
    let path = path_of(&app, id).await;
    app.state.content_changed();
    let renders = app.state.pages.renders();
    let url = app.url(&path);
    let mut crowd = tokio::task::JoinSet::new();
    for _ in 0..200 {
        let client = app.client.clone();
        let url = url.clone();
        crowd.spawn(async move { client.get(url).send().await.unwrap().bytes().await.unwrap() });
    }
    let mut bodies = Vec::new();
    while let Some(body) = crowd.join_next().await {
        bodies.push(body.unwrap());
    }
    assert_eq!(app.state.pages.renders() - renders, 1, "200 readers, one render");
    assert!(bodies.iter().all(|body| *body == bodies[0]), "and every reader got the same bytes");
    app.stop().await;
}

/// Cached bytes carry nothing of the reader: one who voted, one who did not,
/// a logged-in editor and an anonymous reader get the very same page.
#[tokio::test]
async fn cached_pages_are_the_same_for_every_reader() {
    let Some(app) = TestApp::builder().demo().start().await else { return };
    let hash = khabar::accounts::passwords::hash("كلمة مرور طويلة بما يكفي 1".to_owned()).await.unwrap();
    app.store()
        .create_staff("editor@example.com", "محررة", khabar::accounts::staff::Role::Editor, &hash, 1)
        .await
        .unwrap()
        .unwrap();
    let mut editor = common::Browser::new(&app);
    assert_eq!(editor.log_in("editor@example.com", "كلمة مرور طويلة بما يكفي 1").await.status(), 303);
    let home: String = app.get("/").await.text().await.unwrap();
    let poll: i64 = {
        let marker = "data-poll=\"";
        let start = home.find(marker).expect("the demo's sidebar poll") + marker.len();
        home[start..].split('"').next().unwrap().parse().unwrap()
    };
    let options: Value = app.get(&format!("/api/content/polls/{poll}")).await.json().await.unwrap();
    let option = options["options"][0]["id"].as_i64().unwrap();
    let response = app
        .client
        .post(app.url(&format!("/polls/{poll}/vote")))
        .header(header::ACCEPT, "application/json")
        .header(header::ORIGIN, &app.base)
        .form(&[("option", option.to_string()), ("csrf", app.state.polls.form_token(poll))])
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    let voter = response.headers()[header::SET_COOKIE].to_str().unwrap().split(';').next().unwrap().to_owned();
    let id = app.get("/api/content/articles?limit=1").await.json::<Value>().await.unwrap()["articles"][0]["id"]
        .as_i64()
        .unwrap();
    let path = path_of(&app, id).await;
    for page in ["/".to_owned(), path] {
        let anonymous = app.get(&page).await.bytes().await.unwrap();
        let voted =
            app.client.get(app.url(&page)).header(header::COOKIE, &voter).send().await.unwrap().bytes().await.unwrap();
        let staff = editor.get(&page).await.bytes().await.unwrap();
        assert!(anonymous == voted && anonymous == staff, "{page}: the same bytes for every reader");
    }
    app.stop().await;
}

/// A poll under one article: creating and closing it changes that article's
/// page; another article's page stays cached.
#[tokio::test]
async fn a_poll_changes_only_the_pages_that_show_it() {
    let Some(app) = TestApp::builder().demo().start().await else { return };
    let token = app.token().await;
    let pages = &app.state.pages;
    let list: Value = app.get("/api/content/articles?limit=100").await.json().await.unwrap();
    let with_poll = list["articles"][0]["id"].as_i64().unwrap();
    let with_path = path_of(&app, with_poll).await;
    // An article whose page does not show the first one among its related news.
    let mut without = None;
    for item in list["articles"].as_array().unwrap().iter().skip(1) {
        let id = item["id"].as_i64().unwrap();
        let response = app.get(&path_of(&app, id).await).await;
        let keys = response.headers()["surrogate-key"].to_str().unwrap().to_owned();
        if !keys.split(' ').any(|key| key == format!("article:{with_poll}")) {
            without = Some(id);
            break;
        }
    }
    let without = without.expect("an article page unrelated to the first");
    let without_path = path_of(&app, without).await;
    warm(&app, &[&with_path, &without_path]).await;
    let response = app
        .client
        .post(app.url("/api/admin/polls"))
        .bearer_auth(&token)
        .json(&json!({"question": "هل كان هذا الخبر واضحًا؟", "options": ["نعم", "لا"], "placement": {"article": with_poll}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let poll = response.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    assert!(!pages.contains(&format!("article:{with_poll}")), "the article the poll joined goes");
    assert!(pages.contains(&format!("article:{without}")), "another article stays");
    assert!(app.get(&with_path).await.text().await.unwrap().contains("هل كان هذا الخبر واضحًا؟"));
    assert!(pages.contains(&format!("article:{with_poll}")));
    let keys = app.get(&with_path).await.headers()["surrogate-key"].to_str().unwrap().to_owned();
    assert!(keys.split(' ').any(|key| key == format!("poll:{poll}")), "{keys}");

    let response =
        app.client.post(app.url(&format!("/api/admin/polls/{poll}/close"))).bearer_auth(&token).send().await.unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    assert!(!pages.contains(&format!("article:{with_poll}")), "closing the poll changes its article's page");
    assert!(pages.contains(&format!("article:{without}")), "another article still stays");
    app.stop().await;
}

/// Renders `path` with the cache emptied first, in this task, counting the
/// store queries it makes.
async fn queries_to_render(app: &TestApp, path: &str) -> u32 {
    use tower::ServiceExt;
    app.state.pages.invalidate_all();
    let router = khabar::app::router(app.state.clone());
    let request = axum::http::Request::get(path).body(axum::body::Body::empty()).unwrap();
    let (response, queries) = khabar::store::counting_queries(router.oneshot(request)).await;
    assert_eq!(response.unwrap().status(), 200, "{path}");
    queries
}

/// The public pages of one article's neighbourhood: (name, path).
async fn pages_around(app: &TestApp, id: i64) -> Vec<(String, String)> {
    let item = article(app, id).await;
    let path = |url: &Value| url.as_str().unwrap().trim_start_matches(&app.base).to_owned();
    let section = path(&item["section"]["url"]);
    vec![
        ("home".to_owned(), "/".to_owned()),
        ("article".to_owned(), path(&item["url"])),
        ("section".to_owned(), section.clone()),
        ("tag".to_owned(), path(&item["tags"][0]["url"])),
        ("author".to_owned(), path(&item["authors"][0]["url"])),
        ("site feed".to_owned(), "/feed.xml".to_owned()),
        ("section feed".to_owned(), format!("{section}/feed.xml")),
        ("sitemap index".to_owned(), "/sitemap.xml".to_owned()),
        ("article sitemap".to_owned(), "/sitemaps/articles.xml".to_owned()),
        ("news sitemap".to_owned(), "/news-sitemap.xml".to_owned()),
    ]
}

/// No N+1: what a render asks the database does not grow with what the page
/// shows. Each page is counted on the demo, then again after its section,
/// tag and author gained a dozen articles, more tags and more comments.
async fn renders_make_a_fixed_number_of_queries(backend: Backend) {
    let Some(app) = TestApp::builder().backend(backend).demo().start().await else { return };
    let token = app.token().await;
    let id = 1;
    let pages = pages_around(&app, id).await;
    let mut before = Vec::new();
    for (name, path) in &pages {
        before.push((name.clone(), queries_to_render(&app, path).await));
    }

    let item = article(&app, id).await;
    let section = item["section"]["name"].as_str().unwrap().to_owned();
    let tag = item["tags"][0]["name"].as_str().unwrap().to_owned();
    let author = item["authors"][0]["name"].as_str().unwrap().to_owned();
    for number in 0..12 {
        let response = app
            .post_article(
                &token,
                &json!({
                    "title": format!("خبر إضافي رقم {number} في القسم نفسه"),
                    "body_markdown": "نص الخبر الإضافي.",
                    "section": section,
                    "tags": [tag.clone(), format!("وسم جديد {number}"), format!("وسم آخر {number}")],
                    "authors": [author.clone()],
                    "status": "published",
                }),
            )
            .await;
        assert_eq!(response.status(), 201);
        let new_id = response.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
        for commenter in ["سعاد", "مازن"] {
            let comment = khabar::comments::store::NewComment {
                article_id: new_id,
                parent_id: None,
                name: commenter,
                email_hash: "hash",
                notify_email: "",
                address_hash: "address",
                body_markdown: "تعليق",
                body_html: "<p>تعليق</p>",
                status: "approved",
                held_for: "",
                edit_key_hash: "key",
            };
            app.store().insert_comment(&comment, khabar::store::now_seconds()).await.unwrap();
        }
    }
    for reader in ["هدى", "كريم", "نور", "سامي", "ريم"] {
        let comment = khabar::comments::store::NewComment {
            article_id: id,
            parent_id: None,
            name: reader,
            email_hash: "hash",
            notify_email: "",
            address_hash: "address",
            body_markdown: "رأي",
            body_html: "<p>رأي</p>",
            status: "approved",
            held_for: "",
            edit_key_hash: "key",
        };
        app.store().insert_comment(&comment, khabar::store::now_seconds()).await.unwrap();
    }

    let mut after = Vec::new();
    for (name, path) in &pages {
        after.push((name.clone(), queries_to_render(&app, path).await));
    }
    assert_eq!(before, after, "queries per render (before, after the site grew)");
    for (name, queries) in &after {
        assert!(*queries >= 1, "{name}: a render that asked nothing was not counted");
        assert!(*queries <= 12, "{name}: {queries} queries for one render");
    }
    println!("{backend:?}: queries per render {after:?}");
    app.stop().await;
}

on_both_backends!(no_render_makes_n_plus_one_queries, renders_make_a_fixed_number_of_queries);

/// Every list page an article is on, and pages that do not show it: (path, shows it).
async fn list_pages_around(app: &TestApp, id: i64) -> (Vec<String>, Vec<String>) {
    let shown = format!("/news/{id}/");
    let item = article(app, id).await;
    let path = |url: &Value| url.as_str().unwrap().trim_start_matches(&app.base).to_owned();
    let section = path(&item["section"]["url"]);
    let showing = vec![
        "/".to_owned(),
        section.clone(),
        format!("{section}/feed.xml"),
        format!("{section}/atom.xml"),
        path(&item["tags"][0]["url"]),
        format!("{}/feed.xml", path(&item["tags"][0]["url"])),
        path(&item["authors"][0]["url"]),
        "/feed.xml".to_owned(),
        "/atom.xml".to_owned(),
        "/sitemaps/articles.xml".to_owned(),
        "/news-sitemap.xml".to_owned(),
    ];
    // Pages elsewhere on the site that do not show the article: other
    // sections, tags and authors, their feeds, and unrelated article pages.
    let list: Value = app.get("/api/content/articles?limit=100").await.json().await.unwrap();
    let mut candidates = Vec::new();
    for other in list["articles"].as_array().unwrap() {
        if other["id"] == id || other["section"]["url"] == item["section"]["url"] {
            continue;
        }
        candidates.push(path(&other["url"]));
        candidates.push(path(&other["section"]["url"]));
        candidates.push(format!("{}/feed.xml", path(&other["section"]["url"])));
        let full = article(app, other["id"].as_i64().unwrap()).await;
        for tag in full["tags"].as_array().unwrap() {
            candidates.push(path(&tag["url"]));
        }
        for author in full["authors"].as_array().unwrap() {
            candidates.push(path(&author["url"]));
        }
    }
    candidates.sort();
    candidates.dedup();
    let mut elsewhere = Vec::new();
    for candidate in candidates {
        let response = app.get(&candidate).await;
        assert_eq!(response.status(), 200, "{candidate}");
        let keys = response.headers()["surrogate-key"].to_str().unwrap().to_owned();
        let body = response.text().await.unwrap();
        // Pages listing the latest articles change with any article; they are not "elsewhere".
        if !body.contains(&shown) && !keys.split(' ').any(|key| key == "latest") {
            elsewhere.push(candidate);
        }
    }
    (showing, elsewhere)
}

/// Unpublishing an article takes it off every page that showed it — its own
/// page, the home page, its section's, tags' and author's pages and feeds,
/// the site's feeds and sitemaps — at once, while pages elsewhere on the site
/// are served from the cache without a render.
async fn unpublishing_reaches_every_list(backend: Backend) {
    let Some(app) = TestApp::builder().backend(backend).demo().start().await else { return };
    let token = app.token().await;
    let id = 1;
    let own_path = path_of(&app, id).await;
    let shown = format!("/news/{id}/");
    let (showing, elsewhere) = list_pages_around(&app, id).await;
    assert!(elsewhere.len() >= 10, "enough unaffected pages to sample: {elsewhere:?}");
    assert_eq!(app.get(&own_path).await.status(), 200);
    for path in &showing {
        let body = app.get(path).await.text().await.unwrap();
        assert!(body.contains(&shown), "{path} shows the article before");
    }
    warm(&app, &elsewhere.iter().map(String::as_str).collect::<Vec<_>>()).await;

    let item = article(&app, id).await;
    let names = |list: &Value| list.as_array().unwrap().iter().map(|entry| entry["name"].clone()).collect::<Vec<_>>();
    let response = app
        .client
        .put(app.url(&format!("/api/admin/articles/{id}")))
        .bearer_auth(&token)
        .json(&json!({
            "title": item["title"],
            "body_markdown": "نص.",
            "section": item["section"]["name"],
            "tags": names(&item["tags"]),
            "authors": names(&item["authors"]),
            "status": "draft",
        }))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());

    assert_eq!(app.get(&own_path).await.status(), 404, "an unpublished article's page is gone");
    for path in &showing {
        let body = app.get(path).await.text().await.unwrap();
        assert!(!body.contains(&shown), "{path} still shows the unpublished article");
    }
    let mut rendered_again = Vec::new();
    for path in &elsewhere {
        let renders = app.state.pages.renders();
        let response = app.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        if app.state.pages.renders() != renders {
            rendered_again.push((path.clone(), response.headers()["surrogate-key"].to_str().unwrap().to_owned()));
        }
    }
    assert!(rendered_again.is_empty(), "pages that never showed the article were rendered again: {rendered_again:?}");
    app.stop().await;
}

on_both_backends!(unpublishing_changes_every_page_that_showed_it, unpublishing_reaches_every_list);
