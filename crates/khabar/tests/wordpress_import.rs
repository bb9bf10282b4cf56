//! Moving in from WordPress: the fixture export imported into a running
//! site (SQLite and PostgreSQL), then checked over HTTP as readers and
//! search engines will see it; old addresses, re-runs, broken files; and
//! the static pages and redirects the newsroom manages.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::{Backend, Browser, TestApp};
use khabar::accounts::passwords;
use khabar::accounts::staff::Role;
use khabar::import::wordpress::import;
use khabar::import::{ImportError, Options, Quiet, Report};
use serde_json::Value;

const PASSWORD: &str = "زيتون أخضر على الطاولة 42";

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/wordpress").join(name)
}

async fn import_file(app: &TestApp, file: &std::path::Path) -> Report {
    let options = Options { uploads: Some(fixture("uploads")), ..Options::default() };
    import(&app.state, file, &options, &Quiet).await.expect("import")
}

async fn json(app: &TestApp, path: &str) -> Value {
    let response = app.get(path).await;
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.unwrap()
}

/// Follows one 301 and expects a page there.
async fn redirects_to_a_page(app: &TestApp, old: &str) -> String {
    let response = app.get(old).await;
    assert_eq!(response.status(), 301, "{old} should answer 301");
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with('/'), "{old} → {location}");
    let target = app.get(&location).await;
    assert_eq!(target.status(), 200, "{old} → {location}");
    location
}

