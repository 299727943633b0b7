// Package database opens citybot's store of record, PostgreSQL with pgvector: a server named by
// DATABASE_URL, or a private cluster under the data directory, with the binary's schema.
package database

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	pgxvec "github.com/pgvector/pgvector-go/pgx"

	"github.com/citybot-project/citybot/migrations"
)

// Options say where the database is.
type Options struct {
	URL     string // DATABASE_URL; empty starts the embedded cluster
	DataDir string // where the embedded cluster lives
	MaxConn int32  // pool size; 0 takes pgx's default
	Log     *slog.Logger
	// Migrate upgrades a DATABASE_URL database whose schema is older than the binary's; without
	// it Open refuses such a database with a *SchemaError, since an upgrade is the moment for a
	// backup. The embedded cluster, which citybot runs itself, and a database without any of
	// citybot's schema yet (nothing in it to lose) are migrated regardless.
	Migrate bool
}

// DB is an open database with the binary's schema.
type DB struct {
	Pool    *pgxpool.Pool
	cluster *Cluster
}

// Open connects (starting the embedded cluster when no URL is given), brings the schema up to
// date or refuses an out-of-date one (see Options.Migrate), and returns a pool whose connections
// know pgvector's types.
func Open(ctx context.Context, o Options) (*DB, error) {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	db := &DB{}
	url := o.URL
	if url == "" {
		c, err := StartCluster(ctx, o.DataDir, o.Log)
		if err != nil {
			return nil, err
		}
		db.cluster = c
		url = c.URL()
	}
	if err := prepare(ctx, url, o.Migrate || db.cluster != nil, o.Log); err != nil {
		db.Close()
		return nil, err
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("parse database URL: %w", err)
	}
	if o.MaxConn > 0 {
		cfg.MaxConns = o.MaxConn
	}
	// A wider HNSW search than pgvector's default 40: better recall for a little time.
	cfg.ConnConfig.RuntimeParams["hnsw.ef_search"] = "100"
	cfg.AfterConnect = func(ctx context.Context, conn *pgx.Conn) error {
		return pgxvec.RegisterTypes(ctx, conn)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open database pool: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		db.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	db.Pool = pool
	return db, nil
}

// Supervise restarts the embedded cluster whenever it stops answering, until ctx ends (see
// Cluster.Supervise); with DATABASE_URL the server is someone else's to run and it returns.
func (db *DB) Supervise(ctx context.Context, interval time.Duration, restarted func(error)) {
	if db.cluster != nil {
		db.cluster.Supervise(ctx, interval, restarted)
	}
}

// Ping tells whether the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.Pool.Ping(ctx) }

// Close closes the pool and stops the embedded cluster if this process was its last user.
func (db *DB) Close() {
	if db.Pool != nil {
		db.Pool.Close()
	}
	if db.cluster != nil {
		db.cluster.Stop()
	}
}

// migrationLock is the advisory lock key that serialises concurrent migrators.
const migrationLock = 0x636974796 // "city"

// SchemaError refuses a database whose schema is older than the binary's.
type SchemaError struct {
	Pending []string // the migrations not applied yet, by name without .sql, in order
}

func (e *SchemaError) Error() string {
	n := "migrations"
	if len(e.Pending) == 1 {
		n = "migration"
	}
	return fmt.Sprintf("the database schema is older than this citybot's: %d %s pending (%s)", len(e.Pending), n,
		strings.Join(e.Pending, ", "))
}

// prepare migrates the database at url, or checks that it needs no migration unless upgrade.
func prepare(ctx context.Context, url string, upgrade bool, log *slog.Logger) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return fmt.Errorf("connect to database: %w", err)
	}
	defer conn.Close(ctx)
	pending, applied, err := Pending(ctx, conn, migrations.FS)
	if err != nil {
		return err
	}
	if unknown := unknownMigrations(migrations.FS, applied); len(unknown) > 0 {
		// Forward-only migrations add; an older binary usually still works on a newer schema.
		log.Warn("the database has migrations this citybot does not know: a newer version migrated it", "migrations", unknown)
	}
	if len(pending) == 0 {
		return nil
	}
	if len(applied) > 0 && !upgrade {
		return &SchemaError{Pending: trimSQL(pending)}
	}
	_, err = Migrate(ctx, conn, migrations.FS, log)
	return err
}

// Pending lists the files of fsys that the database has not applied, in name order, and the
// names it has applied (none when it has no schema_migrations table yet).
func Pending(ctx context.Context, q Querier, fsys fs.FS) (pending, applied []string, err error) {
	var exists bool
	if err := q.QueryRow(ctx, "SELECT to_regclass('schema_migrations') IS NOT NULL").Scan(&exists); err != nil {
		return nil, nil, fmt.Errorf("check schema: %w", err)
	}
	done := map[string]bool{}
	if exists {
		rows, err := q.Query(ctx, "SELECT name FROM schema_migrations ORDER BY name")
		if err != nil {
			return nil, nil, fmt.Errorf("check schema: %w", err)
		}
		if applied, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			return nil, nil, fmt.Errorf("check schema: %w", err)
		}
		for _, n := range applied {
			done[n] = true
		}
	}
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, nil, err
	}
	sort.Strings(names)
	for _, n := range names {
		if !done[n] {
			pending = append(pending, n)
		}
	}
	return pending, applied, nil
}

// unknownMigrations are the applied migrations that fsys lacks.
func unknownMigrations(fsys fs.FS, applied []string) []string {
	var unknown []string
	for _, n := range applied {
		if _, err := fs.Stat(fsys, n); err != nil {
			unknown = append(unknown, n)
		}
	}
	return unknown
}

func trimSQL(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = strings.TrimSuffix(n, ".sql")
	}
	return out
}

// Migrate applies the files of fsys not yet recorded in schema_migrations, in name order, each in
// its own transaction, and returns the names it applied.
func Migrate(ctx context.Context, conn *pgx.Conn, fsys fs.FS, log *slog.Logger) ([]string, error) {
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrationLock); err != nil {
		return nil, fmt.Errorf("lock migrations: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrationLock)
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return nil, fmt.Errorf("create schema_migrations: %w", err)
	}
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var applied []string
	for _, name := range names {
		var done bool
		if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE name = $1)", name).Scan(&done); err != nil {
			return applied, fmt.Errorf("check migration %s: %w", name, err)
		}
		if done {
			continue
		}
		sql, err := fs.ReadFile(fsys, name)
		if err != nil {
			return applied, fmt.Errorf("read migration %s: %w", name, err)
		}
		err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, string(sql)); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "INSERT INTO schema_migrations (name) VALUES ($1)", name)
			return err
		})
		if err != nil {
			return applied, fmt.Errorf("apply migration %s: %w", name, err)
		}
		log.Info("applied migration", "name", strings.TrimSuffix(name, ".sql"))
		applied = append(applied, name)
	}
	return applied, nil
}
