// Package relay carries what one citybot instance has to tell the others, through PostgreSQL:
// a citizen connected to one instance and an agent of the service desk connected to another
// talk through it. A message is stored first (the conversation's messages are the log), then
// announced with NOTIFY in the same transaction, so it is announced only once it is there to be
// read. Each instance keeps one connection that LISTENs and hands the announcements to the
// subscribers that watch their conversation or their town's queue. While that connection is
// down, the instance polls the messages of what its subscribers watch instead, so nothing is
// missed: only typing notices, which are not stored, are lost then.
package relay

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/citybot-project/citybot/database"
)

// Channel is the PostgreSQL notification channel of the relay.
const Channel = "citybot_live"

// Kinds of events.
const (
	KindMessage = "message" // a stored message of a conversation
	KindTyping  = "typing"  // someone types in a conversation (not stored)
	KindQueue   = "queue"   // a town's queue of citizens waiting for a person changed
	KindProbe   = "probe"   // a hub's check that its notifications arrive
)

// maxBody is the longest message carried in the notification itself (PostgreSQL's limit is
// 8,000 bytes); a longer one is read from the table by whoever receives the notice.
const maxBody = 7000

// Event is one notice: a message stored in a conversation, someone typing there, or a change of
// a town's queue.
type Event struct {
	Town int    `json:"t"`
	Conv string `json:"c,omitempty"` // the conversation ("" for KindQueue)
	Kind string `json:"k"`
	// A message: its id in the messages table, its role (citizen, bot, agent) and body as
	// stored. For KindTyping, Role says who types.
	Msg  int64           `json:"m,omitempty"`
	Role string          `json:"r,omitempty"`
	Body json.RawMessage `json:"b,omitempty"`
	// Probe names a probe.
	Probe string `json:"p,omitempty"`
}

// Notify announces e when tx commits.
func Notify(ctx context.Context, tx pgx.Tx, e Event) error {
	if len(e.Body) > maxBody {
		e.Body = nil
	}
	payload, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "SELECT pg_notify($1, $2)", Channel, string(payload)); err != nil {
		return fmt.Errorf("announce %s of town %d: %w", e.Kind, e.Town, err)
	}
	return nil
}

// addMessageSQL stores a message and announces it in one statement (one round trip): the
// notice carries the message, unless it is too long for one (maxBody), as Notify writes it.
const addMessageSQL = `WITH m AS (INSERT INTO messages (town_id, conversation_id, role, body, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id)
	SELECT m.id, pg_notify($6, CASE WHEN octet_length($4::text) <= $7
		THEN json_build_object('t', $1::int, 'c', $2::text, 'k', 'message', 'm', m.id, 'r', $3::text, 'b', $4::json)
		ELSE json_build_object('t', $1::int, 'c', $2::text, 'k', 'message', 'm', m.id, 'r', $3::text) END::text)::text FROM m`

// AddMessage stores a message of conversation conv in tx (which runs as the town) and
// announces it; it returns the message's id.
func AddMessage(ctx context.Context, tx pgx.Tx, town int, conv, role string, body []byte, at time.Time) (int64, error) {
	var id int64
	var notified string
	if err := tx.QueryRow(ctx, addMessageSQL, town, conv, role, body, at, Channel, maxBody).Scan(&id, &notified); err != nil {
		return 0, fmt.Errorf("store a %s message: %w", role, err)
	}
	return id, nil
}

// Hub hands the notices to this instance's subscribers.
type Hub struct {
	pool *pgxpool.Pool
	log  *slog.Logger
	// Poll is how often the messages are read while the listening connection is down.
	Poll time.Duration
	// ProbeEvery is how often the hub checks that notifications reach it, and ProbeWait how
	// long a probe may take.
	ProbeEvery, ProbeWait time.Duration
	// ListenConfig is where the hub listens; nil: where the pool connects. A deployment whose
	// pool goes through a pooler in transaction mode listens at PostgreSQL itself.
	ListenConfig *pgx.ConnConfig

	mu     sync.Mutex
	convs  map[convKey]map[*Sub]struct{}
	queues map[int]map[*Sub]struct{}

	listening atomic.Bool
}

type convKey struct {
	town int
	conv string
}

// NewHub returns the hub of an instance; Run starts it.
func NewHub(pool *pgxpool.Pool, log *slog.Logger) *Hub {
	return &Hub{pool: pool, log: log, Poll: time.Second, ProbeEvery: 30 * time.Second, ProbeWait: 5 * time.Second, convs: map[convKey]map[*Sub]struct{}{}, queues: map[int]map[*Sub]struct{}{}}
}

