-- Slimmer votes, because a hot poll takes thousands a second:
-- * a vote with one answer keeps it in poll_votes.option_id; only a vote
--   with several answers has rows in poll_vote_choices;
-- * the address hash is kept only when the poll limits votes per address
--   ('' otherwise), and only those rows are indexed.
-- Votes already cast are carried over unchanged in what they count.

ALTER TABLE poll_votes ADD COLUMN option_id BIGINT REFERENCES poll_options (id) ON DELETE CASCADE;

UPDATE poll_votes votes
   SET option_id = single.option_id
  FROM (SELECT poll_id, voter, MIN(option_id) AS option_id
          FROM poll_vote_choices
         GROUP BY poll_id, voter
        HAVING COUNT(*) = 1) single
 WHERE single.poll_id = votes.poll_id AND single.voter = votes.voter;

DELETE FROM poll_vote_choices choices
 USING poll_votes votes
 WHERE votes.poll_id = choices.poll_id AND votes.voter = choices.voter AND votes.option_id IS NOT NULL;

DROP INDEX poll_votes_by_address;
CREATE INDEX poll_votes_by_address ON poll_votes (poll_id, address_hash, voted_at) WHERE address_hash <> '';
