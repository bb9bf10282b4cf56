//! The newsroom over HTTP: logging in, CSRF, throttling, roles, the editor,
//! revisions and conflicts.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{hidden_value, Backend, Browser, TestApp};
use khabar::accounts::passwords;
use khabar::accounts::staff::Role;
use reqwest::header;

const PASSWORD: &str = "زيتون أخضر على الطاولة 42";

/// A browser: keeps its cookies and sends forms as a page would, Origin included.
async fn add_staff(app: &TestApp, email: &str, name: &str, role: Role) -> i64 {
    let hash = passwords::hash(PASSWORD.to_owned()).await.unwrap();
    app.store().create_staff(email, name, role, &hash, khabar::store::now_seconds()).await.unwrap().unwrap()
}

fn as_refs(fields: &[(String, String)]) -> Vec<(&str, &str)> {
    fields.iter().map(|(key, value)| (key.as_str(), value.as_str())).collect()
}

async fn logged_in<'a>(app: &'a TestApp, email: &str) -> Browser<'a> {
    let mut browser = Browser::new(app);
    let response = browser.log_in(email, PASSWORD).await;
    assert_eq!(response.status(), 303, "login of {email}");
    browser
}

/// Creates an article through the editor and returns its id.
async fn write_article(browser: &mut Browser<'_>, title: &str, action: &str) -> (reqwest::StatusCode, Option<i64>) {
    let csrf = browser.hidden("/admin/articles/new", "csrf").await;
    let response = browser
        .post(
            "/admin/articles/new",
            &[
                ("csrf", &csrf),
                ("title", title),
                ("body_markdown", "نص **الخبر** الأول."),
                ("section", "محليات"),
                ("tags", "المدن، النقل العام"),
                ("action", action),
            ],
        )
        .await;
    let status = response.status();
    let id = response
        .headers()
        .get(header::LOCATION)
        .and_then(|location| location.to_str().ok())
        .and_then(|location| location.trim_start_matches("/admin/articles/").split('?').next().map(str::to_owned))
        .and_then(|id| id.parse().ok());
    (status, id)
}

#[tokio::test]
async fn staff_log_in_and_out_with_a_server_side_session() {
    let app = TestApp::builder().start().await.unwrap();
    add_staff(&app, "layla@example.com", "ليلى حداد", Role::Admin).await;
    let mut browser = Browser::new(&app);
    let anonymous = browser.get("/admin/articles?status=drafts").await;
    assert_eq!(anonymous.status(), 303);
    assert_eq!(anonymous.headers()[header::LOCATION], "/admin/login?next=%2Fadmin%2Farticles%3Fstatus%3Ddrafts");

    let wrong = browser.log_in("layla@example.com", "not the password at all").await;
    assert_eq!(wrong.status(), 401);
    let wrong_page = wrong.text().await.unwrap();
    assert!(wrong_page.contains("البريد الإلكتروني أو كلمة المرور غير صحيحة"));
    assert!(wrong_page.contains("value=\"layla@example.com\""), "what was typed is kept");
    let unknown = browser.log_in("nobody@example.com", "not the password at all").await;
    assert_eq!(unknown.status(), 401);
    assert!(
        unknown.text().await.unwrap().contains("البريد الإلكتروني أو كلمة المرور غير صحيحة"),
        "same answer for unknown emails"
    );

    let csrf = browser.hidden("/admin/login", "csrf").await;
    let ok = browser
        .post(
            "/admin/login",
            &[("email", " Layla@Example.com "), ("password", PASSWORD), ("csrf", &csrf), ("next", "//evil.example/")],
        )
        .await;
    assert_eq!(ok.status(), 303);
    assert_eq!(ok.headers()[header::LOCATION], "/admin", "never redirected off-site");
    let set_cookies: Vec<String> =
        ok.headers().get_all(header::SET_COOKIE).iter().map(|value| value.to_str().unwrap().to_owned()).collect();
    let session = set_cookies.iter().find(|cookie| cookie.starts_with("khabar_session=")).expect("session cookie");
    assert!(session.contains("HttpOnly") && session.contains("SameSite=Lax"), "{session}");
    let first_token = browser.cookies["khabar_session"].clone();

    let dashboard = browser.get("/admin").await;
    assert_eq!(dashboard.status(), 200);
    assert_eq!(dashboard.headers()[header::CACHE_CONTROL], "no-store");
    let html = dashboard.text().await.unwrap();
    assert!(html.contains("lang=\"ar\" dir=\"rtl\"") && html.contains("ليلى حداد"));

    // A logged-in visitor is sent on from the login page; another login gets another session.
    let login_page = browser.get("/admin/login?next=/admin/articles").await;
    assert_eq!(login_page.status(), 303);
    assert_eq!(login_page.headers()[header::LOCATION], "/admin/articles");
    let other = logged_in(&app, "layla@example.com").await;
    assert_ne!(other.cookies["khabar_session"], first_token);
    let csrf = hidden_value(&browser.get("/admin").await.text().await.unwrap(), "csrf");
    let logout = browser.post("/admin/logout", &[("csrf", &csrf)]).await;
    assert_eq!(logout.status(), 303);
    assert!(!browser.cookies.contains_key("khabar_session"));
    // The old token no longer works even if replayed.
    browser.cookies.insert("khabar_session".into(), first_token);
    assert_eq!(browser.get("/admin").await.status(), 303);
    app.stop().await;
}

#[tokio::test]
async fn forged_and_cross_site_requests_are_refused() {
    let app = TestApp::builder().start().await.unwrap();
    add_staff(&app, "editor@example.com", "محرر", Role::Editor).await;
    let mut browser = logged_in(&app, "editor@example.com").await;
    let no_token =
        browser.post("/admin/articles/new", &[("title", "x"), ("body_markdown", "y"), ("section", "z")]).await;
    assert_eq!(no_token.status(), 403);
    let csrf = browser.hidden("/admin/articles/new", "csrf").await;
    let cross_site = app
        .client
        .post(app.url("/admin/articles/new"))
        .header(header::COOKIE, browser.cookie_header())
        .header(header::ORIGIN, "https://evil.example")
        .form(&[("csrf", csrf.as_str()), ("title", "x"), ("body_markdown", "y"), ("section", "z")])
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), 403);
    assert!(cross_site.text().await.unwrap().contains("غير مسموح"));
    let forged_login = browser
        .post("/admin/login", &[("email", "editor@example.com"), ("password", PASSWORD), ("csrf", "guess")])
        .await;
    assert_eq!(forged_login.status(), 403);
    app.stop().await;
}

#[tokio::test]
async fn guessing_slows_down_but_cannot_lock_out_a_known_browser() {
    let app = TestApp::builder().start().await.unwrap();
    add_staff(&app, "rana@example.com", "رنا العلي", Role::Author).await;
    // The real user logs in once from their own browser and is remembered.
    let mut own = logged_in(&app, "rana@example.com").await;
    let device = own.cookies["khabar_device"].clone();
    let mut attacker = Browser::new(&app);
    for _ in 0..3 {
        assert_eq!(attacker.log_in("rana@example.com", "wrong guess number x").await.status(), 401);
    }
    let throttled = attacker.log_in("rana@example.com", "wrong guess number x").await;
    assert_eq!(throttled.status(), 429);
    assert!(throttled.text().await.unwrap().contains("محاولات دخول كثيرة"));
    // Even the right password waits on the attacker's side…
    assert_eq!(attacker.log_in("rana@example.com", PASSWORD).await.status(), 429);
    // …while the real user's remembered browser, behind the same address, still gets in.
    let mut returning = Browser::new(&app);
    returning.cookies.insert("khabar_device".into(), device.clone());
    assert_eq!(returning.log_in("rana@example.com", PASSWORD).await.status(), 303);
    // Even once the account has taken a flood of failures from elsewhere.
    let now = khabar::store::now_seconds();
    for _ in 0..khabar::accounts::throttle::ACCOUNT_LIMIT {
        app.store().record_login_attempt("rana@example.com", "elsewhere", false, false, now).await.unwrap();
    }
    assert_eq!(Browser::new(&app).log_in("rana@example.com", PASSWORD).await.status(), 429, "new browsers wait");
    let mut returning = Browser::new(&app);
    returning.cookies.insert("khabar_device".into(), device);
    assert_eq!(returning.log_in("rana@example.com", PASSWORD).await.status(), 303, "the known browser does not");
    assert_eq!(own.get("/admin").await.status(), 200);
    app.stop().await;
}

