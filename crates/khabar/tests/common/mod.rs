//! The test harness: a real khabar server on an ephemeral port, with its own
//! temporary data folder and its own database (a fresh SQLite file, or a
//! fresh PostgreSQL schema), spoken to over HTTP.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use khabar::app::AppState;
use khabar::config::Config;
use khabar::server::RunningServer;
use khabar::store::Store;
use tempfile::TempDir;

pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A database for one test. PostgreSQL tests each get a schema of their own,
/// dropped when the test ends, so tests run in parallel on one server.
pub struct TestDatabase {
    pub store: Store,
    pub url: Option<String>,
    schema: Option<(String, String)>,
}

impl TestDatabase {
    /// `None` when the backend is PostgreSQL and no server answers (outside CI).
    pub async fn new(backend: Backend, data_dir: &Path) -> Option<Self> {
        match backend {
            Backend::Sqlite => {
                let store = Store::open_sqlite(&data_dir.join("khabar.db")).await.expect("open sqlite");
                Some(TestDatabase { store, url: None, schema: None })
            }
            Backend::Postgres => {
                let admin_url = postgres_url()?;
                let schema = format!("khabar_test_{:016x}", rand::random::<u64>());
                let admin = sqlx::PgPool::connect(&admin_url).await.expect("connect to PostgreSQL");
                sqlx::query(&format!("CREATE SCHEMA {schema}")).execute(&admin).await.expect("create schema");
                admin.close().await;
                let separator = if admin_url.contains('?') { '&' } else { '?' };
                let url = format!("{admin_url}{separator}options=-c%20search_path%3D{schema}");
                let store = Store::open_url(&url).await.expect("open postgres store");
                Some(TestDatabase { store, url: Some(url), schema: Some((admin_url, schema)) })
            }
        }
    }

    pub async fn drop_schema(&self) {
        if let Some((admin_url, schema)) = &self.schema {
            self.store.close().await;
            if let Ok(admin) = sqlx::PgPool::connect(admin_url).await {
                let _ = sqlx::query(&format!("DROP SCHEMA {schema} CASCADE")).execute(&admin).await;
                admin.close().await;
            }
        }
    }
}

