package database_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/citybot-project/citybot/database"
	"github.com/citybot-project/citybot/database/dbtest"
)

// notes is a table for the transaction tests, and count how many rows it holds.
func notes(t *testing.T) (*pgxpool.Pool, func() int) {
	t.Helper()
	pool := dbtest.Pool(t)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, "CREATE TABLE notes (text text NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	return pool, func() int {
		var n int
		if err := pool.QueryRow(ctx, "SELECT count(*) FROM notes").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
}

func insertNote(ctx context.Context, q database.Querier) error {
	_, err := q.Exec(ctx, "INSERT INTO notes (text) VALUES ($1)", "Termin im Bürgerbüro")
	return err
}

func TestInTxCommits(t *testing.T) {
	pool, count := notes(t)
	ctx := context.Background()
	err := database.InTx(ctx, pool, func(ctx context.Context, q pgx.Tx) error {
		if err := insertNote(ctx, q); err != nil {
			return err
		}
		// Inside, the transaction sees its own row; outside nobody does yet.
		var inside int
		if err := q.QueryRow(ctx, "SELECT count(*) FROM notes").Scan(&inside); err != nil || inside != 1 {
			t.Errorf("inside the transaction: %d rows, %v", inside, err)
		}
		if n := count(); n != 0 {
			t.Errorf("outside before commit: %d rows", n)
		}
		return insertNote(ctx, q)
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 2 {
		t.Errorf("after commit: %d rows, want 2", n)
	}
}

func TestInTxRollsBackOnError(t *testing.T) {
	pool, count := notes(t)
	boom := errors.New("ticket without consent")
	err := database.InTx(context.Background(), pool, func(ctx context.Context, q pgx.Tx) error {
		if err := insertNote(ctx, q); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err %v, want fn's own", err)
	}
	if n := count(); n != 0 {
		t.Errorf("after the error: %d rows, want 0", n)
	}
	// A failed statement is an error like any other.
	err = database.InTx(context.Background(), pool, func(ctx context.Context, q pgx.Tx) error {
		if err := insertNote(ctx, q); err != nil {
			return err
		}
		_, err := q.Exec(ctx, "INSERT INTO notes (text) VALUES (NULL)")
		return err
	})
	if err == nil || count() != 0 {
		t.Errorf("after a failed statement: err %v, %d rows", err, count())
	}
}

func TestInTxRollsBackOnPanicAndPanicsOn(t *testing.T) {
	pool, count := notes(t)
	func() {
		defer func() {
			if v := recover(); v != "index out of range" {
				t.Errorf("recovered %v, want the panic passed on", v)
			}
		}()
		database.InTx(context.Background(), pool, func(ctx context.Context, q pgx.Tx) error {
			if err := insertNote(ctx, q); err != nil {
				return err
			}
			panic("index out of range")
		})
	}()
	if n := count(); n != 0 {
		t.Errorf("after the panic: %d rows, want 0", n)
	}
	// The connection went back to the pool usable, not stuck in the aborted transaction.
	for range pool.Stat().MaxConns() + 1 {
		if err := insertNote(context.Background(), pool); err != nil {
			t.Fatal(err)
		}
	}
}

func TestInTxNests(t *testing.T) {
	pool, count := notes(t)
	ctx := context.Background()
	err := database.InTx(ctx, pool, func(ctx context.Context, q pgx.Tx) error {
		if err := insertNote(ctx, q); err != nil {
			return err
		}
		tx := q.(database.Beginner) // a transaction begins savepoints
		inner := database.InTx(ctx, tx, func(ctx context.Context, q pgx.Tx) error {
			insertNote(ctx, q)
			return errors.New("inner step failed")
		})
		if inner == nil {
			t.Error("inner error lost")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 1 {
		t.Errorf("%d rows, want the outer one only", n)
	}
}

// TestUnreachable tells an outage (nobody listening, the server shutting down, a broken
// connection) from a query that failed.
func TestUnreachable(t *testing.T) {
	ctx := context.Background()
	_, connErr := pgx.Connect(ctx, "host=127.0.0.1 port=1 user=x dbname=x sslmode=disable connect_timeout=2")
	pool := dbtest.Pool(t)
	_, syntaxErr := pool.Exec(ctx, "SELEC 1")
	for name, c := range map[string]struct {
		err  error
		want bool
	}{
		"nobody listening":    {connErr, true},
		"admin shutdown":      {&pgconn.PgError{Code: "57P01"}, true},
		"connection failure":  {&pgconn.PgError{Code: "08006"}, true},
		"unexpected EOF":      {fmt.Errorf("read: %w", io.ErrUnexpectedEOF), true},
		"a syntax error":      {syntaxErr, false},
		"a unique violation":  {&pgconn.PgError{Code: "23505"}, false},
		"no error":            {nil, false},
		"an error of our own": {errors.New("no such town"), false},
	} {
		if got := database.Unreachable(c.err); got != c.want {
			t.Errorf("%s (%v): %v, want %v", name, c.err, got, c.want)
		}
	}
}