async fn roles_decide_who_publishes(backend: Backend) {
    let Some(app) = TestApp::builder().backend(backend).start().await else { return };
    add_staff(&app, "contributor@example.com", "مساهم", Role::Contributor).await;
    add_staff(&app, "author@example.com", "كاتب", Role::Author).await;
    add_staff(&app, "other@example.com", "كاتب آخر", Role::Author).await;
    add_staff(&app, "editor@example.com", "محرر", Role::Editor).await;

    let mut contributor = logged_in(&app, "contributor@example.com").await;
    let (status, _) = write_article(&mut contributor, "محاولة نشر مباشر", "publish").await;
    assert_eq!(status, 403, "a contributor cannot publish");
    let (status, draft) = write_article(&mut contributor, "مسودة المساهم", "submit").await;
    assert_eq!(status, 303);
    let draft = draft.unwrap();
    assert_eq!(contributor.get("/admin/staff").await.status(), 403);
    assert_eq!(contributor.get("/admin/activity").await.status(), 403);

    let mut other = logged_in(&app, "other@example.com").await;
    assert_eq!(other.get(&format!("/admin/articles/{draft}")).await.status(), 404, "not their article");
    let csrf = other.hidden("/admin/articles/new", "csrf").await;
    let hijack = other
        .post(
            &format!("/admin/articles/{draft}"),
            &[("csrf", &csrf), ("title", "x"), ("body_markdown", "y"), ("section", "z"), ("action", "save")],
        )
        .await;
    assert_eq!(hijack.status(), 404);

    let mut editor = logged_in(&app, "editor@example.com").await;
    let waiting = editor.get("/admin").await.text().await.unwrap();
    assert!(waiting.contains("بانتظار مراجعتك") && waiting.contains("مسودة المساهم"));
    let page = editor.get(&format!("/admin/articles/{draft}")).await.text().await.unwrap();
    let csrf = hidden_value(&page, "csrf");
    let revision = hidden_value(&page, "revision");
    let published = editor
        .post(
            &format!("/admin/articles/{draft}"),
            &[
                ("csrf", &csrf),
                ("revision", &revision),
                ("title", "مسودة المساهم بعد التحرير"),
                ("body_markdown", "نص محرر."),
                ("section", "محليات"),
                ("action", "publish"),
            ],
        )
        .await;
    assert_eq!(published.status(), 303);
    let public: serde_json::Value = app.get(&format!("/api/content/articles/{draft}")).await.json().await.unwrap();
    assert_eq!(public["title"], "مسودة المساهم بعد التحرير");
    assert_eq!(public["authors"][0]["name"], "مساهم", "the byline stays the writer's");

    // Once published, a contributor can no longer change it.
    let page = contributor.get(&format!("/admin/articles/{draft}")).await.text().await.unwrap();
    let csrf = hidden_value(&page, "csrf");
    let change = contributor
        .post(
            &format!("/admin/articles/{draft}"),
            &[("csrf", &csrf), ("title", "تغيير"), ("body_markdown", "x"), ("section", "محليات"), ("action", "save")],
        )
        .await;
    assert_eq!(change.status(), 403);

    // Fields a form may not set are ignored: the article stays a draft of its creator.
    let (status, sneaky) = {
        let csrf = contributor.hidden("/admin/articles/new", "csrf").await;
        let response = contributor
            .post(
                "/admin/articles/new",
                &[
                    ("csrf", &csrf),
                    ("title", "تسلل"),
                    ("body_markdown", "x"),
                    ("section", "محليات"),
                    ("status", "published"),
                    ("created_by", "1"),
                    ("role", "admin"),
                    ("action", "save"),
                ],
            )
            .await;
        let id: i64 = response.headers()[header::LOCATION]
            .to_str()
            .unwrap()
            .trim_start_matches("/admin/articles/")
            .split('?')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        (response.status(), id)
    };
    assert_eq!(status, 303);
    assert_eq!(app.get(&format!("/api/content/articles/{sneaky}")).await.status(), 404);
    app.stop().await;
}
on_both_backends!(role_matrix, roles_decide_who_publishes);

#[tokio::test]
async fn simultaneous_edits_conflict_and_revisions_restore() {
    let app = TestApp::builder().start().await.unwrap();
    add_staff(&app, "a@example.com", "المحررة الأولى", Role::Editor).await;
    add_staff(&app, "b@example.com", "المحرر الثاني", Role::Editor).await;
    let mut first = logged_in(&app, "a@example.com").await;
    let (_, id) = write_article(&mut first, "العنوان الأصلي", "publish").await;
    let id = id.unwrap();
    let mut second = logged_in(&app, "b@example.com").await;
    let first_page = first.get(&format!("/admin/articles/{id}")).await.text().await.unwrap();
    let second_page = second.get(&format!("/admin/articles/{id}")).await.text().await.unwrap();
    let save = |page: &str, title: &str, body: &str| {
        vec![
            ("csrf".to_owned(), hidden_value(page, "csrf")),
            ("revision".to_owned(), hidden_value(page, "revision")),
            ("title".to_owned(), title.to_owned()),
            ("body_markdown".to_owned(), body.to_owned()),
            ("section".to_owned(), "محليات".to_owned()),
            ("action".to_owned(), "save".to_owned()),
        ]
    };
    let fields = save(&first_page, "عنوان الأولى", "سطر من الأولى.");
    assert_eq!(first.post(&format!("/admin/articles/{id}"), &as_refs(&fields)).await.status(), 303);
    let fields = save(&second_page, "عنوان الثاني", "سطر من الثاني.");
    let conflict = second.post(&format!("/admin/articles/{id}"), &as_refs(&fields)).await;
    assert_eq!(conflict.status(), 409);
    let conflict_page = conflict.text().await.unwrap();
    assert!(conflict_page.contains("المحررة الأولى") && conflict_page.contains("سطر من الأولى"));
    assert!(conflict_page.contains("سطر من الثاني"), "what the second editor typed is kept");
    let public: serde_json::Value = app.get(&format!("/api/content/articles/{id}")).await.json().await.unwrap();
    assert_eq!(public["title"], "عنوان الأولى", "no silent overwrite");
    // Saving again from the conflict page is a deliberate overwrite.
    let fields = save(&conflict_page, "عنوان الثاني", "سطر من الثاني.");
    assert_eq!(second.post(&format!("/admin/articles/{id}"), &as_refs(&fields)).await.status(), 303);

    let history = first.get(&format!("/admin/articles/{id}/revisions?from=1&to=3")).await.text().await.unwrap();
    assert!(history.contains("العنوان الأصلي") && history.contains("diff-added") && history.contains("diff-removed"));
    let csrf = hidden_value(&history, "csrf");
    let restored = first.post(&format!("/admin/articles/{id}/revisions/1/restore"), &[("csrf", &csrf)]).await;
    assert_eq!(restored.status(), 303);
    let public: serde_json::Value = app.get(&format!("/api/content/articles/{id}")).await.json().await.unwrap();
    assert_eq!(public["title"], "العنوان الأصلي");
    assert_eq!(app.store().revisions(id).await.unwrap().len(), 4, "restoring adds a revision");
    let activity = first.get("/admin/activity").await;
    assert_eq!(activity.status(), 403, "editors do not see the audit log");
    app.stop().await;
}

#[tokio::test]
async fn scheduled_articles_wait_and_bad_forms_keep_what_was_typed() {
    let app = TestApp::builder().start().await.unwrap();
    add_staff(&app, "editor@example.com", "محرر", Role::Editor).await;
    let mut editor = logged_in(&app, "editor@example.com").await;
    let csrf = editor.hidden("/admin/articles/new", "csrf").await;
    let invalid = editor
        .post(
            "/admin/articles/new",
            &[("csrf", &csrf), ("title", ""), ("body_markdown", "نص مهم لا يضيع"), ("section", ""), ("action", "save")],
        )
        .await;
    assert_eq!(invalid.status(), 422);
    let page = invalid.text().await.unwrap();
    assert!(page.contains("العنوان مطلوب") && page.contains("نص مهم لا يضيع") && page.contains("aria-invalid"));

    let tomorrow = khabar::store::now_seconds() + 86_400;
    let local = app.state.locale().zoned(tomorrow).datetime().strftime("%Y-%m-%dT%H:%M").to_string();
    let past = editor
        .post(
            "/admin/articles/new",
            &[
                ("csrf", &csrf),
                ("title", "مجدول"),
                ("body_markdown", "نص"),
                ("section", "محليات"),
                ("publish_at", "2001-01-01T10:00"),
                ("action", "schedule"),
            ],
        )
        .await;
    assert_eq!(past.status(), 422, "scheduling needs a future time");
    let scheduled = editor
        .post(
            "/admin/articles/new",
            &[
                ("csrf", &csrf),
                ("title", "مجدول"),
                ("body_markdown", "نص"),
                ("section", "محليات"),
                ("publish_at", &local),
                ("action", "schedule"),
            ],
        )
        .await;
    assert_eq!(scheduled.status(), 303);
    let location = scheduled.headers()[header::LOCATION].to_str().unwrap().to_owned();
    assert!(location.ends_with("saved=scheduled"));
    let id = location.trim_start_matches("/admin/articles/").split('?').next().unwrap();
    assert_eq!(app.get(&format!("/api/content/articles/{id}")).await.status(), 404);
    let listed = editor.get("/admin/articles?status=scheduled").await.text().await.unwrap();
    assert!(listed.contains("مجدول"));

    let preview =
        editor.post("/admin/preview", &[("csrf", &csrf), ("body_markdown", "**غامق** <script>x</script>")]).await;
    assert_eq!(preview.status(), 200);
    let html = preview.text().await.unwrap();
    assert!(html.contains("<strong>غامق</strong>") && !html.contains("<script"));
    app.stop().await;
}