/// The PostgreSQL to test against. Without one, tests say loudly that they
/// were skipped, except under CI=true where a missing server is a failure.
pub fn postgres_url() -> Option<String> {
    let url = std::env::var("KHABAR_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned());
    let reachable = url
        .split('@')
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .map(|host_port| std::net::TcpStream::connect(host_port).is_ok())
        .unwrap_or(false);
    if reachable {
        return Some(url);
    }
    if std::env::var("CI").is_ok_and(|value| value == "true") {
        panic!("PostgreSQL is not reachable at {url}, and CI=true requires the PostgreSQL tests to run");
    }
    eprintln!("\n!!! SKIPPED: PostgreSQL tests need a server at {url} (set KHABAR_TEST_POSTGRES_URL) !!!\n");
    None
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub state: AppState,
    pub data_dir: TempDir,
    database: TestDatabase,
    server: Option<RunningServer>,
}

pub struct Node {
    pub base: String,
    pub state: AppState,
    pub data_dir: TempDir,
    server: Option<RunningServer>,
}

impl Node {
    pub async fn stop(mut self) {
        if let Some(server) = self.server.take() {
            server.stop().await.expect("clean stop");
        }
        self.state.store.close().await;
    }
}

pub struct TestAppBuilder {
    backend: Backend,
    demo: bool,
    configure: Vec<(String, String)>,
}

impl TestApp {
    pub fn builder() -> TestAppBuilder {
        TestAppBuilder { backend: Backend::Sqlite, demo: false, configure: Vec::new() }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("request")
    }

    /// `POST /api/admin/articles` with a bearer token, as a newsroom script would.
    pub async fn post_article(&self, token: &str, body: &serde_json::Value) -> reqwest::Response {
        self.client.post(self.url("/api/admin/articles")).bearer_auth(token).json(body).send().await.expect("request")
    }

    /// `GET /api/admin/articles/{id}` as JSON.
    pub async fn admin_article(&self, token: &str, id: i64) -> serde_json::Value {
        let response = self.client.get(self.url(&format!("/api/admin/articles/{id}"))).bearer_auth(token).send().await;
        response.expect("request").json().await.expect("json")
    }

    pub async fn token(&self) -> String {
        self.state.store.create_api_token("tests").await.expect("token")
    }

    pub fn store(&self) -> &Store {
        &self.state.store
    }

    /// Stops the server as a deploy or a crash-free restart would, and starts
    /// a new one (fresh state, same data folder and database, same address).
    pub async fn restart(&mut self) {
        if let Some(server) = self.server.take() {
            server.stop().await.expect("clean stop");
        }
        let address = self.base.trim_start_matches("http://").to_owned();
        let listener = tokio::net::TcpListener::bind(&address).await.expect("bind the same address again");
        let config = Config::load_with_env(self.data_dir.path(), []).expect("config");
        let state = AppState::new(config, self.data_dir.path(), self.database.store.clone()).await.expect("state");
        self.server = Some(RunningServer::start(state.clone(), listener).expect("start"));
        self.state = state;
    }

    /// A second khabar node on this app's PostgreSQL database, with its own
    /// data folder, address and memory (page cache, settings), as a site
    /// with several stateless nodes runs.
    pub async fn another_node(&self) -> Node {
        let url = self.database.url.clone().expect("several nodes share a PostgreSQL database");
        let data_dir = tempfile::tempdir().expect("temp dir");
        khabar::site::create(data_dir.path()).expect("create site");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let text = format!("base_url = \"{base}\"\ndatabase_url = \"{url}\"\n");
        std::fs::write(data_dir.path().join("khabar.toml"), text).expect("write config");
        let config = Config::load_with_env(data_dir.path(), []).expect("config");
        let store = Store::open_url(&url).await.expect("open the shared database");
        let state = AppState::new(config, data_dir.path(), store).await.expect("state");
        let server = RunningServer::start(state.clone(), listener).expect("start");
        Node { base, state, data_dir, server: Some(server) }
    }

    pub async fn stop(mut self) {
        if let Some(server) = self.server.take() {
            server.stop().await.expect("clean stop");
        }
        self.database.drop_schema().await;
    }
}

impl TestAppBuilder {
    pub fn backend(mut self, backend: Backend) -> Self {
        self.backend = backend;
        self
    }

    /// Fill the site with the demo content first.
    pub fn demo(mut self) -> Self {
        self.demo = true;
        self
    }

    /// A configuration key as `khabar.toml` would hold it.
    pub fn config(mut self, key: &str, value: &str) -> Self {
        self.configure.push((key.to_owned(), value.to_owned()));
        self
    }

    /// `None` only for PostgreSQL without a server outside CI.
    pub async fn start(self) -> Option<TestApp> {
        let data_dir = tempfile::tempdir().expect("temp dir");
        khabar::site::create(data_dir.path()).expect("create site");
        // Bound first so the site's base URL (in absolute links) is the real one.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let mut text = format!("base_url = \"{base}\"\n");
        for (key, value) in &self.configure {
            text.push_str(&format!("{key} = {value}\n"));
        }
        std::fs::write(data_dir.path().join("khabar.toml"), text).expect("write config");
        let database = TestDatabase::new(self.backend, data_dir.path()).await?;
        if self.demo {
            khabar::demo::seed(&database.store, data_dir.path()).await.expect("seed demo");
        }
        let config = Config::load_with_env(data_dir.path(), []).expect("config");
        let state = AppState::new(config, data_dir.path(), database.store.clone()).await.expect("state");
        let server = RunningServer::start(state.clone(), listener).expect("start");
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_gzip()
            .no_brotli()
            .build()
            .expect("client");
        Some(TestApp { base, client, state, data_dir, database, server: Some(server) })
    }
}

/// Runs a store test body once per backend, as two test functions.
#[macro_export]
macro_rules! on_both_backends {
    ($name:ident, $body:path) => {
        mod $name {
            use super::*;

            #[tokio::test]
            async fn sqlite() {
                $body(common::Backend::Sqlite).await;
            }

            #[tokio::test]
            async fn postgres() {
                $body(common::Backend::Postgres).await;
            }
        }
    };
}

/// The first article link on a page.
pub fn first_article_path(html: &str) -> String {
    let start = html.find("href=\"/news/").expect("an article link") + "href=\"".len();
    let end = start + html[start..].find('"').expect("closing quote");
    html[start..end].to_owned()
}

/// A minimal SMTP server on 127.0.0.1 that accepts every message and keeps
/// it, so tests can read the emails khabar sends. Speaks just enough of
/// RFC 5321 for lettre (EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT).
pub struct SmtpSink {
    pub url: String,
    messages: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind smtp");
        let url = format!("smtp://{}", listener.local_addr().expect("smtp address"));
        let messages = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let kept = std::sync::Arc::clone(&messages);
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let kept = std::sync::Arc::clone(&kept);
                tokio::spawn(async move {
                    let (reader, mut writer) = socket.into_split();
                    let mut lines = BufReader::new(reader).lines();
                    let _ = writer.write_all(b"220 sink ESMTP\r\n").await;
                    let mut in_data = false;
                    let mut message = String::new();
                    while let Ok(Some(line)) = lines.next_line().await {
                        if in_data {
                            if line == "." {
                                in_data = false;
                                kept.lock().expect("messages").push(std::mem::take(&mut message));
                                let _ = writer.write_all(b"250 kept\r\n").await;
                            } else {
                                message.push_str(line.strip_prefix('.').unwrap_or(&line));
                                message.push('\n');
                            }
                            continue;
                        }
                        let verb = line.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
                        let reply: &[u8] = match verb.as_str() {
                            "EHLO" | "HELO" => b"250-sink\r\n250 8BITMIME\r\n",
                            "DATA" => {
                                in_data = true;
                                b"354 go on\r\n"
                            }
                            "QUIT" => {
                                let _ = writer.write_all(b"221 bye\r\n").await;
                                break;
                            }
                            _ => b"250 ok\r\n",
                        };
                        let _ = writer.write_all(reply).await;
                    }
                });
            }
        });
        SmtpSink { url, messages }
    }

    /// Waits (at most 20 s) until `count` messages arrived, and returns them.
    pub async fn wait_for(&self, count: usize) -> Vec<String> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let messages = self.messages.lock().expect("messages").clone();
            if messages.len() >= count {
                return messages;
            }
            assert!(std::time::Instant::now() < deadline, "expected {count} emails, got {}", messages.len());
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    pub fn count(&self) -> usize {
        self.messages.lock().expect("messages").len()
    }
}

