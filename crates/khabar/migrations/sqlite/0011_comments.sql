-- Readers' comments under articles: one level of replies, moderated by
-- status. Readers' emails are never shown: a keyed hash matches a reader's
-- earlier comments (trust after a first approved one, bans, rate limits);
-- the address itself is kept only while the reader wants reply emails.

CREATE TABLE comments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    -- A reply names the top-level comment it answers; replies have no replies.
    parent_id INTEGER REFERENCES comments (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    email_hash TEXT NOT NULL,
    -- '' unless the reader asked to be told of replies.
    notify_email TEXT NOT NULL DEFAULT '',
    address_hash TEXT NOT NULL,
    body_markdown TEXT NOT NULL,
    body_html TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'spam')),
    -- Why a comment waits for an editor: moderated, first_comment, links, banned_words, reported.
    held_for TEXT NOT NULL DEFAULT '',
    reports INTEGER NOT NULL DEFAULT 0,
    -- Hash of the key in the writer's browser: editing and deleting for ten minutes.
    edit_key_hash TEXT NOT NULL,
    editor_note TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX comments_by_article ON comments (article_id, status, created_at);
CREATE INDEX comments_by_status ON comments (status, created_at);
CREATE INDEX comments_by_email ON comments (email_hash, status);
CREATE INDEX comments_by_parent ON comments (parent_id);

-- Banned readers: by email hash or by address hash.
CREATE TABLE comment_bans (
    kind TEXT NOT NULL CHECK (kind IN ('email', 'address')),
    value_hash TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (kind, value_hash)
);

-- Per article: comments closed by an editor.
ALTER TABLE articles ADD COLUMN comments_closed BOOLEAN NOT NULL DEFAULT FALSE;
