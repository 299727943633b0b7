// Package audit records what staff do: each action writes its entry in the transaction of the
// action itself, so that there is no action without its entry and no entry without its action.
package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/citybot-project/citybot/database"
)

// Entry is one staff action.
type Entry struct {
	ID      int64
	Town    int // 0: an action of no town (a login)
	At      time.Time
	Actor   string // the user's e-mail, or "cli"
	Action  string // e.g. user.add, user.disable, login, ticket.update
	Target  string // what it was done to: an e-mail, a ticket number
	Details map[string]any
}

// ActorCLI is the actor of what the command line does: whoever runs it holds the server.
const ActorCLI = "cli"

// Record writes e with q, which should be the transaction of the action.
func Record(ctx context.Context, q database.Querier, e Entry) error {
	details, err := json.Marshal(e.Details)
	if err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	if e.Details == nil {
		details = []byte("{}")
	}
	var town *int
	if e.Town != 0 {
		town = &e.Town
	}
	if _, err := q.Exec(ctx, `INSERT INTO audit_log (town_id, actor, action, target, details) VALUES ($1, $2, $3, $4, $5)`,
		town, e.Actor, e.Action, e.Target, details); err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	return nil
}

// List returns a town's entries, newest first, at most limit; town 0 lists every town's.
func List(ctx context.Context, q database.Querier, town, limit int) ([]Entry, error) {
	rows, err := q.Query(ctx, `SELECT id, coalesce(town_id, 0), at, actor, action, target, details FROM audit_log
		WHERE $1 = 0 OR town_id = $1 ORDER BY at DESC, id DESC LIMIT $2`, town, limit)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var e Entry
		if err := rows.Scan(&e.ID, &e.Town, &e.At, &e.Actor, &e.Action, &e.Target, &e.Details); err != nil {
			return nil, fmt.Errorf("audit log: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Purge deletes the entries older than keep, and returns how many.
func Purge(ctx context.Context, q database.Querier, keep time.Duration) (int64, error) {
	tag, err := q.Exec(ctx, `DELETE FROM audit_log WHERE at < now() - $1::interval`, fmt.Sprintf("%d seconds", int64(keep.Seconds())))
	if err != nil {
		return 0, fmt.Errorf("purge the audit log: %w", err)
	}
	return tag.RowsAffected(), nil
}
