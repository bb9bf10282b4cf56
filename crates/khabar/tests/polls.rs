//! Reader polls over HTTP: voting with and without JavaScript, one vote per
//! reader, closed and future polls, forged input, the address allowance,
//! exact counts under concurrency and across a kill -9.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{Backend, TestApp};
use reqwest::header;
use serde_json::{json, Value};

const JSON: &str = "application/json";

async fn create_poll(app: &TestApp, token: &str, body: Value) -> i64 {
    let response = app.client.post(app.url("/api/admin/polls")).bearer_auth(token).json(&body).send().await.unwrap();
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    response.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

async fn poll_json(app: &TestApp, id: i64) -> Value {
    app.get(&format!("/api/content/polls/{id}")).await.json().await.unwrap()
}

fn option_ids(poll: &Value) -> Vec<i64> {
    poll["options"].as_array().unwrap().iter().map(|option| option["id"].as_i64().unwrap()).collect()
}

fn csrf_for(app: &TestApp, poll: i64) -> String {
    app.state.polls.form_token(poll)
}

/// A vote as the page script sends it; `cookie` is the reader's voter cookie.
async fn vote(app: &TestApp, poll: i64, options: &[i64], csrf: &str, cookie: Option<&str>) -> reqwest::Response {
    let mut body: Vec<(String, String)> =
        options.iter().map(|option| ("option".to_owned(), option.to_string())).collect();
    body.push(("csrf".to_owned(), csrf.to_owned()));
    let mut request = app
        .client
        .post(app.url(&format!("/polls/{poll}/vote")))
        .header(header::ACCEPT, JSON)
        .header(header::ORIGIN, &app.base)
        .form(&body);
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    request.send().await.unwrap()
}

fn voter_cookie(response: &reqwest::Response) -> String {
    let value = response.headers()[header::SET_COOKIE].to_str().unwrap();
    value.split(';').next().unwrap().to_owned()
}

async fn voting_flow(backend: Backend) {
    let Some(app) = TestApp::builder().backend(backend).demo().start().await else {
        return;
    };
    let token = app.token().await;
    let id = create_poll(
        &app,
        &token,
        json!({"question": "هل تؤيد توسيع شبكة الحافلات؟", "options": ["نعم", "لا", "لا رأي لي"], "placement": "sidebar"}),
    )
    .await;
    let options = option_ids(&poll_json(&app, id).await);
    assert_eq!(options.len(), 3);

    // The page carries the form, the same for everyone: no reader state in the cache.
    let home = app.get("/").await.text().await.unwrap();
    assert!(home.contains(&format!("data-poll=\"{id}\"")), "the newest sidebar poll is on every page");
    assert!(home.contains(&format!("name=\"csrf\" value=\"{}\"", csrf_for(&app, id))));

    // With JavaScript: JSON in, results out, and a voter cookie.
    let first = vote(&app, id, &[options[0]], &csrf_for(&app, id), None).await;
    assert_eq!(first.status(), 200);
    let cookie = voter_cookie(&first);
    let answer: Value = first.json().await.unwrap();
    assert_eq!(answer["counted"], "accepted");
    assert_eq!(answer["results"]["options"][0]["votes"], 1);
    assert_eq!(answer["results"]["options"][0]["percent"], 100);
    assert_eq!(answer["results"]["voters_text"], "صوت واحد");

    // The same reader again: shown the results, not counted.
    let again = vote(&app, id, &[options[1]], &csrf_for(&app, id), Some(&cookie)).await;
    assert_eq!(again.status(), 200);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["counted"], "already_voted");
    assert_eq!(poll_json(&app, id).await["voters"], 1);
    let state: Value = app
        .client
        .get(app.url(&format!("/polls/{id}/state")))
        .header(header::COOKIE, &cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(state["voted"], true);
    let stranger: Value = app.get(&format!("/polls/{id}/state")).await.json().await.unwrap();
    assert_eq!(stranger["voted"], false);

    // Without JavaScript: an ordinary form post answers with an Arabic results page.
    let form = app
        .client
        .post(app.url(&format!("/polls/{id}/vote")))
        .header(header::ORIGIN, &app.base)
        .form(&[("option", options[1].to_string()), ("csrf", csrf_for(&app, id))])
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 200);
    assert!(form.headers().contains_key(header::SET_COOKIE));
    let page = form.text().await.unwrap();
    assert!(page.contains("شكرًا، حُسب صوتك") && page.contains("صوتان"), "plural for two voters");
    assert!(page.contains("lang=\"ar\""));

    // Plurals and digits as the site shows them.
    for _ in 0..9 {
        assert_eq!(vote(&app, id, &[options[2]], &csrf_for(&app, id), None).await.status(), 200);
    }
    let results: Value = poll_json(&app, id).await;
    assert_eq!(results["voters"], 11);
    let page = app.get(&format!("/polls/{id}")).await.text().await.unwrap();
    assert!(page.contains("11 صوتًا"), "eleven votes");
    // A poll attached to an article sits under that article.
    let under = create_poll(
        &app,
        &token,
        json!({"question": "هل كان هذا الخبر مفيدًا؟", "options": ["نعم", "لا"], "placement": {"article": 1}}),
    )
    .await;
    let article = app.get("/news/1").await;
    let location = article.headers()[header::LOCATION].to_str().unwrap().to_owned();
    let article = app.get(&location).await.text().await.unwrap();
    assert!(article.contains(&format!("data-poll=\"{under}\"")) && article.contains("هل كان هذا الخبر مفيدًا؟"));
    let archive = app.get("/polls").await.text().await.unwrap();
    assert!(archive.contains("هل تؤيد توسيع شبكة الحافلات؟"));
    app.stop().await;
}
on_both_backends!(voting, voting_flow);

