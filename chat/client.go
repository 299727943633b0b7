package chat

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"

	"github.com/citybot-project/citybot/bot"
	"github.com/citybot-project/citybot/conversation"
	"github.com/citybot-project/citybot/database"
	"github.com/citybot-project/citybot/desk"
	"github.com/citybot-project/citybot/i18n"
)

// WebSocket timing, as in gorilla's chat example.
const (
	writeWait  = 10 * time.Second  // time allowed to write a message; a slower client is dropped
	pongWait   = 60 * time.Second  // time allowed to read the next pong
	pingPeriod = pongWait * 9 / 10 // pings go out before the pong deadline
	closeWait  = 2 * time.Second   // time the server waits for a close handshake
)

// client is one WebSocket connection. Unlike gorilla's chat example it has no writer goroutine:
// replies are written by the connection's own reader, which is the only one who has anything to
// say to it, under a lock, with a deadline; pings come from one server-wide ticker. An idle
// citizen then costs one goroutine instead of two and a ticker (10,000 idle connections are a
// city's evening).
type client struct {
	srv  *Server
	conn *websocket.Conn
	addr string
	lim  *rate.Limiter
	wmu  sync.Mutex // one writer at a time
	// pinging is set while a ping is on its way (see Server.pingAll).
	pinging atomic.Bool

	// done closes when the connection ends.
	done chan struct{}

	// mu guards what follows: the reader acts on it, and so does the relay of a live chat.
	mu   sync.Mutex
	conv conversation.Conversation
	// unsaved is the resume token of a conversation begun while the database was away, until
	// the conversation is saved with the citizen's first message; "" once it is.
	unsaved string
	live    liveState
}

func newClient(s *Server, conn *websocket.Conn, addr string) *client {
	return &client{srv: s, conn: conn, addr: addr, done: make(chan struct{})}
}

// run opens or resumes the conversation and reads messages until the connection ends.
func (c *client) run(ctx context.Context, lang, resume string) {
	defer c.conn.Close()
	defer close(c.done) // the live chat's relay, if any, stops
	c.mu.Lock()
	err := c.open(ctx, lang, resume)
	c.mu.Unlock()
	if err != nil {
		c.srv.log.Error("open conversation", "err", err)
		c.closeWith(websocket.CloseInternalServerErr, "internal")
		return
	}
	c.conn.SetReadLimit(MaxFrameBytes)
	c.conn.SetReadDeadline(time.Now().Add(pongWait))
	c.conn.SetPongHandler(func(string) error { return c.conn.SetReadDeadline(time.Now().Add(pongWait)) })
	for {
		kind, frame, err := c.conn.ReadMessage()
		if err != nil {
			if errors.Is(err, websocket.ErrReadLimit) {
				c.closeWith(websocket.CloseMessageTooBig, "frame over 16 KiB")
			}
			return
		}
		if kind != websocket.TextMessage {
			c.sendError(CodeBadJSON, "")
			continue
		}
		if c.lim == nil { // made on the first message: most connections idle most of the time
			c.lim = rate.NewLimiter(rate.Limit(c.srv.cfg.ConnRate), c.srv.cfg.ConnBurst)
		}
		if !c.lim.Allow() || !c.srv.allowAddr(c.addr) {
			c.sendError(CodeRateLimited, frameID(frame))
			continue
		}
		c.handle(ctx, frame)
	}
}

// frameID is the id of a message that will not be processed, so that the client knows which
// of its questions the error answers; "" when the frame has none.
func frameID(frame []byte) string {
	var m struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(frame, &m) != nil {
		return ""
	}
	return m.ID
}

