//! The mailing list against a real SMTP server (aiosmtpd in its own
//! process): signup to digest, one-click unsubscribe, DKIM checked by dkimpy,
//! bad input, bounces, and a kill -9 in the middle of a send.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Backend, Email, RealSmtp, TestApp};
use khabar::newsletter::links::{FormKind, Signer};
use reqwest::header;

const ORIGIN_HEADER: &str = "origin";

/// A form token as the signup page would have given, shown ten seconds ago.
async fn form_token(app: &TestApp) -> String {
    let secret = app.store().site_secret("newsletter", "unused").await.unwrap();
    let now = jiff::Timestamp::now().as_second();
    Signer::new(&secret).form_token(FormKind::Visitor, now - 10, 0)
}

async fn subscribe(app: &TestApp, name: &str, email: &str, token: &str) -> reqwest::Response {
    app.client
        .post(app.url("/newsletter/subscribe"))
        .header(ORIGIN_HEADER, &app.base)
        .form(&[("name", name), ("email", email), ("website", ""), ("token", token)])
        .send()
        .await
        .unwrap()
}

async fn subscriber_status(app: &TestApp, email: &str) -> Option<String> {
    app.store().subscriber_by_email(email).await.unwrap().map(|subscriber| subscriber.status)
}

/// An RSA key pair for DKIM, as openssl writes them (PKCS#1 private key).
fn dkim_keys(dir: &Path) -> (String, String) {
    let private = dir.join("dkim.pem");
    let public = dir.join("dkim.pub.pem");
    let made = Command::new("openssl")
        .args(["genrsa", "-traditional", "-out"])
        .arg(&private)
        .arg("2048")
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(made.success());
    let made = Command::new("openssl")
        .args(["rsa", "-pubout", "-in"])
        .arg(&private)
        .arg("-out")
        .arg(&public)
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(made.success());
    (private.display().to_string(), public.display().to_string())
}

fn path_of(url: &str, base: &str) -> String {
    url.strip_prefix(base).unwrap_or_else(|| panic!("{url} is not under {base}")).to_owned()
}

