package desk

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/citybot-project/citybot/audit"
	"github.com/citybot-project/citybot/database"
	"github.com/citybot-project/citybot/relay"
)

// A live chat: a citizen waiting for a person (Queued), talking with one (Active), or done.
const (
	Queued = "queued"
	Active = "active"
	Ended  = "ended"
)

// Why a live chat ended.
const (
	EndCitizen    = "citizen"     // the citizen left the queue or the chat
	EndHandedBack = "handed_back" // the agent gave the chat back to the assistant
	EndEnded      = "ended"       // the agent ended it
	EndAgentGone  = "agent_gone"  // the agent's console was gone too long
	EndTimeout    = "timeout"     // nobody accepted in time
)

// DefaultLiveWait is how long a citizen waits in the queue, when the town sets nothing, before
// a callback is offered instead.
const DefaultLiveWait = 3 * time.Minute

// presenceTTL is how long an agent counts as online after their console was last seen; the
// console says so every 20 seconds.
const presenceTTL = time.Minute

// agentGone is how long an agent's console may be away before their chats go back to the
// assistant: long enough for a reload or a restart of the instance it is connected to.
const agentGone = 2 * time.Minute

var (
	// ErrNoAgent: nobody of the desk is available for a live chat now.
	ErrNoAgent = errors.New("nobody of the service desk is available")
	// ErrNoChat: the conversation has no live chat under way, or the chat is not the agent's.
	ErrNoChat = errors.New("no live chat under way")
	// ErrTaken: another agent accepted the chat first, or the citizen left.
	ErrTaken = errors.New("the chat is no longer waiting")
	// ErrEmptyMessage: an agent's message without text.
	ErrEmptyMessage = errors.New("the message is empty")
)

// Agent is a member of staff in the live chat: their account and the name citizens see.
type Agent struct {
	ID    int64
	Email string
	Name  string
}

// Chat is a live chat.
type Chat struct {
	ID        int64
	Conv      string
	Lang      string
	State     string
	Question  string // the citizen's last question before asking for a person (redacted)
	QueuedAt  time.Time
	AgentID   int64
	AgentName string
	Position  int // in the queue, 1 for the next; 0 once accepted
	// Said are the protocol ids of the desk's messages in the conversation when Request
	// returned: a relayed message with one of these ids is not news.
	Said []string
	// Created tells that Request put the conversation in the queue, rather than finding its
	// chat under way.
	Created bool
}

// Line is a message of a conversation as an agent sees it.
type Line struct {
	ID   int64           `json:"id"`
	Role string          `json:"role"` // citizen, bot, agent
	Body json.RawMessage `json:"body"` // as stored: the protocol's message
}

// liveSettings are what a town decided about its live chat.
type liveSettings struct {
	hours Hours
	wait  time.Duration
}

func townLive(ctx context.Context, tx pgx.Tx, town int) (liveSettings, error) {
	hours, _, err := townHours(ctx, tx, town)
	if err != nil {
		return liveSettings{}, err
	}
	var secs int
	if err := tx.QueryRow(ctx, `SELECT coalesce((settings->>'desk_live_wait')::int, 0) FROM towns WHERE id = $1`, town).Scan(&secs); err != nil {
		return liveSettings{}, err
	}
	s := liveSettings{hours: hours, wait: DefaultLiveWait}
	if secs > 0 {
		s.wait = time.Duration(secs) * time.Second
	}
	return s, nil
}

