// Package conversation keeps citizens' conversations (their messages, answers, ratings and
// tickets) for as long as the retention period allows, and runs a citizen's turn: what they type
// is redacted, answered and stored before the reply goes anywhere.
package conversation

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/citybot-project/citybot/bot"
	"github.com/citybot-project/citybot/database"
)

// Store keeps conversations, answers, ratings and tickets in PostgreSQL. What a citizen typed
// reaches it only through a Service, which redacts it first: the methods that store it are
// unexported.
// A Store is one town's: every statement names the town, and runs as the town (see
// database.InTown), so that one town's conversations are never another's.
type Store struct {
	pool *pgxpool.Pool
	town int
	now  func() time.Time
}

// NewStore returns the Store of town over pool.
func NewStore(pool *pgxpool.Pool, town int, now func() time.Time) *Store {
	return &Store{pool: pool, town: town, now: now}
}

// in runs fn as the store's town, in one transaction.
func (s *Store) in(ctx context.Context, fn func(pgx.Tx) error) error {
	return database.InTown(ctx, s.pool, []int{s.town}, fn)
}

// ErrNotFound is returned for an unknown (or expired) conversation or answer.
var ErrNotFound = errors.New("not found")

// Conversation is an open conversation, as the connection that holds it sees it.
type Conversation struct {
	ID      string
	Lang    string // the language it is held in: the last reply's, or the citizen's choice
	Answers int    // answers so far: the next answer's id is a<Answers+1>
}

// nextAnswerID counts the conversation's next answer or handoff and returns its id.
func (c *Conversation) nextAnswerID() string {
	c.Answers++
	return fmt.Sprintf("a%d", c.Answers)
}

func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func tokenHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

func newUUID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
}

// Create starts a conversation and returns it with its resume token.
func (s *Store) Create(ctx context.Context, lang string) (Conversation, string, error) {
	conv, token, err := New(lang)
	if err != nil {
		return Conversation{}, "", err
	}
	if err := s.Save(ctx, conv, token); err != nil {
		return Conversation{}, "", err
	}
	return conv, token, nil
}

// New makes a conversation and its resume token without storing them: a citizen who connects
// while the database is away gets a welcome, and the conversation is saved with its first
// message (Save).
func New(lang string) (Conversation, string, error) {
	id, err := newUUID()
	if err != nil {
		return Conversation{}, "", err
	}
	token, err := randomToken()
	if err != nil {
		return Conversation{}, "", err
	}
	return Conversation{ID: id, Lang: lang}, token, nil
}

