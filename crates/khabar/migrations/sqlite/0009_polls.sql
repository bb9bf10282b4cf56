-- Reader polls. Each option keeps its own count, raised in the same
-- transaction that stores the vote, so counts always equal accepted votes.
-- One vote per (poll, voter); a voter is a signed random cookie id. Client
-- addresses are kept only as salted hashes, for the per-address allowance.

CREATE TABLE polls (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    question TEXT NOT NULL,
    multiple BOOLEAN NOT NULL DEFAULT FALSE,
    placement TEXT NOT NULL CHECK (placement IN ('sidebar', 'article')),
    article_id INTEGER REFERENCES articles (id) ON DELETE SET NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'closed', 'archived')),
    opens_at INTEGER,
    closes_at INTEGER,
    staff_only BOOLEAN NOT NULL DEFAULT FALSE,
    -- Votes one client address may cast per hour; 0 for no limit.
    address_allowance INTEGER NOT NULL DEFAULT 0,
    voters INTEGER NOT NULL DEFAULT 0,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX polls_by_placement ON polls (placement, status, id);

CREATE TABLE poll_options (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    poll_id INTEGER NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    label TEXT NOT NULL,
    hidden BOOLEAN NOT NULL DEFAULT FALSE,
    votes INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX poll_options_by_poll ON poll_options (poll_id, position);

CREATE TABLE poll_votes (
    poll_id INTEGER NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    voter TEXT NOT NULL,
    address_hash TEXT NOT NULL,
    voted_at INTEGER NOT NULL,
    PRIMARY KEY (poll_id, voter)
);
CREATE INDEX poll_votes_by_address ON poll_votes (poll_id, address_hash, voted_at);

CREATE TABLE poll_vote_choices (
    poll_id INTEGER NOT NULL,
    voter TEXT NOT NULL,
    option_id INTEGER NOT NULL REFERENCES poll_options (id) ON DELETE CASCADE,
    PRIMARY KEY (poll_id, voter, option_id),
    FOREIGN KEY (poll_id, voter) REFERENCES poll_votes (poll_id, voter) ON DELETE CASCADE
);
