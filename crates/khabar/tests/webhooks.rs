//! Webhooks over HTTP, against a real receiver on 127.0.0.1: set up in the
//! admin, signed deliveries for publish, update and unpublish, retries with
//! backoff, a receiver that is down (across a restart of khabar), scheduled
//! articles, and the SSRF guard refusing internal targets.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use common::{hidden_value, Backend, Browser, TestApp};
use hmac::{Hmac, Mac};
use khabar::accounts::passwords;
use khabar::accounts::staff::Role;
use serde_json::{json, Value};
use sha2::Sha256;

const PASSWORD: &str = "زيتون أخضر على الطاولة 42";
const SECRET: &str = "a shared secret for the tests";

#[derive(Clone, Debug)]
struct Received {
    headers: HeaderMap,
    body: String,
}

/// A webhook receiver: answers 503 to the first `failures` requests, then 200.
struct Receiver {
    address: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    attempts: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    async fn start(failures: usize) -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        Receiver::on(listener, failures)
    }

    fn on(listener: tokio::net::TcpListener, failures: usize) -> Receiver {
        let address = listener.local_addr().unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let attempts = Arc::new(AtomicUsize::new(0));
        let (kept, counted) = (Arc::clone(&received), Arc::clone(&attempts));
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: String| {
                let (kept, counted) = (Arc::clone(&kept), Arc::clone(&counted));
                async move {
                    if counted.fetch_add(1, Ordering::SeqCst) < failures {
                        return (axum::http::StatusCode::SERVICE_UNAVAILABLE, "busy, try later");
                    }
                    kept.lock().unwrap().push(Received { headers, body });
                    (axum::http::StatusCode::OK, "ok")
                }
            }),
        );
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver { address, received, attempts, task }
    }

    fn url(&self) -> String {
        format!("http://{}/hook", self.address)
    }

    /// Waits (at most 20 s) for `count` accepted deliveries.
    async fn wait_for(&self, count: usize) -> Vec<Received> {
        let started = Instant::now();
        loop {
            let received = self.received.lock().unwrap().clone();
            if received.len() >= count {
                return received;
            }
            assert!(started.elapsed() < Duration::from_secs(20), "only {} of {count} deliveries", received.len());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn start(backend: Backend) -> Option<TestApp> {
    let app = TestApp::builder().backend(backend).config("webhook_retry_seconds", "1").start().await?;
    let hash = passwords::hash(PASSWORD.to_owned()).await.unwrap();
    app.store().create_staff("admin@example.com", "مديرة الموقع", Role::Admin, &hash, 1).await.unwrap().unwrap();
    Some(app)
}

async fn admin(app: &TestApp) -> Browser<'_> {
    let mut browser = Browser::new(app);
    assert_eq!(browser.log_in("admin@example.com", PASSWORD).await.status(), 303);
    browser
}

async fn allow_local_receivers(browser: &mut Browser<'_>) {
    let csrf = browser.hidden("/admin/webhooks", "csrf").await;
    let response = browser.post("/admin/webhooks/settings", &[("csrf", &csrf), ("allowed_hosts", "127.0.0.1")]).await;
    assert_eq!(response.status(), 303);
}

async fn add_webhook(browser: &mut Browser<'_>, url: &str, events: &[&str]) -> reqwest::Response {
    let csrf = browser.hidden("/admin/webhooks", "csrf").await;
    let mut fields = vec![("csrf", csrf.as_str()), ("url", url), ("secret", SECRET), ("description", "بوت تيليغرام")];
    for event in events {
        fields.push(("events", event));
    }
    browser.post("/admin/webhooks", &fields).await
}

/// Checks the signature header as a receiver would, and returns the body as JSON.
fn verified(delivery: &Received) -> Value {
    let header = delivery.headers.get("x-khabar-signature").expect("signed").to_str().unwrap();
    let (timestamp, signature) = header.split_once(",v1=").expect("t=…,v1=…");
    let timestamp = timestamp.strip_prefix("t=").expect("t=");
    let age = khabar::store::now_seconds() - timestamp.parse::<i64>().unwrap();
    assert!((0..60).contains(&age), "a fresh timestamp, got {age} s old");
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.{}", delivery.body).as_bytes());
    mac.verify_slice(&hex::decode(signature).unwrap()).expect("the signature verifies with the shared secret");
    assert_eq!(delivery.headers.get("content-type").unwrap(), "application/json");
    let body: Value = serde_json::from_str(&delivery.body).unwrap();
    assert_eq!(delivery.headers.get("x-khabar-event").unwrap().to_str().unwrap(), body["event"].as_str().unwrap());
    body
}

async fn publish(app: &TestApp, token: &str, title: &str, extra: Value) -> i64 {
    let mut article = json!({
        "title": title,
        "body_markdown": "نص الخبر كاملًا، كما كتبه المحرر.",
        "section": "اقتصاد",
        "status": "published",
    });
    for (key, value) in extra.as_object().unwrap() {
        article[key] = value.clone();
    }
    let response = app.post_article(token, &article).await;
    assert_eq!(response.status(), 201);
    response.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

async fn publish_update_unpublish(backend: Backend) {
    let Some(app) = start(backend).await else { return };
    let receiver = Receiver::start(0).await;
    let mut browser = admin(&app).await;
    allow_local_receivers(&mut browser).await;
    let events = ["article.published", "article.updated", "article.unpublished"];
    assert_eq!(add_webhook(&mut browser, &receiver.url(), &events).await.status(), 303);
    let token = app.token().await;

    let title = "«الأسعار» & <الأجور> \"ترتفع\" في الربع الأخير";
    let started = Instant::now();
    let id = publish(&app, &token, title, json!({"tags": ["الأسواق"]})).await;
    let published = verified(&receiver.wait_for(1).await[0]);
    println!("publish → delivered in {:?}", started.elapsed());
    assert_eq!(published["event"], "article.published");
    assert_eq!(published["article"]["id"], id);
    assert_eq!(published["article"]["title"], title, "Arabic and markup characters arrive intact");
    assert_eq!(published["article"]["tags"], json!(["الأسواق"]));
    let url = published["article"]["url"].as_str().unwrap();
    assert!(url.starts_with(&app.base) && url.contains(&format!("/news/{id}/")), "{url}");
    assert_eq!(published["article"]["short_url"], format!("{}/n/{id}", app.base));

    let response = app
        .client
        .put(app.url(&format!("/api/admin/articles/{id}")))
        .bearer_auth(&token)
        .json(&json!({"title": title, "body_markdown": "نص مصحح.", "section": "اقتصاد", "status": "published"}))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    let updated = verified(&receiver.wait_for(2).await[1]);
    assert_eq!(updated["event"], "article.updated");

    let response =
        app.client.delete(app.url(&format!("/api/admin/articles/{id}"))).bearer_auth(&token).send().await.unwrap();
    assert_eq!(response.status(), 204);
    let unpublished = verified(&receiver.wait_for(3).await[2]);
    assert_eq!(unpublished["event"], "article.unpublished");
    assert_eq!(unpublished["article"]["id"], id);

    // A draft is nobody's business.
    let response = app
        .post_article(&token, &json!({"title": "مسودة", "body_markdown": "نص", "section": "اقتصاد", "status": "draft"}))
        .await;
    assert_eq!(response.status(), 201);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.received.lock().unwrap().len(), 3, "no delivery for a draft");

    // The log in the admin shows what was delivered (once the sender has recorded the last answer).
    let delivered_rows = |page: &str| page.matches("سُلّم</td>").count() + page.matches("سُلّم<br>").count();
    let shown = Instant::now();
    let page = loop {
        let page = browser.get("/admin/webhooks").await.text().await.unwrap();
        if delivered_rows(&page) >= 3 || shown.elapsed() > Duration::from_secs(10) {
            break page;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(delivered_rows(&page), 3, "{page}");
    app.stop().await;
}

on_both_backends!(signed_deliveries_follow_publication, publish_update_unpublish);

async fn retried_until_answered(backend: Backend) {
    let Some(app) = start(backend).await else { return };
    let receiver = Receiver::start(2).await;
    let mut browser = admin(&app).await;
    allow_local_receivers(&mut browser).await;
    assert_eq!(add_webhook(&mut browser, &receiver.url(), &["article.published"]).await.status(), 303);
    let token = app.token().await;
    let started = Instant::now();
    let id = publish(&app, &token, "خبر يصل في المحاولة الثالثة", json!({})).await;
    let delivered = receiver.wait_for(1).await;
    // Backoff: 1 s after the first failure, 2 s after the second.
    assert!(started.elapsed() >= Duration::from_secs(3), "retried too soon: {:?}", started.elapsed());
    assert_eq!(receiver.attempts.load(Ordering::SeqCst), 3);
    assert_eq!(verified(&delivered[0])["article"]["id"], id);
    // The receiver has its answer before the sender records it: wait for the record.
    let recorded = Instant::now();
    let log = loop {
        let log = app.store().deliveries(None, 10).await.unwrap();
        if log.first().is_some_and(|delivery| delivery.status != "pending")
            || recorded.elapsed() > Duration::from_secs(10)
        {
            break log;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(log.len(), 1);
    assert_eq!((log[0].status.as_str(), log[0].attempts, log[0].last_status), ("delivered", 3, Some(200)));
    app.stop().await;
}

on_both_backends!(failed_deliveries_are_retried, retried_until_answered);

/// The receiver is down while an article is published and while khabar
/// restarts; when it comes back, the delivery arrives, once.
#[tokio::test]
async fn a_receiver_that_is_down_loses_nothing() {
    let Some(mut app) = start(Backend::Sqlite).await else { return };
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = closed.local_addr().unwrap();
    drop(closed);
    let mut browser = admin(&app).await;
    allow_local_receivers(&mut browser).await;
    let url = format!("http://{address}/hook");
    assert_eq!(add_webhook(&mut browser, &url, &["article.published"]).await.status(), 303);
    drop(browser);
    let token = app.token().await;
    let id = publish(&app, &token, "خبر ينتظر عودة المستقبِل", json!({})).await;
    let started = Instant::now();
    loop {
        let log = app.store().deliveries(None, 10).await.unwrap();
        if log.first().is_some_and(|delivery| delivery.attempts >= 2) {
            assert_eq!(log[0].status, "pending", "still waiting, not given up");
            assert!(!log[0].last_error.is_empty());
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(15), "no failed attempts recorded: {log:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    app.restart().await;
    let listener = tokio::net::TcpListener::bind(address).await.unwrap();
    let receiver = Receiver::on(listener, 0);
    let delivered = receiver.wait_for(1).await;
    assert_eq!(verified(&delivered[0])["article"]["id"], id);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(receiver.received.lock().unwrap().len(), 1, "delivered once");
    app.stop().await;
}

/// A scheduled article is announced when its time comes, not when it is saved.
#[tokio::test]
async fn scheduled_articles_are_announced_when_they_go_live() {
    let Some(app) = start(Backend::Sqlite).await else { return };
    let receiver = Receiver::start(0).await;
    let mut browser = admin(&app).await;
    allow_local_receivers(&mut browser).await;
    assert_eq!(add_webhook(&mut browser, &receiver.url(), &["article.published"]).await.status(), 303);
    let token = app.token().await;
    let at = jiff::Timestamp::from_second(khabar::store::now_seconds() + 2).unwrap().to_string();
    let id = publish(&app, &token, "خبر مجدول للنشر", json!({"published_at": at})).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(receiver.received.lock().unwrap().is_empty(), "not before its time");
    let delivered = receiver.wait_for(1).await;
    let body = verified(&delivered[0]);
    assert_eq!((body["event"].as_str(), body["article"]["id"].as_i64()), (Some("article.published"), Some(id)));
    app.stop().await;
}

#[tokio::test]
async fn internal_targets_are_refused() {
    let Some(app) = start(Backend::Sqlite).await else { return };
    let mut browser = admin(&app).await;
    for target in [
        "http://127.0.0.1:9/hook",
        "http://localhost/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.7/hook",
        "http://[::1]/hook",
        "http://[::ffff:192.168.1.1]/hook",
    ] {
        let response = add_webhook(&mut browser, target, &["article.published"]).await;
        assert_eq!(response.status(), 422, "{target}");
        let page = response.text().await.unwrap();
        assert!(page.contains("عنوان داخلي"), "{target}: {page}");
    }
    for target in ["ftp://example.com/", "not a url", "http:///nohost"] {
        let response = add_webhook(&mut browser, target, &["article.published"]).await;
        assert_eq!(response.status(), 422, "{target}");
    }
    assert!(app.store().webhooks().await.unwrap().is_empty());

    // Allowed once, then the allowance is withdrawn: the delivery is refused
    // at send time too, on the resolved address, and not retried.
    let receiver = Receiver::start(0).await;
    allow_local_receivers(&mut browser).await;
    assert_eq!(add_webhook(&mut browser, &receiver.url(), &["article.published"]).await.status(), 303);
    let csrf = hidden_value(&browser.get("/admin/webhooks").await.text().await.unwrap(), "csrf");
    let response = browser.post("/admin/webhooks/settings", &[("csrf", &csrf), ("allowed_hosts", "")]).await;
    assert_eq!(response.status(), 303);
    let token = app.token().await;
    publish(&app, &token, "خبر لا يصل إلى الداخل", json!({})).await;
    let started = Instant::now();
    let failed = loop {
        let log = app.store().deliveries(None, 10).await.unwrap();
        if let Some(delivery) = log.into_iter().find(|delivery| delivery.status == "failed") {
            break delivery;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "the delivery was not refused");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(failed.attempts, 1, "a refused target is not retried");
    assert!(failed.last_error.contains("loopback"), "{}", failed.last_error);
    assert_eq!(receiver.attempts.load(Ordering::SeqCst), 0, "nothing reached the internal receiver");

    // Only admins manage webhooks.
    let hash = passwords::hash(PASSWORD.to_owned()).await.unwrap();
    app.store().create_staff("editor@example.com", "محرر", Role::Editor, &hash, 1).await.unwrap().unwrap();
    let mut editor = Browser::new(&app);
    assert_eq!(editor.log_in("editor@example.com", PASSWORD).await.status(), 303);
    assert_eq!(editor.get("/admin/webhooks").await.status(), 403);
    app.stop().await;
}
