-- Every article page asks for the poll attached to it. The only index on
-- polls starts with placement, so that question walked every article poll
-- on the site; and deleting an article (polls.article_id is SET NULL on
-- delete) scanned the whole table. (There is no 0017 here: it was SQLite's alone.)
CREATE INDEX polls_by_article ON polls (article_id, id);
