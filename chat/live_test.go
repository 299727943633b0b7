package chat

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/citybot-project/citybot/auth"
	"github.com/citybot-project/citybot/desk"
	"github.com/citybot-project/citybot/internal/testsite"
	"github.com/citybot-project/citybot/relay"
)

// liveDesk is the service desk's side of the live chat tests: an agent, and a relay hub of
// another instance that the agent's console would listen on.
type liveDesk struct {
	pool  *pgxpool.Pool
	town  int
	agent desk.Agent
	sub   *relay.Sub // the agent's console, on the other instance
	// audited is the audit log's last entry before the test: the shared test town's log
	// outlives a test run.
	audited int64
}

// withLive connects h's chat server to the town's desk through a hub of its own and returns the
// desk, with its agent online and the desk open day and night. Both instances' hubs listen.
func withLive(t *testing.T, h *harness, settings string) *liveDesk {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	_, ix := testsite.Index(t)
	town := ix.Scope().Town
	hubA, hubB := relay.NewHub(h.pool, quiet), relay.NewHub(h.pool, quiet)
	go hubA.Run(ctx)
	go hubB.Run(ctx)
	for !hubA.Listening() || !hubB.Listening() {
		time.Sleep(10 * time.Millisecond)
	}
	h.srv.SetLive(&Live{Pool: h.pool, Town: town, Hub: hubA})
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := h.pool.Exec(context.Background(), sql, args...); err != nil {
			t.Fatal(err)
		}
	}
	exec(`UPDATE towns SET settings = settings || $2::jsonb WHERE id = $1`, town, settings)
	email := strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-")) + "@stadt.example"
	u, err := auth.AddUser(ctx, h.pool, email, "Anna Agent", "", false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		exec(`UPDATE towns SET settings = settings - 'desk_hours' - 'desk_live_wait' - 'desk_holidays' WHERE id = $1`, town)
		exec(`DELETE FROM live_chats WHERE town_id = $1`, town)
		exec(`DELETE FROM agent_presence WHERE town_id = $1`, town)
		exec(`DELETE FROM users WHERE id = $1`, u.ID)
	})
	d := &liveDesk{pool: h.pool, town: town, agent: desk.Agent{ID: u.ID, Email: email, Name: "Anna"}, sub: hubB.Subscribe()}
	if err := h.pool.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM audit_log`).Scan(&d.audited); err != nil {
		t.Fatal(err)
	}
	if err := desk.SetPresence(ctx, h.pool, town, d.agent, true, h.clock.now()); err != nil {
		t.Fatal(err)
	}
	return d
}

// readUntil reads messages until one of type typ, skipping the parts of a streamed answer.
func readUntil(t *testing.T, c *websocket.Conn, typ string) map[string]any {
	t.Helper()
	for {
		m := read(t, c)
		if m["type"] == typ {
			return m
		}
		if m["type"] != "answer_delta" {
			t.Fatalf("got %v, want a %s", m, typ)
		}
	}
}

// fromCitizen waits for the agent's side to receive the citizen's message with id. Earlier
// ones may come first: the agent's side watches from when it accepts, and a notice of a message
// sent while the citizen waited can arrive after that.
func (d *liveDesk) fromCitizen(t *testing.T, id string) map[string]any {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case e := <-d.sub.C:
			var m map[string]any
			if e.Kind == relay.KindMessage && e.Role == "citizen" && json.Unmarshal(e.Body, &m) == nil && m["id"] == id {
				return m
			}
		case <-timeout:
			t.Fatalf("the agent got no message %s from the citizen", id)
		}
	}
}

// liveCount is how many live chats the town's metrics counted with outcome.
func liveCount(m *Metrics, outcome string) float64 {
	return testutil.ToFloat64(m.live.WithLabelValues("musterstadt", outcome))
}

func TestLiveChatWithAPerson(t *testing.T) {
	m := NewMetrics(prometheus.NewRegistry()).ForTown("musterstadt")
	h := newHarness(t, ServerConfig{Metrics: m})
	d := withLive(t, h, `{"desk_hours": "Mo-So 00:00-24:00"}`)
	ctx := context.Background()

	c := mustDial(t, h, "")
	w := read(t, c)
	send(t, c, map[string]any{"type": "handoff", "reason": "user_request"})
	ho := read(t, c)
	opts, _ := ho["options"].([]any)
	if len(opts) == 0 || opts[0].(map[string]any)["kind"] != "live" {
		t.Fatalf("options %v, want the live chat first while an agent is online", ho["options"])
	}

	// Two citizens wait; the first is first.
	send(t, c, map[string]any{"type": "live"})
	if q := read(t, c); q["type"] != "queued" || q["position"] != float64(1) {
		t.Fatalf("got %v, want queued at 1", q)
	}
	c2 := mustDial(t, h, "")
	read(t, c2)
	send(t, c2, map[string]any{"type": "live"})
	if q := read(t, c2); q["type"] != "queued" || q["position"] != float64(2) {
		t.Fatalf("got %v, want queued at 2", q)
	}
	// While waiting, a question goes to the person, not the assistant.
	send(t, c, map[string]any{"type": "ask", "id": "q1", "text": "Ich warte. Rufen Sie mich an: 0171 2345678"})
	if m := read(t, c); m["type"] != "sent" || m["reply_to"] != "q1" {
		t.Fatalf("got %v, want sent for q1", m)
	}

	queue, err := desk.Queue(ctx, d.pool, d.town)
	if err != nil || len(queue) != 2 || queue[0].Conv != w["conversation_id"] {
		t.Fatalf("queue %+v (%v), want the first citizen first of two", queue, err)
	}
	d.sub.Watch(d.town, queue[0].Conv)
	chat, err := desk.Accept(ctx, d.pool, d.town, queue[0].ID, d.agent, h.clock.now())
	if err != nil {
		t.Fatal(err)
	}
	j := read(t, c)
	if j["type"] != "agent_joined" || j["name"] != "Anna" || j["text"] == "" {
		t.Fatalf("got %v, want agent_joined by Anna with a text", j)
	}
	if q := read(t, c2); q["type"] != "queued" || q["position"] != float64(1) {
		t.Fatalf("the second citizen got %v, want queued at 1 now", q)
	}
	if _, err := desk.Accept(ctx, d.pool, d.town, queue[0].ID, d.agent, h.clock.now()); err != desk.ErrTaken {
		t.Fatalf("accepting a taken chat again: %v, want ErrTaken", err)
	}

	// Both ways, across the two hubs; what the citizen types is redacted before the agent sees it.
	if _, err := desk.AgentSays(ctx, d.pool, d.town, chat.ID, d.agent, "Guten Tag, wie kann ich helfen?", h.clock.now()); err != nil {
		t.Fatal(err)
	}
	am := read(t, c)
	if am["type"] != "agent_message" || am["text"] != "Guten Tag, wie kann ich helfen?" || am["ai_generated"] != false || am["name"] != "Anna" {
		t.Fatalf("got %v, want Anna's message, not AI-generated", am)
	}
	send(t, c, map[string]any{"type": "ask", "id": "q2", "text": "Meine Mail ist max@example.org, wann ist das Bürgerbüro offen?"})
	if m := read(t, c); m["type"] != "sent" || m["reply_to"] != "q2" {
		t.Fatalf("got %v, want sent for q2", m)
	}
	got := d.fromCitizen(t, "q2")
	if got["to"] != "agent" || strings.Contains(got["text"].(string), "max@example.org") || !strings.Contains(got["text"].(string), "Bürgerbüro") {
		t.Fatalf("the agent got %v, want the question with the address redacted", got)
	}
	if err := relay.Typing(ctx, d.pool, d.town, chat.Conv, "agent"); err != nil {
		t.Fatal(err)
	}
	if m := read(t, c); m["type"] != "agent_typing" {
		t.Fatalf("got %v, want agent_typing", m)
	}

	// The citizen reconnects: the history holds the person's part, and the chat goes on.
	c.Close()
	c = mustDial(t, h, "?resume="+w["token"].(string))
	if m := read(t, c); m["resumed"] != true {
		t.Fatalf("got %v, want a resumed welcome", m)
	}
	hist := read(t, c)
	var types []string
	for _, m := range hist["messages"].([]any) {
		mm := m.(map[string]any)
		types = append(types, mm["type"].(string))
		if mm["type"] == "agent_joined" && mm["text"] == "" {
			t.Errorf("agent_joined in the history without its text: %v", mm)
		}
	}
	want := "handoff ask agent_joined agent_message ask"
	if strings.Join(types, " ") != want {
		t.Fatalf("history %v, want %s", types, want)
	}
	if _, err := desk.AgentSays(ctx, d.pool, d.town, chat.ID, d.agent, "Montags ab 8 Uhr.", h.clock.now()); err != nil {
		t.Fatal(err)
	}
	if m := read(t, c); m["type"] != "agent_message" || m["text"] != "Montags ab 8 Uhr." {
		t.Fatalf("after the resume got %v, want the agent's next message", m)
	}

	// The agent hands back: the assistant answers again.
	if err := desk.Release(ctx, d.pool, d.town, chat.ID, d.agent, desk.EndHandedBack, h.clock.now()); err != nil {
		t.Fatal(err)
	}
	if m := read(t, c); m["type"] != "agent_left" || m["reason"] != "handed_back" || m["text"] == "" {
		t.Fatalf("got %v, want agent_left", m)
	}
	send(t, c, map[string]any{"type": "ask", "id": "q3", "text": "Was kostet ein Reisepass?"})
	if m := readUntil(t, c, "answer"); m["ai_generated"] != true {
		t.Fatalf("after the hand back got %v, want the assistant's answer", m)
	}

	// The second citizen leaves the queue.
	send(t, c2, map[string]any{"type": "live_end"})
	if m := read(t, c2); m["type"] != "live_ended" || m["text"] == "" {
		t.Fatalf("got %v, want live_ended", m)
	}
	if q, _ := desk.Queue(ctx, d.pool, d.town); len(q) != 0 {
		t.Fatalf("queue %+v after the citizen left, want empty", q)
	}

	for outcome, want := range map[string]float64{"queued": 2, "accepted": 1, "left": 1, "timeout": 0, "unavailable": 0} {
		if got := liveCount(m, outcome); got != want {
			t.Errorf("live chats %s: %v, want %v", outcome, got, want)
		}
	}
	var actions []string
	rows, _ := h.pool.Query(ctx, `SELECT action FROM audit_log WHERE town_id = $1 AND actor = $2 AND id > $3 ORDER BY id`,
		d.town, d.agent.Email, d.audited)
	for rows.Next() {
		var a string
		rows.Scan(&a)
		actions = append(actions, a)
	}
	if got, want := strings.Join(actions, " "), "live.presence live.accept live.message live.message live.hand_back"; got != want {
		t.Errorf("audit log %q, want %q", got, want)
	}
}

func TestLiveChatNobodyTakesIt(t *testing.T) {
	m := NewMetrics(prometheus.NewRegistry()).ForTown("musterstadt")
	h := newHarness(t, ServerConfig{Metrics: m})
	d := withLive(t, h, `{"desk_hours": "Mo-So 00:00-24:00", "desk_live_wait": 1}`)
	c := mustDial(t, h, "")
	read(t, c)
	send(t, c, map[string]any{"type": "live"})
	if q := read(t, c); q["type"] != "queued" {
		t.Fatalf("got %v, want queued", q)
	}
	// A second after, the wait is over: a callback is offered instead, and no live chat.
	ho := read(t, c)
	if ho["type"] != "handoff" || ho["reason"] != "no_agent" {
		t.Fatalf("got %v, want a handoff for no_agent", ho)
	}
	for _, o := range ho["options"].([]any) {
		if o.(map[string]any)["kind"] == "live" {
			t.Fatalf("options %v offer the live chat nobody took", ho["options"])
		}
	}
	if q, _ := desk.Queue(context.Background(), d.pool, d.town); len(q) != 0 {
		t.Fatalf("queue %+v after the wait, want empty", q)
	}
	if got := liveCount(m, "timeout"); got != 1 {
		t.Errorf("live chats timed out: %v, want 1", got)
	}
	// Rated like any handoff.
	send(t, c, map[string]any{"type": "rate", "answer_id": ho["id"], "value": "down"})
	if m := read(t, c); m["type"] != "rated" {
		t.Fatalf("got %v, want rated", m)
	}
}

func TestLiveChatOutsideOfficeHours(t *testing.T) {
	m := NewMetrics(prometheus.NewRegistry()).ForTown("musterstadt")
	h := newHarness(t, ServerConfig{Metrics: m})
	// Open day and night, but today is a holiday.
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	today := h.clock.now().In(berlin).Format(time.DateOnly)
	withLive(t, h, `{"desk_hours": "Mo-So 00:00-24:00", "desk_holidays": ["`+today+`"]}`)
	c := mustDial(t, h, "")
	read(t, c)
	send(t, c, map[string]any{"type": "handoff", "reason": "user_request"})
	ho := read(t, c)
	for _, o := range ho["options"].([]any) {
		if o.(map[string]any)["kind"] == "live" {
			t.Fatalf("options %v offer the live chat outside the office hours", ho["options"])
		}
	}
	send(t, c, map[string]any{"type": "live"})
	if msg := read(t, c); msg["type"] != "handoff" || msg["reason"] != "no_agent" {
		t.Fatalf("got %v, want a handoff for no_agent", msg)
	}
	if got := liveCount(m, "unavailable"); got != 1 {
		t.Errorf("live chats asked for with nobody there: %v, want 1", got)
	}
}

// TestLiveChatRelayWhileNotListening: an instance whose listening connection to PostgreSQL is
// cut polls meanwhile; nothing said in between is lost, nothing comes twice.
func TestLiveChatRelayWhileNotListening(t *testing.T) {
	h := newHarness(t, ServerConfig{})
	d := withLive(t, h, `{"desk_hours": "Mo-So 00:00-24:00"}`)
	ctx := context.Background()
	c := mustDial(t, h, "")
	read(t, c)
	send(t, c, map[string]any{"type": "live"})
	read(t, c)
	q, _ := desk.Queue(ctx, d.pool, d.town)
	chat, err := desk.Accept(ctx, d.pool, d.town, q[0].ID, d.agent, h.clock.now())
	if err != nil {
		t.Fatal(err)
	}
	read(t, c) // agent_joined
	// The citizen's instance stops listening (its connection to PostgreSQL is cut): it polls.
	if _, err := h.pool.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%'`); err != nil {
		t.Fatal(err)
	}
	for h.srv.live.Hub.Listening() {
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := desk.AgentSays(ctx, d.pool, d.town, chat.ID, d.agent, "Sind Sie noch da?", h.clock.now()); err != nil {
		t.Fatal(err)
	}
	if m := read(t, c); m["type"] != "agent_message" || m["text"] != "Sind Sie noch da?" {
		t.Fatalf("got %v, want the agent's message through the poll", m)
	}
	// And once it listens again, no message comes twice.
	for !h.srv.live.Hub.Listening() {
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := desk.AgentSays(ctx, d.pool, d.town, chat.ID, d.agent, "Gut.", h.clock.now()); err != nil {
		t.Fatal(err)
	}
	if m := read(t, c); m["text"] != "Gut." {
		t.Fatalf("got %v, want only the new message", m)
	}
}

// TestForgetDuringLiveChat: a citizen who erases the conversation while a person is in it ends
// the chat first (the agent is told), and nothing of it stays.
func TestForgetDuringLiveChat(t *testing.T) {
	h := newHarness(t, ServerConfig{})
	d := withLive(t, h, `{"desk_hours": "Mo-So 00:00-24:00"}`)
	ctx := context.Background()
	c := mustDial(t, h, "")
	w := read(t, c)
	send(t, c, map[string]any{"type": "live"})
	read(t, c)
	q, _ := desk.Queue(ctx, d.pool, d.town)
	d.sub.Watch(d.town, q[0].Conv)
	if _, err := desk.Accept(ctx, d.pool, d.town, q[0].ID, d.agent, h.clock.now()); err != nil {
		t.Fatal(err)
	}
	readUntil(t, c, "agent_joined")
	send(t, c, map[string]any{"type": "forget"})
	readUntil(t, c, "forgotten")
	if m := read(t, c); m["type"] != "welcome" || m["conversation_id"] == w["conversation_id"] {
		t.Fatalf("after forget: %v, want a new conversation's welcome", m)
	}
	// The agent's side heard that the citizen left.
	deadline := time.After(10 * time.Second)
	for left := false; !left; {
		select {
		case e := <-d.sub.C:
			left = e.Kind == relay.KindMessage && strings.Contains(string(e.Body), `"live_ended"`)
		case <-deadline:
			t.Fatal("the agent was not told that the citizen left")
		}
	}
	var chats, msgs int
	h.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM live_chats WHERE conversation_id = $1), (SELECT count(*) FROM messages WHERE conversation_id = $1)`,
		w["conversation_id"]).Scan(&chats, &msgs)
	if chats != 0 || msgs != 0 {
		t.Fatalf("after forget: %d live chats, %d messages of the conversation left", chats, msgs)
	}
}
