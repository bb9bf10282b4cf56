-- Every change to an article that search cares about, in order. Each node
-- keeps its own index under DIR/index and applies these from the cursor its
-- last commit recorded, so a crash, a restart or another node's edit is
-- caught up the same way. Rows older than a month are pruned; a node that
-- fell further behind rebuilds its index.
CREATE TABLE search_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    article_id INTEGER NOT NULL,
    changed_at INTEGER NOT NULL
);
CREATE INDEX search_log_by_time ON search_log (changed_at);

CREATE TRIGGER search_log_insert AFTER INSERT ON articles BEGIN
    INSERT INTO search_log (article_id, changed_at) VALUES (NEW.id, CAST(strftime('%s', 'now') AS INTEGER));
END;
CREATE TRIGGER search_log_update AFTER UPDATE OF title, summary, body_markdown, status, section_id, published_at
ON articles BEGIN
    INSERT INTO search_log (article_id, changed_at) VALUES (NEW.id, CAST(strftime('%s', 'now') AS INTEGER));
END;
CREATE TRIGGER search_log_delete AFTER DELETE ON articles BEGIN
    INSERT INTO search_log (article_id, changed_at) VALUES (OLD.id, CAST(strftime('%s', 'now') AS INTEGER));
END;

-- Spellings an editor declared the same word for search (سوريا = سورية):
-- one group per row, its words separated by newlines. Applied to queries,
-- so a change needs no reindexing.
CREATE TABLE search_variants (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    words TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