// available tells, within a transaction as the town, whether live chat is offered: within the
// office hours, and someone online.
func available(ctx context.Context, tx pgx.Tx, town int, now time.Time) (bool, error) {
	s, err := townLive(ctx, tx, town)
	if err != nil || !s.hours.Open(now) {
		return false, err
	}
	var online bool
	err = tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM agent_presence WHERE town_id = $1 AND online AND seen_at > $2)`,
		town, now.Add(-presenceTTL)).Scan(&online)
	return online, err
}

// Available tells whether the town's desk offers live chat now: within its office hours, with
// an agent online.
func Available(ctx context.Context, pool *pgxpool.Pool, town int, now time.Time) (bool, error) {
	var ok bool
	err := database.InTown(ctx, pool, []int{town}, func(tx pgx.Tx) error {
		var err error
		ok, err = available(ctx, tx, town, now)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("is live chat available in town %d: %w", town, err)
	}
	return ok, nil
}

// Wait is how long a citizen of town waits in the queue before a callback is offered.
func Wait(ctx context.Context, pool *pgxpool.Pool, town int) (time.Duration, error) {
	var wait time.Duration
	err := database.InTown(ctx, pool, []int{town}, func(tx pgx.Tx) error {
		s, err := townLive(ctx, tx, town)
		wait = s.wait
		return err
	})
	return wait, err
}

// Request puts conversation conv in the town's queue and returns its chat with its place;
// a conversation already waiting or talking keeps its chat. ErrNoAgent: nobody is available.
func Request(ctx context.Context, pool *pgxpool.Pool, town int, conv, lang string, now time.Time) (Chat, error) {
	var c Chat
	err := database.InTown(ctx, pool, []int{town}, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT body->>'id' FROM messages WHERE town_id = $1 AND conversation_id = $2 AND role = 'agent'`, town, conv)
		if err != nil {
			return err
		}
		said, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		defer func() { c.Said = said }()
		if c, err = openChat(ctx, tx, town, conv); err == nil {
			return nil
		} else if !errors.Is(err, ErrNoChat) {
			return err
		}
		ok, err := available(ctx, tx, town, now)
		if err != nil {
			return err
		}
		if !ok {
			return ErrNoAgent
		}
		// The last question the citizen asked, for the agent to see what it is about.
		if err := tx.QueryRow(ctx, `INSERT INTO live_chats (town_id, conversation_id, lang, question, queued_at)
			VALUES ($1, $2, $3, coalesce((SELECT question FROM answers WHERE town_id = $1 AND conversation_id = $2
				ORDER BY created_at DESC LIMIT 1), ''), $4) RETURNING id, question`, town, conv, lang, now).Scan(&c.ID, &c.Question); err != nil {
			return fmt.Errorf("queue conversation %s: %w", conv, err)
		}
		c.Conv, c.Lang, c.State, c.QueuedAt, c.Created = conv, lang, Queued, now, true
		if c.Position, err = position(ctx, tx, town, c.ID); err != nil {
			return err
		}
		return relay.Notify(ctx, tx, relay.Event{Town: town, Kind: relay.KindQueue})
	})
	return c, err
}

func openChat(ctx context.Context, tx pgx.Tx, town int, conv string) (Chat, error) {
	c := Chat{Conv: conv}
	err := tx.QueryRow(ctx, `SELECT id, lang, state, question, queued_at, coalesce(agent_id, 0), coalesce(agent_name, '')
		FROM live_chats WHERE town_id = $1 AND conversation_id = $2 AND state <> 'ended'`, town, conv).
		Scan(&c.ID, &c.Lang, &c.State, &c.Question, &c.QueuedAt, &c.AgentID, &c.AgentName)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, ErrNoChat
	}
	if err != nil {
		return c, fmt.Errorf("the live chat of conversation %s: %w", conv, err)
	}
	if c.State == Queued {
		c.Position, err = position(ctx, tx, town, c.ID)
	}
	return c, err
}

// OpenChat returns the live chat under way in conversation conv, with its place in the queue while
// it waits; ErrNoChat when there is none.
func OpenChat(ctx context.Context, pool *pgxpool.Pool, town int, conv string) (Chat, error) {
	var c Chat
	err := database.InTown(ctx, pool, []int{town}, func(tx pgx.Tx) error {
		var err error
		c, err = openChat(ctx, tx, town, conv)
		return err
	})
	return c, err
}

func position(ctx context.Context, tx pgx.Tx, town int, chat int64) (int, error) {
	var n int
	err := tx.QueryRow(ctx, `SELECT count(*) FROM live_chats q, live_chats me WHERE me.town_id = $1 AND me.id = $2
		AND q.town_id = $1 AND q.state = 'queued' AND (q.queued_at, q.id) <= (me.queued_at, me.id)`, town, chat).Scan(&n)
	return n, err
}

