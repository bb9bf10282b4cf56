-- Single-use password reset links; only a hash of each token is kept.
CREATE TABLE password_resets (
    token_hash TEXT PRIMARY KEY,
    staff_id INTEGER NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER
);
CREATE INDEX password_resets_by_staff ON password_resets (staff_id, created_at);