// Sub is one subscriber: a citizen's connection watching its conversation, or an agent's
// console watching its chats and its town's queue. Events arrive on C in the order they were
// announced; a message may arrive twice (announced, and read again by a poll) or be one the
// subscriber read from the store already: subscribers tell them apart by the message's own id
// in its body. A subscriber that falls behind by more than C holds is dropped: Lost closes, and
// its connection should close too, so that its client reconnects and reads what it missed.
type Sub struct {
	C chan Event
	// Queue has a town's id when its queue changed: one notice stands for any number of changes
	// not yet taken, so a burst of them never drops the subscriber.
	Queue chan int
	Lost  chan struct{}

	hub  *Hub
	mu   sync.Mutex // guards lost
	lost bool
}

// Subscribe returns a subscriber that watches nothing yet.
func (h *Hub) Subscribe() *Sub {
	return &Sub{C: make(chan Event, 64), Queue: make(chan int, 1), Lost: make(chan struct{}), hub: h}
}

// Watch delivers the messages stored in conversation conv of town from now on, and its typing
// notices. A subscriber watches before it reads what was said so far, so that nothing falls
// between the two.
func (s *Sub) Watch(town int, conv string) {
	k := convKey{town, conv}
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.convs[k] == nil {
		h.convs[k] = map[*Sub]struct{}{}
	}
	h.convs[k][s] = struct{}{}
}

// Unwatch stops the messages of conv.
func (s *Sub) Unwatch(town int, conv string) {
	k := convKey{town, conv}
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if m := h.convs[k]; m != nil {
		delete(m, s)
		if len(m) == 0 {
			delete(h.convs, k)
		}
	}
}

// WatchQueue delivers the changes of town's queue.
func (s *Sub) WatchQueue(town int) {
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.queues[town] == nil {
		h.queues[town] = map[*Sub]struct{}{}
	}
	h.queues[town][s] = struct{}{}
}

// UnwatchQueue stops the changes of town's queue.
func (s *Sub) UnwatchQueue(town int) {
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if m := h.queues[town]; m != nil {
		delete(m, s)
		if len(m) == 0 {
			delete(h.queues, town)
		}
	}
}

// Close stops everything the subscriber watches.
func (s *Sub) Close() {
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	for k, m := range h.convs {
		if _, ok := m[s]; ok {
			delete(m, s)
			if len(m) == 0 {
				delete(h.convs, k)
			}
		}
	}
	for t, m := range h.queues {
		if _, ok := m[s]; ok {
			delete(m, s)
			if len(m) == 0 {
				delete(h.queues, t)
			}
		}
	}
}

// send hands e to the subscriber without waiting: the hub serves every subscriber of the
// instance and must not wait for one that does not read.
func (s *Sub) send(e Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lost {
		return
	}
	if e.Kind == KindQueue {
		select {
		case s.Queue <- e.Town:
		default: // a notice is waiting already
		}
		return
	}
	select {
	case s.C <- e:
	default:
		s.lost = true
		close(s.Lost)
	}
}

// Listening tells whether the hub receives notices (false: it polls).
func (h *Hub) Listening() bool { return h.listening.Load() }