#[tokio::test]
async fn settings_change_every_page_at_once_and_decide_author_publishing() {
    let app = TestApp::builder().demo().start().await.unwrap();
    add_staff(&app, "admin@example.com", "المديرة", Role::Admin).await;
    add_staff(&app, "editor@example.com", "محرر", Role::Editor).await;
    add_staff(&app, "author@example.com", "كاتب", Role::Author).await;
    let before = app.get("/").await.text().await.unwrap();
    assert!(!before.contains("تابعنا"), "no empty follow-us block");

    let mut editor = logged_in(&app, "editor@example.com").await;
    assert_eq!(editor.get("/admin/settings").await.status(), 403);
    let mut author = logged_in(&app, "author@example.com").await;
    assert_eq!(write_article(&mut author, "خبر الكاتب", "publish").await.0, 403);

    let mut admin = logged_in(&app, "admin@example.com").await;
    let csrf = admin.hidden("/admin/settings", "csrf").await;
    let bad = admin.post("/admin/settings", &[("csrf", &csrf), ("follow.telegram", "javascript:alert(1)")]).await;
    assert_eq!(bad.status(), 422);
    assert!(bad.text().await.unwrap().contains("javascript:alert(1)"), "what was typed is shown again");
    let saved = admin
        .post(
            "/admin/settings",
            &[
                ("csrf", &csrf),
                ("site_name", "خبر اليوم"),
                ("follow.telegram", "https://t.me/khabar_today"),
                ("authors_may_publish", "on"),
            ],
        )
        .await;
    assert_eq!(saved.status(), 303);
    let after = app.get("/").await.text().await.unwrap();
    assert!(after.contains("https://t.me/khabar_today") && after.contains("تابعنا"));
    assert!(after.contains(">خبر اليوم</a>"), "the cached home page was refreshed");
    let article = app.get(&common::first_article_path(&after)).await.text().await.unwrap();
    assert!(article.contains("https://t.me/khabar_today"), "every page, not just home");
    assert_eq!(write_article(&mut author, "خبر الكاتب", "publish").await.0, 303, "now authors may publish");
    let activity = admin.get("/admin/activity").await.text().await.unwrap();
    assert!(activity.contains("settings.save") && activity.contains("article.published"));

    // Time zone, digits and base URL can be changed from the admin too, and take effect at once.
    let wrong_zone = admin.post("/admin/settings", &[("csrf", &csrf), ("timezone", "Mars/Olympus")]).await;
    assert_eq!(wrong_zone.status(), 422);
    let localized = admin
        .post(
            "/admin/settings",
            &[
                ("csrf", &csrf),
                ("timezone", "Africa/Cairo"),
                ("digits", "arabic"),
                ("base_url", "https://khabar.example"),
            ],
        )
        .await;
    assert_eq!(localized.status(), 303);
    let home = app.get("/").await.text().await.unwrap();
    let masthead = &home[home.find("class=\"today\"").unwrap()..];
    assert!(masthead[..masthead.find("</p>").unwrap()].contains('٢'), "Arabic-Indic digits at once");
    assert!(home.contains("<link rel=\"canonical\" href=\"https://khabar.example/\">"));
    let json: serde_json::Value = app.get("/api/content/articles?limit=1").await.json().await.unwrap();
    assert!(json["articles"][0]["url"].as_str().unwrap().starts_with("https://khabar.example/news/"));
    app.stop().await;
}

async fn editors_manage_sections_tags_and_authors(backend: Backend) {
    let Some(app) = TestApp::builder().backend(backend).demo().start().await else { return };
    add_staff(&app, "editor@example.com", "محرر", Role::Editor).await;
    add_staff(&app, "author@example.com", "كاتب", Role::Author).await;
    let mut author = logged_in(&app, "author@example.com").await;
    assert_eq!(author.get("/admin/sections").await.status(), 403);
    let mut editor = logged_in(&app, "editor@example.com").await;
    let page = editor.get("/admin/sections").await.text().await.unwrap();
    let csrf = hidden_value(&page, "csrf");
    let sections = app.store().sections(khabar::store::now_seconds()).await.unwrap();
    let politics = sections.iter().find(|section| section.name == "سياسة").unwrap();
    let renamed = editor
        .post(
            &format!("/admin/sections/{}", politics.id),
            &[("csrf", &csrf), ("name", "الشأن السياسي"), ("description", "وصف جديد"), ("position", "0")],
        )
        .await;
    assert_eq!(renamed.status(), 303);
    let home = app.get("/").await.text().await.unwrap();
    assert!(home.contains("الشأن السياسي"), "the cached navigation changed");
    assert_eq!(
        app.get(&format!("/section/{}", khabar::web::encode_path_segment(&politics.slug))).await.status(),
        200,
        "the slug stays"
    );
    let taken = editor.post(&format!("/admin/sections/{}", politics.id), &[("csrf", &csrf), ("name", "اقتصاد")]).await;
    assert_eq!(taken.status(), 422);
    let in_use = editor.post(&format!("/admin/sections/{}", politics.id), &[("csrf", &csrf), ("delete", "1")]).await;
    assert_eq!(in_use.status(), 422);
    assert!(in_use.text().await.unwrap().contains("لا يمكن حذف قسم فيه مقالات"));
    assert_eq!(
        editor.post("/admin/sections", &[("csrf", &csrf), ("name", "منوعات"), ("description", "")]).await.status(),
        303
    );
    let empty = app
        .store()
        .sections(khabar::store::now_seconds())
        .await
        .unwrap()
        .into_iter()
        .find(|section| section.name == "منوعات")
        .unwrap();
    assert_eq!(
        editor.post(&format!("/admin/sections/{}", empty.id), &[("csrf", &csrf), ("delete", "1")]).await.status(),
        303
    );

    let tags = app.store().tags(khabar::store::now_seconds()).await.unwrap();
    let tag = &tags[0];
    assert_eq!(
        editor.post(&format!("/admin/tags/{}", tag.id), &[("csrf", &csrf), ("delete", "1")]).await.status(),
        303
    );
    assert_eq!(app.store().tags(khabar::store::now_seconds()).await.unwrap().len(), tags.len() - 1);
    let authors = app.store().authors(khabar::store::now_seconds()).await.unwrap();
    let layla = authors.iter().find(|author| author.name == "ليلى حداد").unwrap();
    let bio = editor
        .post(
            &format!("/admin/authors/{}", layla.id),
            &[("csrf", &csrf), ("name", "ليلى حداد"), ("description", "نبذة محدّثة")],
        )
        .await;
    assert_eq!(bio.status(), 303);
    let author_page =
        app.get(&format!("/author/{}", khabar::web::encode_path_segment(&layla.slug))).await.text().await.unwrap();
    assert!(author_page.contains("نبذة محدّثة"));
    app.stop().await;
}
on_both_backends!(taxonomy, editors_manage_sections_tags_and_authors);

fn photo_with_gps(width: u32, height: u32) -> Vec<u8> {
    let picture = image::DynamicImage::new_rgb8(width, height);
    let mut plain = Vec::new();
    picture.write_to(&mut std::io::Cursor::new(&mut plain), image::ImageFormat::Jpeg).unwrap();
    let mut payload = b"Exif\0\0MM\0*\0\0\0\x08GPSLatitude 33.5138 N 36.2765 E".to_vec();
    payload.resize(80, 0);
    let length = u16::try_from(payload.len() + 2).unwrap().to_be_bytes();
    let mut photo = vec![0xFF, 0xD8, 0xFF, 0xE1, length[0], length[1]];
    photo.extend_from_slice(&payload);
    photo.extend_from_slice(&plain[2..]);
    photo
}

