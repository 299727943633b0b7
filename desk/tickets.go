// Package desk is the service desk's work: the inbox of a town's callback and e-mail requests,
// and (to come) the live handoff of a conversation to a person.
package desk

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/citybot-project/citybot/audit"
	"github.com/citybot-project/citybot/database"
)

// Ticket states.
const (
	Open       = "open"
	InProgress = "in_progress"
	Done       = "done"
)

// States lists the ticket states in their order.
var States = []string{Open, InProgress, Done}

// Ticket is a citizen's callback or e-mail request, as the inbox shows it.
type Ticket struct {
	Number       string
	Kind         string // callback or email
	Name, Phone  string
	Email, Note  string
	Lang         string
	Status       string
	Created      time.Time
	Updated      time.Time // zero until staff changed it
	AssigneeName string    // "" when unassigned
	// Question is the citizen's last question before the request (redacted, as stored).
	Question string
	// Reply is the answer an e-mail request got from the console ("" until then).
	Reply string
	// Due is when the request should have been dealt with: TicketDueHours of the town's office
	// hours after it came in.
	Due time.Time
}

// Overdue tells whether a request not done is past its due time at now.
func (t Ticket) Overdue(now time.Time) bool { return t.Status != Done && now.After(t.Due) }

// DefaultDueHours are the office hours a request may wait when the town sets none: two days.
const DefaultDueHours = 16

// townHours reads a town's office hours and due hours from its settings; what does not parse
// (it was checked when set) falls back to the defaults.
func townHours(ctx context.Context, tx pgx.Tx, town int) (Hours, time.Duration, error) {
	var spec string
	var holidays []string
	var due int
	err := tx.QueryRow(ctx, `SELECT coalesce(settings->>'desk_hours', ''),
		coalesce(ARRAY(SELECT jsonb_array_elements_text(coalesce(settings->'desk_holidays', '[]'))), '{}'),
		coalesce((settings->>'ticket_due_hours')::int, 0) FROM towns WHERE id = $1`, town).Scan(&spec, &holidays, &due)
	if err != nil {
		return Hours{}, 0, err
	}
	if spec == "" {
		spec = DefaultHours
	}
	h, err := ParseHours(spec, holidays)
	if err != nil {
		h, _ = ParseHours(DefaultHours, nil)
	}
	if due <= 0 {
		due = DefaultDueHours
	}
	return h, time.Duration(due) * time.Hour, nil
}

// ErrNoTicket is a ticket number the town does not have.
var ErrNoTicket = errors.New("no such ticket")

// Tickets returns a town's tickets in status ("" for all), oldest first: the one waiting longest
// comes first. It runs as the town (row-level security).
func Tickets(ctx context.Context, pool *pgxpool.Pool, town int, status string) ([]Ticket, error) {
	var out []Ticket
	err := database.InTown(ctx, pool, []int{town}, func(tx pgx.Tx) error {
		hours, due, err := townHours(ctx, tx, town)
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT t.number, t.kind, t.name, t.phone, t.email, t.note, t.lang, t.status, t.created_at,
			coalesce(t.updated_at, 'epoch'), coalesce(u.name, ''),
			coalesce((SELECT m.body->>'text' FROM messages m WHERE m.town_id = t.town_id AND m.conversation_id = t.conversation_id
				AND m.role = 'citizen' ORDER BY m.id DESC LIMIT 1), ''), coalesce(t.reply, '')
			FROM tickets t LEFT JOIN users u ON u.id = t.assignee_id
			WHERE t.town_id = $1 AND ($2 = '' OR t.status = $2) ORDER BY t.created_at, t.id`, town, status)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (Ticket, error) {
			var t Ticket
			err := row.Scan(&t.Number, &t.Kind, &t.Name, &t.Phone, &t.Email, &t.Note, &t.Lang, &t.Status, &t.Created,
				&t.Updated, &t.AssigneeName, &t.Question, &t.Reply)
			if t.Updated.Equal(time.Unix(0, 0)) {
				t.Updated = time.Time{}
			}
			t.Created = t.Created.In(hours.loc)
			t.Due = hours.Due(t.Created, due)
			return t, err
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("the tickets of town %d: %w", town, err)
	}
	return out, nil
}

// Change is what a member of staff does to a ticket.
type Change struct {
	Status     string // "" leaves it
	AssignToMe bool
}

// UpdateTicket applies a change of actor (a user id and address) to the town's ticket, and
// writes the audit entry in the same transaction.
func UpdateTicket(ctx context.Context, pool *pgxpool.Pool, town int, actorID int64, actor, number string, c Change) error {
	if c.Status != "" && !slices.Contains(States, c.Status) {
		return fmt.Errorf("%q is not a ticket state: want one of %v", c.Status, States)
	}
	return database.InTown(ctx, pool, []int{town}, func(tx pgx.Tx) error {
		var assignee *int64
		if c.AssignToMe {
			assignee = &actorID
		}
		tag, err := tx.Exec(ctx, `UPDATE tickets SET status = coalesce(nullif($3, ''), status),
			assignee_id = CASE WHEN $4::bigint IS NULL THEN assignee_id ELSE $4 END, updated_at = now()
			WHERE town_id = $1 AND number = $2`, town, number, c.Status, assignee)
		if err != nil {
			return fmt.Errorf("update ticket %s: %w", number, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("%s: %w", number, ErrNoTicket)
		}
		details := map[string]any{}
		if c.Status != "" {
			details["status"] = c.Status
		}
		if c.AssignToMe {
			details["assigned_to"] = actor
		}
		return audit.Record(ctx, tx, audit.Entry{Town: town, Actor: actor, Action: "ticket.update", Target: number, Details: details})
	})
}
