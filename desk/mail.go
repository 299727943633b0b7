package desk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/citybot-project/citybot/audit"
	"github.com/citybot-project/citybot/database"
)

// Sender sends a plain-text e-mail (mailer.Mailer).
type Sender interface {
	Send(ctx context.Context, to, subject, body string) error
}

// Notify tells each town's office (its desk_email, else its contact_email) of the tickets not
// reported yet, one at a time, each marked in the transaction that holds it, so that instances
// working at once never send one twice and a restart sends what is left. A town without an
// address gets its tickets marked and a warning. It returns how many it sent; it stops at the
// first failure, leaving the rest for the next round.
func Notify(ctx context.Context, pool *pgxpool.Pool, mail Sender, consoleURL string, log *slog.Logger) (int, error) {
	sent := 0
	for {
		done := false
		err := database.InTx(ctx, pool, func(ctx context.Context, tx pgx.Tx) error {
			var t Ticket
			var town, id int64
			var townName, slug, to string
			err := tx.QueryRow(ctx, `SELECT t.town_id, t.id, t.number, t.kind, t.name, t.phone, t.email, t.note, t.lang, t.created_at,
				tw.name, tw.slug, coalesce(nullif(tw.settings->>'desk_email', ''), nullif(tw.settings->>'contact_email', ''), '')
				FROM tickets t JOIN towns tw ON tw.id = t.town_id
				WHERE t.notified_at IS NULL ORDER BY t.created_at, t.id LIMIT 1 FOR UPDATE OF t SKIP LOCKED`).Scan(
				&town, &id, &t.Number, &t.Kind, &t.Name, &t.Phone, &t.Email, &t.Note, &t.Lang, &t.Created, &townName, &slug, &to)
			if errors.Is(err, pgx.ErrNoRows) {
				done = true
				return nil
			}
			if err != nil {
				return err
			}
			if to == "" {
				log.Warn("a new request, and the town names no address to report it to: set desk_email", "town", slug, "ticket", t.Number)
			} else {
				subject, body := notice(t, townName, slug, consoleURL)
				if err := mail.Send(ctx, to, subject, body); err != nil {
					return err
				}
				sent++
			}
			_, err = tx.Exec(ctx, `UPDATE tickets SET notified_at = now() WHERE town_id = $1 AND id = $2`, town, id)
			return err
		})
		if err != nil {
			return sent, fmt.Errorf("report new requests: %w", err)
		}
		if done {
			return sent, nil
		}
	}
}

// notice is the office's e-mail about a new request: what the citizen asked for and how to
// reach them (given with their consent, for exactly this), and where the inbox is.
func notice(t Ticket, town, slug, consoleURL string) (subject, body string) {
	kind, contact := "Rückrufbitte", "Telefon: "+t.Phone
	if t.Kind == "email" {
		kind, contact = "Bitte um Antwort per E-Mail", "E-Mail: "+t.Email
	}
	subject = fmt.Sprintf("%s %s (%s)", kind, t.Number, town)
	var b strings.Builder
	fmt.Fprintf(&b, "Über den Chat von %s ist eine %s eingegangen.\n\n", town, kind)
	fmt.Fprintf(&b, "Nummer: %s\nEingang: %s\nName: %s\n%s\nSprache: %s\n", t.Number, t.Created.Format("02.01.2006 15:04"), t.Name, contact, t.Lang)
	if t.Note != "" {
		fmt.Fprintf(&b, "Notiz: %s\n", t.Note)
	}
	if consoleURL != "" {
		fmt.Fprintf(&b, "\nZur Anfrage: %s/console/t/%s/tickets\n", strings.TrimRight(consoleURL, "/"), slug)
	}
	return subject, b.String()
}

// RunNotifier reports new requests every interval until ctx ends.
func RunNotifier(ctx context.Context, pool *pgxpool.Pool, mail Sender, consoleURL string, interval time.Duration, log *slog.Logger) {
	for {
		if n, err := Notify(ctx, pool, mail, consoleURL, log); err != nil && ctx.Err() == nil {
			log.Warn("reporting new requests to the offices", "err", err, "sent", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}

// MaxReply bounds an answer's length.
const MaxReply = 10000

// Errors of Reply.
var (
	ErrNotEmail   = errors.New("this request asked for a callback, not an e-mail")
	ErrEmptyReply = fmt.Errorf("an answer needs 1 to %d characters", MaxReply)
)

// Reply answers a town's e-mail request: the mail goes to the citizen, then the answer is stored
// with the ticket, which is done, in one transaction with its audit entry; a mail that cannot be
// sent changes nothing.
func Reply(ctx context.Context, pool *pgxpool.Pool, mail Sender, town int, actorID int64, actor, number, text string) error {
	text = strings.TrimSpace(text)
	if text == "" || utf8.RuneCountInString(text) > MaxReply {
		return ErrEmptyReply
	}
	return database.InTown(ctx, pool, []int{town}, func(tx pgx.Tx) error {
		var kind, to, townName string
		err := tx.QueryRow(ctx, `SELECT t.kind, t.email, tw.name FROM tickets t JOIN towns tw ON tw.id = t.town_id
			WHERE t.town_id = $1 AND t.number = $2 FOR UPDATE OF t`, town, number).Scan(&kind, &to, &townName)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("%s: %w", number, ErrNoTicket)
		}
		if err != nil {
			return err
		}
		if kind != "email" {
			return ErrNotEmail
		}
		if _, err := tx.Exec(ctx, `UPDATE tickets SET reply = $3, replied_at = now(), status = 'done', assignee_id = coalesce(nullif($4::bigint, 0), assignee_id), updated_at = now()
			WHERE town_id = $1 AND number = $2`, town, number, text, actorID); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, audit.Entry{Town: town, Actor: actor, Action: "ticket.reply", Target: number}); err != nil {
			return err
		}
		// Last, so that a mail is sent only for what is about to commit.
		body := text + "\n\n-- \n" + townName + "\nDiese Antwort schreibt Ihnen ein Mensch aus der Verwaltung, auf Ihre Anfrage " + number +
			" im Chat.\nA person from the administration writes this answer to your request " + number + " in the chat.\n"
		return mail.Send(ctx, to, "Ihre Anfrage "+number+" – "+townName, body)
	})
}