async fn signup_to_digest_and_one_click_unsubscribe(backend: Backend) {
    let smtp = RealSmtp::start(&[]);
    let keys = tempfile::tempdir().unwrap();
    let (private_key, public_key) = dkim_keys(keys.path());
    let Some(app) = TestApp::builder()
        .backend(backend)
        .demo()
        .config("smtp_url", &format!("\"{}\"", smtp.url))
        .config("mail_from", "\"خبر <news@example.org>\"")
        .config("newsletter_digest_time", "\"\"")
        .config("dkim_selector", "\"khabar\"")
        .config("dkim_domain", "\"example.org\"")
        .config("dkim_private_key_file", &format!("\"{private_key}\""))
        .start()
        .await
    else {
        return;
    };

    // Every page offers the signup box; the signup page gives a visitor token.
    let home = app.get("/").await.text().await.unwrap();
    assert!(home.contains("action=\"/newsletter/subscribe\""), "no signup box on the home page");
    let page = app.get("/newsletter").await.text().await.unwrap();
    let token_at = page.find("name=\"token\" value=\"").unwrap() + "name=\"token\" value=\"".len();
    let token = page[token_at..].split('"').next().unwrap().to_owned();
    // A person takes a moment to type; a script posting at once is asked again.
    let hasty = subscribe(&app, "ليلى الحسن", "Layla@Example.org", &token).await;
    assert_eq!(hasty.status(), 200);
    assert!(hasty.text().await.unwrap().contains("تمهّل"));
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let answer = subscribe(&app, "ليلى الحسن", "Layla@Example.org", &token).await;
    assert_eq!(answer.status(), 200);
    assert!(answer.text().await.unwrap().contains("تحقّق من بريدك"));
    assert_eq!(subscriber_status(&app, "layla@example.org").await.as_deref(), Some("pending"));

    let confirmation = Email::parse(&smtp.wait_for(1, 20).await[0]);
    assert_eq!(confirmation.to, "layla@example.org");
    assert!(confirmation.text.contains("مرحبًا ليلى الحسن"), "{}", confirmation.text);
    assert!(confirmation.html.contains("dir=\"rtl\""));
    let confirm_path = path_of(&confirmation.link(&format!("{}/newsletter/confirm/", app.base)), &app.base);
    // Opening the link (as a mail scanner might) changes nothing; the button does.
    let confirm_page = app.get(&confirm_path).await;
    assert_eq!(confirm_page.status(), 200);
    assert_eq!(subscriber_status(&app, "layla@example.org").await.as_deref(), Some("pending"));
    let confirmed = app.client.post(app.url(&confirm_path)).header(ORIGIN_HEADER, &app.base).send().await.unwrap();
    assert_eq!(confirmed.status(), 303);
    let preferences = confirmed.headers()[header::LOCATION].to_str().unwrap().to_owned();
    assert!(preferences.starts_with("/newsletter/preferences/"));
    assert_eq!(subscriber_status(&app, "layla@example.org").await.as_deref(), Some("confirmed"));
    let preferences_page = app.get(&preferences).await.text().await.unwrap();
    assert!(preferences_page.contains("layla@example.org"));

    // The digest: made as the scheduler makes it, delivered by the server's own jobs.
    let (send_id, articles) =
        khabar::newsletter::issues::create_digest(&app.state, "digest-test", "tests").await.unwrap().unwrap();
    assert!(articles > 0);
    let digest = Email::parse(&smtp.wait_for(2, 30).await[1]);
    assert_eq!(digest.to, "layla@example.org");
    assert!(digest.subject.starts_with("نشرة"), "{}", digest.subject);
    assert!(digest.text.contains("مرحبًا ليلى الحسن"));
    assert!(digest.html.contains(&format!("{}/news/", app.base)), "absolute article links");
    let message_id = digest.header("Message-ID").unwrap();
    assert!(message_id.contains(&format!("khabar.{send_id}.")), "{message_id}");
    let list_unsubscribe = digest.header("List-Unsubscribe").unwrap();
    assert_eq!(digest.header("List-Unsubscribe-Post").as_deref(), Some("List-Unsubscribe=One-Click"));
    let one_click = list_unsubscribe.trim_start_matches('<').split('>').next().unwrap().to_owned();
    assert!(one_click.starts_with(&format!("{}/newsletter/unsubscribe/", app.base)), "{list_unsubscribe}");
    assert!(digest.text.contains(&one_click), "the visible unsubscribe link is the same");

    // DKIM, checked by dkimpy, covers both unsubscribe headers.
    let verified = Command::new(common::PYTHON)
        .arg(common::support_file("dkim_verify.py"))
        .args(["--public-key", &public_key, "--selector", "khabar", "--domain", "example.org"])
        .args(smtp.files())
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&verified.stdout).to_lowercase();
    assert!(verified.status.success(), "DKIM verification failed:\n{report}");
    assert!(report.contains("list-unsubscribe") && report.contains("list-unsubscribe-post"), "{report}");

    // One click from the mail provider: no cookie, no Origin, no redirect, at once, twice harmless.
    for _ in 0..2 {
        let response = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
            .post(&one_click)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body("List-Unsubscribe=One-Click")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(subscriber_status(&app, "layla@example.org").await.as_deref(), Some("unsubscribed"));
    }
    // The relay has the message before khabar records its answer: wait for the record.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let progress = app.store().send_progress(send_id).await.unwrap();
        if progress.queued == 0 {
            assert_eq!((progress.sent, progress.failed), (1, 0));
            break;
        }
        assert!(Instant::now() < deadline, "the delivery was never recorded: {progress:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // The confirmation link from before leaving no longer works.
    let stale = app.client.post(app.url(&confirm_path)).header(ORIGIN_HEADER, &app.base).send().await.unwrap();
    assert_eq!(stale.status(), 400);
    assert_eq!(subscriber_status(&app, "layla@example.org").await.as_deref(), Some("unsubscribed"));

    // Signing up again takes a new confirmation before anything is sent.
    let again = subscribe(&app, "ليلى الحسن", "layla@example.org", &form_token(&app).await).await;
    assert_eq!(again.status(), 200);
    assert_eq!(subscriber_status(&app, "layla@example.org").await.as_deref(), Some("unsubscribed"));
    app.stop().await;
}
on_both_backends!(signup_to_digest, signup_to_digest_and_one_click_unsubscribe);

