//! The binary from the shell: `demo`, `serve`, `token create`, and how it fails.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BINARY: &str = env!("CARGO_BIN_EXE_khabar");

/// Starts the binary on an ephemeral port and returns it with its base URL,
/// read from the "serving at" log line.
fn start(arguments: &[&str]) -> (Child, String) {
    let mut child = Command::new(BINARY)
        .args(arguments)
        .args(["--addr", "127.0.0.1:0"])
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn khabar");
    let stderr = child.stderr.take().unwrap();
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(at) = line.find("serving at http://") {
                let address: String = line[at + "serving at ".len()..]
                    .chars()
                    .take_while(|character| !character.is_whitespace())
                    .collect();
                let _ = sender.send(address);
            }
        }
    });
    let base = receiver.recv_timeout(Duration::from_secs(60)).expect("khabar reports its address");
    (child, base.trim_end_matches(|character: char| !character.is_ascii_digit()).to_owned())
}

/// SIGTERM, then wait: a clean stop exits 0.
fn terminate(mut child: Child) {
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "khabar did not stop cleanly: {status}");
            return;
        }
        assert!(Instant::now() < deadline, "khabar did not stop within 20 s of SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn get(url: &str) -> (u16, String) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let response = reqwest::get(url).await.unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    })
}

fn count_articles(base: &str) -> u64 {
    let (_, body) = get(&format!("{base}/api/content/articles"));
    serde_json::from_str::<serde_json::Value>(&body).unwrap()["total"].as_u64().unwrap()
}

fn data_arguments(dir: &Path) -> Vec<String> {
    vec!["--data".to_owned(), dir.display().to_string()]
}

#[test]
fn demo_creates_a_site_once_and_then_serves_it_unchanged() {
    let root = tempfile::tempdir().unwrap();
    let site = root.path().join("demo-site");
    let data = data_arguments(&site);
    let arguments: Vec<&str> = std::iter::once("demo").chain(data.iter().map(String::as_str)).collect();
    let (child, base) = start(&arguments);
    assert_eq!(get(&format!("{base}/healthz")).0, 200);
    let (status, home) = get(&format!("{base}/"));
    assert_eq!(status, 200);
    assert!(home.contains("dir=\"rtl\""));
    let articles = count_articles(&base);
    assert!(articles >= 24);
    terminate(child);
    assert!(site.join("khabar.toml").is_file() && site.join("khabar.db").is_file());
    assert!(site.join("media/demo/01.svg").is_file());

    // A token made from the shell works against the API of the same site.
    let output = Command::new(BINARY).args(["token", "create", "--name", "publisher"]).args(&data).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let token = String::from_utf8(output.stdout).unwrap().trim().to_owned();
    assert!(token.starts_with("khabar_"));

    let (child, base) = start(&arguments);
    assert_eq!(count_articles(&base), articles, "re-running demo must not add content");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let created = runtime.block_on(async {
        reqwest::Client::new()
            .post(format!("{base}/api/admin/articles"))
            .bearer_auth(&token)
            .json(&serde_json::json!({"title": "خبر من سكربت", "body_markdown": "نص.", "section": "سياسة", "status": "published"}))
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(created, 201);
    terminate(child);
}

#[test]
fn serve_makes_an_empty_site_in_a_new_folder() {
    let root = tempfile::tempdir().unwrap();
    let site = root.path().join("new-site");
    let data = data_arguments(&site);
    let arguments: Vec<&str> = std::iter::once("serve").chain(data.iter().map(String::as_str)).collect();
    let (child, base) = start(&arguments);
    assert_eq!(count_articles(&base), 0);
    let (status, home) = get(&format!("{base}/"));
    assert_eq!(status, 200);
    assert!(home.contains("لا أخبار بعد"));
    terminate(child);
}

/// Failures are one clear line on stderr and a non-zero exit, never a panic.
#[test]
fn mistakes_get_one_clear_line_and_a_failing_exit() {
    let root = tempfile::tempdir().unwrap();
    let foreign = root.path().join("not-a-site");
    std::fs::create_dir_all(&foreign).unwrap();
    std::fs::write(foreign.join("notes.txt"), "x").unwrap();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec![
                "token".into(),
                "create".into(),
                "--name".into(),
                "x".into(),
                "--data".into(),
                root.path().join("missing").display().to_string(),
            ],
            "not a khabar site yet",
        ),
        (vec!["serve".into(), "--data".into(), foreign.display().to_string()], "holds other files"),
        (
            vec![
                "serve".into(),
                "--data".into(),
                root.path().join("s").display().to_string(),
                "--addr".into(),
                "nonsense".into(),
            ],
            "cannot listen on nonsense",
        ),
        (
            vec![
                "serve".into(),
                "--data".into(),
                root.path().join("p").display().to_string(),
                "--database".into(),
                "mysql://x".into(),
            ],
            "unsupported database URL",
        ),
    ];
    for (arguments, expected) in cases {
        let output = Command::new(BINARY).args(&arguments).env("RUST_LOG", "error").output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{arguments:?}: {stderr}");
        assert!(stderr.contains(expected), "{arguments:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{arguments:?}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{arguments:?}: {stderr}");
    }
    let config_dir = root.path().join("bad-config");
    std::fs::create_dir_all(&config_dir).unwrap();
    std::fs::write(config_dir.join("khabar.toml"), "timezone = \"Mars/Olympus\"\n").unwrap();
    let output = Command::new(BINARY)
        .args(["serve", "--data", &config_dir.display().to_string()])
        .env("RUST_LOG", "error")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr.contains("Mars/Olympus"), "{stderr}");
}

