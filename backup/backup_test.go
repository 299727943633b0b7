package backup

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/citybot-project/citybot/database"
	"github.com/citybot-project/citybot/database/dbtest"
	"github.com/citybot-project/citybot/tenant"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

// laterMigration stands for tables a later migration adds: a town's notes with every kind of
// column a backup must carry (an identity, a generated column, a vector, bytes, an array, floats,
// JSON whose null is not SQL's NULL, a reference to a staff account), and a table referring to
// them whose name sorts before theirs, so that only the foreign keys put it after them.
const laterMigration = `
CREATE TABLE zz_notes (
    town_id   int NOT NULL REFERENCES towns ON DELETE CASCADE,
    id        bigint GENERATED ALWAYS AS IDENTITY,
    body      text NOT NULL,
    body_len  int GENERATED ALWAYS AS (length(body)) STORED,
    embedding vector,
    raw       bytea,
    tags      text[],
    score     real,
    weight    double precision,
    doc       jsonb,
    author_id bigint REFERENCES users ON DELETE SET NULL,
    at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (town_id, id)
);
CREATE TABLE zz_a_note_refs (
    town_id int NOT NULL,
    note_id bigint NOT NULL,
    PRIMARY KEY (town_id, note_id),
    FOREIGN KEY (town_id, note_id) REFERENCES zz_notes ON DELETE CASCADE
);`