// CitizenSays stores body, a citizen's message (redacted) to the person of conversation conv's
// live chat, and relays it; ErrNoChat when the chat is over (the assistant answers it then).
// Like the assistant's answers (conversation.saveExchange), a message does not wait for the
// disk: a crash of PostgreSQL itself may lose its last fraction of a second (never of citybot,
// which is what a restart of an instance is). A notifying commit holds PostgreSQL's one
// notification lock until it is done, and waiting for the disk under it is what made every
// other chat wait.
func CitizenSays(ctx context.Context, pool *pgxpool.Pool, town int, conv string, body []byte, now time.Time) (int64, error) {
	var id int64
	err := database.InTown(ctx, pool, []int{town}, func(tx pgx.Tx) error {
		var open bool
		if err := tx.QueryRow(ctx, `SELECT set_config('synchronous_commit', 'off', true), EXISTS (SELECT 1 FROM live_chats
			WHERE town_id = $1 AND conversation_id = $2 AND state <> 'ended')`, town, conv).Scan(nil, &open); err != nil {
			return err
		}
		if !open {
			return ErrNoChat
		}
		var err error
		if id, err = relay.AddMessage(ctx, tx, town, conv, "citizen", body, now); err != nil {
			return err
		}
		return touch(ctx, tx, town, conv, now)
	})
	return id, err
}

// touch keeps a conversation from the retention purge while it is talked in.
func touch(ctx context.Context, tx pgx.Tx, town int, conv string, now time.Time) error {
	_, err := tx.Exec(ctx, "UPDATE conversations SET last_active = $3 WHERE town_id = $1 AND id = $2", town, conv, now)
	return err
}

// end ends the open chat of conv (in any of states) for reason and stores body, what the
// citizen is shown (nil: nothing); false when there was none.
func end(ctx context.Context, tx pgx.Tx, town int, conv string, states []string, reason string, body map[string]any, now time.Time) (bool, error) {
	var chat int64
	var state string
	err := tx.QueryRow(ctx, `WITH was AS (SELECT id, state FROM live_chats WHERE town_id = $1 AND conversation_id = $2 AND state = ANY($3) FOR UPDATE)
		UPDATE live_chats l SET state = 'ended', end_reason = $4, ended_at = $5 FROM was WHERE l.town_id = $1 AND l.id = was.id
		RETURNING l.id, was.state`, town, conv, states, reason, now).Scan(&chat, &state)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("end the live chat of %s: %w", conv, err)
	}
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return false, err
		}
		if _, err := relay.AddMessage(ctx, tx, town, conv, "agent", b, now); err != nil {
			return false, err
		}
	}
	if state == Queued {
		return true, relay.Notify(ctx, tx, relay.Event{Town: town, Kind: relay.KindQueue})
	}
	return true, nil
}

// Leave ends conv's wait or chat at the citizen's request; false when there was none.
func Leave(ctx context.Context, pool *pgxpool.Pool, town int, conv string, now time.Time) (bool, error) {
	var ok bool
	err := database.InTown(ctx, pool, []int{town}, func(tx pgx.Tx) error {
		var err error
		ok, err = end(ctx, tx, town, conv, []string{Queued, Active}, EndCitizen,
			map[string]any{"type": "live_ended", "id": messageID(), "reason": EndCitizen}, now)
		return err
	})
	return ok, err
}

// Expire ends conv's wait when nobody accepted it; false when it was no longer waiting (an
// agent accepted it just now, or it ended otherwise). It stores nothing for the citizen: their
// connection, which calls it, answers with the offer of a callback.
func Expire(ctx context.Context, pool *pgxpool.Pool, town int, conv string, now time.Time) (bool, error) {
	var ok bool
	err := database.InTown(ctx, pool, []int{town}, func(tx pgx.Tx) error {
		var err error
		ok, err = end(ctx, tx, town, conv, []string{Queued}, EndTimeout, nil, now)
		return err
	})
	return ok, err
}

// messageID names a stored message of the desk (an agent's, or a change of the chat) for the
// protocol: the citizen's client tells messages apart by it.
func messageID() string {
	b := make([]byte, 6)
	rand.Read(b)
	return "p" + hex.EncodeToString(b)
}

