package console

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/citybot-project/citybot/auth"
	"github.com/citybot-project/citybot/bot"
	"github.com/citybot-project/citybot/conversation"
	"github.com/citybot-project/citybot/database/dbtest"
	"github.com/citybot-project/citybot/desk"
	"github.com/citybot-project/citybot/relay"
)

// translationDouble serves the OpenAI chat-completions API as documented (server-sent events):
// a Turkish message becomes one fixed German sentence, any other "Guten Tag".
func translationDouble(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Messages []struct{ Role, Content string } `json:"messages"`
			Stream   bool                             `json:"stream"`
		}
		body, _ := io.ReadAll(r.Body)
		if r.URL.Path != "/v1/chat/completions" || json.Unmarshal(body, &req) != nil || !req.Stream || len(req.Messages) != 2 ||
			!strings.Contains(req.Messages[0].Content, "into German") {
			t.Errorf("unexpected request %s: %s", r.URL.Path, body)
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		parts := []string{"Wann hat ", "das Bürgerbüro geöffnet?"}
		if !strings.Contains(req.Messages[0].Content, "from Turkish") {
			parts = []string{"Guten Tag"}
		}
		for _, part := range parts {
			b, _ := json.Marshal(map[string]any{"choices": []map[string]any{{"index": 0, "delta": map[string]string{"content": part}}}})
			fmt.Fprintf(w, "data: %s\n\n", b)
		}
		io.WriteString(w, "data: [DONE]\n\n")
	}))
	t.Cleanup(srv.Close)
	return srv
}

var wsPath = regexp.MustCompile(`data-ws="([^"]+)"`)

// staffSocket opens the live chat socket of the page at path for b; origin "" is the console's.
func staffSocket(t *testing.T, b browser, path, origin string) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	_, page := b.do("GET", path, nil, nil)
	m := wsPath.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("%s has no socket", path)
	}
	if origin == "" {
		origin = b.base
	}
	d := websocket.Dialer{Jar: b.c.Jar}
	u := "ws" + strings.TrimPrefix(b.base, "http") + strings.ReplaceAll(m[1], "&amp;", "&")
	return d.Dial(u, http.Header{"Origin": {origin}})
}

func readStaff(t *testing.T, c *websocket.Conn, typ string) staffOut {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		var m staffOut
		if err := c.ReadJSON(&m); err != nil {
			t.Fatalf("waiting for %s: %v", typ, err)
		}
		if m.Type == typ {
			return m
		}
		if m.Type == "error" {
			t.Fatalf("waiting for %s: error %s", typ, m.Message)
		}
	}
}

