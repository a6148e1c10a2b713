-- Nothing to do on SQLite: one writer at a time commits audit events in id order. (PostgreSQL's
-- 0003 orders audit paging by transaction; the numbers stay in step across dialects.)
SELECT 1;