#[test]
fn the_first_admin_is_created_from_the_shell_and_weak_passwords_are_refused() {
    let root = tempfile::tempdir().unwrap();
    let site = root.path().join("site");
    let data = site.display().to_string();
    let create = |password: &str, email: &str| {
        let mut child = Command::new(BINARY)
            .args(["admin", "create", "--data", &data, "--email", email, "--name", "ليلى حداد", "--role", "admin"])
            .env_remove("KHABAR_PASSWORD")
            .env("RUST_LOG", "error")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child.stdin.take().unwrap().write_all(format!("{password}\n").as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    };
    let output = create("short", "layla@example.com");
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("refusing a weak password"));
    let output = create("زيتون أخضر على الطاولة", "layla@example.com");
    assert_eq!(output.status.code(), Some(1), "no site yet");
    let (child, _) = start(&["serve", "--data", &data]);
    terminate(child);
    let output = create("زيتون أخضر على الطاولة", "layla@example.com");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stdout).contains("created admin account"));
    let output = Command::new(BINARY)
        .args([
            "admin",
            "create",
            "--data",
            &data,
            "--email",
            "LAYLA@example.com",
            "--name",
            "ليلى",
            "--role",
            "editor",
        ])
        .env("KHABAR_PASSWORD", "زيتون أخضر على الطاولة")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("already exists"));
    let output = Command::new(BINARY)
        .args(["admin", "create", "--data", &data, "--email", "x@example.com", "--name", "س", "--role", "owner"])
        .env("KHABAR_PASSWORD", "زيتون أخضر على الطاولة")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown role 'owner'"));
}

/// `khabar reindex` rebuilds the index with the server stopped, refuses
/// while it runs, and a server started without an index builds its own.
#[test]
fn reindex_rebuilds_the_search_index_from_the_database() {
    let root = tempfile::tempdir().unwrap();
    let site = root.path().join("site");
    let data = data_arguments(&site);
    let arguments: Vec<&str> = std::iter::once("demo").chain(data.iter().map(String::as_str)).collect();
    let (child, base) = start(&arguments);
    let searched = |base: &str| {
        let (status, body) =
            get(&format!("{base}/api/content/search?q=%D8%A7%D9%84%D9%85%D9%81%D8%A7%D9%88%D8%B6%D8%A7%D8%AA"));
        assert_eq!(status, 200);
        serde_json::from_str::<serde_json::Value>(&body).unwrap()["total"].as_u64().unwrap()
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while searched(&base) == 0 {
        assert!(Instant::now() < deadline, "the new site's index was not built");
        std::thread::sleep(Duration::from_millis(50));
    }
    let found = searched(&base);
    let busy = Command::new(BINARY).arg("reindex").args(&data).output().unwrap();
    assert!(!busy.status.success(), "reindex must not fight the running server's writer");
    assert!(String::from_utf8_lossy(&busy.stderr).contains("running"), "{}", String::from_utf8_lossy(&busy.stderr));
    terminate(child);

    let output = Command::new(BINARY).arg("reindex").args(&data).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stdout).contains("indexed 30 articles"));

    // Deleted index folder: the server rebuilds it at start.
    std::fs::remove_dir_all(site.join("index")).unwrap();
    let (child, base) = start(&arguments);
    let deadline = Instant::now() + Duration::from_secs(20);
    while searched(&base) != found {
        assert!(Instant::now() < deadline, "the deleted index was not rebuilt");
        std::thread::sleep(Duration::from_millis(50));
    }
    terminate(child);
}

