-- Ranking by evidence works per page: each question term counts once per page, with its best
-- occurrence, so that many weak sections cannot outweigh one strong one. The page's id is kept
-- with each posting so that scoring groups by page from the postings index alone.
ALTER TABLE postings ADD COLUMN page_id bigint;
UPDATE postings p SET page_id = c.page_id FROM chunks c WHERE c.id = p.chunk_id;
ALTER TABLE postings ALTER COLUMN page_id SET NOT NULL;


-- The document's <title> as written (often "Service – Town"): part of the page's title field.
ALTER TABLE pages ADD COLUMN doc_title text NOT NULL DEFAULT '';

-- How rare a word is depends on the language of the pages it stands on: "card" is rare among all
-- of a town's chunks because few pages are English, but common among the English ones. Postings
-- and document frequencies carry the page's language group (the stemmer's: de or en).
ALTER TABLE postings ADD COLUMN lang text NOT NULL DEFAULT 'de';
UPDATE postings p SET lang = 'en' FROM pages g WHERE g.id = p.page_id AND g.lang LIKE 'en%';
-- Scoring reads postings from the index alone (an index-only scan), so the index carries all;
-- the page comes before the chunk so that the best pages' postings are found without a scan.
ALTER TABLE postings DROP CONSTRAINT postings_pkey;
ALTER TABLE postings ADD PRIMARY KEY (lexeme, page_id, chunk_id) INCLUDE (tf, len, lang);
ALTER TABLE lexeme_stats ADD COLUMN lang text NOT NULL DEFAULT 'de';
ALTER TABLE lexeme_stats DROP CONSTRAINT lexeme_stats_pkey;
ALTER TABLE lexeme_stats ADD PRIMARY KEY (lexeme, lang);
DELETE FROM lexeme_stats;
INSERT INTO lexeme_stats (lexeme, lang, df) SELECT lexeme, lang, count(*) FROM postings GROUP BY lexeme, lang;
INSERT INTO index_meta (key, value)
SELECT 'chunks:' || l.lang, count(c.id)::text
FROM (VALUES ('de'), ('en')) AS l (lang)
LEFT JOIN pages g ON (CASE WHEN g.lang LIKE 'en%' THEN 'en' ELSE 'de' END) = l.lang
LEFT JOIN chunks c ON c.page_id = g.id
GROUP BY l.lang
ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value;
