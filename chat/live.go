package chat

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/citybot-project/citybot/desk"
	"github.com/citybot-project/citybot/relay"
)

// liveState is a connection's live chat with a person of the service desk: none (mode ""),
// waiting in the queue, or with an agent in it. The connection's reader and the chat's relay
// both act on it, under the client's mu.
type liveState struct {
	mode string // "", desk.Queued or desk.Active
	run  *liveRun
}

// liveRun relays one live chat's messages from the desk to the citizen, on a goroutine of its
// own: the reader is busy reading the citizen.
type liveRun struct {
	sub      *relay.Sub
	stop     chan struct{}
	said     map[string]bool // the desk's messages the citizen has, by their protocol id
	position int
	expire   *time.Timer // the end of the wait in the queue
}

// available tells whether a handoff may offer a live chat now.
func (c *client) available(ctx context.Context) bool {
	l := c.srv.live
	if l == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	ok, err := desk.Available(ctx, l.Pool, l.Town, c.srv.now())
	if err != nil {
		// Without an answer, no offer: a callback works either way.
		c.srv.log.Warn("is live chat available", "err", err)
	}
	return ok
}

// startRun subscribes to the conversation's messages: before anything of them is read from the
// store, so that nothing falls between.
func (c *client) startRun() *liveRun {
	sub := c.srv.live.Hub.Subscribe()
	sub.Watch(c.srv.live.Town, c.conv.ID)
	return &liveRun{sub: sub, stop: make(chan struct{}), said: map[string]bool{}}
}

// stopRun ends the relay of the current live chat, if any.
func (c *client) stopRun() {
	if r := c.live.run; r != nil {
		close(r.stop)
		if r.expire != nil {
			r.expire.Stop()
		}
		c.live.run = nil
	}
}

// follow makes r the connection's live chat in state chat and starts relaying it.
func (c *client) follow(ctx context.Context, r *liveRun, chat desk.Chat) error {
	var wait time.Duration
	if chat.State == desk.Queued {
		var err error
		if wait, err = desk.Wait(ctx, c.srv.live.Pool, c.srv.live.Town); err != nil {
			r.sub.Close()
			return err
		}
	}
	c.stopRun()
	c.live = liveState{mode: chat.State, run: r}
	var expire <-chan time.Time
	if chat.State == desk.Queued {
		r.expire = time.NewTimer(max(wait-c.srv.now().Sub(chat.QueuedAt), 0))
		expire = r.expire.C
		r.position = chat.Position
		r.sub.WatchQueue(c.srv.live.Town)
		c.queue(Queued{Type: "queued", Position: chat.Position})
	}
	go c.relayLive(r, expire)
	return nil
}

// requestLive puts the citizen in the queue for a person, or offers a callback when nobody is
// available.
func (c *client) requestLive(ctx context.Context) error {
	if c.srv.live == nil {
		return c.noAgent(ctx)
	}
	if c.live.mode == desk.Queued && c.live.run != nil {
		c.queue(Queued{Type: "queued", Position: c.live.run.position})
		return nil
	}
	if c.live.mode == desk.Active {
		return nil // a person is in the chat already
	}
	r := c.startRun()
	chat, err := desk.Request(ctx, c.srv.live.Pool, c.srv.live.Town, c.conv.ID, c.conv.Lang, c.srv.now())
	if err != nil {
		r.sub.Close()
		if errors.Is(err, desk.ErrNoAgent) {
			c.srv.cfg.Metrics.lived("unavailable")
			return c.noAgent(ctx)
		}
		return err
	}
	if chat.Created {
		c.srv.cfg.Metrics.lived("queued")
	}
	for _, id := range chat.Said {
		r.said[id] = true
	}
	return c.follow(ctx, r, chat)
}

// noAgent offers a callback or an e-mail answer to a citizen whom nobody of the desk takes.
func (c *client) noAgent(ctx context.Context) error {
	start := time.Now()
	x, err := c.srv.turns.NoAgent(ctx, &c.conv, c)
	if err != nil {
		return err
	}
	c.deliver(start, x)
	return nil
}

// resumeLive goes on with a live chat under way in a resumed conversation: r watched the
// conversation before its history (hist) was read.
func (c *client) resumeLive(ctx context.Context, r *liveRun, hist []json.RawMessage) error {
	for _, m := range hist {
		var head struct{ Type, ID string }
		if json.Unmarshal(m, &head) == nil && deskTypes[head.Type] {
			r.said[head.ID] = true
		}
	}
	chat, err := desk.OpenChat(ctx, c.srv.live.Pool, c.srv.live.Town, c.conv.ID)
	if errors.Is(err, desk.ErrNoChat) { // ended meanwhile: the history says how
		r.sub.Close()
		return nil
	}
	if err != nil {
		r.sub.Close()
		return err
	}
	return c.follow(ctx, r, chat)
}

// toPerson passes a citizen's message to the person of the live chat; false when the chat is
// over, and the assistant answers it.
func (c *client) toPerson(ctx context.Context, msg ClientMessage) (bool, error) {
	text := c.srv.turns.Redact(ctx, msg.Text)
	body, err := json.Marshal(ClientMessage{Type: "ask", ID: msg.ID, Text: text, Lang: c.conv.Lang, To: "agent"})
	if err != nil {
		return false, err
	}
	_, err = desk.CitizenSays(ctx, c.srv.live.Pool, c.srv.live.Town, c.conv.ID, body, c.srv.now())
	if errors.Is(err, desk.ErrNoChat) {
		c.stopRun()
		c.live = liveState{}
		return false, nil
	}
	if err != nil {
		return false, err
	}
	c.queue(Sent{Type: "sent", ReplyTo: msg.ID})
	return true, nil
}

// typing tells the person in the chat that the citizen types; outside a live chat it is
// nobody's business.
func (c *client) typing(ctx context.Context) error {
	if c.live.mode == "" {
		return nil
	}
	return relay.Typing(ctx, c.srv.live.Pool, c.srv.live.Town, c.conv.ID, "citizen")
}

// leaveLive ends the citizen's wait or chat with a person at their request.
func (c *client) leaveLive(ctx context.Context) error {
	if c.srv.live == nil || c.live.mode == "" {
		return nil // nothing to leave: nothing is stored, and nothing said
	}
	// Ended here first: the relay then takes the stored live_ended for the echo it is.
	was := c.live.mode
	c.live.mode = ""
	if _, err := desk.Leave(ctx, c.srv.live.Pool, c.srv.live.Town, c.conv.ID, c.srv.now()); err != nil {
		c.live.mode = was
		return err
	}
	c.stopRun()
	c.srv.cfg.Metrics.lived("left")
	c.queue(LiveEnded{Type: "live_ended", Text: c.srv.catalog.T(c.conv.Lang, "live.ended", nil)})
	return nil
}

// deskTypes are the desk's messages to a citizen, as stored and relayed.
var deskTypes = map[string]bool{"agent_joined": true, "agent_message": true, "agent_left": true, "live_ended": true}

// decorate adds the words a citizen is shown to a message of the desk: the desk stores what
// happened, the chat says it in the conversation's language, as it does for the history.
func (c *client) decorate(body json.RawMessage) json.RawMessage {
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		return body
	}
	name, _ := m["name"].(string)
	data := map[string]any{"Name": name}
	lang := c.conv.Lang
	switch m["type"] {
	case "agent_joined":
		m["text"] = c.srv.catalog.T(lang, "live.joined", data)
	case "agent_left":
		m["text"] = c.srv.catalog.T(lang, "live.left", data)
	case "live_ended":
		if m["reason"] == desk.EndTimeout {
			m["text"] = c.srv.catalog.T(lang, "handoff.no_agent", map[string]any{"City": c.srv.city.Name})
		} else {
			m["text"] = c.srv.catalog.T(lang, "live.ended", data)
		}
	default:
		return body
	}
	out, err := json.Marshal(m)
	if err != nil {
		return body
	}
	return out
}

// relayLive passes the desk's messages of live chat r to the citizen until it ends, the
// connection ends, or r is stopped; when the wait is over (expire), it ends the wait.
func (c *client) relayLive(r *liveRun, expire <-chan time.Time) {
	defer r.sub.Close()
	var queueDue <-chan time.Time
	for {
		select {
		case <-queueDue:
			queueDue = nil
			c.requeued(r)
		case <-r.stop:
			return
		case <-c.done:
			return
		case <-r.sub.Lost:
			// Too far behind: the citizen reconnects and reads it all from the history.
			c.conn.Close()
			return
		case <-expire:
			if c.expireLive(r) {
				return
			}
		case <-r.sub.Queue:
			// The place once for all the changes of the last moment: when many ask for a
			// person at once, each waiting citizen's place is read a few times a second, not
			// once for every other citizen.
			if queueDue == nil {
				queueDue = time.After(queueCoalesce)
			}
		case e := <-r.sub.C:
			if c.relayed(r, e) {
				return
			}
		}
	}
}

// current tells whether r is still the connection's live chat; the caller holds mu.
func (c *client) current(r *liveRun) bool {
	select {
	case <-r.stop:
		return false
	default:
		return c.live.run == r
	}
}

// relayed passes one event to the citizen; true when the live chat is over.
func (c *client) relayed(r *liveRun, e relay.Event) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.current(r) {
		return true
	}
	switch {
	case e.Kind == relay.KindTyping && e.Role == "agent":
		c.queue(AgentTyping{Type: "agent_typing"})
	case e.Kind == relay.KindMessage && e.Role == "agent":
		var head struct{ Type, ID string }
		if json.Unmarshal(e.Body, &head) != nil || r.said[head.ID] {
			return false
		}
		r.said[head.ID] = true
		switch head.Type {
		case "agent_joined":
			c.srv.cfg.Metrics.lived("accepted")
			c.live.mode = desk.Active
			r.sub.UnwatchQueue(c.srv.live.Town)
		case "agent_left", "live_ended":
			if c.live.mode != "" { // else the citizen ended it here, and was told
				c.queue(c.decorate(e.Body))
			}
			c.live = liveState{}
			return true
		}
		c.queue(c.decorate(e.Body))
	}
	return false
}

// queueCoalesce is how long a waiting citizen's connection gathers changes of the queue
// before it reads the citizen's place.
const queueCoalesce = 300 * time.Millisecond

// requeued tells a waiting citizen their place when it changed.
func (c *client) requeued(r *liveRun) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.current(r) || c.live.mode != desk.Queued {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	chat, err := desk.OpenChat(ctx, c.srv.live.Pool, c.srv.live.Town, c.conv.ID)
	if err == nil && chat.State == desk.Queued && chat.Position != r.position {
		r.position = chat.Position
		c.queue(Queued{Type: "queued", Position: chat.Position})
	}
}

// expireLive ends the wait nobody took and offers a callback; true when the live chat is over.
func (c *client) expireLive(r *liveRun) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.current(r) || c.live.mode != desk.Queued {
		return !c.current(r)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ok, err := desk.Expire(ctx, c.srv.live.Pool, c.srv.live.Town, c.conv.ID, c.srv.now())
	if err != nil {
		c.srv.log.Warn("end a wait for a person", "err", err)
		r.expire.Reset(10 * time.Second) // the sweep ends it if this never can
		return false
	}
	if !ok {
		return false // an agent accepted just now: the relay brings them
	}
	c.live = liveState{}
	c.srv.cfg.Metrics.lived("timeout")
	if err := c.noAgent(ctx); err != nil {
		c.srv.log.Error("offer a callback after the wait", "err", err)
	}
	return true
}
