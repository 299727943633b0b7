package database_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5"

	"github.com/citybot-project/citybot/database"
	"github.com/citybot-project/citybot/database/dbtest"
	"github.com/citybot-project/citybot/migrations"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestMigrateEmptyDatabaseToNewest(t *testing.T) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	applied, err := database.Migrate(ctx, conn, migrations.FS, quiet)
	if err != nil {
		t.Fatal(err)
	}
	all, _ := migrations.FS.ReadDir(".")
	var sqlFiles int
	for _, f := range all {
		if filepath.Ext(f.Name()) == ".sql" {
			sqlFiles++
		}
	}
	if len(applied) != sqlFiles || sqlFiles == 0 {
		t.Fatalf("applied %v, want all %d migrations", applied, sqlFiles)
	}
	// The schema the knowledge base needs is there, with pgvector.
	var ext string
	if err := conn.QueryRow(ctx, "SELECT extversion FROM pg_extension WHERE extname = 'vector'").Scan(&ext); err != nil {
		t.Fatalf("vector extension: %v", err)
	}
	for _, table := range []string{"pages", "chunks", "lexeme_stats", "index_meta", "ingest_runs"} {
		var ok bool
		if err := conn.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", table).Scan(&ok); err != nil || !ok {
			t.Errorf("table %s missing after migration", table)
		}
	}
	// A second run applies nothing.
	again, err := database.Migrate(ctx, conn, migrations.FS, quiet)
	if err != nil || len(again) != 0 {
		t.Fatalf("second migrate applied %v, err %v", again, err)
	}
}

func TestMigrateFailureLeavesNothingHalfApplied(t *testing.T) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	bad := fstest.MapFS{
		"0001_ok.sql":  {Data: []byte("CREATE TABLE a (id int);")},
		"0002_bad.sql": {Data: []byte("CREATE TABLE b (id int); SELECT * FROM no_such_table;")},
	}
	applied, err := database.Migrate(ctx, conn, bad, quiet)
	if err == nil {
		t.Fatal("want an error from the broken migration")
	}
	if len(applied) != 1 || applied[0] != "0001_ok.sql" {
		t.Fatalf("applied %v, want only 0001_ok.sql", applied)
	}
	var hasB bool
	conn.QueryRow(ctx, "SELECT to_regclass('b') IS NOT NULL").Scan(&hasB)
	if hasB {
		t.Fatal("table b of the failed migration exists: the migration was not one transaction")
	}
}

func TestEmbeddedClusterIsSharedAndStoppedByLastUser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts its own cluster")
	}
	ctx := context.Background()
	dir := t.TempDir()
	// When root, the cluster runs as postgres, which must reach the folder.
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	data := filepath.Join(dir, "var")
	first, err := database.Open(ctx, database.Options{DataDir: data, Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := first.Pool.Exec(ctx, "CREATE TABLE shared_marker (id int)"); err != nil {
		t.Fatal(err)
	}
	// A second process on the same data directory joins the running cluster instead of failing.
	second, err := database.Open(ctx, database.Options{DataDir: data, Log: quiet})
	if err != nil {
		t.Fatalf("second open on the same data directory: %v", err)
	}
	var ok bool
	if err := second.Pool.QueryRow(ctx, "SELECT to_regclass('shared_marker') IS NOT NULL").Scan(&ok); err != nil || !ok {
		t.Fatalf("second user does not see the first one's data: %v", err)
	}
	first.Close()
	// The first user left; the second still works.
	if err := second.Pool.Ping(ctx); err != nil {
		t.Fatalf("cluster stopped while still in use: %v", err)
	}
	second.Close()
	if _, err := os.Stat(filepath.Join(data, "pg", "postmaster.pid")); !os.IsNotExist(err) {
		t.Fatalf("cluster still running after its last user closed (postmaster.pid: %v)", err)
	}
	// And it starts again from the same directory.
	third, err := database.Open(ctx, database.Options{DataDir: data, Log: quiet})
	if err != nil {
		t.Fatalf("restart: %v", err)
	}
	defer third.Close()
	if err := third.Pool.QueryRow(ctx, "SELECT to_regclass('shared_marker') IS NOT NULL").Scan(&ok); err != nil || !ok {
		t.Fatal("data lost across restart")
	}
}

// TestOpenRefusesOutdatedSchema: a DATABASE_URL database that an older citybot migrated is
// refused, naming what is pending, until it is migrated on purpose; an empty one is set up.
func TestOpenRefusesOutdatedSchema(t *testing.T) {
	ctx := context.Background()
	url, newest := dbtest.OutdatedURL(t)
	_, err := database.Open(ctx, database.Options{URL: url, Log: quiet})
	var se *database.SchemaError
	if !errors.As(err, &se) || len(se.Pending) != 1 || se.Pending[0] != newest ||
		!strings.Contains(err.Error(), "1 migration pending ("+newest+")") {
		t.Fatalf("open of an outdated schema: %v", err)
	}
	db, err := database.Open(ctx, database.Options{URL: url, Log: quiet, Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	pending, applied, err := database.Pending(ctx, db.Pool, migrations.FS)
	db.Close()
	if err != nil || len(pending) != 0 || applied[len(applied)-1] != newest+".sql" {
		t.Fatalf("after migrating: pending %v, applied %v, %v", pending, applied, err)
	}
	// Up to date, it opens without being told to migrate.
	db, err = database.Open(ctx, database.Options{URL: url, Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	// A database with none of citybot's schema has nothing to back up: it is set up.
	db, err = database.Open(ctx, database.Options{URL: dbtest.URL(t), Log: quiet})
	if err != nil {
		t.Fatalf("open of an empty database: %v", err)
	}
	defer db.Close()
	if pending, _, err := database.Pending(ctx, db.Pool, migrations.FS); err != nil || len(pending) != 0 {
		t.Fatalf("empty database after open: pending %v, %v", pending, err)
	}
}

// A database that a newer citybot migrated still opens: forward-only migrations add.
func TestOpenAcceptsNewerSchema(t *testing.T) {
	ctx := context.Background()
	url := dbtest.URL(t)
	db, err := database.Open(ctx, database.Options{URL: url, Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.Pool.Exec(ctx, "INSERT INTO schema_migrations (name) VALUES ('9999_from_the_future.sql')")
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	db, err = database.Open(ctx, database.Options{URL: url, Log: slog.New(slog.NewTextHandler(&log, nil))})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if !strings.Contains(log.String(), "9999_from_the_future") {
		t.Errorf("no warning about the unknown migration: %s", log.String())
	}
}