// Queue is the town's queue, the citizen waiting longest first.
func Queue(ctx context.Context, pool *pgxpool.Pool, town int) ([]Chat, error) {
	var out []Chat
	err := database.InTown(ctx, pool, []int{town}, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id, conversation_id::text, lang, state, question, queued_at FROM live_chats
			WHERE town_id = $1 AND state = 'queued' ORDER BY queued_at, id`, town)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (Chat, error) {
			var c Chat
			err := row.Scan(&c.ID, &c.Conv, &c.Lang, &c.State, &c.Question, &c.QueuedAt)
			return c, err
		})
		for i := range out {
			out[i].Position = i + 1
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("the queue of town %d: %w", town, err)
	}
	return out, nil
}

// Chats are the chats agent is in.
func Chats(ctx context.Context, pool *pgxpool.Pool, town int, agent int64) ([]Chat, error) {
	var out []Chat
	err := database.InTown(ctx, pool, []int{town}, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id, conversation_id::text, lang, state, question, queued_at, agent_id, agent_name FROM live_chats
			WHERE town_id = $1 AND state = 'active' AND agent_id = $2 ORDER BY accepted_at, id`, town, agent)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (Chat, error) {
			var c Chat
			err := row.Scan(&c.ID, &c.Conv, &c.Lang, &c.State, &c.Question, &c.QueuedAt, &c.AgentID, &c.AgentName)
			return c, err
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("the live chats of agent %d: %w", agent, err)
	}
	return out, nil
}

// Transcript is a conversation's messages in order, for the agent who takes it over, and the id
// of the last.
func Transcript(ctx context.Context, pool *pgxpool.Pool, town int, conv string) ([]Line, int64, error) {
	var out []Line
	err := database.InTown(ctx, pool, []int{town}, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id, role, body FROM messages WHERE town_id = $1 AND conversation_id = $2 ORDER BY id`, town, conv)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (Line, error) {
			var l Line
			err := row.Scan(&l.ID, &l.Role, &l.Body)
			return l, err
		})
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("the transcript of %s: %w", conv, err)
	}
	var last int64
	if len(out) > 0 {
		last = out[len(out)-1].ID
	}
	return out, last, nil
}

// Previews are the last perConv messages of each of the conversations, in order, for the
// agents' queue: one query for the whole queue.
func Previews(ctx context.Context, pool *pgxpool.Pool, town int, convs []string, perConv int) (map[string][]Line, error) {
	out := map[string][]Line{}
	if len(convs) == 0 {
		return out, nil
	}
	err := database.InTown(ctx, pool, []int{town}, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT conversation_id::text, id, role, body FROM (
				SELECT conversation_id, id, role, body, row_number() OVER (PARTITION BY conversation_id ORDER BY id DESC) AS n
				FROM messages WHERE town_id = $1 AND conversation_id = ANY($2::uuid[])) m
			WHERE n <= $3 ORDER BY conversation_id, id`, town, convs, perConv)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var conv string
			var l Line
			if err := rows.Scan(&conv, &l.ID, &l.Role, &l.Body); err != nil {
				return err
			}
			out[conv] = append(out[conv], l)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("the queue's conversations: %w", err)
	}
	return out, nil
}

// Accept gives the waiting chat to agent, tells the citizen (agent_joined, with the agent's
// name) and writes the audit entry. ErrTaken: it is no longer waiting.
func Accept(ctx context.Context, pool *pgxpool.Pool, town int, chat int64, a Agent, now time.Time) (Chat, error) {
	c := Chat{ID: chat, State: Active, AgentID: a.ID, AgentName: a.Name}
	err := database.InTown(ctx, pool, []int{town}, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `UPDATE live_chats SET state = 'active', accepted_at = $3, agent_id = $4, agent_name = $5
			WHERE town_id = $1 AND id = $2 AND state = 'queued' RETURNING conversation_id::text, lang, question, queued_at`,
			town, chat, now, a.ID, a.Name).Scan(&c.Conv, &c.Lang, &c.Question, &c.QueuedAt)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrTaken
		}
		if err != nil {
			return err
		}
		b, _ := json.Marshal(map[string]any{"type": "agent_joined", "id": messageID(), "name": a.Name})
		if _, err := relay.AddMessage(ctx, tx, town, c.Conv, "agent", b, now); err != nil {
			return err
		}
		if err := touch(ctx, tx, town, c.Conv, now); err != nil {
			return err
		}
		if err := relay.Notify(ctx, tx, relay.Event{Town: town, Kind: relay.KindQueue}); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Town: town, Actor: a.Email, Action: "live.accept", Target: c.Conv,
			Details: map[string]any{"chat": chat}})
	})
	return c, err
}

// agentsChat is the conversation of agent's active chat; ErrNoChat when it is not theirs (any
// more).
func agentsChat(ctx context.Context, tx pgx.Tx, town int, chat int64, agent int64) (string, error) {
	var conv string
	err := tx.QueryRow(ctx, `SELECT conversation_id::text FROM live_chats WHERE town_id = $1 AND id = $2 AND state = 'active' AND agent_id = $3
		FOR UPDATE`, town, chat, agent).Scan(&conv)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", ErrNoChat
	}
	return conv, err
}