func (c *client) open(ctx context.Context, lang, resume string) error {
	st := c.srv.store
	if resume != "" {
		conv, err := st.Resume(ctx, resume, c.srv.now().Add(-c.srv.cfg.Retention))
		switch {
		case err == nil:
			c.conv = conv
			if lang != "" && c.srv.catalog.Supported(lang) {
				c.conv.Lang = lang
			}
			c.queue(c.welcome(resume, true))
			// A live chat under way is watched before the history is read: what the desk says
			// meanwhile is in one or the other.
			var r *liveRun
			if c.srv.live != nil {
				if _, err := desk.OpenChat(ctx, c.srv.live.Pool, c.srv.live.Town, conv.ID); err == nil {
					r = c.startRun()
				} else if !errors.Is(err, desk.ErrNoChat) {
					return err
				}
			}
			hist, err := st.History(ctx, conv.ID)
			if err != nil {
				if r != nil {
					r.sub.Close()
				}
				return err
			}
			for i, m := range hist {
				hist[i] = c.decorate(m)
			}
			c.queue(History{Type: "history", Messages: hist})
			if r != nil {
				return c.resumeLive(ctx, r, hist)
			}
			return nil
		case errors.Is(err, conversation.ErrNotFound):
			c.conv.Lang = c.pickLang(lang) // the error's language
			c.sendError(CodeInvalidToken, "")
		case database.Unreachable(err):
			// The conversation cannot be looked up now: a new one begins (the widget keeps
			// the old token only if told it resumed, which it is not).
			c.srv.log.Warn("the database is away: a resume waits for another connection", "err", err)
		default:
			return err
		}
	}
	conv, token, err := st.Create(ctx, c.pickLang(lang))
	if database.Unreachable(err) {
		// The welcome needs no database (the disclosure is the catalog's): the citizen is
		// greeted, and the conversation is saved when the database is back.
		c.srv.log.Warn("the database is away: a conversation begins unsaved", "err", err)
		conv, token, err = conversation.New(c.pickLang(lang))
		c.unsaved = token
	}
	if err != nil {
		return err
	}
	c.conv = conv
	c.queue(c.welcome(token, false))
	return nil
}

// save stores a conversation begun while the database was away, before its first message.
func (c *client) save(ctx context.Context) error {
	if c.unsaved == "" {
		return nil
	}
	if err := c.srv.store.Save(ctx, c.conv, c.unsaved); err != nil {
		return err
	}
	c.unsaved = ""
	return nil
}

func (c *client) pickLang(lang string) string {
	if c.srv.catalog.Supported(lang) {
		return lang
	}
	return "de"
}

func dir(lang string) string {
	if i18n.RTL(lang) {
		return "rtl"
	}
	return "ltr"
}

func (c *client) welcome(token string, resumed bool) Welcome {
	cat, data := c.srv.catalog, map[string]any{"City": c.srv.city.Name}
	return Welcome{Type: "welcome", Protocol: ProtocolVersion, ConversationID: c.conv.ID, Token: token, Lang: c.conv.Lang,
		Dir: dir(c.conv.Lang), Title: cat.T(c.conv.Lang, "disclosure.title", data), Disclosure: cat.T(c.conv.Lang, "disclosure.body", data),
		Privacy: cat.T(c.conv.Lang, "disclosure.privacy", data), PrivacyURL: c.srv.city.PrivacyURL,
		Languages: i18n.Languages(), Resumed: resumed}
}

