package database_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/citybot-project/citybot/database"
	"github.com/citybot-project/citybot/database/dbtest"
)

// TestTownRowsAreWalledOff: a town's transaction sees only its towns' rows and writes only its
// own, even with a query that names no town; without the town settings the role sees nothing.
func TestTownRowsAreWalledOff(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.Pool(t)
	a, b, k := dbtest.Town(t, pool, "a-town"), dbtest.Town(t, pool, "b-town"), dbtest.Town(t, pool, "kreis")
	for _, town := range []int{a, b, k} {
		if _, err := pool.Exec(ctx, `INSERT INTO ingest_runs (town_id, source, started_at) VALUES ($1, $2, now())`, town, strconv.Itoa(town)); err != nil {
			t.Fatal(err)
		}
	}
	seen := func(towns []int) []string {
		var got []string
		err := database.InTown(ctx, pool, towns, func(tx pgx.Tx) error {
			rows, err := tx.Query(ctx, `SELECT source FROM ingest_runs ORDER BY town_id`) // no town condition
			if err != nil {
				return err
			}
			got, err = pgx.CollectRows(rows, pgx.RowTo[string])
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	itoa := func(ids ...int) string {
		var s []string
		for _, id := range ids {
			s = append(s, strconv.Itoa(id))
		}
		return strings.Join(s, ",")
	}
	if got := strings.Join(seen([]int{a}), ","); got != itoa(a) {
		t.Errorf("town a sees %s, want only its own %s", got, itoa(a))
	}
	if got := strings.Join(seen([]int{a, k}), ","); got != itoa(a, k) {
		t.Errorf("town a linked to the Kreis sees %s, want %s", got, itoa(a, k))
	}
	// Writing another town's rows: refused, also for a town that may read them.
	err := database.InTown(ctx, pool, []int{a, k}, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO ingest_runs (town_id, source, started_at) VALUES ($1, 'x', now())`, k)
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "row-level security") {
		t.Errorf("town a wrote the Kreis's row: %v", err)
	}
	err = database.InTown(ctx, pool, []int{a}, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM ingest_runs`) // every row it can see: only its own
		if err == nil && tag.RowsAffected() != 1 {
			t.Errorf("town a deleted %d rows", tag.RowsAffected())
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var left int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM ingest_runs`).Scan(&left); err != nil || left != 2 {
		t.Errorf("%d rows left, want the other two towns' (%v)", left, err)
	}
	// The role without the settings: an error, not every town's rows ("unrecognized configuration
	// parameter" on a fresh connection, "malformed array literal" on one whose earlier
	// transaction set and reset it).
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SET LOCAL ROLE "+database.TownRole); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `SELECT count(*) FROM ingest_runs`)
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "citybot.towns") && !strings.Contains(err.Error(), "malformed array literal") {
		t.Errorf("the town role without its settings: %v", err)
	}
}
