-- Optional TOTP two-factor login for staff.
ALTER TABLE staff ADD COLUMN totp_secret TEXT;
-- A secret shown to the user but not yet confirmed with a code.
ALTER TABLE staff ADD COLUMN totp_pending TEXT;
-- The last time step accepted, so a code cannot be used twice.
ALTER TABLE staff ADD COLUMN totp_last_step INTEGER;

-- Between the password and the code: who is logging in, and how many wrong codes.
CREATE TABLE login_challenges (
    token_hash TEXT PRIMARY KEY,
    staff_id INTEGER NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
    next_path TEXT NOT NULL,
    trusted BOOLEAN NOT NULL,
    failures INTEGER NOT NULL DEFAULT 0,
    expires_at INTEGER NOT NULL
);