// Save stores a conversation New made; saving it again changes nothing.
func (s *Store) Save(ctx context.Context, conv Conversation, token string) error {
	now := s.now()
	if err := s.in(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO conversations (town_id, id, token_hash, lang, created_at, last_active)
			VALUES ($5, $1, $2, $3, $4, $4) ON CONFLICT DO NOTHING`, conv.ID, tokenHash(token), conv.Lang, now, s.town)
		return err
	}); err != nil {
		return fmt.Errorf("create conversation: %w", err)
	}
	return nil
}

// Resume finds the conversation of a resume token that was active after notBefore.
func (s *Store) Resume(ctx context.Context, token string, notBefore time.Time) (Conversation, error) {
	var c Conversation
	err := database.QueryRow(ctx, s.pool, []int{s.town}, `SELECT c.id::text, c.lang,
		(SELECT count(*) FROM answers a WHERE a.town_id = c.town_id AND a.conversation_id = c.id)
		FROM conversations c WHERE c.town_id = $3 AND c.token_hash = $1 AND c.last_active >= $2`, tokenHash(token), notBefore, s.town).
		Scan(&c.ID, &c.Lang, &c.Answers)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, ErrNotFound
	}
	if err != nil {
		return c, fmt.Errorf("resume conversation: %w", err)
	}
	return c, nil
}

// History returns a conversation's messages in order, each answer and handoff with the
// citizen's rating of it ("rating": "up" or "down") when there is one.
func (s *Store) History(ctx context.Context, convID string) ([]json.RawMessage, error) {
	rows, err := database.Query(ctx, s.pool, []int{s.town}, nil, `SELECT CASE WHEN r.value IS NULL THEN m.body ELSE m.body || jsonb_build_object('rating', r.value) END
		FROM messages m LEFT JOIN ratings r ON m.role = 'bot' AND r.town_id = m.town_id AND r.conversation_id = m.conversation_id AND r.answer_id = m.body->>'id'
		WHERE m.town_id = $2 AND m.conversation_id = $1 ORDER BY m.id`, convID, s.town)
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	defer rows.Close()
	out := []json.RawMessage{}
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, err
		}
		out = append(out, json.RawMessage(b))
	}
	return out, rows.Err()
}

// storedAnswer is an answer or handoff as kept for ratings and review.
type storedAnswer struct {
	ID, Question, Kind, Reason, Text, Lang, Composer string
	Sources                                          []bot.Source
	Confidence                                       float64
}

// saveExchange stores, in one transaction, the citizen's message (nil when the reply was not
// asked for, e.g. the "talk to a person" button), the answer or handoff for ratings, the reply as
// sent, and the conversation's language. The commit does not wait for the disk
// (synchronous_commit off): a crash may lose the last fraction of a second of chat, never leave
// half an exchange; the answer's latency is what citizens feel.
func (s *Store) saveExchange(ctx context.Context, convID, lang string, asked any, a storedAnswer, reply any) error {
	sources, _ := json.Marshal(a.Sources)
	replyBody, err := json.Marshal(reply)
	if err != nil {
		return err
	}
	now := s.now()
	return s.in(ctx, func(tx pgx.Tx) error {
		var b pgx.Batch
		b.Queue("SET LOCAL synchronous_commit = off")
		if asked != nil {
			askedBody, err := json.Marshal(asked)
			if err != nil {
				return err
			}
			b.Queue("INSERT INTO messages (town_id, conversation_id, role, body, created_at) VALUES ($4, $1, 'citizen', $2, $3)", convID, askedBody, now, s.town)
		}
		b.Queue(`INSERT INTO answers (town_id, conversation_id, answer_id, question, kind, reason, text, sources, confidence, lang,
			composer, created_at) VALUES ($12, $1, $2, $3, $4, NULLIF($5, ''), $6, $7, $8, $9, $10, $11)`,
			convID, a.ID, a.Question, a.Kind, a.Reason, a.Text, sources, a.Confidence, a.Lang, a.Composer, now, s.town)
		b.Queue("INSERT INTO messages (town_id, conversation_id, role, body, created_at) VALUES ($4, $1, 'bot', $2, $3)", convID, replyBody, now, s.town)
		b.Queue("UPDATE conversations SET last_active = $2, lang = $3 WHERE town_id = $4 AND id = $1", convID, now, lang, s.town)
		if err := tx.SendBatch(ctx, &b).Close(); err != nil {
			return fmt.Errorf("store exchange: %w", err)
		}
		return nil
	})
}

// rate stores a rating of an answer, replacing an earlier one, and keeps the anonymous daily
// counts in step.
func (s *Store) rate(ctx context.Context, convID, answerID, value, comment string) error {
	now := s.now()
	return s.in(ctx, func(tx pgx.Tx) error {
		var lang, kind, composer string
		err := tx.QueryRow(ctx, "SELECT lang, kind, composer FROM answers WHERE town_id = $3 AND conversation_id = $1 AND answer_id = $2",
			convID, answerID, s.town).Scan(&lang, &kind, &composer)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		var old string
		err = tx.QueryRow(ctx, "SELECT value FROM ratings WHERE town_id = $3 AND conversation_id = $1 AND answer_id = $2 FOR UPDATE",
			convID, answerID, s.town).Scan(&old)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO ratings (town_id, conversation_id, answer_id, value, comment, created_at, updated_at)
			VALUES ($6, $1, $2, $3, $4, $5, $5) ON CONFLICT (town_id, conversation_id, answer_id)
			DO UPDATE SET value = EXCLUDED.value, comment = EXCLUDED.comment, updated_at = EXCLUDED.updated_at`,
			convID, answerID, value, comment, now, s.town); err != nil {
			return fmt.Errorf("store rating: %w", err)
		}
		day := now.UTC().Format(time.DateOnly)
		if old != "" {
			if _, err := tx.Exec(ctx, `UPDATE rating_stats SET n = n - 1 WHERE town_id = $6 AND day = $1 AND lang = $2 AND kind = $3
				AND composer = $4 AND value = $5`, day, lang, kind, composer, old, s.town); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, `INSERT INTO rating_stats (town_id, day, lang, kind, composer, value, n) VALUES ($6, $1, $2, $3, $4, $5, 1)
			ON CONFLICT (town_id, day, lang, kind, composer, value) DO UPDATE SET n = rating_stats.n + 1`, day, lang, kind, composer, value, s.town)
		return err
	})
}