async fn upload(browser: &mut Browser<'_>, bytes: Vec<u8>, file_name: &str, caption: &str) -> reqwest::Response {
    let csrf = browser.hidden("/admin/media", "csrf").await;
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf)
        .text("caption", caption.to_owned())
        .text("credit", "تصوير: خبر")
        .part("file", reqwest::multipart::Part::bytes(bytes).file_name(file_name.to_owned()));
    post_multipart(browser, "/admin/media", form).await
}

/// A multipart form posted from this browser, as the admin's upload forms send it.
async fn post_multipart(browser: &mut Browser<'_>, path: &str, form: reqwest::multipart::Form) -> reqwest::Response {
    let response = browser
        .app
        .client
        .post(browser.app.url(path))
        .header(header::COOKIE, browser.cookie_header())
        .header(header::ORIGIN, &browser.app.base)
        .multipart(form)
        .send()
        .await
        .unwrap();
    browser.keep_cookies(&response);
    response
}

#[tokio::test]
async fn uploads_are_cleaned_resized_and_used_with_srcset() {
    let app = TestApp::builder().start().await.unwrap();
    add_staff(&app, "editor@example.com", "محرر", Role::Editor).await;
    let mut editor = logged_in(&app, "editor@example.com").await;

    let svg = upload(
        &mut editor,
        b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>".to_vec(),
        "x.jpg",
        "",
    )
    .await;
    assert_eq!(svg.status(), 422);
    assert!(svg.text().await.unwrap().contains("لا SVG"));
    let mut chunk = b"IHDR".to_vec();
    chunk.extend_from_slice(&40_000u32.to_be_bytes());
    chunk.extend_from_slice(&40_000u32.to_be_bytes());
    chunk.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut crc = flate2::Crc::new();
    crc.update(&chunk);
    let mut bomb = b"\x89PNG\r\n\x1a\n\0\0\0\x0d".to_vec();
    bomb.extend_from_slice(&chunk);
    bomb.extend_from_slice(&crc.sum().to_be_bytes());
    let mut idat = flate2::Crc::new();
    idat.update(b"IDAT");
    bomb.extend_from_slice(b"\0\0\0\0IDAT");
    bomb.extend_from_slice(&idat.sum().to_be_bytes());
    let refused = upload(&mut editor, bomb, "bomb.png", "").await;
    assert_eq!(refused.status(), 422);
    assert!(refused.text().await.unwrap().contains("40000×40000"), "refused for its size, before decoding");

    let uploaded = upload(&mut editor, photo_with_gps(1200, 800), "../../etc/passwd.jpg", "جلسة المجلس").await;
    assert_eq!(uploaded.status(), 303);
    let media = app.store().media(10).await.unwrap();
    assert_eq!(media.len(), 1);
    let item = &media[0];
    assert!(item.path.starts_with("/media/uploads/") && !item.path.contains("passwd"), "{}", item.path);
    let public = app.get(&item.path).await;
    assert_eq!(public.status(), 200);
    assert_eq!(public.headers()[header::CACHE_CONTROL], "public, max-age=31536000, immutable");
    let bytes = public.bytes().await.unwrap();
    assert!(!bytes.windows(3).any(|window| window == b"GPS"), "location data removed");

    // The copies are made in the background, promptly.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let ready = loop {
        let row = app.store().media_by_id(item.id).await.unwrap().unwrap();
        if row.variants_ready {
            break row;
        }
        assert!(std::time::Instant::now() < deadline, "copies not made within 30 s");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(ready.widths(), vec![320, 640, 1024]);
    assert_eq!(app.get(&ready.variant_path(640)).await.status(), 200);

    let csrf = editor.hidden("/admin/articles/new", "csrf").await;
    let media_id = item.id.to_string();
    let published = editor
        .post(
            "/admin/articles/new",
            &[
                ("csrf", &csrf),
                ("title", "خبر بصورة"),
                ("body_markdown", "نص"),
                ("section", "محليات"),
                ("media_id", &media_id),
                ("action", "publish"),
            ],
        )
        .await;
    assert_eq!(published.status(), 303);
    let home = app.get("/").await.text().await.unwrap();
    assert!(home.contains(&format!("srcset=\"{}", ready.variant_path(320))), "cards use the copies");
    let article = app.get(&common::first_article_path(&home)).await.text().await.unwrap();
    assert!(article.contains("جلسة المجلس") && article.contains("تصوير: خبر"), "caption and credit from the library");
    assert!(article.contains("srcset="));
    app.stop().await;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    /// Sent to the login page.
    Login,
    /// 403, or 404 for objects the role may not know about.
    Denied,
    /// Anything else: the request reached the feature (200, 303, 400, 422…).
    Allowed,
}

/// (method, path, form fields, expected outcome as [anonymous, contributor, author, editor, admin])
type Route<'a> = (&'a str, String, Vec<(&'a str, &'a str)>, [Outcome; 5]);

fn outcome_of(response: &reqwest::Response) -> Outcome {
    let status = response.status().as_u16();
    let to_login = status == 303
        && response
            .headers()
            .get(header::LOCATION)
            .is_some_and(|location| location.to_str().unwrap().starts_with("/admin/login"));
    match status {
        _ if to_login => Outcome::Login,
        403 | 404 => Outcome::Denied,
        _ => Outcome::Allowed,
    }
}

