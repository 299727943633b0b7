package database

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// TownRole is the role a town's work runs as: row-level security lets it see only the rows of
// the towns it names and write only its own (migration 0006).
const TownRole = "citybot_town"

// InTown runs fn in a transaction as TownRole for a town: it writes for towns[0] and reads the
// rows of all of towns (the town's own and the collections it is linked to). A query in fn that
// forgets its town condition still sees nothing of other towns.
func InTown(ctx context.Context, pool *pgxpool.Pool, towns []int, fn func(pgx.Tx) error) error {
	return InTx(ctx, pool, func(ctx context.Context, tx pgx.Tx) error {
		if err := enterTown(ctx, tx, towns); err != nil {
			return err
		}
		return fn(tx)
	})
}

// enterTownSQL makes the rest of a transaction TownRole's, for the towns of its arguments
// (enterTownArgs).
const enterTownSQL = `SELECT set_config('role', $1, true), set_config('citybot.town', $2, true), set_config('citybot.towns', $3, true)`

func enterTownArgs(towns []int) []any {
	return []any{TownRole, strconv.Itoa(towns[0]), intArray(towns)}
}

// enterTown makes the rest of tx TownRole's for towns.
func enterTown(ctx context.Context, tx pgx.Tx, towns []int) error {
	if len(towns) == 0 {
		return fmt.Errorf("no town to work for")
	}
	if _, err := tx.Exec(ctx, enterTownSQL, enterTownArgs(towns)...); err != nil {
		return fmt.Errorf("enter town %d: %w", towns[0], err)
	}
	return nil
}

// intArray writes ids as a PostgreSQL array literal, {1,2,3}.
func intArray(ids []int) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.Itoa(id)
	}
	return "{" + strings.Join(s, ",") + "}"
}

// BeginTown starts a transaction as TownRole for towns (see InTown); the caller commits or rolls
// it back. A reader that only reads rolls back when done.
func BeginTown(ctx context.Context, pool *pgxpool.Pool, towns []int) (pgx.Tx, error) {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	if err := enterTown(ctx, tx, towns); err != nil {
		tx.Rollback(ctx)
		return nil, err
	}
	return tx, nil
}

// Query runs one query as TownRole for towns in a single round trip: the town's settings and
// the query go out together as a pipeline, which PostgreSQL runs as one implicit transaction,
// so the settings hold for this query alone. settings adds other transaction-local settings
// (name → value). The rows must be closed.
func Query(ctx context.Context, pool *pgxpool.Pool, towns []int, settings map[string]string, sql string, args ...any) (pgx.Rows, error) {
	br, err := sendAsTown(ctx, pool, towns, settings, sql, args)
	if err != nil {
		return nil, err
	}
	rows, err := br.Query()
	if err != nil {
		br.Close()
		return nil, err
	}
	return &townRows{Rows: rows, br: br}, nil
}

// QueryRow is Query for one row.
func QueryRow(ctx context.Context, pool *pgxpool.Pool, towns []int, sql string, args ...any) pgx.Row {
	br, err := sendAsTown(ctx, pool, towns, nil, sql, args)
	if err != nil {
		return errRow{err}
	}
	return townRow{row: br.QueryRow(), br: br}
}

func sendAsTown(ctx context.Context, pool *pgxpool.Pool, towns []int, settings map[string]string, sql string, args []any) (pgx.BatchResults, error) {
	if len(towns) == 0 {
		return nil, fmt.Errorf("no town to work for")
	}
	var b pgx.Batch
	b.Queue(enterTownSQL, enterTownArgs(towns)...)
	for name, value := range settings {
		b.Queue(`SELECT set_config($1, $2, true)`, name, value)
	}
	b.Queue(sql, args...)
	br := pool.SendBatch(ctx, &b)
	for range 1 + len(settings) {
		if _, err := br.Exec(); err != nil {
			br.Close()
			return nil, fmt.Errorf("enter town %d: %w", towns[0], err)
		}
	}
	return br, nil
}

// townRows closes the pipeline with the rows.
type townRows struct {
	pgx.Rows
	br pgx.BatchResults
}

func (r *townRows) Close() {
	r.Rows.Close()
	r.br.Close()
}

type townRow struct {
	row pgx.Row
	br  pgx.BatchResults
}

func (r townRow) Scan(dest ...any) error {
	err := r.row.Scan(dest...)
	if cerr := r.br.Close(); err == nil {
		err = cerr
	}
	return err
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }
