//! The reader site and the APIs over HTTP, against a real server.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{first_article_path, Backend, TestApp};
use reqwest::header;
use serde_json::{json, Value};

async fn demo_app() -> TestApp {
    TestApp::builder().demo().start().await.unwrap()
}

fn article_links(html: &str) -> Vec<String> {
    html.match_indices("href=\"/news/")
        .map(|(start, _)| {
            let start = start + "href=\"".len();
            let end = start + html[start..].find('"').unwrap();
            html[start..end].to_owned()
        })
        .collect()
}

#[tokio::test]
async fn home_page_is_arabic_right_to_left_with_every_block() {
    let app = demo_app().await;
    let response = app.get("/").await;
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert!(headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
    let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert!(headers.contains_key(header::REFERRER_POLICY));
    assert!(headers.contains_key(header::ETAG));
    // The second request is answered in front of the router, from the cache;
    // a route the router serves gets the same policy from its layers.
    for path in ["/", "/admin/login"] {
        let again = app.get(path).await;
        for name in [
            header::CONTENT_SECURITY_POLICY,
            header::X_CONTENT_TYPE_OPTIONS,
            header::REFERRER_POLICY,
            header::X_FRAME_OPTIONS,
        ] {
            assert_eq!(again.headers().get(&name), headers.get(&name), "{path}: {name}");
        }
    }
    let html = response.text().await.unwrap();
    assert!(html.contains("<html lang=\"ar\" dir=\"rtl\">"));
    for block in ["الخبر الرئيسي", "آخر الأخبار", "الأكثر قراءة", "سياسة", "اقتصاد", "رياضة", "صحة"]
    {
        assert!(html.contains(block), "home page lacks {block}");
    }
    // The breaking story leads.
    let lead = html.find("lead-story").unwrap();
    assert!(html[lead..].find("عاجل").unwrap() < 2000);
    // No inline script or style: the CSP would block them. Scripts come from
    // files; the only inline ones are JSON-LD data blocks, which never run.
    assert!(html.match_indices("<script").all(|(at, _)| {
        let tag = html[at..].split('>').next().unwrap();
        tag.contains(" src=") || tag == "<script type=\"application/ld+json\""
    }));
    assert!(!html.contains("style="));
    app.stop().await;
}

#[tokio::test]
async fn article_page_shows_body_dates_and_related_news() {
    let app = demo_app().await;
    let home = app.get("/").await.text().await.unwrap();
    let path = first_article_path(&home);
    let response = app.get(&path).await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains("<h1 class=\"article-title\">"));
    assert!(html.contains("هـ"), "Hijri date missing");
    assert!(html.contains("مدة القراءة"));
    assert!(html.contains("rel=\"canonical\""));
    let related_at = html.find("أخبار ذات صلة").expect("related block");
    let related = article_links(&html[related_at..]);
    let distinct: std::collections::BTreeSet<_> = related.iter().collect();
    assert!(distinct.len() >= 5, "only {} related links", distinct.len());
    assert!(!distinct.contains(&path), "an article is not related to itself");
    app.stop().await;
}

#[tokio::test]
async fn the_numeric_id_is_authoritative_for_article_urls() {
    let app = demo_app().await;
    let home = app.get("/").await.text().await.unwrap();
    let canonical = first_article_path(&home);
    let id = canonical.split('/').nth(2).unwrap().to_owned();
    for path in
        [format!("/news/{id}"), format!("/news/{id}/"), format!("/news/{id}/old-slug"), format!("/news/{id}/%FF%FE")]
    {
        let response = app.get(&path).await;
        assert_eq!(response.status(), 301, "{path}");
        assert_eq!(response.headers()[header::LOCATION], canonical.as_str(), "{path}");
    }
    for path in
        ["/news/999999/x", "/news/abc/x", "/news/0/x", "/news/-1/x", "/news/99999999999999999999999/x", "/news/999999"]
    {
        let response = app.get(path).await;
        assert_eq!(response.status(), 404, "{path}");
        let html = response.text().await.unwrap();
        assert!(html.contains("dir=\"rtl\"") && html.contains("الصفحة غير موجودة"), "{path}");
    }
    app.stop().await;
}

#[tokio::test]
async fn section_tag_and_author_pages_paginate() {
    let app = TestApp::builder().demo().config("page_size", "2").start().await.unwrap();
    let sections: Value = app.get("/api/content/sections").await.json().await.unwrap();
    let politics = sections.as_array().unwrap().iter().find(|section| section["name"] == "سياسة").unwrap();
    let path = politics["url"].as_str().unwrap().trim_start_matches(&app.base).to_owned();
    let first = app.get(&path).await.text().await.unwrap();
    assert!(first.contains("٥ مقالات") || first.contains("5 مقالات"), "plural count missing");
    assert!(first.contains("rel=\"next\"") && !first.contains("rel=\"prev\""));
    let on_first_page: std::collections::BTreeSet<_> = article_links(&first).into_iter().collect();
    assert_eq!(on_first_page.len(), 2);
    let second = app.get(&format!("{path}?page=2")).await;
    assert_eq!(second.status(), 200);
    let second = second.text().await.unwrap();
    assert!(second.contains("rel=\"prev\"") && second.contains("rel=\"next\""));
    assert_eq!(app.get(&format!("{path}?page=4")).await.status(), 404);
    for bad in ["abc", "0", "-2", "99999999999999999999", "1.5"] {
        let response = app.get(&format!("{path}?page={bad}")).await;
        assert_eq!(response.status(), 400, "page={bad}");
        assert!(response.text().await.unwrap().contains("طلب غير صالح"));
    }
    let tags: Value = app.get("/api/content/tags").await.json().await.unwrap();
    let tag_url = tags[0]["url"].as_str().unwrap().trim_start_matches(&app.base).to_owned();
    assert_eq!(app.get(&tag_url).await.status(), 200);
    let authors: Value = app.get("/api/content/authors").await.json().await.unwrap();
    let author = &authors[0];
    let author_page =
        app.get(author["url"].as_str().unwrap().trim_start_matches(&app.base)).await.text().await.unwrap();
    assert!(author_page.contains(author["bio"].as_str().unwrap()));
    for missing in ["/section/nothing-here", "/tag/nothing-here", "/author/nobody", "/section/%FF%FE"] {
        assert_eq!(app.get(missing).await.status(), 404, "{missing}");
    }
    app.stop().await;
}

#[tokio::test]
async fn pages_are_compressed_and_revalidated() {
    let app = demo_app().await;
    let identity = app.get("/").await;
    let etag = identity.headers()[header::ETAG].to_str().unwrap().to_owned();
    let identity_len = identity.bytes().await.unwrap().len();
    for (accept, expected) in [("gzip", "gzip"), ("br, gzip", "br"), ("gzip, br;q=0", "gzip")] {
        let response = app.client.get(app.url("/")).header(header::ACCEPT_ENCODING, accept).send().await.unwrap();
        assert_eq!(response.headers()[header::CONTENT_ENCODING], expected, "{accept}");
        assert_eq!(response.headers()[header::VARY], "Accept-Encoding");
        assert!(response.bytes().await.unwrap().len() < identity_len / 3);
    }
    let revalidated = app.client.get(app.url("/")).header(header::IF_NONE_MATCH, &etag).send().await.unwrap();
    assert_eq!(revalidated.status(), 304);
    assert!(revalidated.bytes().await.unwrap().is_empty());
    app.stop().await;
}

#[tokio::test]
async fn static_assets_and_the_font_are_served_for_a_year() {
    let app = demo_app().await;
    let home = app.get("/").await.text().await.unwrap();
    let css_start = home.find("/static/").unwrap();
    let css_path = &home[css_start..css_start + home[css_start..].find('"').unwrap()];
    let font = app.get(css_path).await;
    assert_eq!(font.status(), 200);
    assert_eq!(font.headers()[header::CACHE_CONTROL], "public, max-age=31536000, immutable");
    let css_at = home.find("rel=\"stylesheet\" href=\"").unwrap() + "rel=\"stylesheet\" href=\"".len();
    let css_url = &home[css_at..css_at + home[css_at..].find('"').unwrap()];
    let css = app.get(css_url).await.text().await.unwrap();
    assert!(!css.contains("url(\"asset:"), "asset references must be resolved");
    let font_at = css.find("/static/").unwrap();
    let font_url = &css[font_at..font_at + css[font_at..].find('"').unwrap()];
    let font = app.get(font_url).await;
    assert_eq!(font.headers()[header::CONTENT_TYPE], "font/woff2");
    assert_eq!(&font.bytes().await.unwrap()[..4], b"wOF2");
    app.stop().await;
}

