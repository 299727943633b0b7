-- Ranking by evidence works per page: each question term counts once per page, with its best
-- occurrence, so that many weak sections cannot outweigh one strong one. The page's id is kept
-- with each posting so that scoring groups by page from the postings index alone.
ALTER TABLE postings ADD COLUMN page_id bigint;
UPDATE postings p SET page_id = c.page_id FROM chunks c WHERE c.id = p.chunk_id;
ALTER TABLE postings ALTER COLUMN page_id SET NOT NULL;
ALTER TABLE postings DROP CONSTRAINT postings_pkey;
ALTER TABLE postings ADD PRIMARY KEY (lexeme, chunk_id) INCLUDE (tf, len, page_id);


-- The document's <title> as written (often "Service – Town"): part of the page's title field.
ALTER TABLE pages ADD COLUMN doc_title text NOT NULL DEFAULT '';
