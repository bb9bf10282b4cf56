-- The home page's "most read" sums the last days' reads. article_reads is
-- keyed by (article, day), so the sum read every row ever recorded: a row
-- per article per day it was read, a table that only grows. This index
-- holds what the sum needs, in day order.
CREATE INDEX article_reads_by_day ON article_reads (day, article_id, reads);
