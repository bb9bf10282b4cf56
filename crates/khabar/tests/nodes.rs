//! Several khabar nodes on one PostgreSQL database: a change made through one
//! reaches the others' page caches within a second (LISTEN/NOTIFY).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{Backend, TestApp};
use serde_json::json;

/// GETs `url` every 20 ms until its body contains `wanted`; how long that took (at most 5 s).
async fn until_shown(client: &reqwest::Client, url: &str, wanted: &str) -> Duration {
    let started = Instant::now();
    loop {
        let body = client.get(url).send().await.unwrap().text().await.unwrap();
        if body.contains(wanted) {
            return started.elapsed();
        }
        assert!(started.elapsed() < Duration::from_secs(5), "{url} never showed «{wanted}»");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_change_through_one_node_reaches_the_others() {
    let Some(app) = TestApp::builder().backend(Backend::Postgres).demo().start().await else { return };
    let node = app.another_node().await;
    let client = reqwest::Client::new();
    let home = format!("{}/", node.base);
    let feed = format!("{}/feed.xml", node.base);
    // Both caches hold the pages before the change.
    for url in [&home, &feed] {
        for _ in 0..2 {
            assert_eq!(client.get(url.as_str()).send().await.unwrap().status(), 200);
        }
    }
    assert!(node.state.pages.len() >= 2, "the second node cached its pages");

    // Published through the first node: the second node's cached home page and feed show it.
    let title = "افتتاح جسر المشاة الجديد فوق النهر";
    let token = app.token().await;
    let response = app
        .post_article(
            &token,
            &json!({"title": title, "body_markdown": "نص الخبر.", "section": "محليات", "status": "published"}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let home_after = until_shown(&client, &home, title).await;
    let feed_after = until_shown(&client, &feed, title).await;
    println!("publish on one node → the other's home page changed after {home_after:?}, its feed after {feed_after:?}");
    assert!(home_after < Duration::from_secs(1), "the other node's home page took {home_after:?}");

    // A setting saved through the first node (the admin's save does these three).
    app.store().save_settings(&[("site_name".to_owned(), "خبر الصباح".to_owned())]).await.unwrap();
    app.state.reload_settings().await.unwrap();
    app.state.content_changed();
    let renamed_after = until_shown(&client, &home, "خبر الصباح").await;
    assert!(renamed_after < Duration::from_secs(1), "the other node's masthead took {renamed_after:?}");
    assert_eq!(node.state.site_view().name, "خبر الصباح", "the other node re-read the settings");

    node.stop().await;
    app.stop().await;
}
