-- An inverted index for BM25: one row per (lexeme, chunk) with the lexeme's weighted frequency
-- in the chunk. Scoring over a GIN candidate set had to unnest every candidate's tsvector, which
-- took a second per question at 100,000 chunks; a posting list is read in index order instead.
CREATE TABLE postings (
    lexeme   text NOT NULL,
    chunk_id bigint NOT NULL REFERENCES chunks (id) ON DELETE CASCADE,
    tf       real NOT NULL,     -- heading occurrences count 3, description 2, body 1
    len      int NOT NULL,      -- the chunk's lex_len, kept here so scoring reads only the index
    PRIMARY KEY (lexeme, chunk_id) INCLUDE (tf, len)
);
CREATE INDEX postings_chunk ON postings (chunk_id);

-- BM25 reads postings now; the tsvector stays the chunk's analysed form.
DROP INDEX chunks_tsv;

INSERT INTO postings (lexeme, chunk_id, tf, len)
SELECT u.lexeme, c.id,
       (SELECT sum(CASE w WHEN 'A' THEN 3 WHEN 'B' THEN 2 ELSE 1 END) FROM unnest(u.weights) w),
       c.lex_len
FROM chunks c, unnest(c.tsv) u;