async fn imports_the_newsroom(backend: Backend) {
    let Some(app) = TestApp::builder().backend(backend).start().await else { return };
    let report = import_file(&app, &fixture("newsroom.xml")).await;
    assert_eq!(report.articles.created, 11, "{report}");
    assert_eq!(report.pages.created, 2);
    // 11 comments less the trashed one.
    assert_eq!(report.comments.created, 10);
    assert_eq!(report.sections.created, 7);
    assert_eq!(report.tags.created, 8);
    // Three declared authors and khaled.old, who is not declared.
    assert_eq!(report.authors.created, 4);
    assert_eq!(report.media.created, 3);
    assert_eq!(report.missing_images.len(), 2, "{report}");
    assert!(report.missing_images.iter().any(|image| image.contains("bridge-cracks.jpg")));
    assert!(report.missing_images.iter().any(|image| image.contains("flooded-alley.jpg")));
    assert_eq!(report.skipped.len(), 2, "the menu item and the contact form: {report}");
    assert!(report.skipped.iter().all(|line| line.starts_with("line ")), "{report}");
    assert!(report.warnings.iter().any(|warning| warning.contains("khaled.old")), "{report}");
    assert!(report.failure.is_none());

    // Published posts (101–107) are the site's articles; the password-protected,
    // private, draft and scheduled ones are not shown.
    let list = json(&app, "/api/content/articles?limit=100").await;
    assert_eq!(list["total"], 7, "{list}");
    let titles: Vec<&str> = list["articles"].as_array().unwrap().iter().map(|a| a["title"].as_str().unwrap()).collect();
    assert!(titles.contains(&"المجلس البلدي يقر توسيع شبكة الحافلات"), "{titles:?}");
    let council = list["articles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["title"] == "المجلس البلدي يقر توسيع شبكة الحافلات")
        .unwrap();
    assert_eq!(council["section"]["name"], "محليات");
    assert!(council["featured_image"]["url"].as_str().unwrap().contains("/media/uploads/2024/05/"), "{council}");
    assert!(council["summary"].as_str().unwrap().starts_with("صادق المجلس البلدي بالإجماع"));
    let tags: Vec<&str> = council["tags"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(tags, ["النقل العام", "الانتخابات البلدية"]);
    assert_eq!(council["authors"][0]["name"], "عمر ناصر");
    let id = council["id"].as_i64().unwrap();
    let article = json(&app, &format!("/api/content/articles/{id}")).await;
    let body = article["body_html"].as_str().unwrap();
    assert!(!body.contains("wp:") && body.contains("<h3>أربعة خطوط جديدة</h3>"), "{body}");
    assert!(body.contains("<figcaption>مبنى المجلس البلدي حيث عقدت الجلسة</figcaption>"), "{body}");
    assert!(body.contains("href=\"https://www.youtube.com/watch?v=Qm3fT8vLx2A\""), "the embed is a link: {body}");
    assert!(!body.contains("<iframe"));

    // Sanitized like the editor's bodies; the caption shortcode is a figure.
    let by_title = |title: &str| {
        list["articles"].as_array().unwrap().iter().find(|a| a["title"] == title).unwrap()["id"].as_i64().unwrap()
    };
    let iqra = json(&app, &format!("/api/content/articles/{}", by_title("منصة «اقرأ» تصل إلى مكتبة المدينة"))).await;
    let body = iqra["body_html"].as_str().unwrap();
    assert!(!body.contains("<script") && !body.contains("onclick") && !body.contains("javascript:"), "{body}");
    let market =
        json(&app, &format!("/api/content/articles/{}", by_title("السوق المركزي يفتح أبوابه بعد الترميم"))).await;
    let body = market["body_html"].as_str().unwrap();
    assert!(body.contains("<figure><img src=\"/media/uploads/"), "{body}");
    assert!(body.contains("<figcaption>البسطات عادت إلى أماكنها تحت المظلات الجديدة</figcaption>"), "{body}");
    let kids = by_title("ناشئو السلة يعودون ببرونزية إقليمية");
    let kids_json = json(&app, &format!("/api/content/articles/{kids}")).await;
    assert_eq!(kids_json["section"]["name"], "كرة السلة", "the child category before its parent");

    // Comments: approved ones shown, threads of one level.
    let thread = json(&app, &format!("/api/content/articles/{id}/comments")).await;
    let text = thread.to_string();
    assert!(text.contains("أخيرا! حي الزيتون كان منسيا تماما."), "{text}");
    assert!(text.contains("شكرا لكم، بانتظارها."), "the reply to a reply is kept: {text}");
    assert!(!text.contains("احصل على خصم"), "spam is not shown");
    assert!(!text.contains("كلام فارغ"), "trash is not imported");
    assert!(!text.contains("الحافلات الحالية لا تحتوي"), "pending waits for an editor");
    let page = app.get(&format!("/news/{id}/x")).await;
    let page = app.get(page.headers()["location"].to_str().unwrap()).await.text().await.unwrap();
    assert!(page.contains("الخريطة النهائية لم تنشر بعد"), "comments on the article page");

    // Pages, sections, tags, authors.
    let pages = json(&app, "/api/content/pages").await;
    let page_titles: Vec<&str> =
        pages["pages"].as_array().unwrap().iter().map(|p| p["title"].as_str().unwrap()).collect();
    assert_eq!(page_titles, ["من نحن", "سياسة الخصوصية"]);
    assert_eq!(app.get("/page/%D9%85%D9%86-%D9%86%D8%AD%D9%86").await.status(), 200);
    let sections = json(&app, "/api/content/sections").await.to_string();
    for name in ["محليات", "كرة القدم", "كرة السلة", "رياضة", "تقنية", "اقتصاد"] {
        assert!(sections.contains(name), "{name} in {sections}");
    }
    let authors = json(&app, "/api/content/authors").await.to_string();
    assert!(authors.contains("سلمى الحداد") && !authors.contains("salma@akhbar.example"), "{authors}");

    // Every old address form answers 301 to a page.
    let post_101 = "/2024/05/06/%d8%a3%d9%85%d8%b7%d8%a7%d8%b1-%d8%ba%d8%b2%d9%8a%d8%b1%d8%a9-%d8%aa%d8%ba%d9%85%d8%b1-%d8%a3%d8%b2%d9%82%d8%a9-%d8%a7%d9%84%d8%ad%d9%8a-%d8%a7%d9%84%d9%82%d8%af%d9%8a%d9%85/";
    let location = redirects_to_a_page(&app, post_101).await;
    assert!(location.starts_with("/news/"), "{location}");
    assert_eq!(redirects_to_a_page(&app, &post_101.to_uppercase()).await, location);
    assert_eq!(redirects_to_a_page(&app, post_101.trim_end_matches('/')).await, location);
    assert_eq!(redirects_to_a_page(&app, "/?p=101").await, location);
    let about = redirects_to_a_page(&app, "/?page_id=120").await;
    assert!(about.starts_with("/page/"), "{about}");
    assert_eq!(redirects_to_a_page(&app, "/%d9%85%d9%86-%d9%86%d8%ad%d9%86/").await, about);
    let football = redirects_to_a_page(
        &app,
        "/category/%d8%b1%d9%8a%d8%a7%d8%b6%d8%a9/%d9%83%d8%b1%d8%a9-%d8%a7%d9%84%d9%82%d8%af%d9%85/",
    )
    .await;
    assert!(football.starts_with("/section/"), "{football}");
    assert_eq!(
        redirects_to_a_page(&app, "/category/%d9%83%d8%b1%d8%a9-%d8%a7%d9%84%d9%82%d8%af%d9%85/").await,
        football
    );
    assert!(redirects_to_a_page(&app, "/category/tech/").await.starts_with("/section/"));
    let rain = redirects_to_a_page(&app, "/tag/%d8%a7%d9%84%d8%a3%d9%85%d8%b7%d8%a7%d8%b1/").await;
    assert!(rain.starts_with("/tag/"), "{rain}");
    assert!(redirects_to_a_page(&app, "/tag/%D8%A7%D9%84%D8%A3%D9%85%D8%B7%D8%A7%D8%B1").await.starts_with("/tag/"));
    assert!(redirects_to_a_page(&app, "/author/salma/").await.starts_with("/author/"));
    assert_eq!(redirects_to_a_page(&app, "/feed/").await, "/feed.xml");
    assert!(redirects_to_a_page(&app, "/category/tech/feed/").await.ends_with("/feed.xml"));
    // A draft's old link stays a 404 until it is published; unknown paths are Arabic 404s.
    assert_eq!(app.get("/?p=109").await.status(), 404);
    let missing = app.get("/no-such-page/").await;
    assert_eq!(missing.status(), 404);
    assert!(missing.text().await.unwrap().contains("الصفحة غير موجودة"));
    assert_eq!(app.get("/").await.status(), 200, "the home page itself is untouched");

    // Search finds imported articles (the index follows the change log).
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let found = json(&app, "/api/content/search?q=%D8%A7%D9%84%D8%AD%D8%A7%D9%81%D9%84%D8%A7%D8%AA").await;
        if found["total"].as_u64().unwrap_or(0) > 0 {
            assert_eq!(found["hits"][0]["id"], id, "{found}");
            break;
        }
        assert!(Instant::now() < deadline, "imported articles never became searchable: {found}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // A second run of the same export changes nothing.
    let again = import_file(&app, &fixture("newsroom.xml")).await;
    assert!(!again.changed_anything(), "{again}");
    assert_eq!(again.articles.unchanged, 11);
    assert_eq!(again.comments.unchanged, 10);
    assert_eq!(again.redirects, 0, "{again}");
    assert_eq!(json(&app, "/api/content/articles?limit=100").await["total"], 7);

    // A later export with an edited post and a new comment: updated, not duplicated.
    let edited = std::fs::read_to_string(fixture("newsroom.xml"))
        .unwrap()
        .replace("السوق المركزي يفتح أبوابه بعد الترميم", "السوق المركزي يفتح أبوابه مجددا")
        .replace(
            "<wp:comment_approved><![CDATA[0]]></wp:comment_approved>",
            "<wp:comment_approved><![CDATA[1]]></wp:comment_approved>",
        );
    let later = app.data_dir.path().join("later.xml");
    std::fs::write(&later, edited).unwrap();
    let third = import_file(&app, &later).await;
    assert_eq!(third.articles.updated, 1, "{third}");
    assert_eq!(third.articles.created, 0);
    assert_eq!(third.comments.updated, 2, "two pending comments approved since: {third}");
    let list = json(&app, "/api/content/articles?limit=100").await;
    assert_eq!(list["total"], 7);
    assert!(list.to_string().contains("السوق المركزي يفتح أبوابه مجددا"));

    // Edited in khabar since: a later change in WordPress does not overwrite it.
    let market_id =
        list["articles"].as_array().unwrap().iter().find(|a| a["title"] == "السوق المركزي يفتح أبوابه مجددا").unwrap()
            ["id"]
            .as_i64()
            .unwrap();
    let token = app.token().await;
    let edited_here = app
        .client
        .put(app.url(&format!("/api/admin/articles/{market_id}")))
        .bearer_auth(&token)
        .json(&serde_json::json!({"title": "السوق المركزي بعد الترميم", "body_markdown": "نص حرره المحرر.", "section": "اقتصاد", "status": "published"}))
        .send()
        .await
        .unwrap();
    assert_eq!(edited_here.status(), 200);
    let fourth_file = app.data_dir.path().join("fourth.xml");
    std::fs::write(
        &fourth_file,
        std::fs::read_to_string(&later).unwrap().replace("يفتح أبوابه مجددا", "يفتح أبوابه للمرة الثانية"),
    )
    .unwrap();
    let fourth = import_file(&app, &fourth_file).await;
    assert_eq!(fourth.articles.kept, 1, "{fourth}");
    assert!(fourth.warnings.iter().any(|warning| warning.contains("edited in khabar")), "{fourth}");
    assert_eq!(json(&app, &format!("/api/content/articles/{market_id}")).await["title"], "السوق المركزي بعد الترميم");
    app.stop().await;
}

on_both_backends!(imports_the_newsroom, imports_the_newsroom);

#[tokio::test]
async fn a_dry_run_writes_nothing() {
    let app = TestApp::builder().start().await.unwrap();
    let options = Options { dry_run: true, ..Options::default() };
    let report = import(&app.state, &fixture("newsroom.xml"), &options, &Quiet).await.unwrap();
    assert!(report.dry_run);
    assert_eq!(report.articles.created, 11);
    assert_eq!(report.comments.created, 10);
    assert_eq!(json(&app, "/api/content/articles").await["total"], 0);
    assert!(!json(&app, "/api/content/sections").await.to_string().contains("محليات"));
    assert_eq!(app.get("/?p=101").await.status(), 404);
    app.stop().await;
}

#[tokio::test]
async fn permalink_structures_and_later_uploads() {
    let app = TestApp::builder().start().await.unwrap();
    // First without the uploads: images are listed as missing, pages keep the old addresses.
    let options = Options { permalink: Some("/archives/%post_id%".into()), ..Options::default() };
    let report = import(&app.state, &fixture("newsroom.xml"), &options, &Quiet).await.unwrap();
    assert_eq!(report.media.created, 0);
    assert_eq!(report.missing_images.len(), 5, "{report}");
    let location = redirects_to_a_page(&app, "/archives/101/").await;
    assert!(location.starts_with("/news/"), "{location}");
    let options = Options { permalink: Some("/%postname%/".into()), ..Options::default() };
    import(&app.state, &fixture("newsroom.xml"), &options, &Quiet).await.unwrap();
    assert_eq!(redirects_to_a_page(&app, "/%d8%a3%d9%85%d8%b7%d8%a7%d8%b1-%d8%ba%d8%b2%d9%8a%d8%b1%d8%a9-%d8%aa%d8%ba%d9%85%d8%b1-%d8%a3%d8%b2%d9%82%d8%a9-%d8%a7%d9%84%d8%ad%d9%8a-%d8%a7%d9%84%d9%82%d8%af%d9%8a%d9%85/").await, location);
    // Then with them: the articles that show those images are rewritten to use the library.
    let report = import_file(&app, &fixture("newsroom.xml")).await;
    assert_eq!(report.media.created, 3, "{report}");
    assert_eq!(report.articles.updated, 3, "the articles that show the three images: {report}");
    let market = app.get("/?p=103").await;
    let market = app.get(market.headers()["location"].to_str().unwrap()).await.text().await.unwrap();
    assert!(market.contains("src=\"/media/uploads/2024/05/"), "the caption's image comes from the library");
    app.stop().await;
}

#[tokio::test]
async fn a_truncated_export_keeps_its_whole_items_and_says_where_it_stopped() {
    let app = TestApp::builder().start().await.unwrap();
    let report = import_file(&app, &fixture("truncated.xml")).await;
    let failure = report.failure.clone().expect("the cut is reported");
    assert!(failure.starts_with("line "), "{failure}");
    assert!(report.incomplete());
    assert_eq!(report.articles.created, 2, "items 103 and 104, whole: {report}");
    assert_eq!(json(&app, "/api/content/articles").await["total"], 2);
    app.stop().await;
}

#[tokio::test]
async fn a_feed_is_refused_before_anything_is_written() {
    let app = TestApp::builder().start().await.unwrap();
    let error = import(&app.state, &fixture("not-wxr.xml"), &Options::default(), &Quiet).await.unwrap_err();
    assert!(matches!(error, ImportError::Wxr(_)), "{error}");
    assert!(error.to_string().contains("not a WordPress export"), "{error}");
    assert_eq!(json(&app, "/api/content/articles").await["total"], 0);
    app.stop().await;
}

async fn editor(app: &TestApp) -> Browser<'_> {
    let hash = passwords::hash(PASSWORD.to_owned()).await.unwrap();
    app.store().create_staff("editor@example.com", "محررة", Role::Editor, &hash, 0).await.unwrap().unwrap();
    let mut browser = Browser::new(app);
    assert_eq!(browser.log_in("editor@example.com", PASSWORD).await.status(), 303);
    browser
}

#[tokio::test]
async fn editors_manage_static_pages_and_the_footer_follows() {
    let app = TestApp::builder().start().await.unwrap();
    let mut browser = editor(&app).await;
    // The home page is cached before the page exists.
    assert!(!app.get("/").await.text().await.unwrap().contains("اتصل بنا"));
    let csrf = browser.hidden("/admin/pages/new", "csrf").await;
    let created = browser
        .post(
            "/admin/pages/new",
            &[
                ("title", "اتصل بنا"),
                ("body", "راسلونا على **البريد**."),
                ("status", "published"),
                ("in_footer", "1"),
                ("position", "1"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(created.status(), 303);
    let page = app.get("/page/%D8%A7%D8%AA%D8%B5%D9%84-%D8%A8%D9%86%D8%A7").await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("<strong>البريد</strong>"));
    let home = app.get("/").await.text().await.unwrap();
    assert!(
        home.contains("href=\"/page/%D8%A7%D8%AA%D8%B5%D9%84-%D8%A8%D9%86%D8%A7\">اتصل بنا</a>"),
        "the footer links it"
    );
    // Unpublished: gone from the footer and the address.
    let id = app.store().pages().await.unwrap()[0].id;
    let edited = browser
        .post(
            &format!("/admin/pages/{id}"),
            &[("title", "اتصل بنا"), ("body", "قريبًا."), ("status", "draft"), ("position", "1"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(edited.status(), 303);
    assert_eq!(app.get("/page/%D8%A7%D8%AA%D8%B5%D9%84-%D8%A8%D9%86%D8%A7").await.status(), 404);
    assert!(!app.get("/").await.text().await.unwrap().contains("اتصل بنا"));
    // Without a CSRF token, nothing; a reader is sent to log in.
    let forged = browser.post("/admin/pages/new", &[("title", "x"), ("body", "y"), ("csrf", "forged")]).await;
    assert_eq!(forged.status(), 403);
    assert_eq!(app.get("/admin/pages").await.status(), 303);
    app.stop().await;
}

#[tokio::test]
async fn editors_add_redirects_for_old_addresses() {
    let app = TestApp::builder().start().await.unwrap();
    let mut browser = editor(&app).await;
    let csrf = browser.hidden("/admin/redirects", "csrf").await;
    let added =
        browser.post("/admin/redirects", &[("from", "/old-about-us/"), ("to", "/feed.xml"), ("csrf", &csrf)]).await;
    assert_eq!(added.status(), 303);
    let answer = app.get("/old-about-us").await;
    assert_eq!(answer.status(), 301);
    assert_eq!(answer.headers()["location"], "/feed.xml");
    let listed = browser.get("/admin/redirects").await.text().await.unwrap();
    assert!(listed.contains("/old-about-us"));
    let refused =
        browser.post("/admin/redirects", &[("from", "/a"), ("to", "https://evil.example/"), ("csrf", &csrf)]).await;
    assert_eq!(refused.status(), 422, "only this site's addresses");
    app.stop().await;
}