// TestLiveConsole plays an agent's live chat over the staff socket: availability, the queue, a
// citizen accepted, messages both ways with a machine translation of the citizen's, the hand
// back, the audit log; and the walls around it: another town's agent, a reviewer, a missing
// token, a foreign origin, a disabled account.
func TestLiveConsole(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	pool := dbtest.Pool(t)
	town := dbtest.Town(t, pool, "lindenbrueck")
	other := dbtest.Town(t, pool, "auenstadt")
	agent := staff(t, pool, "erika@lindenbrueck.example", "Erika Muster", town, auth.RoleAgent)
	staff(t, pool, "rita@lindenbrueck.example", "Rita Review", town, auth.RoleReviewer)
	staff(t, pool, "otto@auenstadt.example", "Otto Other", other, auth.RoleAgent)
	staff(t, pool, "paul@lindenbrueck.example", "Paul Second", town, auth.RoleAgent)

	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC) // a Monday, 10:00 in Berlin: the desk is open
	clock := func() time.Time { return now }
	hub := relay.NewHub(pool, slog.New(slog.DiscardHandler))
	go hub.Run(ctx)
	for !hub.Listening() {
		time.Sleep(10 * time.Millisecond)
	}
	llm := translationDouble(t)
	translate := (&bot.LLM{BaseURL: llm.URL + "/v1", Model: "m", Client: llm.Client(), Timeout: 5 * time.Second}).Translate
	c := New(pool, slog.New(slog.DiscardHandler), clock, Options{Hub: hub, Translate: translate})
	c.heartbeat = 200 * time.Millisecond
	srv := httptest.NewServer(c)
	t.Cleanup(srv.Close)

	b := signIn(t, srv.URL, agent.Email)
	resp, page := b.do("GET", "/console/t/lindenbrueck/live", nil, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the live page: %d", resp.StatusCode)
	}
	for _, want := range []string{"Verfügbar", "Warteschlange", `src="/console/assets/live.js"`, `value="Erika Muster"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the live page lacks %s", want)
		}
	}
	if resp, js := b.do("GET", "/console/assets/live.js", nil, nil); resp.StatusCode != http.StatusOK || !strings.Contains(js, "new WebSocket") ||
		!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") {
		t.Errorf("the live page's script: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}

	// The walls: a foreign origin, a missing token, another town's agent, a reviewer.
	if _, resp, err := staffSocket(t, b, "/console/t/lindenbrueck/live", "https://evil.example"); err == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("a foreign origin's socket: %v", err)
	}
	d := websocket.Dialer{Jar: b.c.Jar}
	if _, resp, err := d.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/console/t/lindenbrueck/live/ws", http.Header{"Origin": {srv.URL}}); err == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("a socket without the page's token: %v", err)
	}
	for _, email := range []string{"otto@auenstadt.example", "rita@lindenbrueck.example"} {
		ob := signIn(t, srv.URL, email)
		if resp, _ := ob.do("GET", "/console/t/lindenbrueck/live", nil, nil); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s on the live page: %d, want 403", email, resp.StatusCode)
		}
		if _, resp, err := d.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/console/t/lindenbrueck/live/ws?csrf=x", http.Header{"Origin": {srv.URL}}); err == nil || resp.StatusCode == http.StatusSwitchingProtocols {
			t.Errorf("%s opened the live socket", email)
		}
	}

	ws, _, err := staffSocket(t, b, "/console/t/lindenbrueck/live", "")
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if st := readStaff(t, ws, "state"); st.Online || len(st.Queue) != 0 || st.Name != "Erika Muster" {
		t.Fatalf("state %+v, want offline with an empty queue", st)
	}
	if ok, _ := desk.Available(ctx, pool, town, now); ok {
		t.Fatal("live chat available before anyone is online")
	}
	ws.WriteJSON(staffIn{Type: "presence", Online: true, Name: "Erika"})
	if p := readStaff(t, ws, "presence"); !p.Online || p.Name != "Erika" {
		t.Fatalf("presence %+v", p)
	}
	if ok, _ := desk.Available(ctx, pool, town, now); !ok {
		t.Fatal("live chat not available with Erika online")
	}
	if ok, _ := desk.Available(ctx, pool, other, now); ok {
		t.Fatal("Erika's presence counts in another town")
	}

	// A Turkish-speaking citizen asks for a person.
	conv, _, err := conversation.NewStore(pool, town, clock).Create(ctx, "tr")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := desk.Request(ctx, pool, town, conv.ID, "tr", now); err != nil {
		t.Fatal(err)
	}
	q := readStaff(t, ws, "queue")
	for len(q.Queue) == 0 { // a change from before the request, still on its way
		q = readStaff(t, ws, "queue")
	}
	if len(q.Queue) != 1 || q.Queue[0].Conv != conv.ID || q.Queue[0].Lang != "tr" {
		t.Fatalf("queue %+v, want the citizen", q.Queue)
	}
	ws.WriteJSON(staffIn{Type: "accept", Chat: q.Queue[0].Chat})
	j := readStaff(t, ws, "joined")
	if j.Joined == nil || j.Joined.Conv != conv.ID {
		t.Fatalf("joined %+v", j)
	}
	chat := j.Joined.Chat
	body, _ := json.Marshal(map[string]any{"type": "ask", "id": "c1", "text": "Belediye ne zaman açık?", "lang": "tr", "to": "agent"})
	if _, err := desk.CitizenSays(ctx, pool, town, conv.ID, body, now); err != nil {
		t.Fatal(err)
	}
	if l := readStaff(t, ws, "line"); l.Chat != chat || l.Line.Role != "citizen" || !strings.Contains(string(l.Line.Body), "Belediye") {
		t.Fatalf("line %+v, want the citizen's message", l)
	}
	if tr := readStaff(t, ws, "translation"); tr.Chat != chat || tr.From != "tr" || tr.Text != "Wann hat das Bürgerbüro geöffnet?" {
		t.Fatalf("translation %+v", tr)
	}
	ws.WriteJSON(staffIn{Type: "message", Chat: chat, Text: "Montags ab 8 Uhr."})
	if l := readStaff(t, ws, "line"); l.Line.Role != "agent" || !strings.Contains(string(l.Line.Body), `"name":"Erika"`) {
		t.Fatalf("line %+v, want Erika's message back", l)
	}
	ws.WriteJSON(staffIn{Type: "message", Chat: chat, Text: "   "})
	readStaff(t, ws, "error")
	// Paul cannot write into Erika's chat.
	pb := signIn(t, srv.URL, "paul@lindenbrueck.example")
	pws, _, err := staffSocket(t, pb, "/console/t/lindenbrueck/live", "")
	if err != nil {
		t.Fatal(err)
	}
	readStaff(t, pws, "state")
	pws.WriteJSON(staffIn{Type: "message", Chat: chat, Text: "Hallo?"})
	if cl := readStaff(t, pws, "closed"); cl.Chat != chat {
		t.Fatalf("Paul writing into Erika's chat: %+v", cl)
	}
	// A second citizen: Erika holds both conversations, each message under its own chat.
	conv2, _, err := conversation.NewStore(pool, town, clock).Create(ctx, "uk")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := desk.Request(ctx, pool, town, conv2.ID, "uk", now); err != nil {
		t.Fatal(err)
	}
	// The queue as it was after the first accept may still be on its way: the one with the
	// second citizen comes after it.
	q = readStaff(t, ws, "queue")
	for len(q.Queue) == 0 {
		q = readStaff(t, ws, "queue")
	}
	if len(q.Queue) != 1 || q.Queue[0].Conv != conv2.ID {
		t.Fatalf("queue %+v, want the second citizen", q.Queue)
	}
	ws.WriteJSON(staffIn{Type: "accept", Chat: q.Queue[0].Chat})
	chat2 := readStaff(t, ws, "joined").Joined.Chat
	body2, _ := json.Marshal(map[string]any{"type": "ask", "id": "c1", "text": "Добрий день", "lang": "uk", "to": "agent"})
	desk.CitizenSays(ctx, pool, town, conv2.ID, body2, now)
	desk.CitizenSays(ctx, pool, town, conv.ID, body, now)
	seen := map[int64]string{}
	for len(seen) < 2 {
		l := readStaff(t, ws, "line")
		if l.Line.Role == "citizen" {
			seen[l.Chat] = string(l.Line.Body)
		}
	}
	if !strings.Contains(seen[chat2], "Добрий день") || !strings.Contains(seen[chat], "Belediye") {
		t.Fatalf("messages of two chats mixed up: %v", seen)
	}
	ws.WriteJSON(staffIn{Type: "release", Chat: chat2, Reason: desk.EndEnded})
	if cl := readStaff(t, ws, "closed"); cl.Chat != chat2 {
		t.Fatalf("closed %+v, want the second chat", cl)
	}
	ws.WriteJSON(staffIn{Type: "release", Chat: chat, Reason: desk.EndHandedBack})
	if cl := readStaff(t, ws, "closed"); cl.Chat != chat || cl.Reason != desk.EndHandedBack {
		t.Fatalf("closed %+v", cl)
	}
	if _, err := desk.OpenChat(ctx, pool, town, conv.ID); err != desk.ErrNoChat {
		t.Fatalf("the chat after the hand back: %v", err)
	}
	var actions []string
	rows, _ := pool.Query(ctx, `SELECT action FROM audit_log WHERE town_id = $1 AND actor = $2 ORDER BY id`, town, agent.Email)
	for rows.Next() {
		var a string
		rows.Scan(&a)
		actions = append(actions, a)
	}
	if got, want := strings.Join(actions, " "), "live.presence live.accept live.message live.accept live.end live.hand_back"; got != want {
		t.Errorf("audit log %q, want %q", got, want)
	}

	// A console that sends more than a person could type is slowed down.
	for range staffBurst + 5 {
		pws.WriteJSON(staffIn{Type: "typing", Chat: chat})
	}
	if e := readStaff(t, pws, "error"); !strings.Contains(e.Message, "Zu viele Nachrichten") {
		t.Fatalf("a flood of messages: %+v", e)
	}

	// Paul's account is disabled: his socket is closed at the next heartbeat.
	if _, err := auth.Disable(ctx, pool, "paul@lindenbrueck.example"); err != nil {
		t.Fatal(err)
	}
	pws.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		if _, _, err := pws.ReadMessage(); err != nil {
			if !websocket.IsCloseError(err, websocket.ClosePolicyViolation) {
				t.Fatalf("a disabled agent's socket ended with %v, want 1008", err)
			}
			break
		}
	}
}

// TestQuickTexts: a town's admin keeps its quick texts on the live page (audited); its agents
// get them; an agent may not change them, nor another town's admin.
func TestQuickTexts(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.Pool(t)
	town := dbtest.Town(t, pool, "lindenbrueck")
	other := dbtest.Town(t, pool, "auenstadt")
	staff(t, pool, "ada@lindenbrueck.example", "Ada", town, auth.RoleAdmin, auth.RoleAgent)
	staff(t, pool, "erika@lindenbrueck.example", "Erika", town, auth.RoleAgent)
	staff(t, pool, "otto@auenstadt.example", "Otto", other, auth.RoleAdmin, auth.RoleAgent)
	srv := httptest.NewServer(New(pool, slog.New(slog.DiscardHandler), time.Now, Options{}))
	t.Cleanup(srv.Close)
	add := func(b browser, title, body string) int {
		_, page := b.do("GET", "/console/t/lindenbrueck/live", nil, nil)
		m := csrfField.FindStringSubmatch(page)
		token := "none"
		if m != nil {
			token = m[1]
		}
		resp, _ := b.do("POST", "/console/t/lindenbrueck/quick-texts", url.Values{"csrf": {token}, "title": {title}, "body": {body}}, nil)
		return resp.StatusCode
	}
	admin := signIn(t, srv.URL, "ada@lindenbrueck.example")
	if code := add(admin, "Öffnungszeiten", "Das Bürgerbüro ist montags bis freitags von 8 bis 16 Uhr geöffnet."); code != http.StatusSeeOther {
		t.Fatalf("the admin adding a quick text: %d", code)
	}
	if code := add(admin, "", "ohne Titel"); code != http.StatusBadRequest {
		t.Errorf("a quick text without a title: %d, want 400", code)
	}
	agent := signIn(t, srv.URL, "erika@lindenbrueck.example")
	_, page := agent.do("GET", "/console/t/lindenbrueck/live", nil, nil)
	if !strings.Contains(page, "montags bis freitags von 8 bis 16 Uhr") || strings.Contains(page, `action="/console/t/lindenbrueck/quick-texts"`) {
		t.Errorf("the agent's live page: the quick text should be there for the script, the admin's form not")
	}
	if code := add(agent, "Gebühren", "Alles kostet 10 Euro."); code != http.StatusForbidden {
		t.Errorf("an agent adding a quick text: %d, want 403", code)
	}
	if code := add(signIn(t, srv.URL, "otto@auenstadt.example"), "Fremd", "Aus Auenstadt."); code != http.StatusForbidden {
		t.Errorf("another town's admin adding a quick text: %d, want 403", code)
	}
	texts, err := desk.QuickTexts(ctx, pool, town)
	if err != nil || len(texts) != 1 {
		t.Fatalf("quick texts %+v (%v), want the admin's one", texts, err)
	}
	_, page = admin.do("GET", "/console/t/lindenbrueck/live", nil, nil)
	resp, _ := admin.do("POST", "/console/t/lindenbrueck/quick-texts/delete", url.Values{"csrf": {csrfField.FindStringSubmatch(page)[1]},
		"id": {fmt.Sprint(texts[0].ID)}}, nil)
	if texts, _ := desk.QuickTexts(ctx, pool, town); resp.StatusCode != http.StatusSeeOther || len(texts) != 0 {
		t.Fatalf("delete: %d, %d left", resp.StatusCode, len(texts))
	}
	var n int
	pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE town_id = $1 AND action IN ('quick_text.add', 'quick_text.delete')`, town).Scan(&n)
	if n != 2 {
		t.Errorf("%d audit entries for quick texts, want 2", n)
	}
}