/// A real SMTP server in its own process: aiosmtpd (Debian's python3-aiosmtpd,
/// which `scripts/test` installs) running `tests/support/smtp_sink.py`.
/// Every message it accepts is a file in `dir`, byte for byte.
pub struct RealSmtp {
    pub url: String,
    pub port: u16,
    pub dir: TempDir,
    child: std::process::Child,
}

pub const PYTHON: &str = "/usr/bin/python3";

pub fn support_file(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support").join(name)
}

impl RealSmtp {
    /// Starts the server; `options` are smtp_sink.py's (`--hold-after N`, `--reject-rcpt-regex R`…).
    pub fn start(options: &[&str]) -> RealSmtp {
        use std::io::BufRead;
        let dir = tempfile::tempdir().expect("mail dir");
        let mut child = std::process::Command::new(PYTHON)
            .arg(support_file("smtp_sink.py"))
            .arg("--dir")
            .arg(dir.path())
            .args(["--port", "0"])
            .args(options)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .expect("start /usr/bin/python3 (install python3-aiosmtpd: scripts/test does)");
        let stdout = child.stdout.take().expect("sink stdout");
        let mut line = String::new();
        std::io::BufReader::new(stdout).read_line(&mut line).expect("sink says where it listens");
        let port: u16 = line
            .trim()
            .strip_prefix("LISTENING ")
            .and_then(|port| port.parse().ok())
            .unwrap_or_else(|| panic!("the SMTP sink did not start (is python3-aiosmtpd installed?): {line:?}"));
        RealSmtp { url: format!("smtp://127.0.0.1:{port}"), port, dir, child }
    }

    /// The messages received so far, in the order received.
    pub fn messages(&self) -> Vec<Vec<u8>> {
        let mut names: Vec<std::path::PathBuf> = std::fs::read_dir(self.dir.path())
            .expect("read mail dir")
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| path.extension().is_some_and(|extension| extension == "eml"))
            .collect();
        names.sort();
        names.iter().map(|path| std::fs::read(path).expect("read message")).collect()
    }

    pub fn files(&self) -> Vec<std::path::PathBuf> {
        let mut names: Vec<std::path::PathBuf> = std::fs::read_dir(self.dir.path())
            .expect("read mail dir")
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| path.extension().is_some_and(|extension| extension == "eml"))
            .collect();
        names.sort();
        names
    }

    pub fn count(&self) -> usize {
        self.files().len()
    }

    /// Waits (at most `seconds`) until `count` messages arrived.
    pub async fn wait_for(&self, count: usize, seconds: u64) -> Vec<Vec<u8>> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
        loop {
            let messages = self.messages();
            if messages.len() >= count {
                return messages;
            }
            assert!(std::time::Instant::now() < deadline, "expected {count} emails, got {}", messages.len());
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// True once the server holds a transaction back (`--hold-after`).
    pub fn holding(&self) -> bool {
        self.dir.path().join("HOLDING").exists()
    }
}

