-- Tags keep the order the writer gave them (the first is usually the main one).
ALTER TABLE article_tags ADD COLUMN position BIGINT NOT NULL DEFAULT 0;