// Run listens until ctx ends; while it cannot, it polls.
func (h *Hub) Run(ctx context.Context) {
	wait := h.Poll
	for ctx.Err() == nil {
		err := h.listen(ctx)
		h.listening.Store(false)
		if ctx.Err() != nil {
			return
		}
		h.log.Warn("the live relay does not listen: polling until it does", "err", err)
		// Poll while the connection is down, and once more after it is back: what was stored
		// in between was announced to nobody here.
		deadline := time.Now().Add(wait)
		for time.Now().Before(deadline) && ctx.Err() == nil {
			h.poll(ctx)
			sleep(ctx, h.Poll)
		}
		wait = min(wait*2, 30*time.Second)
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// listen holds one connection that LISTENs and dispatches what it hears until the connection
// fails or ctx ends.
func (h *Hub) listen(ctx context.Context) error {
	// A connection of its own, not the pool's: it is held for as long as the instance runs,
	// and the pool's connections are the answers'.
	cfg := h.ListenConfig
	if cfg == nil {
		cfg = h.pool.Config().ConnConfig
	}
	conn, err := pgx.ConnectConfig(ctx, cfg.Copy())
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+Channel); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	// A LISTEN can succeed and hear nothing (through a pooler in transaction mode, which hands
	// the session on): the hub counts as listening once a probe it sends through the pool has
	// come back, and stops once one does not.
	var probe string
	var sent, lastProbe time.Time
	sendProbe := func() error {
		probe, sent = rand.Text(), time.Now()
		lastProbe = sent
		b, _ := json.Marshal(Event{Kind: KindProbe, Probe: probe})
		_, err := h.pool.Exec(ctx, "SELECT pg_notify($1, $2)", Channel, string(b))
		return err
	}
	if err := sendProbe(); err != nil {
		return fmt.Errorf("probe the relay: %w", err)
	}
	for {
		next := lastProbe.Add(h.ProbeEvery)
		if probe != "" {
			next = sent.Add(h.ProbeWait)
		}
		wctx, cancel := context.WithDeadline(ctx, next)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		if err != nil && ctx.Err() == nil && wctx.Err() != nil && !conn.IsClosed() {
			if probe != "" {
				return fmt.Errorf("notifications do not arrive (a pooler in transaction mode between citybot and PostgreSQL?)")
			}
			if err := sendProbe(); err != nil {
				return fmt.Errorf("probe the relay: %w", err)
			}
			continue
		}
		if err != nil {
			return err
		}
		var e Event
		if err := json.Unmarshal([]byte(n.Payload), &e); err != nil {
			h.log.Error("a live notice that does not parse", "err", err)
			continue
		}
		switch {
		case e.Kind == KindProbe:
			if e.Probe == probe {
				probe = ""
				if !h.listening.Swap(true) {
					h.poll(ctx) // what was stored before this LISTEN took effect
				}
			}
			continue
		case e.Kind == KindMessage && e.Body == nil:
			if err := h.read(ctx, &e); err != nil {
				h.log.Error("read a live message", "err", err)
				continue
			}
		}
		h.dispatch(e)
	}
}

// read fills in the body of a message too long for its notice.
func (h *Hub) read(ctx context.Context, e *Event) error {
	return database.QueryRow(ctx, h.pool, []int{e.Town}, `SELECT body FROM messages WHERE town_id = $1 AND id = $2`, e.Town, e.Msg).Scan(&e.Body)
}

func (h *Hub) dispatch(e Event) {
	h.mu.Lock()
	var subs []*Sub
	if e.Kind == KindQueue {
		for s := range h.queues[e.Town] {
			subs = append(subs, s)
		}
	} else {
		for s := range h.convs[convKey{e.Town, e.Conv}] {
			subs = append(subs, s)
		}
	}
	h.mu.Unlock()
	for _, s := range subs {
		s.send(e)
	}
}

// pollWindow is how far back a poll reads: the messages a subscriber could have missed while
// the hub did not listen (what came before, it read from the store when it subscribed).
const pollWindow = 2 * time.Minute

// poll reads the recent messages of the watched conversations, and tells every queue watcher
// that its queue may have changed. Subscribers drop what they have already.
func (h *Hub) poll(ctx context.Context) {
	h.mu.Lock()
	keys := make([]convKey, 0, len(h.convs))
	for k := range h.convs {
		keys = append(keys, k)
	}
	towns := make([]int, 0, len(h.queues))
	for t := range h.queues {
		towns = append(towns, t)
	}
	h.mu.Unlock()
	for _, k := range keys {
		if err := h.pollConv(ctx, k); err != nil {
			if ctx.Err() == nil {
				h.log.Warn("poll live messages", "town", k.town, "err", err)
			}
			return // the database is away: the next round tries again
		}
	}
	for _, t := range towns {
		h.dispatch(Event{Town: t, Kind: KindQueue})
	}
}

func (h *Hub) pollConv(ctx context.Context, k convKey) error {
	rows, err := database.Query(ctx, h.pool, []int{k.town}, nil, `SELECT id, role, body FROM messages
		WHERE town_id = $1 AND conversation_id = $2 AND created_at > now() - $3::interval ORDER BY id`, k.town, k.conv, pollWindow)
	if err != nil {
		return err
	}
	defer rows.Close()
	var events []Event
	for rows.Next() {
		e := Event{Town: k.town, Conv: k.conv, Kind: KindMessage}
		if err := rows.Scan(&e.Msg, &e.Role, &e.Body); err != nil {
			return err
		}
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, e := range events {
		h.dispatch(e)
	}
	return nil
}

// Typing announces that role types in conversation conv of town.
func Typing(ctx context.Context, pool *pgxpool.Pool, town int, conv, role string) error {
	return database.InTown(ctx, pool, []int{town}, func(tx pgx.Tx) error {
		return Notify(ctx, tx, Event{Town: town, Conv: conv, Kind: KindTyping, Role: role})
	})
}