// handle answers one client frame; a bad one gets an error message and the connection stays.
func (c *client) handle(ctx context.Context, frame []byte) {
	msg, perr := DecodeClientMessage(frame)
	if perr != nil {
		c.sendError(perr.Code, msg.ID)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	// A conversation begun while the database was away is saved first: nothing after it can
	// be stored without it.
	err := c.save(ctx)
	if err == nil {
		err = c.dispatch(ctx, msg)
	}
	switch {
	case err != nil && database.Unreachable(err):
		// An outage, not a bug: the citizen is told to send it again, with the town's phone.
		c.srv.log.Warn("handle message: the database is away", "type", msg.Type, "err", err)
		c.sendError(CodeUnavailable, msg.ID)
	case err != nil:
		c.srv.log.Error("handle message", "type", msg.Type, "err", err)
		c.sendError(CodeInternal, msg.ID)
	}
}

// dispatch handles a decoded message of the client's saved conversation.
func (c *client) dispatch(ctx context.Context, msg ClientMessage) error {
	switch msg.Type {
	case "ask":
		if c.live.mode != "" {
			if sent, err := c.toPerson(ctx, msg); sent || err != nil {
				return err
			}
		}
		return c.ask(ctx, msg)
	case "live":
		return c.requestLive(ctx)
	case "live_end":
		return c.leaveLive(ctx)
	case "typing":
		return c.typing(ctx)
	case "rate":
		return c.rate(ctx, msg)
	case "handoff":
		return c.handoff(ctx)
	case "ticket":
		return c.ticket(ctx, msg)
	case "forget":
		return c.forget(ctx)
	}
	return nil
}

func (c *client) ask(ctx context.Context, msg ClientMessage) error {
	start := time.Now()
	x, err := c.srv.turns.Turn(ctx, &c.conv, msg.ID, msg.Text, msg.Lang, c)
	if err != nil {
		return err
	}
	c.deliver(start, x)
	return nil
}

// deliver sends a stored reply; start is when the request for it came in.
func (c *client) deliver(start time.Time, x conversation.Exchange) {
	// Counted before it is sent: whoever reads the metrics after the reply sees it counted.
	c.srv.cfg.Metrics.replied(x.Reply, time.Since(start))
	c.queue(x.Message)
}

// The protocol's messages of a turn, which the conversation stores as written.
var _ conversation.Protocol = (*client)(nil)

// Asked is an ask as stored: only what an ask carries, redacted. In the history it carries the
// language it was answered in, for the client to show it right to left when that was Arabic or
// Persian.
func (c *client) Asked(id, text, lang string) any {
	return ClientMessage{Type: "ask", ID: id, Text: text, Lang: lang}
}

// Replied is an answer or a handoff message.
func (c *client) Replied(id, replyTo string, r bot.Reply) any {
	if r.Kind == "answer" {
		return Answer{Type: "answer", ID: id, ReplyTo: replyTo, Text: r.Text, Lang: r.Lang, Dir: dir(r.Lang), Sources: r.Sources,
			Confidence: r.Confidence, Composer: r.Composer, AIGenerated: true, Label: c.srv.catalog.T(r.Lang, "answer.label", nil)}
	}
	return Handoff{Type: "handoff", ID: id, ReplyTo: replyTo, Reason: r.Reason, Text: r.Text, Lang: r.Lang, Dir: dir(r.Lang),
		Sources: r.Sources, Contact: r.Contact, Options: c.options(r), AIGenerated: true, Confidence: r.Confidence}
}

// Streamed sends a part of a generative answer as it is written.
func (c *client) Streamed(id, part string) {
	c.queue(Delta{Type: "answer_delta", ID: id, Text: part})
}

// options are the ways to a person a handoff offers: a live chat when the desk has someone in
// it (not to a citizen whom it just could not take), a callback, an e-mail answer, and the
// responsible office's own contact when known.
func (c *client) options(r bot.Reply) []Option {
	t := func(id string) string { return c.srv.catalog.T(r.Lang, id, nil) }
	var opts []Option
	if r.Reason != bot.ReasonNoAgent && c.available(context.Background()) {
		opts = append(opts, Option{Kind: "live", Label: t("handoff.option.agent")})
	}
	opts = append(opts, Option{Kind: "callback", Label: t("handoff.option.callback")}, Option{Kind: "email", Label: t("handoff.option.email")})
	if r.Contact != nil {
		opts = append(opts, Option{Kind: "office", Label: t("handoff.option.office")})
	}
	return opts
}

func (c *client) rate(ctx context.Context, msg ClientMessage) error {
	err := c.srv.turns.Rate(ctx, c.conv.ID, msg.AnswerID, msg.Value, msg.Comment)
	if errors.Is(err, conversation.ErrNotFound) {
		c.sendError(CodeUnknownAnswer, msg.AnswerID)
		return nil
	}
	if err != nil {
		return err
	}
	c.srv.cfg.Metrics.rated(msg.Value)
	c.queue(Rated{Type: "rated", AnswerID: msg.AnswerID, Text: c.srv.catalog.T(c.conv.Lang, "rated.thanks", nil)})
	return nil
}

func (c *client) handoff(ctx context.Context) error {
	start := time.Now()
	x, err := c.srv.turns.HandOff(ctx, &c.conv, c.available(ctx), c)
	if err != nil {
		return err
	}
	c.deliver(start, x)
	return nil
}

func (c *client) ticket(ctx context.Context, msg ClientMessage) error {
	if !msg.Consent {
		c.sendError(CodeConsentRequired, "")
		return nil
	}
	number, err := c.srv.turns.Ticket(ctx, c.conv.ID, conversation.Ticket{Kind: msg.Kind, Name: msg.Name, Phone: msg.Phone,
		Email: msg.Email, Note: msg.Text, Lang: c.conv.Lang})
	if err != nil {
		return err
	}
	c.srv.cfg.Metrics.ticket()
	c.queue(TicketCreated{Type: "ticket_created", Number: number,
		Text: c.srv.catalog.T(c.conv.Lang, "ticket.created", map[string]any{"Number": number})})
	return nil
}

// forget erases the conversation at the citizen's request (GDPR Art. 17) and starts a new one on
// the same connection: forgotten once the deletion has committed, then the new conversation's
// welcome with its own id and resume token, the AI disclosure included.
func (c *client) forget(ctx context.Context) error {
	if c.live.mode != "" {
		// The person in the chat is told the citizen left, before everything goes.
		if _, err := desk.Leave(ctx, c.srv.live.Pool, c.srv.live.Town, c.conv.ID, c.srv.now()); err != nil {
			return err
		}
		c.stopRun()
		c.live = liveState{}
	}
	if err := c.srv.store.Forget(ctx, c.conv.ID); err != nil {
		return err
	}
	c.srv.cfg.Metrics.forgot()
	c.queue(Forgotten{Type: "forgotten"})
	conv, token, err := c.srv.store.Create(ctx, c.conv.Lang)
	if err != nil {
		// The old conversation is gone and there is no new one to go on with: the client
		// reconnects and gets one.
		c.srv.log.Error("new conversation after forget", "err", err)
		c.closeWith(websocket.CloseInternalServerErr, "internal")
		return nil
	}
	c.conv = conv
	c.queue(c.welcome(token, false))
	return nil
}

// errorTexts maps protocol error codes to catalog messages.
var errorTexts = map[string]string{
	CodeBadJSON: "error.bad_json", CodeUnknownType: "error.unknown_type", CodeMissingField: "error.missing_field",
	CodeTooLong: "error.too_long", CodeEmpty: "error.empty", CodeInvalidText: "error.invalid_text",
	CodeUnknownAnswer: "error.unknown_answer", CodeInvalidToken: "error.invalid_token", CodeRateLimited: "error.rate_limited",
	CodeConsentRequired: "ticket.consent_missing", CodeInternal: "error.internal", CodeUnavailable: "error.unavailable",
}

func (c *client) sendError(code, replyTo string) {
	c.srv.cfg.Metrics.error(code)
	id, data := errorTexts[code], map[string]any(nil)
	if code == CodeUnavailable && c.srv.city.Contact.Phone != "" {
		id, data = "error.unavailable_phone", map[string]any{"Phone": c.srv.city.Contact.Phone}
	}
	c.queue(ErrorMessage{Type: "error", Code: code, Message: c.srv.catalog.T(c.conv.Lang, id, data), ReplyTo: replyTo})
}

// queue writes a message to the client. A client that cannot take it within WriteWait is
// dropped: its connection closes, which ends its reader. There is no queue to grow: the
// connection's reader writes, so a client that does not read stops its own conversation (the
// reader reads nothing more while it waits) and nobody else's; what waits is one message.
func (c *client) queue(msg any) {
	b, err := json.Marshal(msg)
	if err != nil {
		c.srv.log.Error("encode message", "err", err)
		return
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.conn.SetWriteDeadline(time.Now().Add(c.srv.cfg.WriteWait))
	if err := c.conn.WriteMessage(websocket.TextMessage, b); err != nil {
		c.conn.Close()
	}
}

// closeWith sends a close frame with code; the reader ends when the client answers or leaves.
func (c *client) closeWith(code int, text string) {
	_ = c.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(c.srv.cfg.WriteWait))
}

// ping keeps the connection (and the proxies on its way) alive; a client that does not answer
// within pongWait is dropped by its reader's deadline.
func (c *client) ping() {
	if err := c.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.srv.cfg.WriteWait)); err != nil {
		c.conn.Close()
	}
}

// goingAway closes the connection for a server shutdown; the reader ends when the client answers
// or the close wait is over.
func (c *client) goingAway() {
	_ = c.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "server restart"),
		time.Now().Add(c.srv.cfg.WriteWait))
	c.conn.SetReadDeadline(time.Now().Add(closeWait))
}