#[tokio::test]
async fn bad_votes_are_refused_and_change_nothing() {
    let app = TestApp::builder().demo().start().await.unwrap();
    let token = app.token().await;
    let single =
        create_poll(&app, &token, json!({"question": "سؤال أول", "options": ["أ", "ب"], "placement": "sidebar"})).await;
    let other =
        create_poll(&app, &token, json!({"question": "سؤال ثان", "options": ["ج", "د"], "placement": "sidebar"})).await;
    let single_options = option_ids(&poll_json(&app, single).await);
    let other_options = option_ids(&poll_json(&app, other).await);
    let csrf = csrf_for(&app, single);

    // Another poll's option, two answers to a one-answer poll, nothing, garbage.
    for (options, expected) in
        [(vec![other_options[0]], 422), (vec![single_options[0], single_options[1]], 422), (vec![], 422)]
    {
        let response = vote(&app, single, &options, &csrf, None).await;
        assert_eq!(response.status(), expected, "{options:?}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "validation_failed");
    }
    let garbage = app
        .client
        .post(app.url(&format!("/polls/{single}/vote")))
        .header(header::ACCEPT, JSON)
        .form(&[("option", "one"), ("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status(), 422);

    // Missing, wrong or another poll's token; another site's page; a GET.
    for token in ["", "0123456789abcdef0123456789abcdef", csrf_for(&app, other).as_str()] {
        let response = vote(&app, single, &[single_options[0]], token, None).await;
        assert_eq!(response.status(), 403, "token {token:?}");
    }
    let cross_site = app
        .client
        .post(app.url(&format!("/polls/{single}/vote")))
        .header(header::ORIGIN, "https://evil.example")
        .form(&[("option", single_options[0].to_string()), ("csrf", csrf.clone())])
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), 403);
    let by_get = app.get(&format!("/polls/{single}/vote?option={}&csrf={csrf}", single_options[0])).await;
    assert_eq!(by_get.status(), 405);
    assert_eq!(poll_json(&app, single).await["voters"], 0, "nothing counted");

    // Multiple choice takes several answers, each counted once.
    let multiple = create_poll(
        &app,
        &token,
        json!({"question": "ما الأقسام التي تتابعها؟", "options": ["سياسة", "اقتصاد", "رياضة"], "multiple": true, "placement": "sidebar"}),
    )
    .await;
    let choices = option_ids(&poll_json(&app, multiple).await);
    let response = vote(&app, multiple, &[choices[0], choices[2], choices[2]], &csrf_for(&app, multiple), None).await;
    assert_eq!(response.status(), 200);
    let results = poll_json(&app, multiple).await;
    assert_eq!(results["voters"], 1);
    assert_eq!(results["options"][0]["votes"], 1);
    assert_eq!(results["options"][1]["votes"], 0);
    assert_eq!(results["options"][2]["votes"], 1);

    // Closed, and not yet open.
    let closed =
        app.client.post(app.url(&format!("/api/admin/polls/{single}/close"))).bearer_auth(&token).send().await.unwrap();
    assert_eq!(closed.status(), 200);
    let late = vote(&app, single, &[single_options[0]], &csrf, None).await;
    assert_eq!(late.status(), 409);
    assert_eq!(late.json::<Value>().await.unwrap()["error"]["code"], "poll_closed");
    let future = create_poll(
        &app,
        &token,
        json!({"question": "سؤال الغد", "options": ["نعم", "لا"], "placement": "sidebar", "opens_at": "2099-01-01T00:00:00+03:00"}),
    )
    .await;
    let early =
        vote(&app, future, &[option_ids(&poll_json(&app, future).await)[0]], &csrf_for(&app, future), None).await;
    assert_eq!(early.status(), 409);
    assert_eq!(early.json::<Value>().await.unwrap()["error"]["code"], "poll_not_open");

    // Bad polls from the API: a precise message per field.
    let bad = app
        .client
        .post(app.url("/api/admin/polls"))
        .bearer_auth(&token)
        .json(&json!({"question": "", "options": ["وحيد"], "placement": "footer", "closes_at": "tomorrow"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    let bad: Value = bad.json().await.unwrap();
    for field in ["question", "options", "placement", "closes_at"] {
        assert!(bad["error"]["fields"][field].is_string(), "{field}: {bad}");
    }
    let anonymous = app.client.post(app.url("/api/admin/polls")).json(&json!({})).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    app.stop().await;
}

#[tokio::test]
async fn an_address_allowance_stops_stuffing_but_not_an_office() {
    let app = TestApp::builder().demo().start().await.unwrap();
    let token = app.token().await;
    let id = create_poll(
        &app,
        &token,
        json!({"question": "سؤال المكتب", "options": ["نعم", "لا"], "placement": "sidebar", "address_allowance": 5}),
    )
    .await;
    let option = option_ids(&poll_json(&app, id).await)[0];
    // Five colleagues behind one address vote; the sixth ballot from it waits an hour.
    for colleague in 0..5 {
        assert_eq!(vote(&app, id, &[option], &csrf_for(&app, id), None).await.status(), 200, "colleague {colleague}");
    }
    let stuffed = vote(&app, id, &[option], &csrf_for(&app, id), None).await;
    assert_eq!(stuffed.status(), 429);
    assert_eq!(stuffed.json::<Value>().await.unwrap()["counted"], "over_allowance");
    assert_eq!(poll_json(&app, id).await["voters"], 5);
    app.stop().await;
}

#[tokio::test]
async fn a_staff_only_poll_takes_votes_from_logged_in_staff_alone() {
    let app = TestApp::builder().demo().start().await.unwrap();
    let token = app.token().await;
    let id = create_poll(
        &app,
        &token,
        json!({"question": "سؤال لغرفة الأخبار", "options": ["نعم", "لا"], "placement": "sidebar", "staff_only": true}),
    )
    .await;
    let option = option_ids(&poll_json(&app, id).await)[0];
    let reader = vote(&app, id, &[option], &csrf_for(&app, id), None).await;
    assert_eq!(reader.status(), 403);
    assert_eq!(poll_json(&app, id).await["voters"], 0);

    let hash = khabar::accounts::passwords::hash("a long passphrase for tests".to_owned()).await.unwrap();
    let staff_id = app
        .store()
        .create_staff("editor@example.com", "محرر", khabar::accounts::staff::Role::Editor, &hash, 1)
        .await
        .unwrap()
        .unwrap();
    let session = app.store().create_session(staff_id, khabar::store::now_seconds()).await.unwrap();
    let cookie = format!("khabar_session={session}");
    let staff = vote(&app, id, &[option], &csrf_for(&app, id), Some(&cookie)).await;
    assert_eq!(staff.status(), 200);
    assert_eq!(poll_json(&app, id).await["voters"], 1);
    app.stop().await;
}

/// 64 clients at once, each vote a new voter: the count is exactly the number of 2xx answers.
async fn concurrent_votes_are_all_counted(backend: Backend) {
    let Some(app) = TestApp::builder().backend(backend).demo().start().await else {
        return;
    };
    let token = app.token().await;
    let id =
        create_poll(&app, &token, json!({"question": "سؤال الزحام", "options": ["نعم", "لا"], "placement": "sidebar"}))
            .await;
    let options = option_ids(&poll_json(&app, id).await);
    let csrf = csrf_for(&app, id);
    const CLIENTS: usize = 64;
    const VOTES_EACH: usize = 20;
    let mut tasks = Vec::new();
    for client in 0..CLIENTS {
        let http = reqwest::Client::new();
        let url = app.url(&format!("/polls/{id}/vote"));
        let csrf = csrf.clone();
        let option = options[client % 2];
        tasks.push(tokio::spawn(async move {
            let mut accepted = [0usize; 2];
            for _ in 0..VOTES_EACH {
                let response = http
                    .post(&url)
                    .header(header::ACCEPT, JSON)
                    .form(&[("option", option.to_string()), ("csrf", csrf.clone())])
                    .send()
                    .await
                    .unwrap();
                if response.status().is_success() {
                    accepted[client % 2] += 1;
                }
            }
            accepted
        }));
    }
    let mut accepted = [0usize; 2];
    for task in tasks {
        let counted = task.await.unwrap();
        accepted[0] += counted[0];
        accepted[1] += counted[1];
    }
    assert_eq!(accepted[0] + accepted[1], CLIENTS * VOTES_EACH, "every vote acknowledged");
    let results = poll_json(&app, id).await;
    assert_eq!(results["voters"].as_u64().unwrap() as usize, CLIENTS * VOTES_EACH);
    assert_eq!(results["options"][0]["votes"].as_u64().unwrap() as usize, accepted[0]);
    assert_eq!(results["options"][1]["votes"].as_u64().unwrap() as usize, accepted[1]);
    app.stop().await;
}
on_both_backends!(concurrency, concurrent_votes_are_all_counted);

/// Votes pour in; the server is killed at a random moment; after the restart
/// every acknowledged vote is there, and nothing beyond what was in flight.
#[tokio::test]
async fn acknowledged_votes_survive_a_kill_9() {
    const CLIENTS: usize = 8;
    let site = tempfile::tempdir().unwrap();
    let data = site.path().join("site").display().to_string();
    let (mut server, base) = common::start_binary(&["demo", "--data", &data], &[]);
    let home = reqwest::get(&base).await.unwrap().text().await.unwrap();
    let csrf_at = home.find("name=\"csrf\" value=\"").unwrap() + "name=\"csrf\" value=\"".len();
    let csrf = home[csrf_at..].split('"').next().unwrap().to_owned();
    let acknowledged = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        let url = format!("{base}/polls/1/vote");
        let csrf = csrf.clone();
        let acknowledged = std::sync::Arc::clone(&acknowledged);
        clients.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            loop {
                let sent = http
                    .post(&url)
                    .header(header::ACCEPT, JSON)
                    .form(&[("option", "2"), ("csrf", csrf.as_str())])
                    .send()
                    .await;
                match sent {
                    Ok(response) if response.status().is_success() => {
                        acknowledged.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    }
                    Ok(response) => panic!("vote refused: {}", response.status()),
                    // The server is gone: this vote was never acknowledged.
                    Err(_) => return,
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(700 + rand::random::<u64>() % 1500)).await;
    server.kill().unwrap();
    server.wait().unwrap();
    for client in clients {
        client.await.unwrap();
    }
    let acknowledged = acknowledged.load(std::sync::atomic::Ordering::SeqCst);
    assert!(acknowledged > 0, "votes were cast before the kill");

    let (server, base) = common::start_binary(&["serve", "--data", &data], &[]);
    let poll: Value = reqwest::get(format!("{base}/api/content/polls/1")).await.unwrap().json().await.unwrap();
    let counted = poll["voters"].as_u64().unwrap() as usize;
    let option_votes = poll["options"][1]["votes"].as_u64().unwrap() as usize;
    assert_eq!(counted, option_votes, "the option's count and the voters agree");
    assert!(counted >= acknowledged, "lost acknowledged votes: {counted} counted, {acknowledged} acknowledged");
    assert!(
        counted <= acknowledged + CLIENTS,
        "{counted} counted but only {acknowledged} acknowledged and {CLIENTS} in flight"
    );
    let _ = Command::new("kill").args(["-TERM", &server.id().to_string()]).status();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut server = server;
    while server.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(50));
    }
}