/// Every admin route, as anonymous and as each role: who gets in.
#[tokio::test]
async fn every_admin_route_checks_the_role() {
    use Outcome::{Allowed as A, Denied as D, Login as L};
    let app = TestApp::builder().start().await.unwrap();
    let roles = [Role::Contributor, Role::Author, Role::Editor, Role::Admin];
    for role in roles {
        add_staff(&app, &format!("{}@example.com", role.as_str()), role.arabic_name(), role).await;
    }
    // An article by the editor, a section, a tag and a library image to aim at.
    let mut editor = logged_in(&app, "editor@example.com").await;
    let (_, article) = write_article(&mut editor, "مقال المحرر", "publish").await;
    let article = article.unwrap();
    let section = app.store().sections(khabar::store::now_seconds()).await.unwrap()[0].id;
    let tag = app.store().tags(khabar::store::now_seconds()).await.unwrap()[0].id;
    let author = app.store().authors(khabar::store::now_seconds()).await.unwrap()[0].id;
    let media = app.store().add_media("/media/uploads/x.jpg", 10, 10, 10, "", "", "", None, 0).await.unwrap();
    let staff_id = app.store().staff_by_email("contributor@example.com").await.unwrap().unwrap().id;
    let csv = "email,name\nreader@example.com,قارئ\n";
    khabar::newsletter::import::import_csv(app.store(), csv.as_bytes(), true, 1, |_| {}).await.unwrap();
    let subscriber = app.store().subscriber_by_email("reader@example.com").await.unwrap().unwrap().id;
    let (send, _) =
        khabar::newsletter::issues::create_digest(&app.state, "digest-roles", "tests").await.unwrap().unwrap();
    let poll_write = khabar::polls::store::PollWrite {
        question: "سؤال".to_owned(),
        options: vec!["أ".to_owned(), "ب".to_owned()],
        multiple: false,
        placement: "sidebar".to_owned(),
        article_id: None,
        opens_at: None,
        closes_at: None,
        staff_only: false,
        address_allowance: 0,
    };
    let poll = app.store().create_poll(&poll_write, "tests", 1).await.unwrap();
    let webhook = app
        .store()
        .create_webhook(
            &khabar::webhooks::store::NewWebhook {
                url: "https://hooks.example.com/khabar",
                secret: "a secret of some length",
                events: "article.published",
                description: "",
                created_by: "tests",
            },
            1,
        )
        .await
        .unwrap();
    let comment = app
        .store()
        .insert_comment(
            &khabar::comments::store::NewComment {
                article_id: article,
                parent_id: None,
                name: "قارئ",
                email_hash: "hash",
                notify_email: "",
                address_hash: "address",
                body_markdown: "نص",
                body_html: "<p>نص</p>",
                status: "pending",
                held_for: "first_comment",
                edit_key_hash: "key",
            },
            khabar::store::now_seconds(),
        )
        .await
        .unwrap();

    let routes: Vec<Route> = vec![
        ("GET", "/admin".into(), vec![], [L, A, A, A, A]),
        ("GET", "/admin/articles".into(), vec![], [L, A, A, A, A]),
        ("GET", "/admin/articles/new".into(), vec![], [L, A, A, A, A]),
        ("GET", format!("/admin/articles/{article}"), vec![], [L, D, D, A, A]),
        ("GET", format!("/admin/articles/{article}/revisions"), vec![], [L, D, D, A, A]),
        ("GET", "/admin/media".into(), vec![], [L, A, A, A, A]),
        ("GET", "/admin/sections".into(), vec![], [L, D, D, A, A]),
        ("GET", "/admin/tags".into(), vec![], [L, D, D, A, A]),
        ("GET", "/admin/authors".into(), vec![], [L, D, D, A, A]),
        ("GET", "/admin/staff".into(), vec![], [L, D, D, D, A]),
        ("GET", "/admin/settings".into(), vec![], [L, D, D, D, A]),
        ("GET", "/admin/activity".into(), vec![], [L, D, D, D, A]),
        ("GET", "/admin/account".into(), vec![], [L, A, A, A, A]),
        ("POST", "/admin/account/password".into(), vec![("current", "wrong")], [L, A, A, A, A]),
        ("POST", "/admin/account/two-factor".into(), vec![("step", "nonsense")], [L, A, A, A, A]),
        ("POST", "/admin/articles/new".into(), vec![("action", "publish")], [L, D, D, A, A]),
        ("POST", "/admin/articles/new".into(), vec![("action", "save")], [L, A, A, A, A]),
        ("POST", format!("/admin/articles/{article}"), vec![("action", "save")], [L, D, D, A, A]),
        ("POST", format!("/admin/articles/{article}/revisions/1/restore"), vec![], [L, D, D, A, A]),
        ("POST", "/admin/preview".into(), vec![("body_markdown", "نص")], [L, A, A, A, A]),
        ("POST", format!("/admin/media/{media}"), vec![("caption", "تعليق")], [L, D, D, A, A]),
        ("POST", "/admin/sections".into(), vec![("name", "")], [L, D, D, A, A]),
        ("POST", format!("/admin/sections/{section}"), vec![("name", "")], [L, D, D, A, A]),
        ("POST", format!("/admin/tags/{tag}"), vec![("name", "")], [L, D, D, A, A]),
        ("POST", format!("/admin/authors/{author}"), vec![("name", "")], [L, D, D, A, A]),
        ("POST", "/admin/staff".into(), vec![("name", "")], [L, D, D, D, A]),
        ("POST", format!("/admin/staff/{staff_id}"), vec![("role", "nonsense")], [L, D, D, D, A]),
        ("POST", "/admin/settings".into(), vec![("follow.x", "not a link")], [L, D, D, D, A]),
        ("GET", "/admin/newsletter".into(), vec![], [L, D, D, D, A]),
        ("GET", "/admin/newsletter?q=reader&status=confirmed".into(), vec![], [L, D, D, D, A]),
        ("GET", "/admin/newsletter/export.csv".into(), vec![], [L, D, D, D, A]),
        ("POST", "/admin/newsletter/import".into(), vec![("mode", "confirmed")], [L, D, D, D, A]),
        ("GET", "/admin/newsletter/sends".into(), vec![], [L, D, D, A, A]),
        ("GET", format!("/admin/newsletter/sends/{send}"), vec![], [L, D, D, A, A]),
        ("POST", "/admin/newsletter/alert".into(), vec![("article_id", "")], [L, D, D, A, A]),
        ("POST", "/admin/newsletter/digest".into(), vec![], [L, D, D, A, A]),
        ("POST", format!("/admin/newsletter/sends/{send}/cancel"), vec![], [L, D, D, A, A]),
        ("POST", format!("/admin/newsletter/subscribers/{subscriber}/erase"), vec![], [L, D, D, D, A]),
        ("GET", "/admin/polls".into(), vec![], [L, D, D, A, A]),
        ("POST", "/admin/polls".into(), vec![("question", "")], [L, D, D, A, A]),
        ("GET", format!("/admin/polls/{poll}"), vec![], [L, D, D, A, A]),
        ("POST", format!("/admin/polls/{poll}"), vec![("question", "")], [L, D, D, A, A]),
        ("POST", format!("/admin/polls/{poll}/action"), vec![("action", "close")], [L, D, D, A, A]),
        ("GET", format!("/admin/polls/{poll}/results.csv"), vec![], [L, D, D, A, A]),
        ("GET", format!("/admin/polls/{poll}/results.json"), vec![], [L, D, D, A, A]),
        ("GET", "/admin/comments".into(), vec![], [L, D, D, A, A]),
        ("GET", "/admin/comments?status=spam".into(), vec![], [L, D, D, A, A]),
        ("POST", "/admin/comments/bulk".into(), vec![("action", "nonsense")], [L, D, D, A, A]),
        ("GET", format!("/admin/comments/{comment}"), vec![], [L, D, D, A, A]),
        ("POST", format!("/admin/comments/{comment}"), vec![("body", "")], [L, D, D, A, A]),
        ("POST", format!("/admin/comments/{comment}/action"), vec![("action", "nonsense")], [L, D, D, A, A]),
        ("POST", "/admin/comments/settings".into(), vec![("mode", "nonsense")], [L, D, D, D, A]),
        ("POST", "/admin/comments/erase".into(), vec![("email", "not an email")], [L, D, D, D, A]),
        ("GET", "/admin/search".into(), vec![], [L, D, D, A, A]),
        ("POST", "/admin/search".into(), vec![("recency", "x")], [L, D, D, A, A]),
        ("POST", "/admin/search/variants".into(), vec![("words", "")], [L, D, D, A, A]),
        ("GET", "/admin/webhooks".into(), vec![], [L, D, D, D, A]),
        ("POST", "/admin/webhooks".into(), vec![("url", "")], [L, D, D, D, A]),
        ("POST", "/admin/webhooks/settings".into(), vec![("allowed_hosts", "not/a host")], [L, D, D, D, A]),
        ("POST", format!("/admin/webhooks/{webhook}/action"), vec![("action", "nonsense")], [L, D, D, D, A]),
    ];
    let mut anonymous = Browser::new(&app);
    let mut browsers = Vec::new();
    for role in roles {
        browsers.push(logged_in(&app, &format!("{}@example.com", role.as_str())).await);
    }
    for (method, path, form, expected) in &routes {
        for (index, expected) in expected.iter().enumerate() {
            let browser = if index == 0 { &mut anonymous } else { &mut browsers[index - 1] };
            let response = if *method == "GET" {
                browser.get(path).await
            } else {
                let csrf = if index == 0 {
                    String::new()
                } else {
                    hidden_value(&browser.get("/admin").await.text().await.unwrap(), "csrf")
                };
                let mut fields = form.clone();
                fields.push(("csrf", &csrf));
                browser.post(path, &fields).await
            };
            let who = if index == 0 { "anonymous" } else { roles[index - 1].as_str() };
            assert_eq!(outcome_of(&response), *expected, "{method} {path} as {who}: {}", response.status());
        }
    }
    // The matrix did not let anything through by accident.
    assert_eq!(app.store().staff_by_email("contributor@example.com").await.unwrap().unwrap().role(), Role::Contributor);
    app.stop().await;
}

#[tokio::test]
async fn changing_a_password_ends_the_other_sessions() {
    let app = TestApp::builder().start().await.unwrap();
    add_staff(&app, "karim@example.com", "كريم منصور", Role::Author).await;
    let mut desk = logged_in(&app, "karim@example.com").await;
    let mut phone = logged_in(&app, "karim@example.com").await;
    let csrf = desk.hidden("/admin/account", "csrf").await;
    let wrong = desk
        .post(
            "/admin/account/password",
            &[("csrf", &csrf), ("current", "nope"), ("new_password", "x"), ("confirm", "x")],
        )
        .await;
    assert_eq!(wrong.status(), 422);
    assert!(wrong.text().await.unwrap().contains("كلمة المرور الحالية غير صحيحة"));
    let weak = desk
        .post(
            "/admin/account/password",
            &[("csrf", &csrf), ("current", PASSWORD), ("new_password", "short"), ("confirm", "short")],
        )
        .await;
    assert_eq!(weak.status(), 422);
    let new_password = "رمان وتفاح في سوق الخميس";
    let changed = desk
        .post(
            "/admin/account/password",
            &[("csrf", &csrf), ("current", PASSWORD), ("new_password", new_password), ("confirm", new_password)],
        )
        .await;
    assert_eq!(changed.status(), 303);
    assert_eq!(desk.get("/admin").await.status(), 200, "the session that changed it stays");
    assert_eq!(phone.get("/admin").await.status(), 303, "every other session ends");
    assert_eq!(Browser::new(&app).log_in("karim@example.com", PASSWORD).await.status(), 401);
    assert_eq!(Browser::new(&app).log_in("karim@example.com", new_password).await.status(), 303);
    app.stop().await;
}