// AgentSays stores and relays agent's message in their chat, with its audit entry (which names
// the message, not its text), and returns the message's protocol id.
func AgentSays(ctx context.Context, pool *pgxpool.Pool, town int, chat int64, a Agent, text string, now time.Time) (string, error) {
	if text == "" {
		return "", ErrEmptyMessage
	}
	id := messageID()
	err := database.InTown(ctx, pool, []int{town}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SET LOCAL synchronous_commit = off"); err != nil {
			return err
		}
		conv, err := agentsChat(ctx, tx, town, chat, a.ID)
		if err != nil {
			return err
		}
		b, _ := json.Marshal(map[string]any{"type": "agent_message", "id": id, "name": a.Name, "text": text, "ai_generated": false})
		if _, err := relay.AddMessage(ctx, tx, town, conv, "agent", b, now); err != nil {
			return err
		}
		if err := touch(ctx, tx, town, conv, now); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Town: town, Actor: a.Email, Action: "live.message", Target: conv,
			Details: map[string]any{"chat": chat, "message": id}})
	})
	return id, err
}

// Release ends agent's chat: the assistant answers the citizen again (reason EndHandedBack or
// EndEnded); the citizen is told (agent_left), and the audit log says who did it.
func Release(ctx context.Context, pool *pgxpool.Pool, town int, chat int64, a Agent, reason string, now time.Time) error {
	if reason != EndHandedBack && reason != EndEnded {
		return fmt.Errorf("%q is no way to end a live chat", reason)
	}
	return database.InTown(ctx, pool, []int{town}, func(tx pgx.Tx) error {
		conv, err := agentsChat(ctx, tx, town, chat, a.ID)
		if err != nil {
			return err
		}
		if _, err := end(ctx, tx, town, conv, []string{Active}, reason,
			map[string]any{"type": "agent_left", "id": messageID(), "name": a.Name, "reason": reason}, now); err != nil {
			return err
		}
		action := map[string]string{EndHandedBack: "live.hand_back", EndEnded: "live.end"}[reason]
		return audit.Record(ctx, tx, audit.Entry{Town: town, Actor: a.Email, Action: action, Target: conv, Details: map[string]any{"chat": chat}})
	})
}

// SetPresence switches agent's availability for live chats in town, with its audit entry.
func SetPresence(ctx context.Context, pool *pgxpool.Pool, town int, a Agent, online bool, now time.Time) error {
	return database.InTown(ctx, pool, []int{town}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO agent_presence (town_id, user_id, name, online, seen_at) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (town_id, user_id) DO UPDATE SET name = EXCLUDED.name, online = EXCLUDED.online, seen_at = EXCLUDED.seen_at`,
			town, a.ID, a.Name, online, now); err != nil {
			return fmt.Errorf("presence of %s: %w", a.Email, err)
		}
		return audit.Record(ctx, tx, audit.Entry{Town: town, Actor: a.Email, Action: "live.presence", Target: a.Email,
			Details: map[string]any{"online": online, "name": a.Name}})
	})
}

// Seen keeps agent's presence alive: their console is still there. An agent not yet known is
// recorded as present but not available: their chats (an agent may accept without being
// available for new ones) are theirs while the console is there.
func Seen(ctx context.Context, pool *pgxpool.Pool, town int, a Agent, now time.Time) error {
	return database.InTown(ctx, pool, []int{town}, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO agent_presence (town_id, user_id, name, online, seen_at) VALUES ($1, $2, $3, false, $4)
			ON CONFLICT (town_id, user_id) DO UPDATE SET seen_at = EXCLUDED.seen_at`, town, a.ID, a.Name, now)
		return err
	})
}

