-- The media library. Files live under DIR/media/uploads with generated
-- names; `path` is the public URL path of the sanitized full-size image.
CREATE TABLE media (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    path TEXT NOT NULL UNIQUE,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    alt TEXT NOT NULL DEFAULT '',
    caption TEXT NOT NULL DEFAULT '',
    credit TEXT NOT NULL DEFAULT '',
    variant_widths TEXT NOT NULL DEFAULT '',
    variants_ready BOOLEAN NOT NULL DEFAULT FALSE,
    uploaded_by INTEGER REFERENCES staff (id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX media_pending ON media (variants_ready, id);