fn current_code(secret: &str) -> String {
    let bytes = totp_rs::Secret::Encoded(secret.to_owned()).to_bytes().unwrap();
    let generator =
        totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, 30, bytes, Some("x".into()), "y".into()).unwrap();
    generator.generate_current().unwrap()
}

#[tokio::test]
async fn two_factor_login_asks_for_a_fresh_code_and_can_be_required() {
    let app = TestApp::builder().start().await.unwrap();
    let id = add_staff(&app, "rana@example.com", "رنا العلي", Role::Editor).await;
    add_staff(&app, "admin@example.com", "المديرة", Role::Admin).await;
    let mut rana = logged_in(&app, "rana@example.com").await;
    let csrf = rana.hidden("/admin/account", "csrf").await;
    let started = rana.post("/admin/account/two-factor", &[("csrf", &csrf), ("step", "start")]).await;
    assert_eq!(started.status(), 303, "{:?}", started.headers().get(header::LOCATION));
    eprintln!(
        "STATE {:?} LOCATION {:?}",
        app.store().totp_state(id).await.unwrap(),
        started.headers().get(header::LOCATION)
    );
    let page = rana.get("/admin/account").await.text().await.unwrap();
    assert!(page.contains("<svg") && page.contains("class=\"secret\""), "{page}");
    assert!(page.contains("<title>حسابي — "), "a clean page title");
    let (_, pending, _) = app.store().totp_state(id).await.unwrap();
    let secret = pending.unwrap();
    let wrong =
        rana.post("/admin/account/two-factor", &[("csrf", &csrf), ("step", "confirm"), ("code", "000000")]).await;
    assert_eq!(wrong.status(), 422);
    let code = current_code(&secret);
    assert_eq!(
        rana.post("/admin/account/two-factor", &[("csrf", &csrf), ("step", "confirm"), ("code", &code)]).await.status(),
        303
    );

    // Logging in now takes the password, then a code; the confirming code cannot be replayed.
    let mut browser = Browser::new(&app);
    let step_one = browser.log_in("rana@example.com", PASSWORD).await;
    assert_eq!(step_one.status(), 200);
    let code_page = step_one.text().await.unwrap();
    assert!(code_page.contains("التحقق بخطوتين") && !browser.cookies.contains_key("khabar_session"));
    let csrf = hidden_value(&code_page, "csrf");
    let replay = browser.post("/admin/login/code", &[("csrf", &csrf), ("code", &code)]).await;
    assert_eq!(replay.status(), 401, "a used code is refused");
    let wrong = browser.post("/admin/login/code", &[("csrf", &csrf), ("code", "123456")]).await;
    assert_eq!(wrong.status(), 401);
    assert!(!browser.cookies.contains_key("khabar_session"));
    // The next time step's code works (wait for it rather than reuse one).
    let fresh = loop {
        let candidate = current_code(&secret);
        if candidate != code {
            break candidate;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    };
    let arabic_digits = khabar_arabic::digits::to_arabic_indic(&fresh);
    let ok = browser.post("/admin/login/code", &[("csrf", &csrf), ("code", &arabic_digits)]).await;
    assert_eq!(ok.status(), 303);
    assert_eq!(browser.get("/admin").await.status(), 200);

    // When the site requires it, staff without it can only set it up.
    let mut admin = logged_in(&app, "admin@example.com").await;
    let csrf = admin.hidden("/admin/settings", "csrf").await;
    let required = admin.post("/admin/settings", &[("csrf", &csrf), ("require_two_factor", "on")]).await;
    let status = required.status();
    let body = required.text().await.unwrap();
    assert_eq!(status, 303, "{}", &body[body.find("<main").unwrap_or(0)..]);
    let blocked = admin.get("/admin/articles").await;
    assert_eq!(blocked.status(), 303);
    assert_eq!(blocked.headers()[header::LOCATION], "/admin/account?two_factor=required");
    assert_eq!(admin.get("/admin/account?two_factor=required").await.status(), 200);
    assert_eq!(browser.get("/admin/articles").await.status(), 200, "staff with two-factor carry on");

    // A lost phone: an admin turns the member's two-factor login off.
    app.store().save_settings(&[("require_two_factor".to_owned(), String::new())]).await.unwrap();
    app.state.reload_settings().await.unwrap();
    let csrf = hidden_value(&admin.get("/admin/staff").await.text().await.unwrap(), "csrf");
    let staff_page = admin.get("/admin/staff").await.text().await.unwrap();
    assert!(staff_page.contains("إيقاف التحقق بخطوتين"));
    let reset = admin
        .post(&format!("/admin/staff/{id}"), &[("csrf", &csrf), ("role", "editor"), ("reset_two_factor", "1")])
        .await;
    assert_eq!(reset.status(), 303);
    assert!(!app.store().staff_by_id(id).await.unwrap().unwrap().two_factor);
    app.stop().await;
}

/// The email's parts, decoded: lettre sends Arabic text as base64.
fn decoded_parts(message: &str) -> String {
    use base64::Engine;
    let mut decoded = String::new();
    for part in message.split("\n--") {
        let Some((headers, body)) = part.split_once("\n\n") else { continue };
        if headers.contains("Content-Transfer-Encoding: base64") {
            let joined: String = body.lines().take_while(|line| !line.starts_with("--")).collect();
            if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(joined.trim()) {
                decoded.push_str(&String::from_utf8_lossy(&bytes));
            }
        } else {
            decoded.push_str(body);
        }
    }
    decoded
}

fn reset_link(message: &str) -> String {
    let text = decoded_parts(message);
    let start = text.find("/admin/reset?token=").unwrap_or_else(|| panic!("no reset link in {text}"));
    let token: String =
        text[start + "/admin/reset?token=".len()..].chars().take_while(char::is_ascii_hexdigit).collect();
    assert_eq!(token.len(), 64, "{text}");
    format!("/admin/reset?token={token}")
}

#[tokio::test]
async fn a_forgotten_password_is_reset_by_a_single_use_emailed_link() {
    let smtp = common::SmtpSink::start().await;
    let app = TestApp::builder().config("smtp_url", &format!("\"{}\"", smtp.url)).start().await.unwrap();
    add_staff(&app, "samer@example.com", "سامر الخطيب", Role::Author).await;
    let mut old_session = logged_in(&app, "samer@example.com").await;
    let mut browser = Browser::new(&app);
    let ask = |email: &'static str| {
        let app = &app;
        async move {
            let mut browser = Browser::new(app);
            let csrf = browser.hidden("/admin/forgot", "csrf").await;
            let response = browser.post("/admin/forgot", &[("csrf", &csrf), ("email", email)]).await;
            (response.status(), response.text().await.unwrap())
        }
    };
    let (known_status, known_page) = ask("samer@example.com").await;
    let (unknown_status, unknown_page) = ask("nobody@example.com").await;
    assert_eq!((known_status, unknown_status), (reqwest::StatusCode::OK, reqwest::StatusCode::OK));
    let notice = |page: &str| page[page.find("class=\"notice\"").unwrap()..].split("</p>").next().unwrap().to_owned();
    assert_eq!(notice(&known_page), notice(&unknown_page), "the same answer for unknown emails");
    let messages = smtp.wait_for(1).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(smtp.count(), 1, "nothing is sent for unknown addresses");
    let email = &messages[0];
    assert!(email.contains("samer@example.com") && email.contains("multipart/alternative"));
    let decoded = decoded_parts(email);
    assert!(decoded.contains("مرحبًا سامر الخطيب"), "an Arabic text part: {decoded}");
    let html_is_rtl =
        decoded.contains("<html lang=\"ar\" dir=\"rtl\">") || email.contains("<html lang=3D\"ar\" dir=3D\"rtl\">");
    assert!(html_is_rtl, "an RTL HTML part: {email}");
    let link = reset_link(email);

    let page = browser.get(&link).await.text().await.unwrap();
    let csrf = hidden_value(&page, "csrf");
    let token = hidden_value(&page, "token");
    let weak = browser
        .post("/admin/reset", &[("csrf", &csrf), ("token", &token), ("new_password", "short"), ("confirm", "short")])
        .await;
    assert_eq!(weak.status(), 422);
    let new_password = "قهوة الصباح مع فيروز دائما";
    let done = browser
        .post(
            "/admin/reset",
            &[("csrf", &csrf), ("token", &token), ("new_password", new_password), ("confirm", new_password)],
        )
        .await;
    assert_eq!(done.status(), 303);
    assert_eq!(old_session.get("/admin").await.status(), 303, "a reset ends every session");
    assert_eq!(browser.get(&link).await.status(), 410, "single use");
    let again = browser
        .post(
            "/admin/reset",
            &[("csrf", &csrf), ("token", &token), ("new_password", new_password), ("confirm", new_password)],
        )
        .await;
    assert_eq!(again.status(), 410);
    assert_eq!(Browser::new(&app).log_in("samer@example.com", new_password).await.status(), 303);

    // Flooding an inbox is capped.
    for _ in 0..5 {
        ask("samer@example.com").await;
    }
    // Mail goes out in the background: wait for the capped number (a busy
    // machine took more than a fixed 500 ms), then make sure no more follow.
    smtp.wait_for(khabar::accounts::resets::RESETS_PER_HOUR as usize).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(smtp.count(), khabar::accounts::resets::RESETS_PER_HOUR as usize);
    app.stop().await;
}

