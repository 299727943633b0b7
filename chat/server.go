// Package chat serves citizens over WebSockets: the protocol of docs/protocol.md, one connection
// per citizen with its limits (per connection and per client address), and the metrics the
// operations team watches.
package chat

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/citybot-project/citybot/bot"
	"github.com/citybot-project/citybot/conversation"
	"github.com/citybot-project/citybot/i18n"
	"github.com/citybot-project/citybot/relay"
)

// ServerConfig is what the chat server needs to know beyond its parts.
type ServerConfig struct {
	AllowedOrigins []string      // origins of city pages that embed the widget; same-origin is always allowed
	Retention      time.Duration // conversations idle longer are purged and cannot be resumed
	// Per connection: messages per second and burst.
	ConnRate  float64
	ConnBurst int
	// Addrs are the limits per client address, shared by the servers of all towns in a process;
	// nil: none.
	Addrs *AddrLimits
	// WriteWait is how long a message may take to reach a client; a client that does not read
	// is dropped after it. 0: 10 seconds.
	WriteWait time.Duration
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names the client.
	TrustedProxies []netip.Prefix
	Metrics        *Metrics // nil: nothing is measured
}

// Live connects a town's chat to its service desk for live chats with a person: the database
// the desk keeps its queue in, the town, and the instance's relay.
type Live struct {
	Pool *pgxpool.Pool
	Town int
	Hub  *relay.Hub
}

// Server serves the chat protocol over WebSockets.
type Server struct {
	live     *Live // nil: no live chat; handoffs offer callbacks and e-mail
	turns    *conversation.Service
	store    *conversation.Store
	catalog  *i18n.Catalog
	city     bot.City
	cfg      ServerConfig
	log      *slog.Logger
	now      func() time.Time
	upgrader websocket.Upgrader
	origins  map[string]bool

	mu      sync.Mutex
	clients map[*client]struct{}
}

// NewServer returns a chat server that runs citizens' turns through turns and keeps their
// conversations in st, the store turns stores in.
func NewServer(turns *conversation.Service, st *conversation.Store, cat *i18n.Catalog, city bot.City, cfg ServerConfig, log *slog.Logger, now func() time.Time) *Server {
	s := &Server{turns: turns, store: st, catalog: cat, city: city, cfg: cfg, log: log, now: now,
		origins: map[string]bool{}, clients: map[*client]struct{}{}}
	if s.cfg.WriteWait <= 0 {
		s.cfg.WriteWait = writeWait
	}
	for _, o := range cfg.AllowedOrigins {
		if o = strings.TrimRight(strings.TrimSpace(o), "/"); o != "" {
			s.origins[strings.ToLower(o)] = true
		}
	}
	// Small read buffers and pooled write buffers: an idle connection then holds almost no
	// buffer memory (10,000 idle connections are the norm for a city's evening).
	s.upgrader = websocket.Upgrader{
		ReadBufferSize:  512,
		WriteBufferSize: 4096,
		WriteBufferPool: &sync.Pool{},
		CheckOrigin:     s.originAllowed,
	}
	return s
}

// SetLive connects the town's service desk for live chats with a person.
func (s *Server) SetLive(l *Live) { s.live = l }

// originAllowed accepts the server's own origin, the configured ones, and clients that send no
// Origin (not browsers). gorilla's default would refuse every city page that embeds the widget.
func (s *Server) originAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	return s.origins[strings.ToLower(strings.TrimRight(origin, "/"))]
}

// ServeWS upgrades GET /ws and runs the conversation until the client leaves.
func (s *Server) ServeWS(w http.ResponseWriter, r *http.Request) {
	if !s.originAllowed(r) {
		http.Error(w, "origin not allowed", http.StatusForbidden)
		return
	}
	addr := clientAddr(r, s.cfg.TrustedProxies)
	if !s.allowAddr(addr) {
		http.Error(w, "rate_limited", http.StatusTooManyRequests)
		return
	}
	if !s.openConn(addr) {
		http.Error(w, "too_many_connections", http.StatusTooManyRequests)
		return
	}
	conn, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		s.closeConn(addr)
		return // the upgrader has answered
	}
	c := newClient(s, conn, addr)
	s.mu.Lock()
	s.clients[c] = struct{}{}
	s.mu.Unlock()
	s.cfg.Metrics.connected(1)
	// The conversation runs on a goroutine of its own and this handler returns: the HTTP
	// server's goroutine has a deep stack by now, which every idle connection would keep. The
	// request's context ends with the handler, the conversation must not.
	ctx := context.WithoutCancel(r.Context())
	lang, resume := r.URL.Query().Get("lang"), r.URL.Query().Get("resume")
	go func() {
		defer func() {
			s.mu.Lock()
			delete(s.clients, c)
			s.mu.Unlock()
			s.closeConn(addr)
			s.cfg.Metrics.connected(-1)
		}()
		c.run(ctx, lang, resume)
	}()
}

func (s *Server) allowAddr(addr string) bool { return s.cfg.Addrs.allow(addr, s.now()) }

func (s *Server) openConn(addr string) bool { return s.cfg.Addrs.open(addr, s.now()) }

func (s *Server) closeConn(addr string) { s.cfg.Addrs.close(addr, s.now()) }

// Shutdown tells every connected client that the server is going away (close code 1001), so
// widgets reconnect and resume.
func (s *Server) Shutdown() {
	// All at once: a client that does not read holds its close frame up to WriteWait, and must
	// not hold up the others'.
	var wg sync.WaitGroup
	for _, c := range s.connected() {
		wg.Go(c.goingAway)
	}
	wg.Wait()
}

// connected is a snapshot of the open connections, to act on without holding the lock.
// Connections is how many citizens are connected.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.clients)
}

func (s *Server) connected() []*client {
	s.mu.Lock()
	defer s.mu.Unlock()
	clients := make([]*client, 0, len(s.clients))
	for c := range s.clients {
		clients = append(clients, c)
	}
	return clients
}

// RunPings pings every connected client each pingPeriod until ctx ends.
func (s *Server) RunPings(ctx context.Context) {
	t := time.NewTicker(pingPeriod)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.pingAll()
	}
}

// pingAll pings every connected client, each from a goroutine of its own: a client that does
// not read holds its ping up to WriteWait, and must not delay the others' past their pong
// deadline. A client whose last ping is still on its way is not pinged again, so there are
// never more pings under way than connections.
func (s *Server) pingAll() {
	for _, c := range s.connected() {
		if c.pinging.CompareAndSwap(false, true) {
			go func() {
				defer c.pinging.Store(false)
				c.ping()
			}()
		}
	}
}

// RunPurge deletes conversations past the retention period, hourly, until ctx ends.
func (s *Server) RunPurge(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if n, err := s.store.Purge(ctx, s.now().Add(-s.cfg.Retention)); err != nil && !errors.Is(err, context.Canceled) {
			s.log.Error("purge", "err", err)
		} else if n > 0 {
			s.log.Info("purged conversations past retention", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
