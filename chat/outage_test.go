package chat

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	pgxvec "github.com/pgvector/pgvector-go/pgx"

	"github.com/citybot-project/citybot/bot"
	"github.com/citybot-project/citybot/conversation"
	"github.com/citybot-project/citybot/i18n"
	"github.com/citybot-project/citybot/internal/testsite"
	"github.com/citybot-project/citybot/privacy"
)

// switchProxy forwards loopback TCP connections to the database while it is up; taken down, it
// closes every connection and refuses new ones, as a database that went away.
type switchProxy struct {
	ln              net.Listener
	network, target string
	mu              sync.Mutex
	up              bool
	conns           []net.Conn
}

func newSwitchProxy(t *testing.T, network, target string) *switchProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &switchProxy{ln: ln, network: network, target: target}
	t.Cleanup(func() { ln.Close(); p.set(false) })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			if !p.up {
				p.mu.Unlock()
				c.Close()
				continue
			}
			d, err := net.Dial(p.network, p.target)
			if err != nil {
				p.mu.Unlock()
				c.Close()
				continue
			}
			p.conns = append(p.conns, c, d)
			p.mu.Unlock()
			go func() { io.Copy(d, c); d.Close() }()
			go func() { io.Copy(c, d); c.Close() }()
		}
	}()
	return p
}

func (p *switchProxy) set(up bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.up = up
	if !up {
		for _, c := range p.conns {
			c.Close()
		}
		p.conns = nil
	}
}

// TestCitizenGreetedWhileTheDatabaseIsAway: a citizen who connects during an outage gets the
// welcome with the disclosure; a question then gets "unavailable"; once the database is back
// the same question is answered on the same socket, and the conversation (saved with the
// welcome's token) resumes with it.
func TestCitizenGreetedWhileTheDatabaseIsAway(t *testing.T) {
	h := newHarness(t, ServerConfig{})
	cfg := h.pool.Config().Copy()
	network, target := "tcp", fmt.Sprintf("%s:%d", cfg.ConnConfig.Host, cfg.ConnConfig.Port)
	if strings.HasPrefix(cfg.ConnConfig.Host, "/") {
		network, target = "unix", fmt.Sprintf("%s/.s.PGSQL.%d", cfg.ConnConfig.Host, cfg.ConnConfig.Port)
	}
	proxy := newSwitchProxy(t, network, target)
	host, port, _ := net.SplitHostPort(proxy.ln.Addr().String())
	cfg.ConnConfig.Host, cfg.ConnConfig.Port = host, uint16(atoi(t, port))
	cfg.ConnConfig.ConnectTimeout = 2 * time.Second
	cfg.AfterConnect = func(ctx context.Context, conn *pgx.Conn) error { return pgxvec.RegisterTypes(ctx, conn) }
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	// The conversations go through the proxy; retrieval keeps its own connections.
	_, ix := testsite.Index(t)
	cat, _ := i18n.Load(nil)
	st := conversation.NewStore(pool, ix.Scope().Town, h.clock.now)
	h.srv.store = st
	h.srv.turns = conversation.NewService(st, bot.NewEngine(ix, ix, cat, h.srv.city, bot.EngineConfig{MinConfidence: 0.3}, quiet),
		privacy.NewRedactor(h.clock.now))

	c := mustDial(t, h, "?lang=de")
	w := read(t, c)
	token, _ := w["token"].(string)
	if w["type"] != "welcome" || w["disclosure"] == "" || token == "" {
		t.Fatalf("welcome during the outage: %v", w)
	}
	send(t, c, map[string]any{"type": "ask", "id": "q1", "text": "Was kostet ein Reisepass?"})
	if m := read(t, c); m["type"] != "error" || m["code"] != "unavailable" || m["reply_to"] != "q1" {
		t.Fatalf("a question during the outage: %v", m)
	}
	proxy.set(true)
	send(t, c, map[string]any{"type": "ask", "id": "q2", "text": "Was kostet ein Reisepass?"})
	for {
		m := read(t, c)
		if m["type"] == "answer" || m["type"] == "handoff" {
			if m["reply_to"] != "q2" {
				t.Fatalf("the answer after the outage: %v", m)
			}
			break
		}
		if m["type"] == "error" {
			t.Fatalf("after the outage: %v", m)
		}
	}
	again := mustDial(t, h, "?resume="+token)
	if w := read(t, again); w["resumed"] != true {
		t.Fatalf("the conversation begun during the outage does not resume: %v", w)
	}
	if hist := read(t, again); hist["type"] != "history" || len(hist["messages"].([]any)) != 2 {
		t.Errorf("history: %v", hist)
	}
}

func atoi(t *testing.T, s string) int {
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatal(err)
	}
	return n
}