async fn import_subscribers(browser: &mut Browser<'_>, csv: &str, mode: &str) -> reqwest::Response {
    let csrf = browser.hidden("/admin/newsletter", "csrf").await;
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf)
        .text("mode", mode.to_owned())
        .part("file", reqwest::multipart::Part::bytes(csv.as_bytes().to_vec()).file_name("list.csv"));
    post_multipart(browser, "/admin/newsletter/import", form).await
}

/// The admin's subscriber desk: import with a line-by-line report, counts,
/// search, export, erase; confirmation requests for an unconfirmed import go
/// out through the real SMTP server.
#[tokio::test]
async fn admins_import_search_export_and_erase_subscribers() {
    let smtp = common::RealSmtp::start(&[]);
    let app = TestApp::builder()
        .demo()
        .config("smtp_url", &format!("\"{}\"", smtp.url))
        .config("newsletter_digest_time", "\"\"")
        .start()
        .await
        .unwrap();
    add_staff(&app, "admin@example.com", "مديرة الموقع", Role::Admin).await;
    let mut admin = logged_in(&app, "admin@example.com").await;

    let csv = "email,name\nsalma@example.com,سلمى\nSALMA@example.com,سلمى مكررة\nnot-an-email,خطأ\nbad@example.com,\"سطر\nجديد\"\nomar@مثال.إختبار,\n";
    let headless = import_subscribers(&mut admin, "name\nسلمى\n", "confirmed").await;
    assert_eq!(headless.status(), 422);
    assert!(
        headless.text().await.unwrap().contains("السطر الأول"),
        "a file without an email column is explained in Arabic"
    );
    let report = import_subscribers(&mut admin, csv, "confirmed").await;
    assert_eq!(report.status(), 200);
    let page = report.text().await.unwrap();
    assert!(page.contains("<strong>2</strong> أُضيف"), "two added");
    assert!(page.contains("<strong>1</strong> موجود من قبل"), "the repeated address");
    assert!(page.contains("<strong>2</strong> رُفض"), "two refused");
    assert!(page.contains("not-an-email") && page.contains("علامة @"), "the refusal says which line and why");
    let omar = app.store().find_subscribers("omar@xn--", None, None, 5).await.unwrap();
    assert_eq!(omar.len(), 1, "Arabic domain stored as punycode");
    assert_eq!(omar[0].name, "omar", "a missing name becomes the part before @");

    // An unconfirmed import asks each new address to confirm; existing ones are left alone.
    let pending =
        import_subscribers(&mut admin, "email,name\nnew@example.com,جديد\nsalma@example.com,سلمى\n", "pending").await;
    assert_eq!(pending.status(), 200);
    let requests = smtp.wait_for(1, 30).await;
    let request = common::Email::parse(&requests[0]);
    assert_eq!(request.to, "new@example.com");
    assert!(request.text.contains("/newsletter/confirm/"));
    assert_eq!(app.store().subscriber_by_email("salma@example.com").await.unwrap().unwrap().status, "confirmed");

    let list = admin.get("/admin/newsletter").await.text().await.unwrap();
    assert!(list.contains("<strong>2</strong> مؤكَّد"), "counts");
    assert!(list.contains("<strong>1</strong> بانتظار التأكيد"));
    let found = admin.get("/admin/newsletter?q=%D8%B3%D9%84%D9%85%D9%89").await.text().await.unwrap();
    assert!(found.contains("salma@example.com") && !found.contains("new@example.com"), "search by Arabic name");

    let export = admin.get("/admin/newsletter/export.csv").await;
    assert_eq!(export.headers()[header::CONTENT_TYPE], "text/csv; charset=utf-8");
    let exported = export.text().await.unwrap();
    assert!(exported.starts_with("email,name,status"));
    assert_eq!(exported.lines().count(), 1 + 3);
    assert!(exported.contains("salma@example.com,سلمى,confirmed"));

    // Erasing removes the person and their delivery rows; the log keeps only that it happened.
    let salma = app.store().subscriber_by_email("salma@example.com").await.unwrap().unwrap();
    let csrf = admin.hidden("/admin/newsletter", "csrf").await;
    let erased = admin
        .post(&format!("/admin/newsletter/subscribers/{}/erase", salma.id), &[("csrf", &csrf), ("sure", "on")])
        .await;
    assert_eq!(erased.status(), 303);
    assert!(app.store().subscriber_by_email("salma@example.com").await.unwrap().is_none());
    let activity = admin.get("/admin/activity").await.text().await.unwrap();
    assert!(activity.contains("newsletter.erase") || activity.contains(&format!("#{}", salma.id)));
    assert!(!activity.contains("salma@example.com"));
    let forged =
        admin.post(&format!("/admin/newsletter/subscribers/{}/erase", omar[0].id), &[("csrf", "forged")]).await;
    assert_eq!(forged.status(), 403);
    assert!(app.store().subscriber(omar[0].id).await.unwrap().is_some());
    app.stop().await;
}

/// An editor runs a poll from the newsroom: create it, see it on the site,
/// close it, export the results, delete it.
#[tokio::test]
async fn editors_run_polls_from_the_newsroom() {
    let app = TestApp::builder().demo().start().await.unwrap();
    add_staff(&app, "editor@example.com", "محرر", Role::Editor).await;
    let mut editor = logged_in(&app, "editor@example.com").await;
    let csrf = editor.hidden("/admin/polls", "csrf").await;
    let refused = editor
        .post(
            "/admin/polls",
            &[("csrf", &csrf), ("question", "سؤال ناقص"), ("options", "إجابة واحدة"), ("placement", "sidebar")],
        )
        .await;
    assert_eq!(refused.status(), 422);
    assert!(refused.text().await.unwrap().contains("من إجابتين إلى عشر"));
    let created = editor
        .post(
            "/admin/polls",
            &[
                ("csrf", &csrf),
                ("question", "هل تتابع الأخبار على الهاتف أكثر؟"),
                ("options", "نعم\nلا\nبالتساوي"),
                ("placement", "sidebar"),
                ("address_allowance", "0"),
            ],
        )
        .await;
    assert_eq!(created.status(), 303);
    let location = created.headers()[header::LOCATION].to_str().unwrap().to_owned();
    let id: i64 = location.trim_start_matches("/admin/polls/").parse().unwrap();
    let home = app.get("/").await.text().await.unwrap();
    assert!(
        home.contains("هل تتابع الأخبار على الهاتف أكثر؟"),
        "the new sidebar poll is on the cached home page at once"
    );

    let page = editor.get(&location).await.text().await.unwrap();
    assert!(page.contains("بالتساوي"));
    let closed = editor.post(&format!("/admin/polls/{id}/action"), &[("csrf", &csrf), ("action", "close")]).await;
    assert_eq!(closed.status(), 303);
    let home = app.get("/").await.text().await.unwrap();
    assert!(home.contains("انتهى التصويت"), "a closed poll shows its results link instead of the form");

    let csv = editor.get(&format!("/admin/polls/{id}/results.csv")).await;
    assert_eq!(csv.headers()[header::CONTENT_TYPE], "text/csv; charset=utf-8");
    let csv = csv.text().await.unwrap();
    assert!(csv.starts_with("poll,question,option_id,option,hidden,votes,voters"));
    assert_eq!(csv.lines().count(), 4);

    let deleted = editor
        .post(&format!("/admin/polls/{id}/action"), &[("csrf", &csrf), ("action", "delete"), ("sure", "on")])
        .await;
    assert_eq!(deleted.status(), 303);
    assert!(app.store().poll(id).await.unwrap().is_none());
    app.stop().await;
}