// TestTranscriptWithLiveChat: a reviewer reads a conversation that went to a person whole, in
// order: the assistant's handoff, the person joining, the messages both ways, the hand back, the
// assistant's next answer.
func TestTranscriptWithLiveChat(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.Pool(t)
	town := dbtest.Town(t, pool, "lindenbrueck")
	rita := staff(t, pool, "rita@lindenbrueck.example", "Rita", town, auth.RoleReviewer)
	anna := staff(t, pool, "anna@lindenbrueck.example", "Anna", town, auth.RoleAgent)
	agent := desk.Agent{ID: anna.ID, Email: anna.Email, Name: "Anna"}
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	conv, _, err := conversation.NewStore(pool, town, time.Now).Create(ctx, "de")
	if err != nil {
		t.Fatal(err)
	}
	answer := func(id, question, kind string) {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"type": kind, "id": id, "text": "Antwort " + id})
		ask, _ := json.Marshal(map[string]any{"type": "ask", "id": "q" + id, "text": question})
		for _, sql := range []string{
			`INSERT INTO answers (town_id, conversation_id, answer_id, question, kind, text, sources, confidence, lang, composer, created_at)
				VALUES ($1, $2, $3, $4, $5, 'Antwort', '[]', 0.5, 'de', 'extractive', now())`,
			`INSERT INTO ratings (town_id, conversation_id, answer_id, value, comment) VALUES ($1, $2, $3, 'down', '')`,
		} {
			args := []any{town, conv.ID, id}
			if strings.Contains(sql, "answers") {
				args = append(args, question, kind)
			}
			if _, err := pool.Exec(ctx, sql, args...); err != nil {
				t.Fatal(err)
			}
		}
		for role, b := range map[string][]byte{"citizen": ask, "bot": body} {
			if _, err := pool.Exec(ctx, `INSERT INTO messages (town_id, conversation_id, role, body) VALUES ($1, $2, $3, $4)`, town, conv.ID, role, b); err != nil {
				t.Fatal(err)
			}
		}
	}
	answer("a1", "Kann ich mit jemandem sprechen?", "handoff")
	pool.Exec(ctx, `UPDATE towns SET settings = settings || '{"desk_hours": "Mo-So 00:00-24:00"}' WHERE id = $1`, town)
	if err := desk.SetPresence(ctx, pool, town, agent, true, now); err != nil {
		t.Fatal(err)
	}
	chat, err := desk.Request(ctx, pool, town, conv.ID, "de", now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := desk.Accept(ctx, pool, town, chat.ID, agent, now); err != nil {
		t.Fatal(err)
	}
	say, _ := json.Marshal(map[string]any{"type": "ask", "id": "c1", "text": "Mein Antrag ist verloren gegangen.", "to": "agent"})
	if _, err := desk.CitizenSays(ctx, pool, town, conv.ID, say, now); err != nil {
		t.Fatal(err)
	}
	if _, err := desk.AgentSays(ctx, pool, town, chat.ID, agent, "Ich sehe nach.", now); err != nil {
		t.Fatal(err)
	}
	if err := desk.Release(ctx, pool, town, chat.ID, agent, desk.EndHandedBack, now); err != nil {
		t.Fatal(err)
	}
	answer("a2", "Was kostet ein Reisepass?", "answer")

	srv := httptest.NewServer(New(pool, slog.New(slog.DiscardHandler), time.Now, Options{}))
	t.Cleanup(srv.Close)
	resp, page := signIn(t, srv.URL, rita.Email).do("GET", "/console/t/lindenbrueck/review/"+conv.ID, nil, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the transcript: %d", resp.StatusCode)
	}
	last := -1
	for _, want := range []string{"<h2>Kann ich mit jemandem sprechen?</h2>", "Im Chat mit einer Mitarbeiterin oder einem Mitarbeiter: Anna",
		"Mein Antrag ist verloren gegangen.", "<strong>Anna</strong> (Live-Chat): Ich sehe nach.", "an den Assistenten zurückgegeben",
		"<h2>Was kostet ein Reisepass?</h2>"} {
		i := strings.Index(page, want)
		if i < 0 || i < last {
			t.Fatalf("the transcript lacks %q, or has it out of order:\n%s", want, page)
		}
		last = i
	}
}
