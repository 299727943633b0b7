package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/citybot-project/citybot/auth"
)

// staffConsole is an agent signed in to the console of an instance, with its live chat socket.
type staffConsole struct {
	jar *cookiejar.Jar
	ws  *websocket.Conn
}

var (
	csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	dataWS    = regexp.MustCompile(`data-ws="([^"]+)"`)
)

// signInAgent signs email in at addr's console.
func signInAgent(t *testing.T, addr, email, password string) *cookiejar.Jar {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.Get("http://" + addr + "/console/login")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp, err = c.PostForm("http://"+addr+"/console/login", url.Values{"email": {email}, "password": {password},
		"csrf": {csrfInput.FindStringSubmatch(string(page))[1]}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Request.URL.Path != "/console/" {
		t.Fatalf("sign in at %s ended at %s", addr, resp.Request.URL)
	}
	return jar
}

// openLive opens the live chat socket of town slug at addr and reads its state.
func openLive(t *testing.T, addr, slug string, jar *cookiejar.Jar) (staffConsole, map[string]any) {
	t.Helper()
	resp, err := (&http.Client{Jar: jar}).Get("http://" + addr + "/console/t/" + slug + "/live")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := dataWS.FindStringSubmatch(string(page))
	if m == nil {
		t.Fatalf("the live page at %s: %d %s", addr, resp.StatusCode, page)
	}
	ws, _, err := (&websocket.Dialer{Jar: jar}).Dial("ws://"+addr+strings.ReplaceAll(m[1], "&amp;", "&"), http.Header{"Origin": {"http://" + addr}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	sc := staffConsole{jar: jar, ws: ws}
	return sc, sc.next(t, "state")
}

func (sc staffConsole) next(t *testing.T, typ string) map[string]any {
	t.Helper()
	sc.ws.SetReadDeadline(time.Now().Add(20 * time.Second))
	for {
		var m map[string]any
		if err := sc.ws.ReadJSON(&m); err != nil {
			t.Fatalf("the console waiting for %s: %v", typ, err)
		}
		if m["type"] == typ {
			return m
		}
		if m["type"] == "error" {
			t.Fatalf("the console waiting for %s: %v", typ, m)
		}
	}
}

func (sc staffConsole) send(t *testing.T, m map[string]any) {
	t.Helper()
	if err := sc.ws.WriteJSON(m); err != nil {
		t.Fatal(err)
	}
}

// TestLiveChatAcrossInstancesAndRestarts: a citizen connected to instance A and an agent
// connected to instance B talk through the database; B, then A, is killed with SIGKILL
// mid-chat and started again, and both sides resume with nothing lost: what the citizen wrote
// while B was gone reaches the agent, what the agent wrote while A was gone reaches the citizen.
func TestLiveChatAcrossInstancesAndRestarts(t *testing.T) {
	env := setupTwoTowns(t)
	ctx := context.Background()
	if code, out, errOut := citybot(t, env, "towns", "set", "lindenbrueck", "desk_hours=Mo-So 00:00-24:00"); code != 0 {
		t.Fatalf("towns set: %s %s", out, errOut)
	}
	pool, err := pgxpool.New(ctx, env["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	hash, _ := auth.HashPassword("richtig-langes-Passwort")
	u, err := auth.AddUser(ctx, pool, "erika@lindenbrueck.example", "Erika Muster", hash, false)
	if err != nil {
		t.Fatal(err)
	}
	var town int
	if err := pool.QueryRow(ctx, `SELECT id FROM towns WHERE slug = 'lindenbrueck'`).Scan(&town); err != nil {
		t.Fatal(err)
	}
	if err := auth.Grant(ctx, pool, u.ID, town, auth.RoleAgent); err != nil {
		t.Fatal(err)
	}

	a, b := freeAddr(t), freeAddr(t)
	instA := startChild(t, env, "serve", "--addr", a)
	instB := startChild(t, env, "serve", "--addr", b)
	waitReadyAt(t, a)
	waitReadyAt(t, b)

	jar := signInAgent(t, b, "erika@lindenbrueck.example", "richtig-langes-Passwort")
	agent, _ := openLive(t, b, "lindenbrueck", jar)
	agent.send(t, map[string]any{"type": "presence", "online": true, "name": "Erika"})
	agent.next(t, "presence")

	citizen := dialTown(t, a, "lindenbrueck", "?lang=de")
	token := citizen.welcome["token"].(string)
	citizen.c.WriteJSON(map[string]any{"type": "live"})
	if q := citizen.next(t, "queued", "handoff"); q["type"] != "queued" {
		t.Fatalf("asking for a person at A: %v", q)
	}
	var chat float64
	for chat == 0 {
		for _, w := range agent.next(t, "queue")["queue"].([]any) {
			chat = w.(map[string]any)["chat"].(float64)
		}
	}
	agent.send(t, map[string]any{"type": "accept", "chat": chat})
	agent.next(t, "joined")
	if j := citizen.next(t, "agent_joined"); j["name"] != "Erika" {
		t.Fatalf("agent_joined %v", j)
	}
	agent.send(t, map[string]any{"type": "message", "chat": chat, "text": "Guten Tag!"})
	if m := citizen.next(t, "agent_message"); m["text"] != "Guten Tag!" {
		t.Fatalf("the agent's message at A: %v", m)
	}

	// B is killed: what the citizen writes meanwhile is stored, and the agent finds it at the
	// new B.
	instB.Process.Signal(syscall.SIGKILL)
	instB.Wait()
	agent.ws.Close()
	citizen.c.WriteJSON(map[string]any{"type": "ask", "id": "c1", "text": "Ich brauche einen neuen Reisepass."})
	if s := citizen.next(t, "sent"); s["reply_to"] != "c1" {
		t.Fatalf("sent %v", s)
	}
	startChild(t, env, "serve", "--addr", b)
	waitReadyAt(t, b)
	agent, state := openLive(t, b, "lindenbrueck", jar)
	chats := state["chats"].([]any)
	if len(chats) != 1 || !strings.Contains(linesOf(chats[0]), "Ich brauche einen neuen Reisepass.") {
		t.Fatalf("the agent's chats after B's restart: %v", chats)
	}
	agent.send(t, map[string]any{"type": "message", "chat": chat, "text": "Dafür brauchen Sie ein Passfoto."})
	if m := citizen.next(t, "agent_message"); m["text"] != "Dafür brauchen Sie ein Passfoto." {
		t.Fatalf("the agent's message after B's restart: %v", m)
	}

	// A is killed: what the agent writes meanwhile reaches the citizen, who resumes at the new A.
	instA.Process.Signal(syscall.SIGKILL)
	instA.Wait()
	citizen.c.Close()
	agent.send(t, map[string]any{"type": "message", "chat": chat, "text": "Sind Sie noch da?"})
	agent.next(t, "line")
	startChild(t, env, "serve", "--addr", a)
	waitReadyAt(t, a)
	citizen = dialTown(t, a, "lindenbrueck", "?lang=de&resume="+token)
	var said []string
	for _, m := range citizen.next(t, "history")["messages"].([]any) {
		mm := m.(map[string]any)
		said = append(said, mm["type"].(string)+":"+str(mm["text"]))
	}
	if got := strings.Join(said, "|"); !strings.HasSuffix(got, "agent_message:Guten Tag!|ask:Ich brauche einen neuen Reisepass.|"+
		"agent_message:Dafür brauchen Sie ein Passfoto.|agent_message:Sind Sie noch da?") || !strings.Contains(got, "agent_joined:") {
		t.Fatalf("the citizen's history after A's restart: %s", got)
	}
	citizen.c.WriteJSON(map[string]any{"type": "ask", "id": "c2", "text": "Ja, ich bin noch da."})
	citizen.next(t, "sent")
	for {
		l := agent.next(t, "line")["line"].(map[string]any)
		if l["role"] == "citizen" && strings.Contains(string(mustJSON(l["body"])), "Ja, ich bin noch da.") {
			break
		}
	}
	// The agent hands back at B; the citizen at A gets the assistant again.
	agent.send(t, map[string]any{"type": "release", "chat": chat, "reason": "handed_back"})
	agent.next(t, "closed")
	citizen.next(t, "agent_left")
	if ans := citizen.ask(t, "Was kostet die Hundesteuer?"); ans["type"] != "answer" || ans["ai_generated"] != true {
		t.Fatalf("after the hand back: %v", ans)
	}
	var stored int
	pool.QueryRow(ctx, `SELECT count(*) FROM messages WHERE conversation_id = $1 AND role IN ('citizen', 'agent')`,
		citizen.welcome["conversation_id"]).Scan(&stored)
	// Two of the citizen's messages to the person, the question after; joined, three messages, left.
	if stored != 8 {
		t.Errorf("%d citizen and agent messages stored, want 8", stored)
	}
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// linesOf is the text of a console chat's lines.
func linesOf(chat any) string {
	b, _ := json.Marshal(chat.(map[string]any)["lines"])
	return string(b)
}