/// The moderation queue as an editor works it, and the comment settings as
/// an admin sets them.
#[tokio::test]
async fn editors_work_the_comment_queue() {
    let app = TestApp::builder().demo().start().await.unwrap();
    add_staff(&app, "rana@example.com", "رنا", Role::Editor).await;
    add_staff(&app, "boss@example.com", "المديرة", Role::Admin).await;
    let now = khabar::store::now_seconds();
    let mut ids = Vec::new();
    for (index, body) in ["تعليق أول ينتظر", "تعليق ثان ينتظر", "إعلان مزعج", "رأي يحتاج تهذيبًا"].iter().enumerate()
    {
        let email_hash = app.state.comments.email_hash(&format!("reader{index}@example.com"));
        let id = app
            .store()
            .insert_comment(
                &khabar::comments::store::NewComment {
                    article_id: 1,
                    parent_id: None,
                    name: "قارئ",
                    email_hash: &email_hash,
                    notify_email: "",
                    address_hash: "address",
                    body_markdown: body,
                    body_html: &format!("<p>{body}</p>"),
                    status: "pending",
                    held_for: "first_comment",
                    edit_key_hash: "key",
                },
                now,
            )
            .await
            .unwrap();
        ids.push(id.to_string());
    }
    let mut editor = logged_in(&app, "rana@example.com").await;
    let queue = editor.get("/admin/comments").await.text().await.unwrap();
    assert!(queue.contains("تعليق أول ينتظر") && queue.contains("أول تعليق لهذا القارئ"), "reasons in Arabic");
    assert!(queue.contains("<strong>4</strong> بانتظار المراجعة"), "counts per status");
    assert!(!queue.contains("إعدادات التعليقات"), "settings are for admins");
    let csrf = hidden_value(&queue, "csrf");

    // Bulk: approve the first two at once; they appear on the article page.
    let bulk = editor
        .post(
            "/admin/comments/bulk",
            &[("csrf", &csrf), ("action", "approve"), ("from", "pending"), ("id", &ids[0]), ("id", &ids[1])],
        )
        .await;
    assert_eq!(bulk.status(), 303);
    let page = app.get("/news/1").await;
    let page = app.get(page.headers()[header::LOCATION].to_str().unwrap()).await.text().await.unwrap();
    assert!(page.contains("تعليق أول ينتظر") && page.contains("تعليق ثان ينتظر"));
    // One action: spam with a ban on the writer's email.
    let ban =
        editor.post(&format!("/admin/comments/{}/action", ids[2]), &[("csrf", &csrf), ("action", "ban-email")]).await;
    assert_eq!(ban.status(), 303);
    let banned_hash = app.state.comments.email_hash("reader2@example.com");
    assert!(app.store().is_banned_commenter(&banned_hash, "elsewhere").await.unwrap());
    assert_eq!(app.store().comment(ids[2].parse().unwrap()).await.unwrap().unwrap().status, "spam");
    // Editing with a note: readers see the new text and why it changed.
    let saved = editor
        .post(
            &format!("/admin/comments/{}", ids[3]),
            &[("csrf", &csrf), ("body", "رأي **مهذب**"), ("note", "حُذفت عبارة مسيئة")],
        )
        .await;
    assert_eq!(saved.status(), 303);
    editor.post(&format!("/admin/comments/{}/action", ids[3]), &[("csrf", &csrf), ("action", "approve")]).await;
    let page = app.get("/news/1").await;
    let page = app.get(page.headers()[header::LOCATION].to_str().unwrap()).await.text().await.unwrap();
    assert!(page.contains("رأي <strong>مهذب</strong>") && page.contains("ملاحظة المحرر: حُذفت عبارة مسيئة"));
    let empty = editor.post(&format!("/admin/comments/{}", ids[3]), &[("csrf", &csrf), ("body", " ")]).await;
    assert_eq!(empty.status(), 422);
    let forged =
        editor.post("/admin/comments/bulk", &[("csrf", "forged"), ("action", "delete"), ("id", &ids[0])]).await;
    assert_eq!(forged.status(), 403);
    assert!(app.store().comment(ids[0].parse().unwrap()).await.unwrap().is_some());

    // The admin turns comments off site-wide: the form leaves every article.
    let mut admin = logged_in(&app, "boss@example.com").await;
    let csrf = admin.hidden("/admin/comments", "csrf").await;
    let bad =
        admin.post("/admin/comments/settings", &[("csrf", &csrf), ("mode", "open"), ("close_after_days", "-3")]).await;
    assert_eq!(bad.status(), 422);
    let saved = admin
        .post(
            "/admin/comments/settings",
            &[
                ("csrf", &csrf),
                ("mode", "moderated"),
                ("comments_off", "on"),
                ("close_after_days", "٣٠"),
                ("banned_words", "كلمة\nأخرى"),
            ],
        )
        .await;
    assert_eq!(saved.status(), 303);
    let settings = app.state.settings();
    assert_eq!(settings.comments_mode.as_deref(), Some("moderated"));
    assert_eq!(settings.comments_close_after_days, Some(30), "Arabic-Indic digits are read");
    assert!(settings.comments_off);
    let page = app.get("/news/2").await;
    let page = app.get(page.headers()[header::LOCATION].to_str().unwrap()).await.text().await.unwrap();
    assert!(!page.contains("class=\"comment-form\""));
    app.stop().await;
}

/// Editors close an article's comments from the editor; authors do not see the box.
#[tokio::test]
async fn the_editor_closes_an_articles_comments() {
    let app = TestApp::builder().start().await.unwrap();
    add_staff(&app, "rana@example.com", "رنا", Role::Editor).await;
    add_staff(&app, "samer@example.com", "سامر", Role::Author).await;
    let mut editor = logged_in(&app, "rana@example.com").await;
    let csrf = editor.hidden("/admin/articles/new", "csrf").await;
    let fields = |closed: bool| {
        let mut fields = vec![
            ("csrf", csrf.clone()),
            ("title", "خبر بلا تعليقات".to_owned()),
            ("body_markdown", "نص الخبر.".to_owned()),
            ("section", "محليات".to_owned()),
            ("action", "publish".to_owned()),
        ];
        if closed {
            fields.push(("comments_closed", "on".to_owned()));
        }
        fields
    };
    let as_pairs = |fields: &[(&'static str, String)]| -> Vec<(String, String)> {
        fields.iter().map(|(key, value)| (key.to_string(), value.clone())).collect()
    };
    let created = editor.post("/admin/articles/new", &as_refs(&as_pairs(&fields(true)))).await;
    assert_eq!(created.status(), 303);
    let location = created.headers()[header::LOCATION].to_str().unwrap().to_owned();
    let id: i64 = location.trim_start_matches("/admin/articles/").split('?').next().unwrap().parse().unwrap();
    assert!(app.store().article_for_comments(id).await.unwrap().unwrap().comments_closed);
    let page = editor.get(&format!("/admin/articles/{id}")).await.text().await.unwrap();
    assert!(page.contains("name=\"comments_closed\" checked"));
    let public = app.get(&format!("/news/{id}")).await;
    let public = app.get(public.headers()[header::LOCATION].to_str().unwrap()).await.text().await.unwrap();
    assert!(public.contains("التعليقات مغلقة") && !public.contains("class=\"comment-form\""));

    // Saved again without the box: open again, and the cached page follows.
    let mut reopen = as_pairs(&fields(false));
    reopen.push(("revision".to_owned(), hidden_value(&page, "revision")));
    let saved = editor.post(&format!("/admin/articles/{id}"), &as_refs(&reopen)).await;
    assert_eq!(saved.status(), 303);
    assert!(!app.store().article_for_comments(id).await.unwrap().unwrap().comments_closed);
    let public = app.get(&format!("/news/{id}")).await;
    let public = app.get(public.headers()[header::LOCATION].to_str().unwrap()).await.text().await.unwrap();
    assert!(public.contains("class=\"comment-form\""));

    let mut author = logged_in(&app, "samer@example.com").await;
    assert!(!author.get("/admin/articles/new").await.text().await.unwrap().contains("comments_closed"));
    app.stop().await;
}