async fn alerts_reach_those_who_asked_and_are_sent_once(backend: Backend) {
    let smtp = RealSmtp::start(&[]);
    let Some(app) = TestApp::builder()
        .backend(backend)
        .demo()
        .config("smtp_url", &format!("\"{}\"", smtp.url))
        .config("newsletter_digest_time", "\"\"")
        .config("list_unsubscribe_mailto", "\"leave@example.org\"")
        .start()
        .await
    else {
        return;
    };
    let csv = "email,name\nalerts@example.com,قارئ العاجل\ndigest-only@example.com,قارئ النشرة\n";
    let report = khabar::newsletter::import::import_csv(app.store(), csv.as_bytes(), true, 1, |_| {}).await.unwrap();
    assert_eq!(report.added, 2);
    let digest_only = app.store().subscriber_by_email("digest-only@example.com").await.unwrap().unwrap();
    app.store().save_preferences(digest_only.id, &digest_only.name, true, false).await.unwrap();
    let article_id = 1;
    let send_id =
        khabar::newsletter::issues::create_alert(&app.state, article_id, "tests").await.unwrap().expect("alert made");
    let alert = Email::parse(&smtp.wait_for(1, 30).await[0]);
    assert_eq!(alert.to, "alerts@example.com");
    assert!(alert.subject.starts_with("عاجل"), "{}", alert.subject);
    let list_unsubscribe = alert.header("List-Unsubscribe").unwrap();
    assert!(list_unsubscribe.starts_with(&format!("<{}/newsletter/unsubscribe/", app.base)), "{list_unsubscribe}");
    assert!(list_unsubscribe.contains("<mailto:leave@example.org?subject=unsubscribe"), "{list_unsubscribe}");
    let again = khabar::newsletter::issues::create_alert(&app.state, article_id, "tests").await.unwrap();
    assert!(again.is_err(), "a second alert for the same article is refused");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(smtp.count(), 1);
    assert_eq!(app.store().send_by_id(send_id).await.unwrap().unwrap().total, 1);
    app.stop().await;
}
on_both_backends!(alerts, alerts_reach_those_who_asked_and_are_sent_once);

