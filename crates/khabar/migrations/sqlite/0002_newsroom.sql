-- Staff accounts, their sessions, login throttling, trusted devices, the
-- audit log, article revisions and site settings.

CREATE TABLE staff (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'editor', 'author', 'contributor')),
    password_hash TEXT NOT NULL,
    author_id INTEGER REFERENCES authors (id) ON DELETE SET NULL,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    password_changed_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE staff_sessions (
    token_hash TEXT PRIMARY KEY,
    staff_id INTEGER NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX staff_sessions_by_staff ON staff_sessions (staff_id);

-- Every login attempt, kept for an hour or so, to throttle guessing.
CREATE TABLE login_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL,
    client_hash TEXT NOT NULL,
    trusted BOOLEAN NOT NULL,
    succeeded BOOLEAN NOT NULL,
    attempted_at INTEGER NOT NULL
);
CREATE INDEX login_attempts_by_email ON login_attempts (email, attempted_at);
CREATE INDEX login_attempts_by_client ON login_attempts (client_hash, attempted_at);

-- Browsers that have logged in to an account before: an attacker's failures
-- cannot lock these out.
CREATE TABLE trusted_devices (
    token_hash TEXT PRIMARY KEY,
    staff_id INTEGER NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL
);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    staff_id INTEGER REFERENCES staff (id) ON DELETE SET NULL,
    staff_name TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL DEFAULT '',
    happened_at INTEGER NOT NULL
);
CREATE INDEX audit_log_by_time ON audit_log (happened_at DESC);

ALTER TABLE articles ADD COLUMN created_by INTEGER REFERENCES staff (id) ON DELETE SET NULL;
ALTER TABLE articles ADD COLUMN review_requested_at INTEGER;
ALTER TABLE articles ADD COLUMN revision INTEGER NOT NULL DEFAULT 1;

-- One row per save: the whole article as it was saved, and by whom.
CREATE TABLE article_revisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    revision INTEGER NOT NULL,
    staff_id INTEGER REFERENCES staff (id) ON DELETE SET NULL,
    saved_by TEXT NOT NULL,
    title TEXT NOT NULL,
    summary TEXT NOT NULL,
    body_markdown TEXT NOT NULL,
    section_name TEXT NOT NULL,
    tag_names TEXT NOT NULL,
    status TEXT NOT NULL,
    published_at INTEGER,
    saved_at INTEGER NOT NULL,
    UNIQUE (article_id, revision)
);

CREATE TABLE site_settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
