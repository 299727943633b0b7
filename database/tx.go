package database

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Querier runs SQL: the pool, a connection, or a transaction begun on either. A store method
// that takes a Querier works alone on the pool and as one step of a caller's transaction.
type Querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Beginner begins transactions: the pool, a connection, or a transaction (whose Begin is a
// savepoint, so InTx nests).
type Beginner interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

var (
	_ Querier  = (*pgxpool.Pool)(nil)
	_ Querier  = (*pgx.Conn)(nil)
	_ Querier  = (pgx.Tx)(nil)
	_ Beginner = (*pgxpool.Pool)(nil)
	_ Beginner = (pgx.Tx)(nil)
)

// InTx runs fn in a transaction begun on db and commits it when fn returns nil. It rolls back
// when fn returns an error, which it returns, and when fn panics, after which the panic goes on.
func InTx(ctx context.Context, db Beginner, fn func(ctx context.Context, tx pgx.Tx) error) (err error) {
	tx, err := db.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			// Rollback needs a live context: ctx may be what was cancelled. Its own error is
			// the lesser news.
			tx.Rollback(context.WithoutCancel(ctx))
		}
	}()
	if err := fn(ctx, tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit transaction: %w", err)
	}
	committed = true
	return nil
}

// Unreachable tells whether err means the database could not be reached or went away (a
// connection refused or broken, the server shutting down or starting), as opposed to a query
// that failed: the first is an outage to tell citizens of, the second a bug.
func Unreachable(err error) bool {
	if err == nil {
		return false
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &connectErr), errors.As(err, &netErr), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return true
	case errors.As(err, &pgErr):
		// Class 08: connection exception; 57P01-57P03: the server shutting down or starting.
		return strings.HasPrefix(pgErr.Code, "08") || pgErr.Code == "57P01" || pgErr.Code == "57P02" || pgErr.Code == "57P03"
	}
	return pgconn.SafeToRetry(err) || strings.Contains(err.Error(), "conn closed")
}
