//! The media library: uploads cleaned of metadata, stored under generated
//! names, with responsive copies made in the background.

pub mod admin;
pub mod images;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use sqlx::FromRow;

use crate::app::AppState;
use crate::store::{with_pool, Store, StoreError};

pub const UPLOADS_URL: &str = "/media/uploads/";

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct MediaRow {
    pub id: i64,
    pub path: String,
    pub width: i64,
    pub height: i64,
    pub bytes: i64,
    pub alt: String,
    pub caption: String,
    pub credit: String,
    pub variant_widths: String,
    pub variants_ready: bool,
    pub created_at: i64,
}

crate::store::reads::sqlite_row!(MediaRow {
    id,
    path,
    width,
    height,
    bytes,
    alt,
    caption,
    credit,
    variant_widths,
    variants_ready,
    created_at,
});

impl MediaRow {
    /// `/media/uploads/2026/11/abc.jpg` → `/media/uploads/2026/11/abc-640.jpg`
    pub fn variant_path(&self, width: u32) -> String {
        variant_path(&self.path, width)
    }

    pub fn widths(&self) -> Vec<u32> {
        self.variant_widths.split(',').filter_map(|width| width.trim().parse().ok()).collect()
    }

    /// A `srcset` listing the copies and the full-size image.
    pub fn srcset(&self) -> String {
        let mut sources: Vec<String> =
            self.widths().into_iter().map(|width| format!("{} {width}w", self.variant_path(width))).collect();
        sources.push(format!("{} {}w", self.path, self.width));
        sources.join(", ")
    }

    pub fn thumbnail(&self) -> String {
        match self.widths().first() {
            Some(width) => self.variant_path(*width),
            None => self.path.clone(),
        }
    }
}

pub fn variant_path(path: &str, width: u32) -> String {
    match path.rsplit_once('.') {
        Some((stem, _)) => format!("{stem}-{width}.jpg"),
        None => format!("{path}-{width}.jpg"),
    }
}

/// The file behind a public media path, inside the data folder only.
pub fn file_for(data_dir: &Path, public_path: &str) -> Option<PathBuf> {
    let relative = public_path.strip_prefix("/media/")?;
    if relative.split('/').any(|part| part.is_empty() || part == ".." || part == "." || part.contains('\\')) {
        return None;
    }
    Some(data_dir.join("media").join(relative))
}

const MEDIA_COLUMNS: &str =
    "id, path, width, height, bytes, alt, caption, credit, variant_widths, variants_ready, created_at";

impl Store {
    #[allow(clippy::too_many_arguments)]
    pub async fn add_media(
        &self,
        path: &str,
        width: i64,
        height: i64,
        bytes: i64,
        alt: &str,
        caption: &str,
        credit: &str,
        uploaded_by: Option<i64>,
        now: i64,
    ) -> Result<i64, StoreError> {
        let id = with_pool!(self, pool => sqlx::query_scalar::<_, i64>(
            "INSERT INTO media (path, width, height, bytes, alt, caption, credit, uploaded_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(path)
        .bind(width)
        .bind(height)
        .bind(bytes)
        .bind(alt)
        .bind(caption)
        .bind(credit)
        .bind(uploaded_by)
        .bind(now)
        .fetch_one(pool)
        .await)?;
        Ok(id)
    }

    pub async fn media(&self, limit: i64) -> Result<Vec<MediaRow>, StoreError> {
        let sql = format!("SELECT {MEDIA_COLUMNS} FROM media ORDER BY id DESC LIMIT $1");
        let rows = with_pool!(self, pool => sqlx::query_as::<_, MediaRow>(&sql).bind(limit).fetch_all(pool).await)?;
        Ok(rows)
    }

    pub async fn media_by_id(&self, id: i64) -> Result<Option<MediaRow>, StoreError> {
        let sql = format!("SELECT {MEDIA_COLUMNS} FROM media WHERE id = $1");
        let row = with_pool!(self, pool => sqlx::query_as::<_, MediaRow>(&sql).bind(id).fetch_optional(pool).await)?;
        Ok(row)
    }

    pub async fn media_by_paths(&self, paths: &[String]) -> Result<Vec<MediaRow>, StoreError> {
        if paths.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {MEDIA_COLUMNS} FROM media WHERE path IN ({})",
            crate::store::reads::placeholders(1, paths.len())
        );
        let paths: Vec<crate::store::Arg> = paths.iter().map(|path| crate::store::Arg::Text(path)).collect();
        self.read_all(&sql, &paths).await
    }

    pub async fn describe_media(&self, id: i64, alt: &str, caption: &str, credit: &str) -> Result<bool, StoreError> {
        let changed = with_pool!(self, pool => sqlx::query("UPDATE media SET alt = $1, caption = $2, credit = $3 WHERE id = $4")
            .bind(alt)
            .bind(caption)
            .bind(credit)
            .bind(id)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(changed > 0)
    }

    async fn media_waiting_for_variants(&self, limit: i64) -> Result<Vec<MediaRow>, StoreError> {
        let sql = format!("SELECT {MEDIA_COLUMNS} FROM media WHERE NOT variants_ready ORDER BY id LIMIT $1");
        let rows = with_pool!(self, pool => sqlx::query_as::<_, MediaRow>(&sql).bind(limit).fetch_all(pool).await)?;
        Ok(rows)
    }

    async fn finish_variants(&self, id: i64, widths: &str) -> Result<(), StoreError> {
        with_pool!(self, pool => sqlx::query("UPDATE media SET variant_widths = $1, variants_ready = TRUE WHERE id = $2")
            .bind(widths)
            .bind(id)
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }
}

/// Makes the responsive copies of every upload still without them. Runs in
/// the jobs loop, so uploads interrupted by a restart are finished later.
/// Returns whether anything was made (pages may then use the new copies).
pub async fn make_pending_variants(state: &AppState) -> Result<bool, StoreError> {
    let pending = state.store.media_waiting_for_variants(5).await?;
    let made_any = !pending.is_empty();
    for media in pending {
        let Some(file) = file_for(&state.data_dir, &media.path) else { continue };
        let data_dir = state.data_dir.as_ref().clone();
        let path = media.path.clone();
        let made = tokio::task::spawn_blocking(move || -> Result<Vec<u32>, String> {
            let original = std::fs::read(&file).map_err(|error| error.to_string())?;
            let copies = images::variants(&original).map_err(|error| error.to_string())?;
            let mut widths = Vec::new();
            for (width, bytes) in copies {
                let target = file_for(&data_dir, &variant_path(&path, width)).ok_or("bad media path")?;
                write_atomically(&target, &bytes).map_err(|error| error.to_string())?;
                widths.push(width);
            }
            Ok(widths)
        })
        .await;
        match made {
            Ok(Ok(widths)) => {
                let list = widths.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
                state.store.finish_variants(media.id, &list).await?;
            }
            Ok(Err(error)) => {
                // A file that cannot be read now will not be readable later: mark it done, keep the original.
                tracing::error!(media = media.id, %error, "could not make image copies");
                state.store.finish_variants(media.id, "").await?;
            }
            Err(error) => tracing::error!(media = media.id, %error, "image copy task failed"),
        }
    }
    Ok(made_any)
}

#[derive(Debug, thiserror::Error)]
pub enum LibraryError {
    /// The file is refused (type, size, unreadable): the uploader is told why.
    #[error(transparent)]
    Image(#[from] images::ImageError),
    #[error("cannot store the image: {0}")]
    Storage(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How a new library image is described.
pub struct Description<'a> {
    pub alt: &'a str,
    pub caption: &'a str,
    pub credit: &'a str,
    pub uploaded_by: Option<i64>,
}

/// Puts an image in the library: checked and re-encoded (no metadata
/// survives), stored under a generated name in `media/uploads/{month}/`,
/// described. Its responsive copies are made afterwards (the jobs loop, or
/// `make_pending_variants`). Returns its id and public path.
pub async fn add_to_library(
    state: &AppState,
    upload: Vec<u8>,
    month: &str,
    description: &Description<'_>,
) -> Result<(i64, String), LibraryError> {
    let cleaned = tokio::task::spawn_blocking(move || images::clean(&upload))
        .await
        .map_err(|error| LibraryError::Storage(format!("image task failed: {error}")))??;
    let name: String = crate::accounts::sessions::random_token().chars().take(20).collect();
    let path = format!("{UPLOADS_URL}{month}/{name}.{}", cleaned.extension);
    let target =
        file_for(&state.data_dir, &path).ok_or_else(|| LibraryError::Storage(format!("bad media path {path}")))?;
    let size = i64::try_from(cleaned.bytes.len()).unwrap_or(i64::MAX);
    let (width, height) = (i64::from(cleaned.width), i64::from(cleaned.height));
    let bytes = cleaned.bytes;
    tokio::task::spawn_blocking(move || write_atomically(&target, &bytes))
        .await
        .map_err(|error| LibraryError::Storage(format!("write task failed: {error}")))?
        .map_err(|error| LibraryError::Storage(error.to_string()))?;
    let id = state
        .store
        .add_media(
            &path,
            width,
            height,
            size,
            description.alt,
            description.caption,
            description.credit,
            description.uploaded_by,
            crate::store::now_seconds(),
        )
        .await?;
    state.media_waiting.notify_one();
    Ok((id, path))
}

/// Writes next to the target and renames, so readers never see half a file.
pub fn write_atomically(target: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let temporary = target.with_extension("part");
    std::fs::write(&temporary, bytes)?;
    std::fs::rename(&temporary, target)
}

/// `srcset` values for the library images among `paths`.
pub async fn srcsets(state: &AppState, paths: Vec<String>) -> Result<HashMap<String, String>, StoreError> {
    let uploads: Vec<String> = paths.into_iter().filter(|path| path.starts_with(UPLOADS_URL)).collect();
    let rows = state.store.media_by_paths(&uploads).await?;
    Ok(rows.into_iter().filter(|row| !row.widths().is_empty()).map(|row| (row.path.clone(), row.srcset())).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_files_stay_inside_the_media_folder() {
        let data = Path::new("/srv/site");
        assert_eq!(
            file_for(data, "/media/uploads/2026/11/a.jpg"),
            Some(PathBuf::from("/srv/site/media/uploads/2026/11/a.jpg"))
        );
        for bad in ["/media/../khabar.db", "/media/uploads//x", "/etc/passwd", "/media/uploads/..\\x"] {
            assert_eq!(file_for(data, bad), None, "{bad}");
        }
        assert_eq!(variant_path("/media/uploads/2026/11/a.png", 640), "/media/uploads/2026/11/a-640.jpg");
    }
}