fn wordpress_fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/wordpress").join(name).display().to_string()
}

/// `khabar import wordpress` beside a running server: the report, the exit
/// code when items were skipped, the server's pages refreshed, re-runs.
#[test]
fn import_wordpress_reports_and_a_running_server_shows_the_result() {
    let root = tempfile::tempdir().unwrap();
    let site = root.path().join("site");
    let data = data_arguments(&site);
    let arguments: Vec<&str> = std::iter::once("serve").chain(data.iter().map(String::as_str)).collect();
    let (child, base) = start(&arguments);
    let (_, home) = get(&format!("{base}/"));
    assert!(!home.contains("المجلس البلدي يقر توسيع شبكة الحافلات"));
    let import = |extra: &[&str], file: &str| {
        Command::new(BINARY)
            .args(["import", "wordpress"])
            .args(&data)
            .args(extra)
            .arg(wordpress_fixture(file))
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
    };
    let uploads = wordpress_fixture("uploads");

    let dry = import(&["--dry-run", "--uploads", &uploads], "newsroom.xml");
    let report = String::from_utf8_lossy(&dry.stdout);
    assert!(report.contains("dry run") && report.contains("articles: 11 new"), "{report}");
    assert_eq!(count_articles(&base), 0, "a dry run writes nothing");

    let first = import(&["--uploads", &uploads], "newsroom.xml");
    let report = String::from_utf8_lossy(&first.stdout);
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert_eq!(first.status.code(), Some(1), "two items of unknown types were skipped: {report}{stderr}");
    assert!(report.contains("articles: 11 new, 0 updated, 0 unchanged"), "{report}");
    assert!(report.contains("comments: 10 new"), "{report}");
    assert!(report.contains("item 130") && report.contains("nav_menu_item"), "{report}");
    assert!(report.contains("flooded-alley.jpg"), "missing images are listed: {report}");
    assert_eq!(stderr.trim().lines().last().unwrap(), "khabar: error: 2 items were skipped (see above)");
    assert_eq!(count_articles(&base), 7);
    // The server's cached home page is refreshed by itself (it checks every few seconds).
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, home) = get(&format!("{base}/"));
        if home.contains("المجلس البلدي يقر توسيع شبكة الحافلات") {
            break;
        }
        assert!(Instant::now() < deadline, "the running server never showed the import");
        std::thread::sleep(Duration::from_millis(250));
    }
    let (status, _) = get(&format!("{base}/?p=102"));
    assert_eq!(status, 200, "reqwest followed the old link's 301 to the article");

    let again = import(&["--uploads", &uploads], "newsroom.xml");
    let report = String::from_utf8_lossy(&again.stdout);
    assert!(report.contains("articles: 0 new, 0 updated, 11 unchanged"), "{report}");
    assert!(report.contains("redirects written: 0"), "{report}");

    let feed = import(&[], "not-wxr.xml");
    assert_eq!(feed.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&feed.stderr);
    assert!(stderr.trim().starts_with("khabar: error: ") && stderr.contains("not a WordPress export"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");

    let cut = import(&[], "truncated.xml");
    assert_eq!(cut.status.code(), Some(1));
    let report = String::from_utf8_lossy(&cut.stdout);
    assert!(report.contains("stopped: line "), "{report}");
    terminate(child);
}