impl Drop for RealSmtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One received email, parsed.
pub struct Email {
    pub raw: Vec<u8>,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl Email {
    pub fn parse(raw: &[u8]) -> Email {
        let message = mail_parser::MessageParser::default().parse(raw).expect("a parsable email");
        let to =
            message.to().and_then(|to| to.first()).and_then(|address| address.address()).unwrap_or_default().to_owned();
        Email {
            raw: raw.to_vec(),
            to,
            subject: message.subject().unwrap_or_default().to_owned(),
            text: message.body_text(0).map(|text| text.into_owned()).unwrap_or_default(),
            html: message.body_html(0).map(|html| html.into_owned()).unwrap_or_default(),
        }
    }

    /// The raw value of a header, unfolded.
    pub fn header(&self, name: &str) -> Option<String> {
        let text = String::from_utf8_lossy(&self.raw);
        let head = text.split("\r\n\r\n").next().unwrap_or("");
        let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
        let prefix = format!("{}:", name.to_ascii_lowercase());
        unfolded
            .split("\r\n")
            .find(|line| line.to_ascii_lowercase().starts_with(&prefix))
            .map(|line| line[prefix.len()..].trim().to_owned())
    }

    /// The first link in the plain text that starts with `prefix`.
    pub fn link(&self, prefix: &str) -> String {
        let start = self.text.find(prefix).unwrap_or_else(|| panic!("no link {prefix} in:\n{}", self.text));
        self.text[start..].split_whitespace().next().unwrap_or_default().to_owned()
    }
}

/// Starts the khabar binary with `arguments` on an ephemeral port, with the
/// environment given, and returns it with the base URL it reports.
pub fn start_binary(arguments: &[&str], environment: &[(&str, &str)]) -> (std::process::Child, String) {
    use std::io::{BufRead, BufReader};
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_khabar"))
        .args(arguments)
        .args(["--addr", "127.0.0.1:0"])
        .envs(environment.iter().copied())
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn khabar");
    let stderr = child.stderr.take().expect("stderr");
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
    let base = receiver.recv_timeout(std::time::Duration::from_secs(60)).expect("khabar reports its address");
    (child, base.trim_end_matches(|character: char| !character.is_ascii_digit()).to_owned())
}

/// A staff member's browser: keeps cookies, sends the site's Origin.
pub struct Browser<'a> {
    pub app: &'a TestApp,
    pub cookies: std::collections::BTreeMap<String, String>,
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        Browser { app, cookies: std::collections::BTreeMap::new() }
    }

    pub fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(name, value)| format!("{name}={value}")).collect::<Vec<_>>().join("; ")
    }

    pub fn keep_cookies(&mut self, response: &reqwest::Response) {
        for value in response.headers().get_all(reqwest::header::SET_COOKIE) {
            let text = value.to_str().unwrap();
            let pair = text.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() || text.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
    }

    pub async fn get(&mut self, path: &str) -> reqwest::Response {
        let response = self
            .app
            .client
            .get(self.app.url(path))
            .header(reqwest::header::COOKIE, self.cookie_header())
            .send()
            .await
            .unwrap();
        self.keep_cookies(&response);
        response
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let response = self
            .app
            .client
            .post(self.app.url(path))
            .header(reqwest::header::COOKIE, self.cookie_header())
            .header(reqwest::header::ORIGIN, &self.app.base)
            .form(form)
            .send()
            .await
            .unwrap();
        self.keep_cookies(&response);
        response
    }

    /// The value of a hidden `name` input on a page.
    pub async fn hidden(&mut self, path: &str, name: &str) -> String {
        let html = self.get(path).await.text().await.unwrap();
        hidden_value(&html, name)
    }

    pub async fn log_in(&mut self, email: &str, password: &str) -> reqwest::Response {
        let csrf = self.hidden("/admin/login", "csrf").await;
        self.post("/admin/login", &[("email", email), ("password", password), ("csrf", &csrf), ("next", "/admin")])
            .await
    }
}

pub fn hidden_value(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no hidden {name}")) + marker.len();
    html[start..start + html[start..].find('"').unwrap()].to_owned()
}