func openDB(t *testing.T) (string, *pgxpool.Pool) {
	t.Helper()
	url := dbtest.URL(t)
	db, err := database.Open(context.Background(), database.Options{URL: url, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	if _, err := db.Pool.Exec(context.Background(), laterMigration); err != nil {
		t.Fatal(err)
	}
	return url, db.Pool
}

func exec(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) {
	t.Helper()
	if _, err := pool.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// notes are a town's notes as their columns say them, the author by e-mail.
func notes(t *testing.T, pool *pgxpool.Pool, slug string) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT (to_jsonb(n) - 'town_id' - 'author_id' || jsonb_build_object(
			'author', u.email, 'doc is null', n.doc IS NULL, 'refs', (SELECT count(*) FROM zz_a_note_refs r WHERE r.town_id = n.town_id AND r.note_id = n.id),
			'weight', n.weight::text, 'score', n.score::text))::text
		FROM zz_notes n JOIN towns t ON t.id = n.town_id LEFT JOIN users u ON u.id = n.author_id
		WHERE t.slug = $1 ORDER BY n.id`, slug)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestTownBackupCarriesNewTables: tables that no code names, added after this package was
// written, are found by their town_id column and carried into another deployment value for
// value, in the order their foreign keys need; staff are found again by e-mail, whatever their
// ids there; only the town's own rows go; and the identity that made the ids is moved past them.
func TestTownBackupCarriesNewTables(t *testing.T) {
	ctx := context.Background()
	_, src := openDB(t)
	_, dst := openDB(t)
	dbtest.Town(t, src, "altstadt")
	dbtest.Town(t, src, "nachbarort")
	exec(t, dst, `INSERT INTO users (email, name) VALUES ('erster@example.org', 'Erster')`) // other ids there
	for _, pool := range []*pgxpool.Pool{src, dst} {
		exec(t, pool, `INSERT INTO users (email, name) VALUES ('anna@example.org', 'Anna')`)
	}
	exec(t, src, `INSERT INTO users (email, name) VALUES ('nur-hier@example.org', 'Nur Hier')`)
	for _, slug := range []string{"nachbarort", "altstadt"} {
		exec(t, src, `INSERT INTO zz_notes (town_id, body, embedding, raw, tags, score, weight, doc, author_id)
			SELECT t.id, 'Öffnungszeiten <b>&</b> "Gebühren"', '[0.1,0.25,-3e-8]', '\x00ff0a', '{a,"b c",NULL}', 0.1, 0.1, 'null', u.id
			FROM towns t, users u WHERE t.slug = $1 AND u.email = 'anna@example.org'`, slug)
		exec(t, src, `INSERT INTO zz_notes (town_id, body, weight, author_id)
			SELECT t.id, 'ohne', 1e-300, u.id FROM towns t, users u WHERE t.slug = $1 AND u.email = 'nur-hier@example.org'`, slug)
		exec(t, src, `INSERT INTO zz_notes (town_id, body, doc) SELECT id, '', '{"a": [1, 2.5, null]}' FROM towns WHERE slug = $1`, slug)
	}
	exec(t, src, `INSERT INTO zz_a_note_refs (town_id, note_id) SELECT town_id, max(id) FROM zz_notes GROUP BY town_id`)
	want := notes(t, src, "altstadt")

	var file bytes.Buffer
	h, err := Backup(ctx, src, "altstadt", &file, "test")
	if err != nil {
		t.Fatal(err)
	}
	at := slices.IndexFunc(h.Tables, func(tb Table) bool { return tb.Name == "zz_notes" })
	refsAt := slices.IndexFunc(h.Tables, func(tb Table) bool { return tb.Name == "zz_a_note_refs" })
	if at < 0 || refsAt < at || h.Tables[at].Rows != 3 || h.Tables[refsAt].Rows != 1 || h.Tables[0].Name != "towns" {
		t.Fatalf("the file's tables: %+v", h.Tables)
	}
	if slices.Contains(h.Tables[at].Columns, "body_len") || h.Tables[at].Refs["author_id"] != "users" {
		t.Errorf("zz_notes carries %v, refs %v", h.Tables[at].Columns, h.Tables[at].Refs)
	}

	rep, err := Restore(ctx, dst, bytes.NewReader(file.Bytes()), "", "test")
	if err != nil {
		t.Fatal(err)
	}
	wantNotes := []string{`zz_notes.author_id: set empty, the account "nur-hier@example.org" is not in this deployment (1)`}
	if rep.Slug != "altstadt" || rep.Rows["zz_notes"] != 3 || rep.Rows["zz_a_note_refs"] != 1 || !slices.Equal(rep.Notes, wantNotes) {
		t.Errorf("report: %+v", rep)
	}
	got := notes(t, dst, "altstadt")
	want[1] = strings.Replace(want[1], `"author": "nur-hier@example.org"`, `"author": null`, 1)
	if !slices.Equal(got, want) {
		t.Errorf("restored notes:\n%q\nwant\n%q", got, want)
	}
	// The identity goes on past the restored ids.
	var next, restoredMax int64
	if err := dst.QueryRow(ctx, `SELECT max(id) FROM zz_notes`).Scan(&restoredMax); err != nil {
		t.Fatal(err)
	}
	if err := dst.QueryRow(ctx, `INSERT INTO zz_notes (town_id, body) SELECT id, 'danach' FROM towns WHERE slug = 'altstadt' RETURNING id`).Scan(&next); err != nil || next <= restoredMax {
		t.Errorf("a new note after the restore got id %d (%v), the restored ones go to %d", next, err, restoredMax)
	}
	var towns int
	if err := dst.QueryRow(ctx, `SELECT count(*) FROM towns`).Scan(&towns); err != nil || towns != 1 {
		t.Errorf("%d towns in the other deployment, want only the one restored (%v)", towns, err)
	}

	// Again, into the same deployment: under a taken slug refused, under a new one beside it.
	if _, err := Restore(ctx, src, bytes.NewReader(file.Bytes()), "nachbarort", "test"); !errors.Is(err, tenant.ErrExists) {
		t.Errorf("restore as a taken slug: %v", err)
	}
	if _, err := Restore(ctx, src, bytes.NewReader(file.Bytes()), "neustadt", "test"); err != nil {
		t.Fatal(err)
	}
	if got := notes(t, src, "neustadt"); !slices.Equal(got, notes(t, src, "altstadt")) {
		t.Errorf("the copy's notes:\n%q\nwant\n%q", got, want)
	}
}

// TestTownBackupRefusesRowSecurity: run as the role the towns' policies restrict instead of the
// tables' owner, a backup fails rather than writing a file with the rows it was let see.
func TestTownBackupRefusesRowSecurity(t *testing.T) {
	ctx := context.Background()
	url, pool := openDB(t)
	dbtest.Town(t, pool, "altstadt")
	exec(t, pool, `GRANT SELECT ON ALL TABLES IN SCHEMA public TO citybot_town`)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `SET ROLE citybot_town`); err != nil {
		t.Fatal(err)
	}
	var file bytes.Buffer
	_, err = Backup(ctx, conn, "altstadt", &file, "test")
	if err == nil || !strings.Contains(err.Error(), "row-level security") {
		t.Errorf("a backup under row-level security: %v", err)
	}
}
