-- The mailing list. Subscribers; a count per status kept by triggers, so the
-- admin's totals stay instant at a million subscribers; each send (a digest,
-- an alert, a batch of confirmation requests) with its content frozen when it
-- was created, and one row per recipient, so a restart resumes exactly.

CREATE TABLE subscribers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'confirmed', 'unsubscribed', 'bounced')),
    wants_digest BOOLEAN NOT NULL DEFAULT TRUE,
    wants_alerts BOOLEAN NOT NULL DEFAULT TRUE,
    -- Signed into every link sent to this address; replacing it revokes them.
    link_key TEXT NOT NULL,
    source TEXT NOT NULL,
    bounces INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    confirmed_at INTEGER,
    unsubscribed_at INTEGER,
    confirmation_sent_at INTEGER
);
CREATE INDEX subscribers_by_status ON subscribers (status, id);

CREATE TABLE subscriber_counts (
    status TEXT PRIMARY KEY,
    total INTEGER NOT NULL
);
INSERT INTO subscriber_counts (status, total) VALUES ('pending', 0), ('confirmed', 0), ('unsubscribed', 0), ('bounced', 0);

CREATE TRIGGER subscriber_counts_insert AFTER INSERT ON subscribers
BEGIN
    UPDATE subscriber_counts SET total = total + 1 WHERE status = NEW.status;
END;
CREATE TRIGGER subscriber_counts_delete AFTER DELETE ON subscribers
BEGIN
    UPDATE subscriber_counts SET total = total - 1 WHERE status = OLD.status;
END;
CREATE TRIGGER subscriber_counts_update AFTER UPDATE OF status ON subscribers WHEN OLD.status <> NEW.status
BEGIN
    UPDATE subscriber_counts SET total = total - 1 WHERE status = OLD.status;
    UPDATE subscriber_counts SET total = total + 1 WHERE status = NEW.status;
END;

CREATE TABLE newsletter_sends (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('digest', 'alert', 'confirmation')),
    -- One digest per day and one alert per article, whoever (or whichever node) asks twice.
    dedupe_key TEXT NOT NULL UNIQUE,
    article_id INTEGER REFERENCES articles (id) ON DELETE SET NULL,
    subject TEXT NOT NULL,
    body_text TEXT NOT NULL,
    body_html TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('sending', 'done', 'cancelled')),
    requested_by TEXT NOT NULL,
    -- A digest covers articles published after period_start up to period_end.
    period_start INTEGER,
    period_end INTEGER,
    total INTEGER NOT NULL,
    lease_holder TEXT,
    lease_until INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    finished_at INTEGER
);
CREATE INDEX newsletter_sends_by_status ON newsletter_sends (status, id);

CREATE TABLE newsletter_recipients (
    send_id INTEGER NOT NULL REFERENCES newsletter_sends (id) ON DELETE CASCADE,
    subscriber_id INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    status TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'failed', 'skipped')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    smtp_reply TEXT,
    finished_at INTEGER,
    PRIMARY KEY (send_id, subscriber_id)
);
CREATE INDEX newsletter_recipients_by_status ON newsletter_recipients (send_id, status, subscriber_id);
CREATE INDEX newsletter_recipients_by_subscriber ON newsletter_recipients (subscriber_id);

-- Keys the site signs links and forms with, made on first start and shared by every node.
CREATE TABLE site_secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
