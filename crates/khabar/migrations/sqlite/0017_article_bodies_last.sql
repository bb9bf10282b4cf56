-- An article's text sat in the middle of its row, before its status, section,
-- dates and the rest. SQLite stores a row's columns in order and a long row
-- spills into overflow pages, so reading anything after the text (a list
-- card's date, the related articles' status) walked every overflow page of
-- both the Markdown and the HTML. The text moves to the end of the row, the
-- HTML first: a page reads the HTML and never the Markdown behind it.
--
-- SQLite cannot reorder columns; a dropped and re-added column goes last.
-- The search log's update trigger names body_markdown, and a column a
-- trigger names cannot be dropped: it is dropped and made again unchanged.
-- PostgreSQL keeps long values out of the row already (TOAST) and needs none of this.

DROP TRIGGER search_log_update;

ALTER TABLE articles ADD COLUMN body_html_at_end TEXT NOT NULL DEFAULT '';
ALTER TABLE articles ADD COLUMN body_markdown_at_end TEXT NOT NULL DEFAULT '';
UPDATE articles SET body_html_at_end = body_html, body_markdown_at_end = body_markdown;
ALTER TABLE articles DROP COLUMN body_markdown;
ALTER TABLE articles DROP COLUMN body_html;
ALTER TABLE articles RENAME COLUMN body_html_at_end TO body_html;
ALTER TABLE articles RENAME COLUMN body_markdown_at_end TO body_markdown;

CREATE TRIGGER search_log_update AFTER UPDATE OF title, summary, body_markdown, status, section_id, published_at
ON articles BEGIN
    INSERT INTO search_log (article_id, changed_at) VALUES (NEW.id, CAST(strftime('%s', 'now') AS INTEGER));
END;
