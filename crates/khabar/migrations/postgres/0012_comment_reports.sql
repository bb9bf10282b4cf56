-- Readers' reports (إبلاغ): at most one per reader and comment, the reader
-- known only by a keyed hash of their address. Enough reports put an
-- approved comment back in the moderation queue.
CREATE TABLE comment_reports (
    comment_id BIGINT NOT NULL REFERENCES comments (id) ON DELETE CASCADE,
    reporter_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (comment_id, reporter_hash)
);

-- Work that one node of several must do once per period (the editors'
-- digest of pending comments): when it was last claimed.
CREATE TABLE job_marks (
    name TEXT PRIMARY KEY,
    done_at BIGINT NOT NULL
);

-- Whether the writer of the comment a reply answers was emailed about it:
-- set once, so approving the same reply twice never mails twice.
ALTER TABLE comments ADD COLUMN reply_notified BOOLEAN NOT NULL DEFAULT FALSE;
