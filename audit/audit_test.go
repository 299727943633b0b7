package audit

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/citybot-project/citybot/database"
	"github.com/citybot-project/citybot/database/dbtest"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

// TestEntriesCommitWithTheirAction: an entry written in a transaction that rolls back is gone
// with it; one that commits is listed for its town, newest first, and not for another town.
func TestEntriesCommitWithTheirAction(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.Pool(t)
	lb, ef := dbtest.Town(t, pool, "lindenbrueck"), dbtest.Town(t, pool, "eichenfeld")
	failed := errors.New("the action failed")
	err := database.InTx(ctx, pool, func(ctx context.Context, tx pgx.Tx) error {
		if err := Record(ctx, tx, Entry{Town: lb, Actor: "a@x.example", Action: "ticket.update", Target: "T-1"}); err != nil {
			return err
		}
		return failed
	})
	if !errors.Is(err, failed) {
		t.Fatal(err)
	}
	for i, action := range []string{"user.add", "user.disable"} {
		err := database.InTx(ctx, pool, func(ctx context.Context, tx pgx.Tx) error {
			return Record(ctx, tx, Entry{Town: lb, Actor: ActorCLI, Action: action, Target: "erika@x.example", Details: map[string]any{"n": i}})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := Record(ctx, pool, Entry{Actor: "erika@x.example", Action: "login"}); err != nil {
		t.Fatal(err)
	}
	got, err := List(ctx, pool, lb, 10)
	if err != nil || len(got) != 2 || got[0].Action != "user.disable" || got[1].Action != "user.add" || got[1].Details["n"] != float64(0) {
		t.Fatalf("lindenbrueck's log: %+v %v", got, err)
	}
	if got, _ := List(ctx, pool, ef, 10); len(got) != 0 {
		t.Errorf("eichenfeld's log holds %+v", got)
	}
	if all, _ := List(ctx, pool, 0, 10); len(all) != 3 || all[0].Action != "login" || all[0].Town != 0 {
		t.Errorf("the whole log: %+v", all)
	}
	if _, err := pool.Exec(ctx, `UPDATE audit_log SET at = now() - interval '400 days' WHERE action = 'user.add'`); err != nil {
		t.Fatal(err)
	}
	if n, err := Purge(ctx, pool, 365*24*time.Hour); err != nil || n != 1 {
		t.Errorf("purged %d: %v", n, err)
	}
}
