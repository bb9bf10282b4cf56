-- Static pages (about us, contact, privacy policy…) at /page/{slug}; those
-- marked for the footer are linked from every page, in `position` order.
CREATE TABLE pages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    slug TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    body_markdown TEXT NOT NULL,
    body_html TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'published')),
    in_footer BOOLEAN NOT NULL DEFAULT FALSE,
    position INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX pages_in_footer ON pages (in_footer, position, id);

-- Old addresses (a WordPress site's, or any an editor adds) answered with a
-- 301 to what they became. `from_path` is the decoded path without a
-- trailing slash (`/2024/05/06/أمطار-غزيرة`), or `/?p=101` for WordPress's
-- query links. The target is named, not written out, so a renamed article
-- or section is reached in one hop: an article, page, section, tag or author
-- by id, or a literal path.
CREATE TABLE redirects (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    from_path TEXT NOT NULL UNIQUE,
    target_kind TEXT NOT NULL CHECK (target_kind IN ('article', 'page', 'section', 'tag', 'author', 'path')),
    target_id INTEGER,
    target_path TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT 'admin',
    created_by TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);

-- What an import made of each item of another system's export, so a
-- re-run updates instead of duplicating: the item's kind and id there, the
-- row here, a fingerprint of what the item said, and the row's revision as
-- the import left it (a later edit in khabar is not overwritten).
CREATE TABLE import_items (
    source TEXT NOT NULL,
    kind TEXT NOT NULL,
    external_id TEXT NOT NULL,
    local_id INTEGER NOT NULL,
    fingerprint TEXT NOT NULL,
    local_revision INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (source, kind, external_id)
) WITHOUT ROWID;
