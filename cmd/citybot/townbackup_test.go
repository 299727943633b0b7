package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/citybot-project/citybot/database/dbtest"
)

const (
	reisepassQuestion = "Was kostet ein Reisepass?"
	reisepassURL      = "https://www.backupstadt.example/buergerservice/reisepass"
)

// townBackupSetup makes a deployment of two towns through the CLI: Backupstadt (the town backed
// up: backupSite's pages, its own texts, two staff roles) and Zweitstadt (a page of its own,
// linked to Backupstadt's pages as to a Kreis's collection, and a role of the same person),
// each with a conversation whose answer was rated, reviewed and handed off as a ticket. It
// returns the environment and the resume tokens of the conversations by town.
func townBackupSetup(t *testing.T) (map[string]string, map[string]string) {
	t.Helper()
	env := map[string]string{"DATABASE_URL": dbtest.URL(t), "CITYBOT_LOG_LEVEL": "warn", "CITYBOT_TOWN_CHECK": "200ms"}
	must := func(args ...string) { mustRun(t, env, args...) }
	must("towns", "add", "backupstadt", "--name", "Backupstadt", "--set", "privacy_url=https://www.backupstadt.example/datenschutz",
		"--set", "texts.de.ui.title=Fragen an Backupstadt")
	must("towns", "add", "zweitstadt", "--name", "Zweitstadt", "--set", "privacy_url=https://www.zweitstadt.example/datenschutz")
	sites := map[string]map[string]string{"backupstadt": backupSite,
		"zweitstadt": {"hundesteuer.html": townPage("Hundesteuer", "Zweitstadt", "Die Hundesteuer beträgt in Zweitstadt 120 Euro im Jahr.")}}
	for slug, files := range sites {
		dir := t.TempDir()
		for name, html := range files {
			p := filepath.Join(dir, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(html), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		must("ingest", "--town", slug, "--dir", dir, "--base-url", "https://www."+slug+".example")
	}
	must("towns", "link", "zweitstadt", "--to", "backupstadt")
	must("users", "add", "--town", "backupstadt", "--email", "erika@backupstadt.example", "--name", "Erika Muster", "--role", "agent")
	must("users", "add", "--town", "zweitstadt", "--email", "erika@backupstadt.example", "--name", "Erika Muster", "--role", "reviewer")
	must("users", "add", "--town", "backupstadt", "--email", "weg@backupstadt.example", "--name", "Bald Weg", "--role", "editor")

	conn := dbConn(t, env["DATABASE_URL"])
	tokens := map[string]string{}
	for i, slug := range []string{"backupstadt", "zweitstadt"} {
		token := strings.Repeat(string(rune('a'+i)), 43) // as long as the server's own tokens
		tokens[slug] = token
		conv := []string{"7f0c6b9e-1d2a-4c3b-9e8f-0a1b2c3d4e5f", "8e1d7caf-2e3b-4d4c-8f9a-1b2c3d4e5f60"}[i]
		for _, sql := range []string{
			`INSERT INTO conversations (town_id, id, token_hash, lang) SELECT id, $2, sha256(convert_to($3, 'UTF8')), 'de' FROM towns WHERE slug = $1`,
			`INSERT INTO messages (town_id, conversation_id, role, body) SELECT id, $2, 'citizen', jsonb_build_object('text', $3::text) FROM towns WHERE slug = $1`,
			`INSERT INTO answers (town_id, conversation_id, answer_id, question, kind, text, sources, confidence, lang, composer)
				SELECT id, $2, 'a1', $3, 'answer', 'Der Reisepass kostet 70 Euro.', '[{"url": "x"}]', 0.74, 'de', 'extractive' FROM towns WHERE slug = $1`,
			`INSERT INTO ratings (town_id, conversation_id, answer_id, value, comment) SELECT id, $2, 'a1', 'down', 'zu knapp ' || $3 FROM towns WHERE slug = $1`,
			`INSERT INTO verdicts (town_id, conversation_id, answer_id, verdict, reviewer) SELECT id, $2, 'a1', 'correct', 'erika@backupstadt.example' || $3 FROM towns WHERE slug = $1`,
			`INSERT INTO tickets (town_id, number, conversation_id, kind, name, phone, lang, consent_at, assignee_id)
				SELECT t.id, 'R-' || $3, $2, 'callback', 'Max Muster', '0123 456', 'de', now(), u.id
				FROM towns t, users u WHERE t.slug = $1 AND u.email = 'erika@backupstadt.example'`,
		} {
			arg := token
			if !strings.Contains(sql, "token_hash") {
				arg = reisepassQuestion
			}
			if strings.Contains(sql, "tickets") {
				arg = slug
			}
			if _, err := conn.Exec(context.Background(), sql, slug, conv, arg); err != nil {
				t.Fatalf("%s: %v", sql, err)
			}
		}
	}
	return env, tokens
}

// townRows is every row of a town's tables (each table with a town_id column, found as the
// backup finds them), as JSON without the town's id, sorted: what a restore must bring back.
// References to deployment-wide rows are shown by name (a linked town's slug, a staff member's
// e-mail), the audit log without the ids the database assigns and without the entries of the
// backup and restore themselves.
func townRows(t *testing.T, url, slug string) map[string][]string {
	t.Helper()
	ctx := context.Background()
	conn := dbConn(t, url)
	rows, err := conn.Query(ctx, `SELECT table_name::text FROM information_schema.columns
		WHERE table_schema = current_schema() AND column_name = 'town_id' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	special := map[string]string{
		"towns":      `SELECT jsonb_build_object('name', name, 'settings', settings, 'created_at', created_at)::text FROM towns WHERE id = $1`,
		"town_links": `SELECT c.slug FROM town_links l JOIN towns c ON c.id = l.collection_id WHERE l.town_id = $1`,
		"user_roles": `SELECT u.email || ' ' || r.role FROM user_roles r JOIN users u ON u.id = r.user_id WHERE r.town_id = $1`,
		"audit_log": `SELECT (to_jsonb(a) - 'town_id' - 'id')::text FROM audit_log a
			WHERE town_id = $1 AND action NOT IN ('town.backup', 'town.restore')`,
	}
	var town int
	if err := conn.QueryRow(ctx, `SELECT id FROM towns WHERE slug = $1`, slug).Scan(&town); err != nil {
		t.Fatalf("town %s: %v", slug, err)
	}
	out := map[string][]string{}
	for _, table := range append(tables, "towns") {
		sql, ok := special[table]
		if !ok {
			sql = `SELECT (to_jsonb(x) - 'town_id')::text FROM ` + pgx.Identifier{table}.Sanitize() + ` x WHERE town_id = $1`
		}
		rows, err := conn.Query(ctx, sql, town)
		if err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		got, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		slices.Sort(got)
		out[table] = got
	}
	return out
}

// sameRows reports the tables whose rows differ.
func sameRows(t *testing.T, what string, want, got map[string][]string) {
	t.Helper()
	for table, rows := range want {
		if !slices.Equal(rows, got[table]) {
			t.Errorf("%s, %s: %d rows, want %d:\n got %.600q\nwant %.600q", what, table, len(got[table]), len(rows), got[table], rows)
		}
	}
	for _, table := range []string{"pages", "chunks", "postings", "conversations", "messages", "answers", "ratings", "tickets", "verdicts", "user_roles", "audit_log"} {
		if len(want[table]) == 0 {
			t.Errorf("%s: the test made no rows of %s", what, table)
		}
	}
}

// townHit is the address of the first page `citybot ask --town slug` finds for q.
func townHit(t *testing.T, env map[string]string, slug, q string) string {
	t.Helper()
	code, stdout, stderr := citybot(t, env, "ask", "--town", slug, "--json", q)
	if code != 0 {
		t.Fatalf("ask --town %s: exit %d: %s", slug, code, stderr)
	}
	var hits []struct{ URL string }
	if err := json.Unmarshal([]byte(stdout), &hits); err != nil || len(hits) == 0 {
		t.Fatalf("ask --town %s --json: %q, %v", slug, stdout, err)
	}
	return hits[0].URL
}

// TestTownBackupRoundTrip: a town backed up while another shares the deployment, removed, and
// restored: every row of its tables comes back as it was (its staff roles for the accounts still
// there, the one whose account went reported), its pages answer as before, a citizen's
// conversation resumes on a running serve, and the other town is as it was, its link to the
// restored town's pages back.
func TestTownBackupRoundTrip(t *testing.T) {
	env, tokens := townBackupSetup(t)
	url := env["DATABASE_URL"]
	file := filepath.Join(t.TempDir(), "backupstadt.citybot.gz")
	code, out, errOut := citybot(t, env, "towns", "backup", "backupstadt", "--out", file)
	if code != 0 || !strings.Contains(out, "town backupstadt backed up to "+file) || !strings.Contains(out, "postings ") {
		t.Fatalf("backup: exit %d: %s %s", code, out, errOut)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the backup file: %v, %v; want it readable by its owner only", fi.Mode(), err)
	}
	beforeA, beforeB := townRows(t, url, "backupstadt"), townRows(t, url, "zweitstadt")
	if code, out, errOut := citybot(t, env, "towns", "remove", "backupstadt", "--yes"); code != 0 {
		t.Fatalf("remove: %s %s", out, errOut)
	}
	// The account of one of the town's staff goes while the town is away.
	query(t, url, `WITH d AS (DELETE FROM users WHERE email = 'weg@backupstadt.example' RETURNING 1) SELECT count(*) FROM d`, new(int))

	code, out, errOut = citybot(t, env, "towns", "restore", file)
	if code != 0 || !strings.Contains(out, "town backupstadt restored from the backup of backupstadt") ||
		!strings.Contains(out, `user_roles: rows left out, the account "weg@backupstadt.example" is not in this deployment (1)`) {
		t.Fatalf("restore: exit %d: %s %s", code, out, errOut)
	}
	afterA := townRows(t, url, "backupstadt")
	wantA := beforeA
	wantA["user_roles"] = slices.DeleteFunc(slices.Clone(beforeA["user_roles"]), func(r string) bool { return strings.HasPrefix(r, "weg@") })
	if len(wantA["user_roles"]) != 1 {
		t.Fatalf("user_roles before: %q", beforeA["user_roles"])
	}
	sameRows(t, "the restored town", wantA, afterA)
	sameRows(t, "the other town", beforeB, townRows(t, url, "zweitstadt"))
	var restores int
	query(t, url, `SELECT count(*) FROM audit_log a JOIN towns t ON t.id = a.town_id
		WHERE t.slug = 'backupstadt' AND a.action = 'town.restore' AND a.actor = 'cli'`, &restores)
	if restores != 1 {
		t.Errorf("%d audit entries of the restore, want 1", restores)
	}

	if got := townHit(t, env, "backupstadt", reisepassQuestion); got != reisepassURL {
		t.Errorf("the restored town finds %q, want %q", got, reisepassURL)
	}
	addr := freeAddr(t)
	startServe(t, env, "--addr", addr)
	cv := dialTown(t, addr, "backupstadt", "?resume="+tokens["backupstadt"])
	if cv.welcome["resumed"] != true {
		t.Fatalf("the restored conversation did not resume: %v", cv.welcome)
	}
	a := cv.ask(t, reisepassQuestion)
	if src, _ := a["sources"].([]any); len(src) == 0 || src[0].(map[string]any)["url"] != reisepassURL {
		t.Errorf("the resumed conversation's answer: %v", a)
	}
	if w := dialTown(t, addr, "zweitstadt", "?resume="+tokens["zweitstadt"]).welcome; w["resumed"] != true {
		t.Errorf("the other town's conversation: %v", w)
	}
}

// TestTownBackupRestoreAsNewSlug: a backup restored beside the town it was taken of, under
// another slug, and into another deployment: each copy has the same rows and answers the same;
// the slug taken is refused; links of other towns stay with the original, and roles of people
// without an account in the other deployment are reported.
func TestTownBackupRestoreAsNewSlug(t *testing.T) {
	env, _ := townBackupSetup(t)
	url := env["DATABASE_URL"]
	file := filepath.Join(t.TempDir(), "backupstadt.citybot.gz")
	if code, out, errOut := citybot(t, env, "towns", "backup", "backupstadt", "--out", file); code != 0 {
		t.Fatalf("backup: %s %s", out, errOut)
	}
	before := townRows(t, url, "backupstadt")
	if code, out, errOut := citybot(t, env, "towns", "restore", file); code != 1 ||
		!strings.Contains(errOut, "a town with this slug exists: remove it first (citybot towns remove backupstadt --yes), or restore under a free slug with --as NEWSLUG") {
		t.Errorf("restore onto the existing town: exit %d: %s %s", code, out, errOut)
	}
	if code, out, errOut := citybot(t, env, "towns", "restore", file, "--as", "zweitstadt"); code != 1 || !strings.Contains(errOut, "exists") {
		t.Errorf("restore onto another existing town: exit %d: %s %s", code, out, errOut)
	}
	if code, _, errOut := citybot(t, env, "towns", "restore", file, "--as", "Kopie!"); code == 0 || !strings.Contains(errOut, "Kopie!") {
		t.Errorf("restore as a bad slug: exit %d: %s", code, errOut)
	}
	code, out, errOut := citybot(t, env, "towns", "restore", file, "--as", "backupstadt-kopie")
	if code != 0 || !strings.Contains(out, "town backupstadt-kopie restored") ||
		!strings.Contains(out, "town_links: rows of other towns referring to backupstadt not restored, since it is restored as backupstadt-kopie (1)") {
		t.Fatalf("restore --as: exit %d: %s %s", code, out, errOut)
	}
	sameRows(t, "the copy", before, townRows(t, url, "backupstadt-kopie"))
	sameRows(t, "the original", before, townRows(t, url, "backupstadt"))
	for _, slug := range []string{"backupstadt", "backupstadt-kopie"} {
		if got := townHit(t, env, slug, reisepassQuestion); got != reisepassURL {
			t.Errorf("%s finds %q, want %q", slug, got, reisepassURL)
		}
	}
	var links string
	query(t, url, `SELECT string_agg(t.slug || '>' || c.slug, ' ') FROM town_links l JOIN towns t ON t.id = l.town_id JOIN towns c ON c.id = l.collection_id`, &links)
	if links != "zweitstadt>backupstadt" {
		t.Errorf("links: %q", links)
	}

	// Another deployment of the same version, with none of the staff.
	other := map[string]string{"DATABASE_URL": dbtest.URL(t), "CITYBOT_LOG_LEVEL": "warn"}
	if code, out, errOut := citybot(t, other, "towns", "list"); code != 0 { // migrates the empty database
		t.Fatalf("towns list: %s %s", out, errOut)
	}
	code, out, errOut = citybot(t, other, "towns", "restore", file)
	if code != 0 || !strings.Contains(out, `user_roles: rows left out, the account "erika@backupstadt.example" is not in this deployment (1)`) ||
		!strings.Contains(out, `tickets.assignee_id: set empty, the account "erika@backupstadt.example" is not in this deployment (1)`) {
		t.Fatalf("restore into another deployment: exit %d: %s %s", code, out, errOut)
	}
	if got := townHit(t, other, "backupstadt", reisepassQuestion); got != reisepassURL {
		t.Errorf("the other deployment finds %q, want %q", got, reisepassURL)
	}
	// The restored ids are kept, and the sequences that gave them (none had run in this
	// database) are past them: an ingest adds a page beside them.
	site := t.TempDir()
	os.WriteFile(filepath.Join(site, "neu.html"), []byte(townPage("Hundesteuer", "Backupstadt", "Die Hundesteuer beträgt 80 Euro.")), 0o644)
	if code, out, errOut := citybot(t, other, "ingest", "--town", "backupstadt", "--dir", site, "--base-url", "https://neu.backupstadt.example"); code != 0 {
		t.Fatalf("ingest after the restore: %s %s", out, errOut)
	}
	var behind bool
	query(t, other["DATABASE_URL"], `SELECT pg_sequence_last_value(pg_get_serial_sequence('pages', 'id')) < (SELECT max(id) FROM pages)
		OR pg_sequence_last_value(pg_get_serial_sequence('chunks', 'id')) < (SELECT max(id) FROM chunks)`, &behind)
	if behind {
		t.Error("a sequence is behind the restored ids")
	}
	var pages, chunks int
	query(t, other["DATABASE_URL"], `SELECT (SELECT count(*) FROM pages), (SELECT count(*) FROM chunks WHERE embedding IS NOT NULL)`, &pages, &chunks)
	if pages != len(before["pages"])+1 || chunks <= len(before["chunks"]) {
		t.Errorf("the other deployment has %d pages and %d chunks with vectors, want %d and more than %d", pages, chunks, len(before["pages"])+1, len(before["chunks"]))
	}
}

// TestTownBackupRefusesBadFiles: a file cut short, one with a byte changed, one of another
// schema version and one that is no backup at all are each refused with what is wrong, and the
// database is as it was.
func TestTownBackupRefusesBadFiles(t *testing.T) {
	env, _ := townBackupSetup(t)
	url := env["DATABASE_URL"]
	dir := t.TempDir()
	file := filepath.Join(dir, "backupstadt.citybot.gz")
	if code, out, errOut := citybot(t, env, "towns", "backup", "backupstadt", "--out", file); code != 0 {
		t.Fatalf("backup: %s %s", out, errOut)
	}
	if code, out, errOut := citybot(t, env, "towns", "remove", "backupstadt", "--yes"); code != 0 {
		t.Fatalf("remove: %s %s", out, errOut)
	}
	good, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	// The same file with the header's schema version changed, compressed again.
	zr, err := gzip.NewReader(bytes.NewReader(good))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	var newest string
	query(t, url, `SELECT max(name) FROM schema_migrations`, &newest)
	newest = strings.TrimSuffix(newest, ".sql")
	older := bytes.Replace(plain, []byte(`"schema":"`+newest+`"`), []byte(`"schema":"0009_review"`), 1)
	if bytes.Equal(older, plain) {
		t.Fatalf("no schema %s in the header: %.300s", newest, plain)
	}
	var otherSchema bytes.Buffer
	zw := gzip.NewWriter(&otherSchema)
	zw.Write(older)
	zw.Close()
	flipped := slices.Clone(good)
	flipped[len(flipped)/2] ^= 0x55

	counts := func() string {
		var s string
		query(t, url, `SELECT string_agg(format('%s=%s', table_name,
				(xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %I', table_name), false, true, '')))[1]::text), ' ' ORDER BY table_name)
			FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`, &s)
		return s
	}
	before := counts()
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"truncated", good[:len(good)*2/3], "the backup file is truncated or corrupt: unexpected EOF; nothing was restored"},
		{"cut at the end", good[:len(good)-4], "the backup file is truncated or corrupt: unexpected EOF; nothing was restored"},
		{"a byte changed", flipped, "the backup file is truncated or corrupt"},
		{"another schema", otherSchema.Bytes(), "the backup file is of another schema version: the file was written at schema 0009_review, this database is at " + newest},
		{"not a backup", []byte("-- PostgreSQL database dump\n"), "the backup file is truncated or corrupt: not a gzip stream"},
	} {
		p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-"))
		if err := os.WriteFile(p, tc.data, 0o600); err != nil {
			t.Fatal(err)
		}
		code, out, errOut := citybot(t, env, "towns", "restore", p)
		if code != 1 || !strings.Contains(errOut, tc.want) || !strings.Contains(errOut, "nothing was restored") {
			t.Errorf("%s: exit %d: %s %s; want %q", tc.name, code, out, errOut, tc.want)
		}
		t.Logf("%s: %s", tc.name, strings.TrimSpace(errOut))
		if after := counts(); after != before {
			t.Errorf("%s changed the database:\n%s\nwas\n%s", tc.name, after, before)
		}
	}
	// And the good file still restores, here from standard input.
	if code, out, errOut := citybotIn(t, env, string(good), "towns", "restore", "-"); code != 0 || !strings.Contains(out, "town backupstadt restored") {
		t.Errorf("the good file: exit %d: %s %s", code, out, errOut)
	}
}