#[tokio::test]
async fn bad_input_is_refused_clearly_and_changes_nothing() {
    let smtp = RealSmtp::start(&[]);
    let app = TestApp::builder()
        .config("smtp_url", &format!("\"{}\"", smtp.url))
        .config("newsletter_digest_time", "\"\"")
        .start()
        .await
        .unwrap();
    let token = form_token(&app).await;
    let cases: &[(&str, &str, &str)] = &[
        ("سارة", "not-an-address", "علامة @"),
        ("سارة", "a b@example.com", "دون مسافات"),
        ("سارة", "sara@localhost", "اسم النطاق"),
        ("سارة", "sara@example.com\r\nBcc: victim@example.net", "سطرًا جديدًا"),
        ("سارة\r\nBcc: victim@example.net", "sara@example.com", "سطرًا جديدًا"),
        ("", "sara@example.com", "اكتب اسمك"),
        (&"ن".repeat(101), "sara@example.com", "أطول من ١٠٠"),
        ("سارة", &format!("{}@example.com", "a".repeat(250)), "أطول من ٢٥٤"),
    ];
    for (name, email, expected) in cases {
        let response = subscribe(&app, name, email, &token).await;
        assert_eq!(response.status(), 422, "{name:?} {email:?}");
        let page = response.text().await.unwrap();
        assert!(page.contains(expected), "{email:?}: expected «{expected}»");
        assert!(page.contains("lang=\"ar\""));
    }
    assert_eq!(app.store().subscriber_counts().await.unwrap().total(), 0, "nothing stored");

    // An Arabic domain is kept as punycode; the same address twice is one row and one email.
    for _ in 0..3 {
        assert_eq!(subscribe(&app, "قارئ", "Reader@مثال.إختبار", &token).await.status(), 200);
    }
    let stored = app.store().find_subscribers("", None, None, 10).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert!(stored[0].email.starts_with("reader@xn--"), "{}", stored[0].email);
    smtp.wait_for(1, 20).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(smtp.count(), 1, "confirmation emails to one address at most once an hour");

    // The honeypot, a missing token and a foreign page: nothing stored.
    let trapped = app
        .client
        .post(app.url("/newsletter/subscribe"))
        .header(ORIGIN_HEADER, &app.base)
        .form(&[("name", "بوت"), ("email", "bot@example.com"), ("website", "http://spam.example"), ("token", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(trapped.status(), 200, "a bot is not told it was caught");
    let untokened = subscribe(&app, "زائر", "visitor@example.com", "").await;
    assert_eq!(untokened.status(), 200);
    assert!(untokened.text().await.unwrap().contains("خطوة أخيرة"));
    let forged = subscribe(&app, "زائر", "visitor@example.com", "v.1.0.00000000000000000000000000000000").await;
    assert!(forged.text().await.unwrap().contains("خطوة أخيرة"));
    let cross_site = app
        .client
        .post(app.url("/newsletter/subscribe"))
        .header(ORIGIN_HEADER, "https://evil.example")
        .form(&[("name", "زائر"), ("email", "visitor@example.com"), ("token", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), 403);
    assert!(app.store().subscriber_by_email("bot@example.com").await.unwrap().is_none());
    assert!(app.store().subscriber_by_email("visitor@example.com").await.unwrap().is_none());

    // Forged, expired and malformed links: a clear Arabic page, nothing changed.
    let subscriber = stored[0].clone();
    let secret = app.store().site_secret("newsletter", "unused").await.unwrap();
    let signer = Signer::new(&secret);
    let expired =
        signer.link(khabar::newsletter::links::Purpose::Confirm, subscriber.id, &subscriber.link_key, Some(1000));
    let other_key = signer.link(khabar::newsletter::links::Purpose::Unsubscribe, subscriber.id, "wrong-key", None);
    let preferences_as_unsubscribe =
        signer.link(khabar::newsletter::links::Purpose::Preferences, subscriber.id, &subscriber.link_key, None);
    for path in [
        format!("/newsletter/confirm/{expired}"),
        format!("/newsletter/unsubscribe/{other_key}"),
        format!("/newsletter/unsubscribe/{preferences_as_unsubscribe}"),
        "/newsletter/preferences/99.0123456789abcdef0123456789abcdef".to_owned(),
        "/newsletter/unsubscribe/not-a-token".to_owned(),
    ] {
        for method in [reqwest::Method::GET, reqwest::Method::POST] {
            let response = app
                .client
                .request(method.clone(), app.url(&path))
                .header(ORIGIN_HEADER, &app.base)
                .form(&[("name", "اسم")])
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 400, "{method} {path}");
            let page = response.text().await.unwrap();
            assert!(page.contains("الرابط غير صالح"), "{path}");
        }
    }
    assert_eq!(subscriber_status(&app, &subscriber.email).await.as_deref(), Some("pending"));
    app.stop().await;
}

#[tokio::test]
async fn one_client_address_cannot_flood_the_list() {
    let smtp = RealSmtp::start(&[]);
    let app = TestApp::builder()
        .config("smtp_url", &format!("\"{}\"", smtp.url))
        .config("newsletter_digest_time", "\"\"")
        .start()
        .await
        .unwrap();
    let token = form_token(&app).await;
    for number in 0..10 {
        let response = subscribe(&app, "قارئ", &format!("reader{number}@example.com"), &token).await;
        assert_eq!(response.status(), 200, "signup {number}");
    }
    let refused = subscribe(&app, "قارئ", "reader10@example.com", &token).await;
    assert_eq!(refused.status(), 429);
    assert!(refused.text().await.unwrap().contains("محاولات كثيرة"));
    assert!(app.store().subscriber_by_email("reader10@example.com").await.unwrap().is_none());
    assert_eq!(app.store().subscriber_counts().await.unwrap().pending, 10);
    app.stop().await;
}

#[tokio::test]
async fn permanent_refusals_count_as_bounces_and_temporary_ones_wait_for_a_retry() {
    let smtp = RealSmtp::start(&["--reject-rcpt-regex", "^<?gone", "--tempfail-rcpt-regex", "^<?busy"]);
    let app = TestApp::builder()
        .demo()
        .config("smtp_url", &format!("\"{}\"", smtp.url))
        .config("newsletter_digest_time", "\"\"")
        .config("newsletter_bounce_limit", "1")
        .start()
        .await
        .unwrap();
    let csv = "email,name\ngone@example.com,غائب\nbusy@example.com,مشغول\nhere@example.com,حاضر\n";
    khabar::newsletter::import::import_csv(app.store(), csv.as_bytes(), true, 1, |_| {}).await.unwrap();
    let (send_id, _) =
        khabar::newsletter::issues::create_digest(&app.state, "digest-bounces", "tests").await.unwrap().unwrap();
    let received = smtp.wait_for(1, 30).await;
    assert_eq!(Email::parse(&received[0]).to, "here@example.com");
    let deadline = Instant::now() + Duration::from_secs(20);
    let progress = loop {
        let progress = app.store().send_progress(send_id).await.unwrap();
        if progress.sent + progress.failed == 2 && progress.queued == 1 {
            let failures = app.store().send_failures(send_id, 10).await.unwrap();
            if failures.iter().any(|failure| failure.attempts > 0 && failure.status == "queued") {
                break progress;
            }
        }
        assert!(Instant::now() < deadline, "send did not settle: {progress:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!((progress.sent, progress.failed, progress.queued), (1, 1, 1));
    let failures = app.store().send_failures(send_id, 10).await.unwrap();
    let gone = failures.iter().find(|failure| failure.email == "gone@example.com").unwrap();
    assert_eq!(gone.status, "failed");
    assert!(gone.smtp_reply.as_deref().unwrap_or("").contains("550"), "{:?}", gone.smtp_reply);
    let busy = failures.iter().find(|failure| failure.email == "busy@example.com").unwrap();
    assert_eq!(busy.status, "queued", "a temporary refusal waits for a retry");
    assert!(busy.smtp_reply.as_deref().unwrap_or("").contains("451"), "{:?}", busy.smtp_reply);
    assert_eq!(subscriber_status(&app, "gone@example.com").await.as_deref(), Some("bounced"));
    assert_eq!(subscriber_status(&app, "busy@example.com").await.as_deref(), Some("confirmed"));
    assert_eq!(app.store().send_status(send_id).await.unwrap().as_deref(), Some("sending"));
    app.stop().await;
}

const BINARY: &str = env!("CARGO_BIN_EXE_khabar");

fn stop_khabar(mut child: Child) {
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "khabar did not stop");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// kill -9 in the middle of a send, restart: every subscriber gets the
/// digest exactly once. The SMTP server stops answering after a random
/// number of messages, so the kill lands mid-send, at a point that differs
/// from run to run.
#[tokio::test]
async fn a_send_killed_midway_resumes_and_mails_everyone_exactly_once() {
    const SUBSCRIBERS: usize = 240;
    let site = tempfile::tempdir().unwrap();
    let data = site.path().join("site");
    let data_text = data.display().to_string();
    let quiet = [("KHABAR_NEWSLETTER_DIGEST_TIME", "")];
    let (demo, _) = common::start_binary(&["demo", "--data", &data_text], &quiet);
    stop_khabar(demo);
    let csv = site.path().join("subscribers.csv");
    let mut text = String::from("email,name\n");
    for number in 0..SUBSCRIBERS {
        text.push_str(&format!("reader{number:04}@example.com,قارئ {number}\n"));
    }
    std::fs::write(&csv, text).unwrap();
    let imported = Command::new(BINARY)
        .args(["newsletter", "import", "--data", &data_text, "--confirmed"])
        .arg(&csv)
        .output()
        .unwrap();
    assert!(imported.status.success(), "{}", String::from_utf8_lossy(&imported.stderr));
    assert!(String::from_utf8_lossy(&imported.stdout).contains(&format!("{SUBSCRIBERS} added")));

    let kill_after = 20 + (rand::random::<u64>() % (SUBSCRIBERS as u64 - 60)) as usize;
    let first_relay = RealSmtp::start(&["--hold-after", &kill_after.to_string()]);
    let environment = |relay: &RealSmtp| {
        vec![
            ("KHABAR_SMTP_URL", relay.url.clone()),
            // Any time today is past 00:00: the scheduler makes today's digest at once.
            ("KHABAR_NEWSLETTER_DIGEST_TIME", "00:00".to_owned()),
            ("KHABAR_NEWSLETTER_CONCURRENCY", "4".to_owned()),
        ]
    };
    let first_environment = environment(&first_relay);
    let borrowed: Vec<(&str, &str)> = first_environment.iter().map(|(key, value)| (*key, value.as_str())).collect();
    let (mut server, _) = common::start_binary(&["serve", "--data", &data_text], &borrowed);
    let deadline = Instant::now() + Duration::from_secs(60);
    while !first_relay.holding() {
        assert!(Instant::now() < deadline, "the send never reached the hold point");
        std::thread::sleep(Duration::from_millis(20));
    }
    // Every connection is now waiting on the relay; give the last outcomes a moment, then kill.
    std::thread::sleep(Duration::from_millis(300));
    server.kill().unwrap();
    server.wait().unwrap();
    let before_crash = first_relay.count();
    assert_eq!(before_crash, kill_after, "killed in the middle of the send");

    let second_relay = RealSmtp::start(&[]);
    let second_environment = environment(&second_relay);
    let borrowed: Vec<(&str, &str)> = second_environment.iter().map(|(key, value)| (*key, value.as_str())).collect();
    let (server, _) = common::start_binary(&["serve", "--data", &data_text], &borrowed);
    let deadline = Instant::now() + Duration::from_secs(90);
    while first_relay.count() + second_relay.count() < SUBSCRIBERS {
        assert!(
            Instant::now() < deadline,
            "only {} of {SUBSCRIBERS} delivered after the restart",
            first_relay.count() + second_relay.count()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // Anything sent twice would arrive now.
    std::thread::sleep(Duration::from_millis(1500));
    stop_khabar(server);

    let mut received = std::collections::BTreeMap::<String, usize>::new();
    for raw in first_relay.messages().iter().chain(second_relay.messages().iter()) {
        *received.entry(Email::parse(raw).to).or_default() += 1;
    }
    let twice: Vec<_> = received.iter().filter(|(_, count)| **count > 1).collect();
    assert!(twice.is_empty(), "mailed more than once: {twice:?}");
    assert_eq!(received.len(), SUBSCRIBERS, "everyone mailed");
    assert!(second_relay.count() > 0 && second_relay.count() < SUBSCRIBERS);
}
