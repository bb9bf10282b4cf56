-- Single-use password reset links; only a hash of each token is kept.
CREATE TABLE password_resets (
    token_hash TEXT PRIMARY KEY,
    staff_id BIGINT NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX password_resets_by_staff ON password_resets (staff_id, created_at);
