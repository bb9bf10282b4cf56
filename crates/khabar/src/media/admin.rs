//! `/admin/media`: upload images and describe them.

use axum::extract::{Multipart, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use serde::{Deserialize, Serialize};

use crate::admin::session::Staff;
use crate::admin::{page_with_status, render, see_other, PageForm};
use crate::app::AppState;
use crate::articles::pages::parse_id;
use crate::error::AppError;
use crate::media::images::{self, ImageError};
use crate::media::{add_to_library, Description, LibraryError};
use crate::store::now_seconds;
use crate::web::{query_params, raw_segment};

const SHOWN: i64 = 200;

#[derive(Serialize)]
struct MediaView {
    id: i64,
    path: String,
    thumbnail: String,
    size: String,
    alt: String,
    caption: String,
    credit: String,
    ready: bool,
}

async fn show(
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    problem: Option<String>,
    notice: Option<&str>,
) -> Result<Response, AppError> {
    let items: Vec<MediaView> = state
        .store
        .media(SHOWN)
        .await?
        .into_iter()
        .map(|row| MediaView {
            id: row.id,
            thumbnail: row.thumbnail(),
            size: format!("{}×{}", row.width, row.height),
            ready: row.variants_ready,
            path: row.path,
            alt: row.alt,
            caption: row.caption,
            credit: row.credit,
        })
        .collect();
    let html = render(
        state,
        staff,
        "admin/media.html",
        "media",
        minijinja::context! { items => items, problem => problem, notice => notice, max_megabytes => images::MAX_UPLOAD_BYTES / (1024 * 1024) },
    )?;
    Ok(page_with_status(status, html))
}

pub async fn library(State(state): State<AppState>, staff: Staff, uri: Uri) -> Result<Response, AppError> {
    let notice =
        query_params(&uri).get("uploaded").map(|_| "رُفعت الصورة ونُظّفت من البيانات الوصفية. تُجهَّز نسخها المصغّرة الآن.");
    show(&state, &staff, StatusCode::OK, None, notice).await
}

fn refusal(error: &ImageError) -> String {
    match error {
        ImageError::UnsupportedType => "نقبل صور JPEG وPNG وWebP فقط (لا SVG ولا GIF).".to_owned(),
        ImageError::TooLarge { width, height } => {
            format!("أبعاد الصورة {width}×{height} أكبر من المسموح (١٢٠٠٠ بكسل للضلع).")
        }
        ImageError::Unreadable => "تعذّرت قراءة الصورة: الملف تالف أو ليس صورة.".to_owned(),
        ImageError::Encoding => "تعذّرت معالجة الصورة.".to_owned(),
    }
}

pub async fn upload(State(state): State<AppState>, staff: Staff, mut form: Multipart) -> Result<Response, AppError> {
    let mut file: Option<Vec<u8>> = None;
    let (mut alt, mut caption, mut credit, mut csrf) = (String::new(), String::new(), String::new(), String::new());
    while let Some(field) = form.next_field().await.map_err(|error| AppError::BadRequest(error.body_text()))? {
        let name = field.name().unwrap_or_default().to_owned();
        // The browser's file name is never used: stored names are generated.
        if name == "file" {
            let bytes = field.bytes().await.map_err(|error| AppError::BadRequest(error.body_text()))?;
            file = Some(bytes.to_vec());
            continue;
        }
        let text = field.text().await.map_err(|error| AppError::BadRequest(error.body_text()))?;
        match name.as_str() {
            "alt" => alt = text.trim().chars().take(300).collect(),
            "caption" => caption = text.trim().chars().take(500).collect(),
            "credit" => credit = text.trim().chars().take(200).collect(),
            "csrf" => csrf = text,
            _ => {}
        }
    }
    staff.check_csrf(&csrf)?;
    let Some(upload) = file.filter(|bytes| !bytes.is_empty()) else {
        return show(&state, &staff, StatusCode::UNPROCESSABLE_ENTITY, Some("اختر صورة لرفعها.".to_owned()), None)
            .await;
    };
    let month = state.locale().zoned(now_seconds()).strftime("%Y/%m").to_string();
    let description = Description { alt: &alt, caption: &caption, credit: &credit, uploaded_by: Some(staff.id()) };
    let (id, path) = match add_to_library(&state, upload, &month, &description).await {
        Ok(added) => added,
        Err(LibraryError::Image(error)) => {
            return show(&state, &staff, StatusCode::UNPROCESSABLE_ENTITY, Some(refusal(&error)), None).await
        }
        Err(LibraryError::Store(error)) => return Err(AppError::Store(error)),
        Err(LibraryError::Storage(error)) => {
            return Err(AppError::Internal(format!("cannot store the upload: {error}")))
        }
    };
    staff.audit(&state, "media.upload", &format!("#{id} {path}")).await;
    Ok(see_other(&format!("/admin/media?uploaded={id}")))
}

#[derive(Deserialize)]
pub struct DescribeForm {
    #[serde(default)]
    alt: String,
    #[serde(default)]
    caption: String,
    #[serde(default)]
    credit: String,
    #[serde(default)]
    csrf: String,
}

pub async fn describe(
    State(state): State<AppState>,
    staff: Staff,
    uri: Uri,
    PageForm(form): PageForm<DescribeForm>,
) -> Result<Response, AppError> {
    staff.check_csrf(&form.csrf)?;
    staff.require(staff.role().manages_taxonomy())?;
    let id = raw_segment(&uri, 2).and_then(parse_id).ok_or(AppError::NotFound)?;
    if !state.store.describe_media(id, form.alt.trim(), form.caption.trim(), form.credit.trim()).await? {
        return Err(AppError::NotFound);
    }
    staff.audit(&state, "media.describe", &format!("#{id}")).await;
    Ok(see_other("/admin/media"))
}
