package console

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"

	"github.com/citybot-project/citybot/auth"
	"github.com/citybot-project/citybot/desk"
	"github.com/citybot-project/citybot/relay"
)

// Translator translates a citizen's message for an agent (a local model where LLM_URL is set).
type Translator func(ctx context.Context, text, from, to string) (string, error)

// Staff socket timing: the console says it is there every heartbeat (Console.heartbeat, 20
// seconds: it keeps the agent online and checks that their session still holds), and answers
// pings like the citizens'.
const (
	staffWriteWait = 10 * time.Second
	staffPongWait  = 60 * time.Second
	// staffRate and staffBurst limit the messages of one agent's console: per second, and at
	// once (typing notices count).
	staffRate  = 5
	staffBurst = 20
	// queueCoalesce is how long the console gathers changes of the queue before it reads it.
	queueCoalesce = 200 * time.Millisecond
	maxAgentText  = 4000
)

// asset serves the console's scripts.
func (c *Console) asset(w http.ResponseWriter, r *http.Request) {
	b, err := assets.ReadFile("assets/" + r.PathValue("file"))
	if err != nil || !strings.HasSuffix(r.PathValue("file"), ".js") {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Write(b)
}

// live serves the agent's live chat page; the page's script connects to liveSocket.
func (c *Console) live(w http.ResponseWriter, r *http.Request, s auth.Session, town int) {
	online, name, err := desk.Presence(r.Context(), c.pool, town, s.User.ID)
	if err != nil {
		c.log.Error("console live", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if name == "" {
		name = s.User.Name
	}
	quick, err := desk.QuickTexts(r.Context(), c.pool, town)
	if err != nil {
		c.log.Error("console live", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	c.render(w, r, http.StatusOK, "live.html", view{Title: c.texts[lang(r)]["live"], User: s.User, CSRF: s.CSRF,
		TownSlug: r.PathValue("town"), Online: online, AgentName: name, QuickTexts: quick, CanEdit: s.User.Can(town, auth.RoleAdmin)})
}

// addQuickText and deleteQuickText are the town admins' edits of the quick texts.
func (c *Console) addQuickText(w http.ResponseWriter, r *http.Request, s auth.Session, town int) {
	title, body := strings.TrimSpace(r.PostFormValue("title")), strings.TrimSpace(r.PostFormValue("body"))
	if title == "" || body == "" || utf8.RuneCountInString(body) > maxAgentText {
		http.Error(w, "a quick text needs a title and a text of at most 4,000 characters", http.StatusBadRequest)
		return
	}
	if err := desk.AddQuickText(r.Context(), c.pool, town, s.User.Email, title, body); err != nil {
		c.log.Error("console quick text", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	http.Redirect(w, r, "/console/t/"+r.PathValue("town")+"/live", http.StatusSeeOther)
}

func (c *Console) deleteQuickText(w http.ResponseWriter, r *http.Request, s auth.Session, town int) {
	var id int64
	if err := json.Unmarshal([]byte(r.PostFormValue("id")), &id); err != nil {
		http.Error(w, "which quick text?", http.StatusBadRequest)
		return
	}
	if err := desk.DeleteQuickText(r.Context(), c.pool, town, s.User.Email, id); err != nil {
		c.log.Error("console quick text", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	http.Redirect(w, r, "/console/t/"+r.PathValue("town")+"/live", http.StatusSeeOther)
}

// staffIn is a message from an agent's console.
type staffIn struct {
	Type   string `json:"type"` // presence, accept, message, typing, release
	Chat   int64  `json:"chat,omitempty"`
	Online bool   `json:"online,omitempty"`
	Name   string `json:"name,omitempty"`
	Text   string `json:"text,omitempty"`
	Reason string `json:"reason,omitempty"` // release: handed_back or ended
}

// staffChat is a live chat as the console shows it: waiting in the queue, or the agent's.
type staffChat struct {
	Chat     int64       `json:"chat"`
	Conv     string      `json:"conv"`
	Lang     string      `json:"lang"`
	Question string      `json:"question"`
	Since    time.Time   `json:"since"`
	Lines    []desk.Line `json:"lines"`
}

// staffOut is a message to an agent's console.
type staffOut struct {
	Type    string      `json:"type"` // state, queue, joined, line, translation, typing, closed, error
	Online  bool        `json:"online,omitempty"`
	Name    string      `json:"name,omitempty"`
	Queue   []staffChat `json:"queue,omitempty"`
	Chats   []staffChat `json:"chats,omitempty"`
	Chat    int64       `json:"chat,omitempty"`
	Joined  *staffChat  `json:"joined,omitempty"`
	Line    *desk.Line  `json:"line,omitempty"`
	Text    string      `json:"text,omitempty"`
	From    string      `json:"from,omitempty"`
	Reason  string      `json:"reason,omitempty"`
	Message string      `json:"message,omitempty"`
}

// staffConn is one agent's console connected to the live chat of a town.
type staffConn struct {
	c     *Console
	ws    *websocket.Conn
	town  int
	token string // the session's, checked at every heartbeat
	lang  string // the console's language, which citizens' messages are translated into
	sub   *relay.Sub

	wmu sync.Mutex // one writer at a time: the reader answers, the relay passes on

	mu     sync.Mutex // guards what follows
	agent  desk.Agent
	online bool
	chats  map[string]int64          // conversation → chat, the agent's
	seen   map[string]map[int64]bool // conversation → messages the console has
}

// liveSocket upgrades the agent's live chat connection. Browsers send the session cookie with
// it; the page's CSRF token must come along, and the origin must be the console's own.
func (c *Console) liveSocket(w http.ResponseWriter, r *http.Request, s auth.Session, town int, token string) {
	if c.hub == nil {
		http.Error(w, "live chat is not set up", http.StatusNotFound)
		return
	}
	if !sameToken(s.CSRF, r.URL.Query().Get("csrf")) {
		http.Error(w, "the page's token is missing or wrong", http.StatusForbidden)
		return
	}
	up := websocket.Upgrader{ReadBufferSize: 1024, WriteBufferSize: 4096, CheckOrigin: func(r *http.Request) bool {
		u, err := url.Parse(r.Header.Get("Origin"))
		return err == nil && strings.EqualFold(u.Host, r.Host)
	}}
	ws, err := up.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	online, name, err := desk.Presence(r.Context(), c.pool, town, s.User.ID)
	if err != nil {
		c.log.Error("console live socket", "err", err)
		ws.Close()
		return
	}
	if name == "" {
		name = s.User.Name
	}
	sc := &staffConn{c: c, ws: ws, town: town, token: token, lang: lang(r), sub: c.hub.Subscribe(),
		agent: desk.Agent{ID: s.User.ID, Email: s.User.Email, Name: name}, online: online,
		chats: map[string]int64{}, seen: map[string]map[int64]bool{}}
	// The socket outlives the request: its context ends with the connection.
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	go func() {
		defer cancel()
		sc.run(ctx)
	}()
}

func (sc *staffConn) send(m staffOut) {
	b, err := json.Marshal(m)
	if err != nil {
		return
	}
	sc.wmu.Lock()
	defer sc.wmu.Unlock()
	sc.ws.SetWriteDeadline(time.Now().Add(staffWriteWait))
	if err := sc.ws.WriteMessage(websocket.TextMessage, b); err != nil {
		sc.ws.Close()
	}
}

func (sc *staffConn) fail(chat int64, msg string) {
	sc.send(staffOut{Type: "error", Chat: chat, Message: msg})
}

func (sc *staffConn) run(ctx context.Context) {
	defer sc.ws.Close()
	defer sc.sub.Close()
	sc.sub.WatchQueue(sc.town)
	if err := sc.start(ctx); err != nil {
		sc.c.log.Error("console live state", "err", err)
		return
	}
	go sc.relay(ctx)
	sc.ws.SetReadLimit(16 << 10)
	sc.ws.SetReadDeadline(time.Now().Add(staffPongWait))
	sc.ws.SetPongHandler(func(string) error { return sc.ws.SetReadDeadline(time.Now().Add(staffPongWait)) })
	// A person types a few messages a second at most; a console sending more is a script (or a
	// stolen session) and is slowed down rather than let through to the citizens.
	lim := rate.NewLimiter(staffRate, staffBurst)
	for {
		_, frame, err := sc.ws.ReadMessage()
		if err != nil {
			return
		}
		sc.ws.SetReadDeadline(time.Now().Add(staffPongWait))
		if !lim.Allow() {
			sc.fail(0, sc.c.texts[sc.lang]["livetoofast"])
			continue
		}
		var m staffIn
		if err := json.Unmarshal(frame, &m); err != nil {
			sc.fail(0, "bad message")
			continue
		}
		sc.handle(ctx, m)
	}
}

// start tells the console where things are: the agent's presence, the queue, and their chats
// with what was said so far (after a reload or a restart of either side).
func (sc *staffConn) start(ctx context.Context) error {
	if err := desk.Seen(ctx, sc.c.pool, sc.town, sc.agent, sc.c.now()); err != nil {
		return err
	}
	chats, err := desk.Chats(ctx, sc.c.pool, sc.town, sc.agent.ID)
	if err != nil {
		return err
	}
	out := staffOut{Type: "state", Online: sc.online, Name: sc.agent.Name, Chats: []staffChat{}}
	for _, ch := range chats {
		// Watched before its transcript is read: nothing falls between.
		sc.watch(ch.Conv, ch.ID)
		sch, err := sc.transcript(ctx, ch)
		if err != nil {
			return err
		}
		out.Chats = append(out.Chats, sch)
	}
	if out.Queue, err = sc.queue(ctx); err != nil {
		return err
	}
	sc.send(out)
	return nil
}

func (sc *staffConn) watch(conv string, chat int64) {
	sc.mu.Lock()
	sc.chats[conv] = chat
	if sc.seen[conv] == nil {
		sc.seen[conv] = map[int64]bool{}
	}
	sc.mu.Unlock()
	sc.sub.Watch(sc.town, conv)
}

// unwatch stops the messages of conv; false when they were stopped already. The console is
// told a chat is over by whoever stops it first: the agent's own release, or the relay that
// brings the end the citizen (or another console of the agent) made.
func (sc *staffConn) unwatch(conv string) bool {
	sc.sub.Unwatch(sc.town, conv)
	sc.mu.Lock()
	defer sc.mu.Unlock()
	_, ok := sc.chats[conv]
	delete(sc.chats, conv)
	delete(sc.seen, conv)
	return ok
}

// transcript is chat with what was said in its conversation; the lines count as seen.
func (sc *staffConn) transcript(ctx context.Context, ch desk.Chat) (staffChat, error) {
	lines, _, err := desk.Transcript(ctx, sc.c.pool, sc.town, ch.Conv)
	if err != nil {
		return staffChat{}, err
	}
	sc.mu.Lock()
	if seen := sc.seen[ch.Conv]; seen != nil {
		for _, l := range lines {
			seen[l.ID] = true
		}
	}
	sc.mu.Unlock()
	return staffChat{Chat: ch.ID, Conv: ch.Conv, Lang: ch.Lang, Question: ch.Question, Since: ch.QueuedAt, Lines: lines}, nil
}

// The console lists the first queueLimit waiting citizens, each with the last previewLines
// messages of their conversation.
const (
	queueLimit   = 50
	previewLines = 20
)

func (sc *staffConn) queue(ctx context.Context) ([]staffChat, error) {
	q, err := desk.Queue(ctx, sc.c.pool, sc.town)
	if err != nil {
		return nil, err
	}
	q = q[:min(len(q), queueLimit)]
	convs := make([]string, len(q))
	for i, ch := range q {
		convs[i] = ch.Conv
	}
	previews, err := desk.Previews(ctx, sc.c.pool, sc.town, convs, previewLines)
	if err != nil {
		return nil, err
	}
	out := []staffChat{}
	for _, ch := range q {
		out = append(out, staffChat{Chat: ch.ID, Conv: ch.Conv, Lang: ch.Lang, Question: ch.Question, Since: ch.QueuedAt, Lines: previews[ch.Conv]})
	}
	return out, nil
}

func (sc *staffConn) handle(ctx context.Context, m staffIn) {
	sc.mu.Lock()
	a := sc.agent
	sc.mu.Unlock()
	now := sc.c.now()
	switch m.Type {
	case "presence":
		name := strings.TrimSpace(m.Name)
		if name == "" || utf8.RuneCountInString(name) > 80 {
			name = a.Name
		}
		a.Name = name
		if err := desk.SetPresence(ctx, sc.c.pool, sc.town, a, m.Online, now); err != nil {
			sc.c.log.Error("console presence", "err", err)
			sc.fail(0, sc.c.texts[sc.lang]["liveerror"])
			return
		}
		sc.mu.Lock()
		sc.agent.Name, sc.online = name, m.Online
		sc.mu.Unlock()
		sc.send(staffOut{Type: "presence", Online: m.Online, Name: name})
	case "accept":
		sc.accept(ctx, a, m.Chat)
	case "message":
		text := strings.TrimSpace(m.Text)
		if text == "" || utf8.RuneCountInString(text) > maxAgentText || !utf8.ValidString(text) {
			sc.fail(m.Chat, sc.c.texts[sc.lang]["livebadtext"])
			return
		}
		if _, err := desk.AgentSays(ctx, sc.c.pool, sc.town, m.Chat, a, text, now); err != nil {
			sc.chatError(m.Chat, err)
		}
		// The message comes back through the relay, as to every console of the agent.
	case "typing":
		if conv := sc.conv(m.Chat); conv != "" {
			relay.Typing(ctx, sc.c.pool, sc.town, conv, "agent")
		}
	case "release":
		conv := sc.conv(m.Chat)
		if err := desk.Release(ctx, sc.c.pool, sc.town, m.Chat, a, m.Reason, now); err != nil {
			sc.chatError(m.Chat, err)
			return
		}
		if sc.unwatch(conv) {
			sc.send(staffOut{Type: "closed", Chat: m.Chat, Reason: m.Reason})
		}
	default:
		sc.fail(0, "bad message")
	}
}

func (sc *staffConn) conv(chat int64) string {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	for conv, id := range sc.chats {
		if id == chat {
			return conv
		}
	}
	return ""
}

func (sc *staffConn) chatError(chat int64, err error) {
	switch {
	case errors.Is(err, desk.ErrNoChat):
		// Over meanwhile (the citizen left, or another console of the agent ended it).
		if conv := sc.conv(chat); conv == "" || sc.unwatch(conv) {
			sc.send(staffOut{Type: "closed", Chat: chat, Reason: desk.EndCitizen})
		}
	default:
		sc.c.log.Error("console live chat", "err", err)
		sc.fail(chat, sc.c.texts[sc.lang]["liveerror"])
	}
}

func (sc *staffConn) accept(ctx context.Context, a desk.Agent, chat int64) {
	q, err := desk.Queue(ctx, sc.c.pool, sc.town)
	if err != nil {
		sc.chatError(chat, err)
		return
	}
	var conv string
	for _, ch := range q {
		if ch.ID == chat {
			conv = ch.Conv
		}
	}
	if conv == "" {
		sc.fail(chat, sc.c.texts[sc.lang]["livetaken"])
		return
	}
	sc.watch(conv, chat)
	ch, err := desk.Accept(ctx, sc.c.pool, sc.town, chat, a, sc.c.now())
	if errors.Is(err, desk.ErrTaken) {
		sc.unwatch(conv)
		sc.fail(chat, sc.c.texts[sc.lang]["livetaken"])
		return
	}
	if err != nil {
		sc.unwatch(conv)
		sc.chatError(chat, err)
		return
	}
	joined, err := sc.transcript(ctx, ch)
	if err != nil {
		sc.chatError(chat, err)
		return
	}
	sc.send(staffOut{Type: "joined", Joined: &joined})
	for _, l := range joined.Lines {
		sc.translate(ctx, joined.Chat, joined.Lang, l)
	}
}

// relay passes on what the citizens of the agent's chats say and how the queue changes, and
// keeps the agent's presence and session alive at every heartbeat.
func (sc *staffConn) relay(ctx context.Context) {
	beat := time.NewTicker(sc.c.heartbeat)
	defer beat.Stop()
	ping := time.NewTicker(staffPongWait * 9 / 10)
	defer ping.Stop()
	var queueDue <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-sc.sub.Lost:
			sc.ws.Close() // the console reconnects and reads the state again
			return
		case <-ping.C:
			sc.wmu.Lock()
			err := sc.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(staffWriteWait))
			sc.wmu.Unlock()
			if err != nil {
				sc.ws.Close()
				return
			}
		case <-beat.C:
			if !sc.alive(ctx) {
				return
			}
		case <-queueDue:
			// The queue once for all the changes of the last moment: when many citizens ask
			// for a person at once, each agent's console reads it a few times a second, not
			// once per citizen.
			queueDue = nil
			q, err := sc.queue(ctx)
			if err != nil {
				sc.c.log.Warn("console queue", "err", err)
				continue
			}
			sc.send(staffOut{Type: "queue", Queue: q})
		case <-sc.sub.Queue:
			if queueDue == nil {
				queueDue = time.After(queueCoalesce)
			}
		case e := <-sc.sub.C:
			sc.relayed(ctx, e)
		}
	}
}

// alive checks that the agent's session still holds (a disabled account's, or one logged out
// everywhere, does not) and tells the desk the console is still there.
func (sc *staffConn) alive(ctx context.Context) bool {
	s, err := auth.Lookup(ctx, sc.c.pool, sc.token, sc.c.now())
	if err != nil || !s.User.Can(sc.town, auth.RoleAgent) {
		if err != nil && !errors.Is(err, auth.ErrNoSession) {
			sc.c.log.Warn("console live session", "err", err)
			return true // the database is away: the session is not known to be over
		}
		sc.wmu.Lock()
		sc.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.ClosePolicyViolation, "signed out"),
			time.Now().Add(staffWriteWait))
		sc.wmu.Unlock()
		sc.ws.Close()
		return false
	}
	sc.mu.Lock()
	a := sc.agent
	sc.mu.Unlock()
	if err := desk.Seen(ctx, sc.c.pool, sc.town, a, sc.c.now()); err != nil {
		sc.c.log.Warn("console presence", "err", err)
	}
	return true
}

func (sc *staffConn) relayed(ctx context.Context, e relay.Event) {
	switch e.Kind {
	case relay.KindTyping:
		if e.Role == "citizen" {
			sc.send(staffOut{Type: "typing", Chat: sc.chatOf(e.Conv)})
		}
	case relay.KindMessage:
		sc.mu.Lock()
		chat, ok := sc.chats[e.Conv]
		seen := sc.seen[e.Conv]
		fresh := ok && seen != nil && !seen[e.Msg]
		if fresh {
			seen[e.Msg] = true
		}
		sc.mu.Unlock()
		if !fresh {
			return
		}
		l := desk.Line{ID: e.Msg, Role: e.Role, Body: e.Body}
		var head struct{ Type, Reason string }
		json.Unmarshal(e.Body, &head)
		if head.Type == "live_ended" || head.Type == "agent_left" {
			if sc.unwatch(e.Conv) {
				sc.send(staffOut{Type: "line", Chat: chat, Line: &l})
				sc.send(staffOut{Type: "closed", Chat: chat, Reason: head.Reason})
			}
			return
		}
		sc.send(staffOut{Type: "line", Chat: chat, Line: &l})
		if e.Role == "citizen" {
			sc.translate(ctx, chat, "", l)
		}
	}
}

func (sc *staffConn) chatOf(conv string) int64 {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	return sc.chats[conv]
}

// translate sends the agent a machine translation of a citizen's message in another language
// than the console's, where a translator is set up; the console marks it as such.
func (sc *staffConn) translate(ctx context.Context, chat int64, convLang string, l desk.Line) {
	if sc.c.translate == nil || l.Role != "citizen" {
		return
	}
	var m struct{ Text, Lang string }
	if json.Unmarshal(l.Body, &m) != nil || m.Text == "" {
		return
	}
	from := m.Lang
	if from == "" {
		from = convLang
	}
	if from == "" || from == sc.lang || (strings.HasPrefix(from, "de") && sc.lang == "de") {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	text, err := sc.c.translate(ctx, m.Text, from, sc.lang)
	if err != nil {
		sc.c.log.Warn("translate for the agent", "err", err)
		return
	}
	sc.send(staffOut{Type: "translation", Chat: chat, Line: &desk.Line{ID: l.ID}, Text: text, From: from})
}