// Ticket is a citizen's request to be called back or answered by e-mail.
type Ticket struct {
	Kind, Name, Phone, Email, Note, Lang string
}

// createTicket stores a ticket (the caller has the citizen's consent) and returns its number.
func (s *Store) createTicket(ctx context.Context, convID string, t Ticket) (string, error) {
	now := s.now()
	var number string
	err := s.in(ctx, func(tx pgx.Tx) error {
		var id int64
		if err := tx.QueryRow(ctx, `INSERT INTO tickets (town_id, number, conversation_id, kind, name, phone, email, note, lang, consent_at, created_at)
			VALUES ($9, 'pending-' || gen_random_uuid(), $1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id`,
			convID, t.Kind, t.Name, t.Phone, t.Email, t.Note, t.Lang, now, s.town).Scan(&id); err != nil {
			return err
		}
		number = fmt.Sprintf("%s-%05d", now.Format("20060102"), id)
		_, err := tx.Exec(ctx, "UPDATE tickets SET number = $2 WHERE town_id = $3 AND id = $1", id, number, s.town)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("store ticket: %w", err)
	}
	return number, nil
}

// Forget erases a conversation at the citizen's request (GDPR Art. 17), in one transaction: its
// tickets (whose reference to the conversation would otherwise only be cleared), then the
// conversation, which takes its messages, answers and ratings with it. Its resume token is gone
// with it. The anonymous daily rating counts stay, as they do after Purge. A conversation that is
// already gone (purged meanwhile) is no error: nothing of it is left either way.
func (s *Store) Forget(ctx context.Context, convID string) error {
	return s.in(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "DELETE FROM tickets WHERE town_id = $2 AND conversation_id = $1", convID, s.town); err != nil {
			return fmt.Errorf("forget tickets: %w", err)
		}
		if _, err := tx.Exec(ctx, "DELETE FROM conversations WHERE town_id = $2 AND id = $1", convID, s.town); err != nil {
			return fmt.Errorf("forget conversation: %w", err)
		}
		return nil
	})
}

// Purge deletes the town's conversations (with their messages, answers and ratings) and
// tickets last touched before cutoff (each town keeps them as long as it decided). Daily rating
// counts stay.
func (s *Store) Purge(ctx context.Context, cutoff time.Time) (int64, error) {
	var n int64
	err := s.in(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "DELETE FROM conversations WHERE town_id = $2 AND last_active < $1", cutoff, s.town)
		if err != nil {
			return fmt.Errorf("purge conversations: %w", err)
		}
		n = tag.RowsAffected()
		if _, err := tx.Exec(ctx, "DELETE FROM tickets WHERE town_id = $2 AND created_at < $1", cutoff, s.town); err != nil {
			return fmt.Errorf("purge tickets: %w", err)
		}
		return nil
	})
	return n, err
}