// Presence is agent's availability as last set: online, and the name they chose.
func Presence(ctx context.Context, pool *pgxpool.Pool, town int, agent int64) (online bool, name string, err error) {
	err = database.InTown(ctx, pool, []int{town}, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT online, name FROM agent_presence WHERE town_id = $1 AND user_id = $2`, town, agent).Scan(&online, &name)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		return err
	})
	return online, name, err
}

// Sweep ends, in every town, the waits nobody took (past the town's waiting time and a minute
// more: a connected citizen's own connection ends it first, with the offer of a callback) and
// the chats whose agent's console has been gone too long. It returns how many it ended.
func Sweep(ctx context.Context, pool *pgxpool.Pool, now time.Time) (int, error) {
	type stale struct {
		town   int
		conv   string
		state  string
		agent  string
		reason string
	}
	var found []stale
	rows, err := pool.Query(ctx, `SELECT c.town_id, c.conversation_id::text, c.state, coalesce(c.agent_name, '') FROM live_chats c JOIN towns t ON t.id = c.town_id
		WHERE (c.state = 'queued' AND c.queued_at < $1::timestamptz - make_interval(secs => coalesce(nullif((t.settings->>'desk_live_wait')::int, 0), $2) + 60))
		OR (c.state = 'active' AND NOT EXISTS (SELECT 1 FROM agent_presence p WHERE p.town_id = c.town_id AND p.user_id = c.agent_id AND p.seen_at > $3))`,
		now, int(DefaultLiveWait.Seconds()), now.Add(-agentGone))
	if err != nil {
		return 0, fmt.Errorf("sweep live chats: %w", err)
	}
	for rows.Next() {
		var s stale
		if err := rows.Scan(&s.town, &s.conv, &s.state, &s.agent); err != nil {
			rows.Close()
			return 0, err
		}
		found = append(found, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	n := 0
	for _, s := range found {
		err := database.InTown(ctx, pool, []int{s.town}, func(tx pgx.Tx) error {
			var ok bool
			var err error
			if s.state == Queued {
				ok, err = end(ctx, tx, s.town, s.conv, []string{Queued}, EndTimeout,
					map[string]any{"type": "live_ended", "id": messageID(), "reason": EndTimeout}, now)
			} else {
				ok, err = end(ctx, tx, s.town, s.conv, []string{Active}, EndAgentGone,
					map[string]any{"type": "agent_left", "id": messageID(), "name": s.agent, "reason": EndAgentGone}, now)
			}
			if ok {
				n++
			}
			return err
		})
		if err != nil {
			return n, fmt.Errorf("sweep the live chat of %s: %w", s.conv, err)
		}
	}
	return n, nil
}

// RunSweep sweeps every interval until ctx ends.
func RunSweep(ctx context.Context, pool *pgxpool.Pool, now func() time.Time, interval time.Duration, warn func(error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := Sweep(ctx, pool, now()); err != nil && ctx.Err() == nil {
			warn(err)
		}
	}
}

// QuickText is a reply a town's agents send often.
type QuickText struct {
	ID    int64
	Title string
	Body  string
}

// QuickTexts are the town's quick texts, by title.
func QuickTexts(ctx context.Context, pool *pgxpool.Pool, town int) ([]QuickText, error) {
	var out []QuickText
	err := database.InTown(ctx, pool, []int{town}, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id, title, body FROM quick_texts WHERE town_id = $1 ORDER BY title, id`, town)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, pgx.RowToStructByPos[QuickText])
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("the quick texts of town %d: %w", town, err)
	}
	return out, nil
}

// AddQuickText adds a quick text to the town's, with its audit entry.
func AddQuickText(ctx context.Context, pool *pgxpool.Pool, town int, actor, title, body string) error {
	if title == "" || body == "" {
		return fmt.Errorf("a quick text needs a title and a text")
	}
	return database.InTown(ctx, pool, []int{town}, func(tx pgx.Tx) error {
		var id int64
		if err := tx.QueryRow(ctx, `INSERT INTO quick_texts (town_id, title, body) VALUES ($1, $2, $3) RETURNING id`, town, title, body).Scan(&id); err != nil {
			return fmt.Errorf("add a quick text: %w", err)
		}
		return audit.Record(ctx, tx, audit.Entry{Town: town, Actor: actor, Action: "quick_text.add", Target: title, Details: map[string]any{"id": id}})
	})
}

// DeleteQuickText removes one of the town's quick texts, with its audit entry.
func DeleteQuickText(ctx context.Context, pool *pgxpool.Pool, town int, actor string, id int64) error {
	return database.InTown(ctx, pool, []int{town}, func(tx pgx.Tx) error {
		var title string
		err := tx.QueryRow(ctx, `DELETE FROM quick_texts WHERE town_id = $1 AND id = $2 RETURNING title`, town, id).Scan(&title)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("delete a quick text: %w", err)
		}
		return audit.Record(ctx, tx, audit.Entry{Town: town, Actor: actor, Action: "quick_text.delete", Target: title, Details: map[string]any{"id": id}})
	})
}
