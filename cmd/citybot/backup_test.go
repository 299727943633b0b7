package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/citybot-project/citybot/database"
	"github.com/citybot-project/citybot/database/dbtest"
)

// backupSite is a small town site: three pages on different matters.
var backupSite = map[string]string{
	"index.html": `<!doctype html><html lang="de"><head><title>Stadt Backupstadt</title></head><body><main>
<h1>Willkommen in Backupstadt</h1><p>Das Rathaus ist montags bis freitags von 8 bis 12 Uhr geöffnet.</p>
<p><a href="buergerservice/reisepass.html">Reisepass</a> <a href="umwelt/sperrmuell.html">Sperrmüll</a></p></main></body></html>`,
	"buergerservice/reisepass.html": `<!doctype html><html lang="de"><head><title>Reisepass beantragen</title></head><body><main>
<h1>Reisepass beantragen</h1><p>Einen Reisepass beantragen Sie persönlich im Bürgerbüro. Bringen Sie ein biometrisches
Passfoto und Ihren alten Pass mit.</p><h2>Gebühren</h2><p>Der Reisepass kostet 70 Euro für Personen ab 24 Jahren
und 37,50 Euro für jüngere Antragsteller.</p><h2>Bearbeitungszeit</h2><p>Die Herstellung dauert etwa vier Wochen.</p>
</main></body></html>`,
	"umwelt/sperrmuell.html": `<!doctype html><html lang="de"><head><title>Sperrmüll anmelden</title></head><body><main>
<h1>Sperrmüll anmelden</h1><p>Sperrmüll wird zweimal im Jahr kostenlos abgeholt. Melden Sie die Abholung online oder
telefonisch beim Abfallwirtschaftsbetrieb an.</p><h2>Was ist Sperrmüll?</h2><p>Möbel, Matratzen und Teppiche, die nicht
in die Restmülltonne passen.</p></main></body></html>`,
}

// TestBackupRestoreRoundTrip does what docs/operations.md tells a town's IT team to do: pg_dump
// -Fc of a deployment's database, pg_restore into a fresh empty one, and citybot works on the
// restored copy as on the original.
func TestBackupRestoreRoundTrip(t *testing.T) {
	bin, err := database.PGBinDir()
	if err != nil {
		t.Skipf("no PostgreSQL binaries for pg_dump and pg_restore: %v", err)
	}
	pgDump, pgRestore := filepath.Join(bin, "pg_dump"), filepath.Join(bin, "pg_restore")
	for _, b := range []string{pgDump, pgRestore} {
		if _, err := os.Stat(b); err != nil {
			t.Skipf("%s missing (install the PostgreSQL client binaries): %v", b, err)
		}
	}
	ctx := context.Background()
	site := t.TempDir()
	for name, html := range backupSite {
		p := filepath.Join(site, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(html), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	src := dbtest.URL(t)
	env := map[string]string{"DATABASE_URL": src, "CITYBOT_LOG_LEVEL": "warn", "CITYBOT_CITY": "Musterstadt"}
	code, stdout, stderr := citybot(t, env, "ingest", "--dir", site, "--base-url", "https://www.backupstadt.example", "--json")
	if code != 0 {
		t.Fatalf("ingest: exit %d: %s %s", code, stdout, stderr)
	}
	// A conversation, as serve stores one.
	conn, err := pgx.Connect(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	_, err = conn.Exec(ctx, `INSERT INTO conversations (town_id, id, token_hash, lang) SELECT id, '7f0c6b9e-1d2a-4c3b-9e8f-0a1b2c3d4e5f', '\x01', 'de' FROM towns;
		INSERT INTO messages (town_id, conversation_id, role, body) SELECT id, '7f0c6b9e-1d2a-4c3b-9e8f-0a1b2c3d4e5f', 'citizen', '{"text": "Was kostet ein Reisepass?"}' FROM towns`)
	conn.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const question = "Was kostet ein Reisepass?"
	const want = "https://www.backupstadt.example/buergerservice/reisepass"
	before := backupCounts(t, src)
	if before["pages"] != 3 || before["chunks"] == 0 || before["postings"] == 0 {
		t.Fatalf("ingest stored %v", before)
	}
	if got := topHit(t, src, question); got != want {
		t.Fatalf("before the backup, %q finds %q, want %q", question, got, want)
	}

	dump := filepath.Join(t.TempDir(), "citybot.dump")
	if out, err := exec.Command(pgDump, "-Fc", "-f", dump, "--dbname="+src).CombinedOutput(); err != nil {
		t.Fatalf("pg_dump: %v: %s", err, out)
	}
	dst := dbtest.URL(t) // fresh and empty: not even migrated
	if out, err := exec.Command(pgRestore, "--exit-on-error", "--no-owner", "--dbname="+dst, dump).CombinedOutput(); err != nil {
		t.Fatalf("pg_restore: %v: %s", err, out)
	}

	// Counted before citybot opens (and would migrate) the restored database: schema_migrations
	// too came back whole.
	after := backupCounts(t, dst)
	for table, n := range before {
		if after[table] != n {
			t.Errorf("%s: %d rows before the backup, %d after the restore", table, n, after[table])
		}
	}
	if got := topHit(t, dst, question); got != want {
		t.Errorf("on the restored database, %q finds %q, want %q", question, got, want)
	}
}

// backupCounts counts the rows of the tables a backup must keep.
func backupCounts(t *testing.T, url string) map[string]int {
	t.Helper()
	counts := map[string]int{}
	for _, table := range []string{"towns", "pages", "chunks", "postings", "lexeme_stats", "ingest_runs", "conversations", "messages", "schema_migrations"} {
		var n int
		query(t, url, "SELECT count(*) FROM "+table, &n)
		counts[table] = n
	}
	return counts
}

// topHit is the address of the first page `citybot ask` finds for q on the database at url.
func topHit(t *testing.T, url, q string) string {
	t.Helper()
	code, stdout, stderr := citybot(t, map[string]string{"DATABASE_URL": url, "CITYBOT_LOG_LEVEL": "warn"}, "ask", "--json", q)
	if code != 0 {
		t.Fatalf("ask: exit %d: %s", code, stderr)
	}
	var hits []struct{ URL string }
	if err := json.Unmarshal([]byte(stdout), &hits); err != nil {
		t.Fatalf("ask --json %q: %v", stdout, err)
	}
	if len(hits) == 0 {
		t.Fatal("ask found no page")
	}
	return hits[0].URL
}
