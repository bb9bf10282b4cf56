//! CSS, fonts and icons, embedded in the binary (a theme folder may replace
//! any of them). URLs carry a content fingerprint so browsers keep them forever.

use std::collections::HashMap;
use std::path::Path;

use axum::body::Body;
use axum::extract::{Path as UrlPath, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use sha2::{Digest, Sha256};

use crate::app::AppState;
use crate::error::AppError;

const BUILT_IN: &[(&str, &[u8])] = &[
    ("site.css", include_bytes!("../static/site.css")),
    ("admin.css", include_bytes!("../static/admin.css")),
    ("admin.js", include_bytes!("../static/admin.js")),
    ("newsletter.js", include_bytes!("../static/newsletter.js")),
    ("polls.js", include_bytes!("../static/polls.js")),
    ("comments.js", include_bytes!("../static/comments.js")),
    ("fonts/NotoNaskhArabic-Regular.woff2", include_bytes!("../static/fonts/NotoNaskhArabic-Regular.woff2")),
    ("fonts/NotoNaskhArabic-Bold.woff2", include_bytes!("../static/fonts/NotoNaskhArabic-Bold.woff2")),
    ("fonts/NotoKufiArabic-Bold.woff2", include_bytes!("../static/fonts/NotoKufiArabic-Bold.woff2")),
    ("fonts/OFL.txt", include_bytes!("../static/fonts/OFL.txt")),
    ("favicon.svg", include_bytes!("../static/favicon.svg")),
    // The publisher logo structured data and share cards fall back to (they want a raster image).
    ("logo.png", include_bytes!("../static/logo.png")),
    ("share.js", include_bytes!("../static/share.js")),
];

pub struct StaticFile {
    pub bytes: Bytes,
    pub content_type: &'static str,
    pub fingerprint: String,
}

pub struct StaticAssets {
    files: HashMap<String, StaticFile>,
}

fn content_type_for(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("css") => "text/css; charset=utf-8",
        Some("woff2") => "font/woff2",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("txt") => "text/plain; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        _ => "application/octet-stream",
    }
}

impl StaticFile {
    fn new(bytes: Bytes, name: &str) -> Self {
        let digest = Sha256::digest(&bytes);
        let fingerprint = hex::encode(&digest[..5]);
        StaticFile { bytes, content_type: content_type_for(name), fingerprint }
    }
}

impl StaticAssets {
    /// Loads the built-in files, replaced by `THEME/static/NAME` where present.
    pub fn load(theme_dir: Option<&Path>) -> std::io::Result<Self> {
        let mut files = HashMap::new();
        for (name, built_in) in BUILT_IN {
            let bytes = match theme_dir.map(|dir| dir.join("static").join(name)) {
                Some(path) if path.is_file() => Bytes::from(std::fs::read(path)?),
                _ => Bytes::from_static(built_in),
            };
            files.insert((*name).to_owned(), StaticFile::new(bytes, name));
        }
        let mut assets = StaticAssets { files };
        // Stylesheets name other assets as `asset:NAME`; they get fingerprinted URLs
        // (so fonts are cached forever too), and then their own fingerprint.
        let stylesheets: Vec<String> = assets.files.keys().filter(|name| name.ends_with(".css")).cloned().collect();
        for name in stylesheets {
            let Some(file) = assets.files.get(&name) else {
                continue;
            };
            let mut text = String::from_utf8_lossy(&file.bytes).into_owned();
            for other in assets.files.keys() {
                text = text.replace(&format!("asset:{other}"), &assets.url(other));
            }
            assets.files.insert(name.clone(), StaticFile::new(Bytes::from(text), &name));
        }
        Ok(assets)
    }

    /// The URL templates link to; unknown names still get a stable URL (that 404s).
    pub fn url(&self, name: &str) -> String {
        match self.files.get(name) {
            Some(file) => format!("/static/{}/{name}", file.fingerprint),
            None => format!("/static/0/{name}"),
        }
    }

    pub fn get(&self, name: &str) -> Option<&StaticFile> {
        self.files.get(name)
    }
}

pub async fn serve_static(
    State(state): State<AppState>,
    UrlPath((fingerprint, name)): UrlPath<(String, String)>,
    request_headers: HeaderMap,
) -> Result<Response, AppError> {
    let file = state.assets.get(&name).ok_or(AppError::NotFound)?;
    let etag = format!("\"{}\"", file.fingerprint);
    let current = fingerprint == file.fingerprint;
    let cache_control =
        if current { "public, max-age=31536000, immutable" } else { "public, max-age=0, must-revalidate" };
    let matches = request_headers
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.contains(&etag));
    let mut response =
        if matches { StatusCode::NOT_MODIFIED.into_response() } else { Response::new(Body::from(file.bytes.clone())) };
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(file.content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache_control));
    if let Ok(etag) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, etag);
    }
    Ok(response)
}