#[tokio::test]
async fn bad_requests_never_become_server_errors() {
    let app = demo_app().await;
    let long_query = format!("/?q={}", "ا".repeat(3000));
    assert_eq!(app.get(&long_query).await.status(), 414);
    let unknown = app.get("/no/such/page").await;
    assert_eq!(unknown.status(), 404);
    assert!(unknown.text().await.unwrap().contains("الصفحة غير موجودة"));
    let api_unknown = app.get("/api/content/nothing").await;
    assert_eq!(api_unknown.status(), 404);
    let body: Value = api_unknown.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");
    let wrong_method = app.client.delete(app.url("/api/content/articles")).send().await.unwrap();
    assert_eq!(wrong_method.status(), 405);
    let body: Value = wrong_method.json().await.unwrap();
    assert_eq!(body["error"]["code"], "method_not_allowed");
    for path in ["/api/content/articles?page=x", "/api/content/articles?limit=0", "/api/content/articles?limit=1000"] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 400, "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "bad_request", "{path}");
    }
    assert_eq!(app.get("/api/content/articles/abc").await.status(), 404);
    assert_eq!(app.get("/api/content/articles?section=%FF").await.status(), 200);
    assert_eq!(app.get("/healthz").await.status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn content_api_lists_filters_and_paginates() {
    let app = demo_app().await;
    let all: Value = app.get("/api/content/articles?limit=5&page=2").await.json().await.unwrap();
    assert_eq!(all["total"], 30);
    assert_eq!(all["pages"], 6);
    assert_eq!(all["page"], 2);
    assert_eq!(all["articles"].as_array().unwrap().len(), 5);
    let first = &all["articles"][0];
    assert!(first["url"].as_str().unwrap().starts_with("http"));
    assert!(first["published_at"].as_str().unwrap().ends_with('Z'));
    assert!(!first["tags"].as_array().unwrap().is_empty());
    let sports_slug = khabar_arabic::slug::slugify("رياضة");
    let sports: Value = app
        .client
        .get(app.url("/api/content/articles"))
        .query(&[("section", sports_slug.as_str())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(sports["total"], 5);
    assert!(sports["articles"].as_array().unwrap().iter().all(|article| article["section"]["name"] == "رياضة"));
    let id = first["id"].as_i64().unwrap();
    let detail: Value = app.get(&format!("/api/content/articles/{id}")).await.json().await.unwrap();
    assert!(detail["body_html"].as_str().unwrap().contains("<p>"));
    assert!(detail.get("body_markdown").is_none(), "the public API does not expose the source");
    app.stop().await;
}

async fn admin_api_publishes_updates_and_deletes(backend: Backend) {
    let Some(app) = TestApp::builder().backend(backend).start().await else { return };
    let token = app.token().await;
    let article = json!({
        "title": "المجلس يُقِرّ خطة النقل العام الجديدة",
        "body_markdown": "فقرة **أولى** من الخبر.\n\n<script>alert(1)</script>",
        "summary": "ملخص قصير",
        "section": "محليات",
        "tags": ["النقل العام", "المدن"],
        "authors": ["ليلى حداد"],
        "status": "published"
    });
    let unauthorized = app.client.post(app.url("/api/admin/articles")).json(&article).send().await.unwrap();
    assert_eq!(unauthorized.status(), 401);
    let body: Value = unauthorized.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthorized");
    let wrong =
        app.client.post(app.url("/api/admin/articles")).bearer_auth("khabar_nope").json(&article).send().await.unwrap();
    assert_eq!(wrong.status(), 401);

    // The home page is cached empty first, so publishing must refresh it.
    assert!(app.get("/").await.text().await.unwrap().contains("لا أخبار بعد"));
    let created = app.post_article(&token, &article).await;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    let id = created["id"].as_i64().unwrap();
    let url = created["url"].as_str().unwrap().to_owned();
    let path = url.trim_start_matches(&app.base).to_owned();
    assert!(path.starts_with(&format!("/news/{id}/")));
    let page = app.get(&path).await.text().await.unwrap();
    assert!(page.contains("المجلس يُقِرّ خطة النقل العام الجديدة"), "stored as written, diacritics kept");
    assert!(page.contains("<strong>أولى</strong>") && !page.contains("<script>alert"));
    assert!(app.get("/").await.text().await.unwrap().contains(&path), "home page refreshed on publish");
    let section_page = app.get(&format!("/section/{}", khabar::web::encode_path_segment("محليات"))).await;
    assert_eq!(section_page.status(), 200, "section created on the fly");

    let fetched: Value = app.admin_article(&token, id).await;
    assert_eq!(fetched["status"], "published");
    assert_eq!(fetched["tags"].as_array().unwrap().len(), 2);
    assert!(fetched["body_markdown"].as_str().unwrap().contains("**أولى**"));

    let mut edited = article.clone();
    edited["title"] = json!("عنوان معدّل للخبر");
    let updated = app
        .client
        .put(app.url(&format!("/api/admin/articles/{id}")))
        .bearer_auth(&token)
        .json(&edited)
        .send()
        .await
        .unwrap();
    assert_eq!(updated.status(), 200);
    let new_url: Value = updated.json().await.unwrap();
    let new_path = new_url["url"].as_str().unwrap().trim_start_matches(&app.base).to_owned();
    assert_ne!(new_path, path);
    let old = app.get(&path).await;
    assert_eq!(old.status(), 301, "the old slug redirects");
    assert_eq!(old.headers()[header::LOCATION], new_path.as_str());
    assert!(app.get(&new_path).await.text().await.unwrap().contains("عنوان معدّل للخبر"));

    let mut draft = edited.clone();
    draft["status"] = json!("draft");
    let unpublished = app
        .client
        .put(app.url(&format!("/api/admin/articles/{id}")))
        .bearer_auth(&token)
        .json(&draft)
        .send()
        .await
        .unwrap();
    assert_eq!(unpublished.status(), 200);
    assert_eq!(app.get(&new_path).await.status(), 404, "a draft is not public");
    assert_eq!(app.get(&format!("/api/content/articles/{id}")).await.status(), 404);

    let deleted =
        app.client.delete(app.url(&format!("/api/admin/articles/{id}"))).bearer_auth(&token).send().await.unwrap();
    assert_eq!(deleted.status(), 204);
    let again =
        app.client.delete(app.url(&format!("/api/admin/articles/{id}"))).bearer_auth(&token).send().await.unwrap();
    assert_eq!(again.status(), 404);
    let body: Value = again.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");
    app.stop().await;
}
on_both_backends!(admin_api_round_trip, admin_api_publishes_updates_and_deletes);

async fn admin_api_rejects_bad_input_precisely(backend: Backend) {
    let Some(app) = TestApp::builder().backend(backend).start().await else { return };
    let token = app.token().await;
    let post = |body: reqwest::Body, content_type: &'static str| {
        app.client
            .post(app.url("/api/admin/articles"))
            .bearer_auth(&token)
            .header(header::CONTENT_TYPE, content_type)
            .body(body)
            .send()
    };
    let response = post(
        json!({"title": "", "status": "live", "published_at": "yesterday", "tags": ["!!!"]}).to_string().into(),
        "application/json",
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "validation_failed");
    let fields = body["error"]["fields"].as_object().unwrap();
    for field in ["title", "body_markdown", "section", "status", "published_at", "tags"] {
        assert!(fields.contains_key(field), "no error for {field}: {body}");
    }
    let malformed = post("{\"title\": ".into(), "application/json").await.unwrap();
    assert_eq!(malformed.status(), 400);
    assert_eq!(malformed.json::<Value>().await.unwrap()["error"]["code"], "bad_request");
    let wrong_type = post("title=x".into(), "application/x-www-form-urlencoded").await.unwrap();
    assert_eq!(wrong_type.status(), 415);
    assert_eq!(wrong_type.json::<Value>().await.unwrap()["error"]["code"], "unsupported_media_type");
    let unknown_field =
        post(json!({"title": "x", "colour": "red"}).to_string().into(), "application/json").await.unwrap();
    assert_eq!(unknown_field.status(), 422);
    let wrong_shape = post(json!({"title": 5}).to_string().into(), "application/json").await.unwrap();
    assert_eq!(wrong_shape.status(), 422);
    let huge = post(vec![b'a'; 3 * 1024 * 1024].into(), "application/json").await.unwrap();
    assert_eq!(huge.status(), 413);
    assert_eq!(huge.json::<Value>().await.unwrap()["error"]["code"], "payload_too_large");
    app.stop().await;
}
on_both_backends!(admin_api_bad_input, admin_api_rejects_bad_input_precisely);

#[tokio::test]
async fn scheduled_articles_stay_hidden_until_their_time() {
    let app = TestApp::builder().start().await.unwrap();
    let token = app.token().await;
    let in_an_hour = jiff::Timestamp::now().checked_add(jiff::SignedDuration::from_hours(1)).unwrap().to_string();
    let article = json!({
        "title": "خبر مجدول للنشر لاحقًا",
        "body_markdown": "نص الخبر.",
        "section": "سياسة",
        "status": "published",
        "published_at": in_an_hour,
    });
    let created: Value = app.post_article(&token, &article).await.json().await.unwrap();
    let path = created["url"].as_str().unwrap().trim_start_matches(&app.base).to_owned();
    assert_eq!(app.get(&path).await.status(), 404);
    let listed: Value = app.get("/api/content/articles").await.json().await.unwrap();
    assert_eq!(listed["total"], 0);
    app.stop().await;
}

#[tokio::test]
async fn arabic_indic_digits_follow_the_site_setting() {
    let app = TestApp::builder().demo().config("digits", "\"arabic\"").start().await.unwrap();
    let html = app.get("/").await.text().await.unwrap();
    let masthead = &html[html.find("class=\"today\"").unwrap()..];
    let masthead = &masthead[..masthead.find("</p>").unwrap()];
    assert!(masthead.contains('٢'), "{masthead}");
    assert!(
        !masthead.chars().any(|character| character.is_ascii_digit() && !masthead.contains("datetime")),
        "{masthead}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_crowd_missing_one_page_waits_for_a_single_render() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let app = TestApp::builder().start().await.unwrap();
    let renders = Arc::new(AtomicUsize::new(0));
    let mut crowd = Vec::new();
    for _ in 0..20 {
        let state = app.state.clone();
        let renders = Arc::clone(&renders);
        crowd.push(tokio::spawn(async move {
            khabar::cache::render::cached_or_render(&state, "crowded".to_owned(), || async {
                renders.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                Ok(khabar::cache::render::RenderedPage::new("<p>مرة واحدة</p>".to_owned()))
            })
            .await
            .map(|page| page.size())
        }));
    }
    for reader in crowd {
        assert!(reader.await.unwrap().unwrap() > 0);
    }
    assert_eq!(renders.load(Ordering::SeqCst), 1);
    app.stop().await;
}

#[tokio::test]
async fn search_engines_get_the_seo_description_when_there_is_one() {
    let app = TestApp::builder().start().await.unwrap();
    let token = app.token().await;
    let article = json!({
        "title": "عنوان", "body_markdown": "نص", "summary": "ملخص للقراء", "section": "سياسة", "status": "published",
        "seo_description": "وصف مخصص لمحركات البحث", "social_image": "/media/share.jpg"
    });
    let created: Value = app.post_article(&token, &article).await.json().await.unwrap();
    let path = created["url"].as_str().unwrap().trim_start_matches(&app.base).to_owned();
    let page = app.get(&path).await.text().await.unwrap();
    assert!(page.contains("<meta name=\"description\" content=\"وصف مخصص لمحركات البحث\">"), "{page}");
    let id = created["id"].as_i64().unwrap();
    let stored: Value = app.admin_article(&token, id).await;
    assert_eq!(stored["social_image"], "/media/share.jpg");
    let mut bad = article.clone();
    bad["social_image"] = json!("javascript:alert(1)");
    let refused = app.post_article(&token, &bad).await;
    assert_eq!(refused.status(), 422);
    app.stop().await;
}

/// A scheduled article goes live at its time even if the server restarted in
/// between: publication is a time in the database, not a timer in memory.
#[tokio::test]
async fn scheduled_publication_survives_a_restart() {
    let data = tempfile::tempdir().unwrap();
    khabar::site::create(data.path()).unwrap();
    let start = || async {
        let (config, store) = khabar::site::open(data.path(), None).await.unwrap();
        let state = khabar::app::AppState::new(config, data.path(), store).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        (khabar::server::RunningServer::start(state.clone(), listener).unwrap(), state, base)
    };
    let (server, state, base) = start().await;
    let token = state.store.create_api_token("tests").await.unwrap();
    let soon = jiff::Timestamp::now().checked_add(jiff::SignedDuration::from_secs(3)).unwrap().to_string();
    let article = json!({"title": "خبر مجدول", "body_markdown": "نص", "section": "سياسة", "status": "published", "published_at": soon});
    let created: Value = reqwest::Client::new()
        .post(format!("{base}/api/admin/articles"))
        .bearer_auth(&token)
        .json(&article)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_i64().unwrap();
    let home = reqwest::get(format!("{base}/")).await.unwrap().text().await.unwrap();
    assert!(!home.contains("خبر مجدول"));
    server.stop().await.unwrap();
    state.store.close().await;

    let (server, state, base) = start().await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let home = reqwest::get(format!("{base}/")).await.unwrap().text().await.unwrap();
        if home.contains("خبر مجدول") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the scheduled article did not appear after the restart");
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    let status = reqwest::get(format!("{base}/api/content/articles/{id}")).await.unwrap().status();
    assert_eq!(status, 200);
    server.stop().await.unwrap();
    state.store.close().await;
}
