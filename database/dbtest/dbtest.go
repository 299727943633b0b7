// Package dbtest gives tests a real, migrated PostgreSQL + pgvector database: a fresh database per
// test on a private cluster that the test binary starts itself, or on TEST_DATABASE_URL's server.
package dbtest

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/citybot-project/citybot/database"
	"github.com/citybot-project/citybot/migrations"
)

var (
	once    sync.Once
	cluster *database.Cluster
	tmpDir  string
	baseURL string
	initErr error
	seq     atomic.Int64
)

// Main runs the tests of a package and stops its cluster afterwards. Use it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }
func Main(m *testing.M) int {
	code := m.Run()
	if cluster != nil {
		cluster.Stop()
	}
	if tmpDir != "" {
		os.RemoveAll(tmpDir)
	}
	return code
}

func start() {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		baseURL = u
		return
	}
	tmpDir, initErr = os.MkdirTemp("", "citybot-test-")
	if initErr != nil {
		return
	}
	// The cluster runs as the postgres user when the tests run as root: it must reach its folder.
	if initErr = os.Chmod(tmpDir, 0o755); initErr != nil {
		return
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cluster, initErr = database.StartCluster(context.Background(), filepath.Join(tmpDir, "data"), log)
	if initErr == nil {
		baseURL = cluster.URL()
	}
}

// URL creates a fresh, empty database for t and returns its connection string; the database is
// dropped when t ends.
func URL(t testing.TB) string {
	t.Helper()
	once.Do(start)
	if initErr != nil {
		t.Fatalf("start test database: %v", initErr)
	}
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, baseURL)
	if err != nil {
		t.Fatalf("connect to test database server: %v", err)
	}
	defer admin.Close(ctx)
	name := fmt.Sprintf("citybot_test_%d_%d", os.Getpid(), seq.Add(1))
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, baseURL)
		if err != nil {
			return
		}
		defer conn.Close(ctx)
		conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	return withDB(baseURL, name)
}

// withDB points a connection string, URL or keyword/value form, at database name.
func withDB(conn, name string) string {
	if u, err := url.Parse(conn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		u.Path = "/" + name
		return u.String()
	}
	return conn + " dbname=" + name
}

// OutdatedURL creates a fresh database for t with every migration but the newest applied, as an
// older citybot left it, and returns its connection string and the newest migration's name
// (without .sql).
func OutdatedURL(t testing.TB) (url, newest string) {
	t.Helper()
	url = URL(t)
	names, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil || len(names) < 2 {
		t.Fatalf("migrations %v: %v", names, err)
	}
	sort.Strings(names)
	older := fstest.MapFS{}
	for _, n := range names[:len(names)-1] {
		b, err := fs.ReadFile(migrations.FS, n)
		if err != nil {
			t.Fatal(err)
		}
		older[n] = &fstest.MapFile{Data: b}
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := database.Migrate(ctx, conn, older, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatalf("migrate to the older schema: %v", err)
	}
	return url, strings.TrimSuffix(names[len(names)-1], ".sql")
}

// MustOpenDB returns a migrated database for t, closed when t ends.
func MustOpenDB(t testing.TB) *database.DB {
	t.Helper()
	db, err := database.Open(context.Background(), database.Options{URL: URL(t),
		Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(db.Close)
	return db
}

// Pool is a shortcut for MustOpenDB(t).Pool.
func Pool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	return MustOpenDB(t).Pool
}

// Town creates a town for t's data and returns its id: every page and conversation belongs to one.
func Town(t testing.TB, pool *pgxpool.Pool, slug string) int {
	t.Helper()
	var id int
	if err := pool.QueryRow(context.Background(), `INSERT INTO towns (slug, name) VALUES ($1, $1) RETURNING id`, slug).Scan(&id); err != nil {
		t.Fatalf("create town %s: %v", slug, err)
	}
	return id
}
