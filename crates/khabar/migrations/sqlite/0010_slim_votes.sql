-- Slimmer votes, because a hot poll takes thousands a second and each row
-- is written twice (the log, then the database):
-- * a vote with one answer keeps it in poll_votes.option_id; only a vote
--   with several answers has rows in poll_vote_choices;
-- * both tables are WITHOUT ROWID: their primary key is the only B-tree,
--   where a rowid table kept the rows and a copy of the key in two;
-- * the address hash is kept only when the poll limits votes per address
--   ('' otherwise), and only those rows are indexed.
-- Votes already cast are carried over unchanged in what they count.

CREATE TABLE poll_votes_slim (
    poll_id INTEGER NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    voter TEXT NOT NULL,
    -- The answer, when the vote has exactly one.
    option_id INTEGER REFERENCES poll_options (id) ON DELETE CASCADE,
    address_hash TEXT NOT NULL,
    voted_at INTEGER NOT NULL,
    PRIMARY KEY (poll_id, voter)
) WITHOUT ROWID;

INSERT INTO poll_votes_slim (poll_id, voter, option_id, address_hash, voted_at)
SELECT votes.poll_id, votes.voter,
       (SELECT CASE WHEN COUNT(*) = 1 THEN MIN(choices.option_id) END
          FROM poll_vote_choices choices
         WHERE choices.poll_id = votes.poll_id AND choices.voter = votes.voter),
       votes.address_hash, votes.voted_at
  FROM poll_votes votes;

CREATE TABLE poll_vote_choices_slim (
    poll_id INTEGER NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    voter TEXT NOT NULL,
    option_id INTEGER NOT NULL REFERENCES poll_options (id) ON DELETE CASCADE,
    PRIMARY KEY (poll_id, voter, option_id)
) WITHOUT ROWID;

INSERT INTO poll_vote_choices_slim (poll_id, voter, option_id)
SELECT choices.poll_id, choices.voter, choices.option_id
  FROM poll_vote_choices choices
  JOIN poll_votes_slim votes ON votes.poll_id = choices.poll_id AND votes.voter = choices.voter
 WHERE votes.option_id IS NULL;

-- The choices first: they referred to poll_votes.
DROP TABLE poll_vote_choices;
DROP TABLE poll_votes;
ALTER TABLE poll_votes_slim RENAME TO poll_votes;
ALTER TABLE poll_vote_choices_slim RENAME TO poll_vote_choices;

CREATE INDEX poll_votes_by_address ON poll_votes (poll_id, address_hash, voted_at) WHERE address_hash <> '';
