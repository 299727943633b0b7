package main

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/citybot-project/citybot/auth"
	"github.com/citybot-project/citybot/i18n"
	"github.com/citybot-project/citybot/knowledge"
	"github.com/citybot-project/citybot/tenant"
)

// The live chat bench's shape: issue 12's target names 50 agents and 500 citizens.
const (
	liveAgents   = 50
	liveCitizens = 500
	liveFor      = 60 * time.Second // the measurement
	liveEvery    = 2 * time.Second  // a citizen's mean pause between messages, jittered ±25 %
	liveGrace    = 10 * time.Second // after the measurement, for the last answers
	liveTarget   = 150 * time.Millisecond
	// liveRamp is how many citizens ask for a person at once while the agents take them. Every
	// change of the queue makes every agent's console read the queue again (and each waiting
	// citizen's place): a short queue keeps the setting up from swamping the relay.
	liveRamp     = 4
	liveSlug     = "musterstadt"
	livePassword = "bench-live-langes-Passwort"
	// liveText is what citizens write: no numbers or names, which redaction would change.
	liveText = "Ich habe noch eine Frage zu meinem Antrag, können Sie mir helfen?"
)

var (
	csrfFieldRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	dataWSRE    = regexp.MustCompile(`data-ws="([^"]+)"`)
)

// liveProbe is one citizen message's way to the agent and the agent's answer's way back, as
// the bench's clock saw it: citizens and agents are goroutines of this one process.
type liveProbe struct {
	sent     time.Time // the citizen sent `ask`
	acked    time.Time // the citizen got `sent`
	atAgent  time.Time // the agent's console got the `line`
	answered time.Time // the agent sent `message`
	back     time.Time // the citizen got `agent_message` "re:<id>"
}

// liveBench is what the citizens and agents of one run share.
type liveBench struct {
	mu     sync.Mutex
	probes map[string]*liveProbe
	closed bool // the grace is over: what arrives later counts as lost

	claimMu sync.Mutex
	claimed map[int64]int // chat → the agent that accepts it, so that each is accepted once

	stopping atomic.Bool // the bench closes the sockets: their errors are no news
	// Counters of what went differently from the plan.
	agentErrors, takenErrors, citizenErrors, refused atomic.Int64
	agentReconnects, citizenReconnects               atomic.Int64
	duplicates                                       atomic.Int64 // a line or answer seen twice
}

// probe applies f to the probe of id under the lock; false when there is none or it is too late.
func (b *liveBench) probe(id string, f func(p *liveProbe)) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	p := b.probes[id]
	if p == nil || b.closed {
		return false
	}
	f(p)
	return true
}

// benchLive measures the live chat across two instances: two `citybot serve` children on one
// scratch database, 50 agents at B's console and 500 citizens at A's chat, each citizen in a
// live chat with an agent; for a minute every citizen writes about every two seconds and their
// agent answers at once. It reports both ways' latency and the round trip against issue 12's
// target, the messages lost, and the servers' memory and the CPU time of each process.
func benchLive(ctx context.Context, e *env, site, baseURL string) error {
	db, drop, err := scratchDB(ctx, e, "citybot_bench_live")
	if err != nil {
		return err
	}
	defer drop()
	store := tenant.NewStore(db.Pool)
	town, err := store.Add(ctx, liveSlug, "Musterstadt", tenant.Settings{PrivacyURL: baseURL + "/datenschutz"})
	if err != nil {
		return err
	}
	ix, err := newIndex(ctx, e, db, town)
	if err != nil {
		return err
	}
	if _, err := ix.Ingest(ctx, knowledge.DirSource{Dir: site, BaseURL: baseURL, MaxBytes: e.cfg.MaxPageBytes}, e.cfg.IngestWorkers, nil); err != nil {
		return fmt.Errorf("ingest the sample town: %w", err)
	}
	// The desk always open, and nobody's wait ending while the agents take the queue.
	catalog, err := i18n.Load(nil)
	if err != nil {
		return err
	}
	if err := applyAll(&town.Settings, &town.Name, []string{"desk_hours=Mo-So 00:00-24:00", "desk_live_wait=3600"}, catalog); err != nil {
		return err
	}
	if err := store.Update(ctx, town); err != nil {
		return err
	}
	hash, err := auth.HashPassword(livePassword)
	if err != nil {
		return err
	}
	for i := range liveAgents {
		u, err := auth.AddUser(ctx, db.Pool, liveEmail(i), fmt.Sprintf("Agent %d", i+1), hash, false)
		if err != nil {
			return err
		}
		if err := auth.Grant(ctx, db.Pool, u.ID, town.ID, auth.RoleAgent); err != nil {
			return err
		}
	}

	addrA, err := freeLoopback()
	if err != nil {
		return err
	}
	addrB, err := freeLoopback()
	if err != nil {
		return err
	}
	// Each server's connections named (PGAPPNAME), so that the database's view tells them apart.
	env := []string{envDatabaseURL + "=" + connString(db.Pool.Config().ConnConfig), envTown + "=" + liveSlug}
	srvA, err := startServeChild(ctx, e, addrA, append(env, "PGAPPNAME=citybot-A")...)
	if err != nil {
		return err
	}
	defer srvA.stop()
	srvB, err := startServeChild(ctx, e, addrB, append(env, "PGAPPNAME=citybot-B")...)
	if err != nil {
		return err
	}
	defer srvB.stop()

	b := &liveBench{probes: map[string]*liveProbe{}, claimed: map[int64]int{}}
	var agents []*liveAgent
	var citizens []*liveCitizen
	// Before the deferred stops of the servers: the bench closes its sockets, and says so first.
	defer func() {
		b.stopping.Store(true)
		for _, c := range citizens {
			c.close()
		}
		for _, a := range agents {
			a.close()
		}
	}()

	fmt.Fprintf(e.stdout, "\nlive chat across two instances: %d agents at B's console, %d citizens at A's chat, one database\n",
		liveAgents, liveCitizens)
	start := time.Now()
	agents, err = signInAgents(ctx, b, "http://"+addrB, liveCitizens/liveAgents)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "  %d agents signed in at B and available in %.1f s\n", len(agents), time.Since(start).Seconds())

	start = time.Now()
	citizens = queueCitizens(ctx, b, "ws://"+addrA+"/t/"+liveSlug+"/ws")
	var joined []*liveCitizen
	for _, c := range citizens {
		if c.isJoined() {
			joined = append(joined, c)
		}
	}
	fmt.Fprintf(e.stdout, "  %d of %d citizens at A asked for a person and were accepted in %.1f s (%d refused, %d failed)\n",
		len(joined), liveCitizens, time.Since(start).Seconds(), b.refused.Load(), len(citizens)-len(joined)-int(b.refused.Load()))
	if len(joined) == 0 {
		return fmt.Errorf("bench --live: no citizen got a person")
	}
	agentsBefore, citizensBefore := b.agentReconnects.Load(), b.citizenReconnects.Load()

	rssA0, _ := rss(srvA.pid())
	rssB0, _ := rss(srvB.pid())
	cpu0 := liveCPU(e, srvA.pid(), srvB.pid())
	sampling, stopSampling := context.WithCancel(ctx)
	waits := make(chan liveWaits, 1)
	go func() { waits <- sampleWaits(sampling, db.Pool) }()
	start = time.Now()
	end := start.Add(liveFor)
	var wg sync.WaitGroup
	for _, c := range joined {
		wg.Go(func() { c.ask(ctx, b, end) })
	}
	wg.Wait()
	took := time.Since(start)
	stopSampling()
	cpu1 := liveCPU(e, srvA.pid(), srvB.pid())
	rssA1, _ := rss(srvA.pid())
	rssB1, _ := rss(srvB.pid())
	// The last answers, then what has not come counts as lost.
	for deadline := time.Now().Add(liveGrace); time.Now().Before(deadline) && !b.complete(); {
		time.Sleep(100 * time.Millisecond)
	}
	b.mu.Lock()
	b.closed = true
	probes := make([]liveProbe, 0, len(b.probes))
	for _, p := range b.probes {
		probes = append(probes, *p)
	}
	b.mu.Unlock()
	b.stopping.Store(true)

	s := summarize(probes)
	fmt.Fprintf(e.stdout, "  %d citizens writing every %s (±25 %%) for %s; each agent answers at once\n",
		len(joined), liveEvery, took.Round(time.Second))
	s.print(e, took)
	// A tail from a few stalls (another process taking the cores) looks different from a
	// steady overload: the round trip's p95 in each 10 seconds tells them apart.
	var windows []string
	for _, l := range byWindow(probes, start, 10*time.Second) {
		windows = append(windows, fmt.Sprintf("%.0f", ms(percentile(l, 0.95))))
	}
	fmt.Fprintf(e.stdout, "  round trip p95 in each 10 s, ms: %s\n", strings.Join(windows, ", "))
	fmt.Fprintf(e.stdout, "  sockets reopened: %d agents' consoles and %d citizens' while setting up, %d and %d while measuring; console errors %d (%d \"taken\"), citizen errors %d, duplicates %d\n",
		agentsBefore, citizensBefore, b.agentReconnects.Load()-agentsBefore, b.citizenReconnects.Load()-citizensBefore,
		b.agentErrors.Load(), b.takenErrors.Load(), b.citizenErrors.Load(), b.duplicates.Load())
	fmt.Fprintf(e.stdout, "  servers' memory: A %d -> %d MiB resident, B %d -> %d MiB\n", rssA0>>20, rssA1>>20, rssB0>>20, rssB1>>20)
	fmt.Fprintf(e.stdout, "  CPU while measuring (of %d cores x %.0f s = %.0f s): %s\n", runtime.NumCPU(), took.Seconds(),
		float64(runtime.NumCPU())*took.Seconds(), cpu1.since(cpu0))
	(<-waits).print(e)
	return nil
}

// liveWaits are the servers' database connections as pg_stat_activity showed them, sampled
// while measuring: per server (application name), how many were in each state on average.
type liveWaits struct {
	samples int
	sum     map[[2]string]int // {server, state or wait event} → connections summed over the samples
}

// sampleWaits samples the servers' connections every 100 ms (rarely enough not to load the
// database itself) until ctx ends. An active one names what it waits for (a lock, the WAL's
// flush, ...) or runs ("CPU"); "idle in transaction" is one waiting for its server's next
// statement; "idle" is free in the pool (or the relay's LISTEN).
func sampleWaits(ctx context.Context, pool *pgxpool.Pool) liveWaits {
	w := liveWaits{sum: map[[2]string]int{}}
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return w
		case <-t.C:
		}
		rows, err := pool.Query(ctx, `SELECT application_name,
			CASE WHEN state = 'active' THEN coalesce(wait_event_type || ':' || wait_event, 'CPU') ELSE state END, count(*)
			FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend'
			AND application_name LIKE 'citybot-%' GROUP BY 1, 2`)
		if err != nil {
			continue
		}
		for rows.Next() {
			var app, state string
			var n int
			if rows.Scan(&app, &state, &n) == nil {
				w.sum[[2]string{app, state}] += n
			}
		}
		rows.Close()
		w.samples++
	}
}

func (w liveWaits) print(e *env) {
	if w.samples == 0 {
		return
	}
	keys := slices.SortedFunc(maps.Keys(w.sum), func(a, b [2]string) int {
		if c := strings.Compare(a[0], b[0]); c != 0 {
			return c
		}
		return w.sum[b] - w.sum[a]
	})
	fmt.Fprintf(e.stdout, "  the servers' database connections, %d samples while measuring (mean number in each state):\n", w.samples)
	server := ""
	var line []string
	flush := func() {
		if server != "" {
			fmt.Fprintf(e.stdout, "    %s: %s\n", strings.TrimPrefix(server, "citybot-"), strings.Join(line, ", "))
		}
	}
	for _, k := range keys {
		if k[0] != server {
			flush()
			server, line = k[0], nil
		}
		line = append(line, fmt.Sprintf("%s %.2f", k[1], float64(w.sum[k])/float64(w.samples)))
	}
	flush()
}

func liveEmail(i int) string { return fmt.Sprintf("agent%02d@musterstadt.example", i+1) }

// complete tells whether every message sent has come back.
func (b *liveBench) complete() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, p := range b.probes {
		if p.back.IsZero() {
			return false
		}
	}
	return true
}

// liveStats sums the probes up.
type liveStats struct {
	sent, acked, atAgent, answered, back int
	toAgent, toCitizen, round, ack       []time.Duration
	// afterCommit is how much later the agent got a message than its citizen got `sent`: both
	// leave A once the message is committed, so it is the relay's part (NOTIFY, B's hub, the
	// console) apart from storing it. It may be negative.
	afterCommit []time.Duration
}

func summarize(ps []liveProbe) liveStats {
	var s liveStats
	for _, p := range ps {
		if p.sent.IsZero() {
			continue
		}
		s.sent++
		if !p.acked.IsZero() {
			s.acked++
			s.ack = append(s.ack, p.acked.Sub(p.sent))
		}
		if !p.atAgent.IsZero() {
			s.atAgent++
			s.toAgent = append(s.toAgent, p.atAgent.Sub(p.sent))
			if !p.acked.IsZero() {
				s.afterCommit = append(s.afterCommit, p.atAgent.Sub(p.acked))
			}
		}
		if !p.answered.IsZero() {
			s.answered++
		}
		if !p.back.IsZero() {
			s.back++
			s.round = append(s.round, p.back.Sub(p.sent))
			if !p.answered.IsZero() {
				s.toCitizen = append(s.toCitizen, p.back.Sub(p.answered))
			}
		}
	}
	return s
}

// byWindow groups the round trips by when they were sent, in windows of d from start.
func byWindow(ps []liveProbe, start time.Time, d time.Duration) [][]time.Duration {
	var out [][]time.Duration
	for _, p := range ps {
		if p.sent.IsZero() || p.back.IsZero() || p.sent.Before(start) {
			continue
		}
		i := int(p.sent.Sub(start) / d)
		for len(out) <= i {
			out = append(out, nil)
		}
		out[i] = append(out[i], p.back.Sub(p.sent))
	}
	return out
}

// met says whether the p95 of l is within the target.
func met(l []time.Duration) string {
	if len(l) == 0 {
		return "no data"
	}
	if percentile(l, 0.95) <= liveTarget {
		return "met"
	}
	return "NOT met"
}

func (s liveStats) print(e *env, took time.Duration) {
	fmt.Fprintf(e.stdout, "  %d messages sent (%.0f/s), %d acknowledged (`sent`), %d reached the agent, %d answered, %d answers back; lost: %d (no answer within %s after the end; %d never reached the agent)\n",
		s.sent, float64(s.sent)/took.Seconds(), s.acked, s.atAgent, s.answered, s.back, s.sent-s.back, liveGrace, s.sent-s.atAgent)
	fmt.Fprintf(e.stdout, "    %-32s %9s %9s %9s %9s   p95 ≤ %d ms\n", "", "p50", "p95", "p99", "max", liveTarget.Milliseconds())
	row := func(name string, l []time.Duration, target bool) {
		if len(l) == 0 {
			fmt.Fprintf(e.stdout, "    %-32s no data\n", name)
			return
		}
		verdict := ""
		if target {
			verdict = met(l)
		}
		fmt.Fprintf(e.stdout, "    %-32s %6.1f ms %6.1f ms %6.1f ms %6.1f ms   %s\n", name,
			ms(percentile(l, 0.5)), ms(percentile(l, 0.95)), ms(percentile(l, 0.99)), ms(percentile(l, 1)), verdict)
	}
	row("citizen -> agent (A -> B)", s.toAgent, true)
	row("agent -> citizen (B -> A)", s.toCitizen, true)
	row("round trip", s.round, true)
	row("`sent` acknowledgement (A)", s.ack, false)
	row("at the agent after `sent`", s.afterCommit, false)
	all := "met"
	for _, l := range [][]time.Duration{s.toAgent, s.toCitizen, s.round} {
		if met(l) != "met" {
			all = "NOT met"
		}
	}
	if s.sent != s.back {
		all += fmt.Sprintf(", and %d messages lost", s.sent-s.back)
	}
	fmt.Fprintf(e.stdout, "  target (p95 ≤ %d ms each way and round trip): %s\n", liveTarget.Milliseconds(), all)
}

// liveAgent is a member of staff at B's live chat console.
type liveAgent struct {
	n      int
	base   string
	client *http.Client
	wsURL  string
	take   int // how many citizens they accept

	mu sync.Mutex // guards ws against the bench closing it
	ws *websocket.Conn
	// Only the agent's own goroutine touches these.
	chats   map[int64]bool
	pending map[int64]bool
}

// signInAgents signs the agents in at base, opens their live chat sockets and makes them
// available; each then accepts take citizens from the queue and answers what they write.
func signInAgents(ctx context.Context, b *liveBench, base string, take int) ([]*liveAgent, error) {
	agents := make([]*liveAgent, liveAgents)
	errs := make([]error, liveAgents)
	sem := make(chan struct{}, 4) // argon2id costs 19 MiB and some CPU per sign-in
	var wg sync.WaitGroup
	for i := range liveAgents {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			a := &liveAgent{n: i + 1, base: base, take: take, chats: map[int64]bool{}, pending: map[int64]bool{}}
			agents[i] = a
			errs[i] = a.signIn(ctx)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return agents, fmt.Errorf("agent %d: %w", i+1, err)
		}
	}
	for _, a := range agents {
		go a.run(ctx, b)
	}
	return agents, nil
}

// signIn signs the agent in as the login form does (its CSRF cookie and field), reads the live
// chat page's socket address, opens it and switches "available" on.
func (a *liveAgent) signIn(ctx context.Context) error {
	jar, _ := cookiejar.New(nil)
	a.client = &http.Client{Jar: jar, Timeout: time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	page, _, err := a.get(ctx, "/console/login")
	if err != nil {
		return err
	}
	m := csrfFieldRE.FindStringSubmatch(page)
	if m == nil {
		return fmt.Errorf("the login form has no csrf field")
	}
	form := url.Values{"email": {liveEmail(a.n - 1)}, "password": {livePassword}, "csrf": {html.UnescapeString(m[1])}}
	req, err := http.NewRequestWithContext(ctx, "POST", a.base+"/console/login", strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := a.client.Do(req)
	if err != nil {
		return fmt.Errorf("sign in: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return fmt.Errorf("sign in: HTTP %d", resp.StatusCode)
	}
	page, code, err := a.get(ctx, "/console/t/"+liveSlug+"/live")
	if err != nil {
		return err
	}
	if m = dataWSRE.FindStringSubmatch(page); m == nil {
		return fmt.Errorf("the live chat page (HTTP %d) has no socket", code)
	}
	a.wsURL = "ws" + strings.TrimPrefix(a.base, "http") + html.UnescapeString(m[1])
	ws, err := a.dial(ctx)
	if err != nil {
		return err
	}
	if err := ws.WriteJSON(map[string]any{"type": "presence", "online": true, "name": fmt.Sprintf("Agent %d", a.n)}); err != nil {
		ws.Close()
		return err
	}
	for {
		var out struct{ Type, Message string }
		if err := ws.ReadJSON(&out); err != nil {
			ws.Close()
			return fmt.Errorf("waiting for presence: %w", err)
		}
		if out.Type == "presence" {
			break
		}
		if out.Type == "error" {
			ws.Close()
			return fmt.Errorf("presence: %s", out.Message)
		}
	}
	ws.SetReadDeadline(time.Time{})
	a.mu.Lock()
	a.ws = ws
	a.mu.Unlock()
	return nil
}

func (a *liveAgent) get(ctx context.Context, path string) (string, int, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", a.base+path, nil)
	if err != nil {
		return "", 0, err
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return "", 0, fmt.Errorf("GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", resp.StatusCode, fmt.Errorf("GET %s: %w", path, err)
	}
	return string(body), resp.StatusCode, nil
}

// dial opens the staff socket as the console's page does: the session cookie, the page's token,
// the console's own origin.
func (a *liveAgent) dial(ctx context.Context) (*websocket.Conn, error) {
	d := websocket.Dialer{Jar: a.client.Jar, HandshakeTimeout: 30 * time.Second}
	ws, _, err := d.DialContext(ctx, a.wsURL, http.Header{"Origin": {a.base}})
	if err != nil {
		return nil, fmt.Errorf("open the live chat socket: %w", err)
	}
	ws.SetReadDeadline(time.Now().Add(30 * time.Second))
	return ws, nil
}

func (a *liveAgent) close() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ws != nil {
		a.ws.Close()
	}
}

// staffMsg is what the console's socket sends, as far as the bench reads it.
type staffMsg struct {
	Type    string      `json:"type"`
	Chat    int64       `json:"chat"`
	Queue   []staffItem `json:"queue"`
	Chats   []staffItem `json:"chats"`
	Joined  *staffItem  `json:"joined"`
	Line    *staffLine  `json:"line"`
	Message string      `json:"message"`
}

type staffItem struct {
	Chat  int64       `json:"chat"`
	Lines []staffLine `json:"lines"`
}

type staffLine struct {
	ID   int64           `json:"id"`
	Role string          `json:"role"`
	Body json.RawMessage `json:"body"`
}

// run reads the agent's socket and acts on it: it accepts from the queue until the agent has
// their share, and answers each citizen's line at once. The agent's writes all happen here, so
// the socket has one writer. A socket the console closes (an agent fallen behind the relay is
// dropped) is opened again, as the page's script does.
func (a *liveAgent) run(ctx context.Context, b *liveBench) {
	a.mu.Lock()
	ws := a.ws
	a.mu.Unlock()
	for {
		_, frame, err := ws.ReadMessage()
		if err != nil {
			if b.stopping.Load() || ctx.Err() != nil {
				return
			}
			b.agentReconnects.Add(1)
			if ws = a.reopen(ctx, b); ws == nil {
				return
			}
			continue
		}
		var m staffMsg
		if err := json.Unmarshal(frame, &m); err != nil {
			b.agentErrors.Add(1)
			continue
		}
		switch m.Type {
		case "state": // after a reconnect: the agent's chats with what was said, and the queue
			a.pending = map[int64]bool{}
			for _, ch := range m.Chats {
				a.chats[ch.Chat] = true
				for _, l := range ch.Lines {
					a.answer(ws, b, ch.Chat, l, true)
				}
			}
			b.releaseAll(a.n, a.chats)
			a.accept(ws, b, m.Queue)
		case "queue":
			a.accept(ws, b, m.Queue)
		case "joined":
			if m.Joined != nil {
				delete(a.pending, m.Joined.Chat)
				a.chats[m.Joined.Chat] = true
			}
		case "error":
			b.agentErrors.Add(1)
			if a.pending[m.Chat] {
				// Taken by someone else, or the citizen left: another may have it.
				b.takenErrors.Add(1)
				delete(a.pending, m.Chat)
				b.release(m.Chat, a.n)
			}
		case "line":
			if m.Line != nil {
				a.answer(ws, b, m.Chat, *m.Line, false)
			}
		}
	}
}

// reopen opens the agent's socket again; nil when the bench ends meanwhile or it cannot.
func (a *liveAgent) reopen(ctx context.Context, b *liveBench) *websocket.Conn {
	for try := 0; try < 20 && !b.stopping.Load() && ctx.Err() == nil; try++ {
		ws, err := a.dial(ctx)
		if err == nil {
			ws.SetReadDeadline(time.Time{})
			a.mu.Lock()
			old := a.ws
			a.ws = ws
			a.mu.Unlock()
			old.Close()
			return ws
		}
		time.Sleep(500 * time.Millisecond)
	}
	return nil
}

// accept takes chats from the queue as listed until the agent has their share; the bench's
// claims make sure no two agents ask for the same chat.
func (a *liveAgent) accept(ws *websocket.Conn, b *liveBench, queue []staffItem) {
	for _, q := range queue {
		if len(a.chats)+len(a.pending) >= a.take {
			return
		}
		if a.chats[q.Chat] || a.pending[q.Chat] || !b.claim(q.Chat, a.n) {
			continue
		}
		a.pending[q.Chat] = true
		if err := ws.WriteJSON(map[string]any{"type": "accept", "chat": q.Chat}); err != nil {
			return // the reader meets the broken socket next
		}
	}
}

// answer replies to a citizen's line of the bench at once with "re:<its id>". A line seen
// before is a duplicate unless it is replayed (the transcript after a reconnect).
func (a *liveAgent) answer(ws *websocket.Conn, b *liveBench, chat int64, l staffLine, replay bool) {
	if l.Role != "citizen" {
		return
	}
	var body struct{ ID string }
	if json.Unmarshal(l.Body, &body) != nil || body.ID == "" {
		return
	}
	now := time.Now()
	fresh := false
	known := b.probe(body.ID, func(p *liveProbe) {
		if p.atAgent.IsZero() {
			p.atAgent, p.answered, fresh = now, now, true
		}
	})
	if !fresh {
		if known && !replay {
			b.duplicates.Add(1)
		}
		return
	}
	if err := ws.WriteJSON(map[string]any{"type": "message", "chat": chat, "text": "re:" + body.ID}); err != nil {
		return
	}
}

func (b *liveBench) claim(chat int64, agent int) bool {
	b.claimMu.Lock()
	defer b.claimMu.Unlock()
	if _, ok := b.claimed[chat]; ok {
		return false
	}
	b.claimed[chat] = agent
	return true
}

func (b *liveBench) release(chat int64, agent int) {
	b.claimMu.Lock()
	defer b.claimMu.Unlock()
	if b.claimed[chat] == agent {
		delete(b.claimed, chat)
	}
}

// releaseAll gives up agent's claims other than their chats (accepts lost with a socket).
func (b *liveBench) releaseAll(agent int, keep map[int64]bool) {
	b.claimMu.Lock()
	defer b.claimMu.Unlock()
	for chat, by := range b.claimed {
		if by == agent && !keep[chat] {
			delete(b.claimed, chat)
		}
	}
}

// liveCitizen is a citizen at A's chat who asks for a person.
type liveCitizen struct {
	i     int
	url   string
	token string

	mu     sync.Mutex // one writer at a time; guards ws while the reader reconnects
	ws     *websocket.Conn
	joined chan struct{} // closed when a person accepted
	once   sync.Once
}

func (c *liveCitizen) isJoined() bool {
	select {
	case <-c.joined:
		return true
	default:
		return false
	}
}

func (c *liveCitizen) conn() *websocket.Conn {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ws
}

func (c *liveCitizen) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ws != nil {
		c.ws.Close()
	}
}

func (c *liveCitizen) write(m any) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ws == nil {
		return fmt.Errorf("not connected")
	}
	c.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return c.ws.WriteJSON(m)
}

// queueCitizens connects the citizens to url, liveRamp at a time, each asking for a person and
// waiting until one accepted them.
func queueCitizens(ctx context.Context, b *liveBench, url string) []*liveCitizen {
	citizens := make([]*liveCitizen, liveCitizens)
	sem := make(chan struct{}, liveRamp)
	var wg sync.WaitGroup
	for i := range liveCitizens {
		c := &liveCitizen{i: i, url: url, joined: make(chan struct{})}
		citizens[i] = c
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := c.connect(ctx, ""); err != nil {
				b.citizenErrors.Add(1)
				return
			}
			go c.read(ctx, b)
			if err := c.write(map[string]any{"type": "live"}); err != nil {
				b.citizenErrors.Add(1)
				return
			}
			select {
			case <-c.joined:
			case <-time.After(2 * time.Minute):
			case <-ctx.Done():
			}
		})
	}
	wg.Wait()
	return citizens
}

// connect opens the citizen's socket (resuming with token) and reads the welcome.
func (c *liveCitizen) connect(ctx context.Context, token string) error {
	u := c.url
	if token != "" {
		u += "?resume=" + url.QueryEscape(token)
	}
	ws, _, err := websocket.DefaultDialer.DialContext(ctx, u, nil)
	if err != nil {
		return err
	}
	ws.SetReadDeadline(time.Now().Add(30 * time.Second))
	var w struct{ Type, Token string }
	if err := ws.ReadJSON(&w); err != nil || w.Type != "welcome" {
		ws.Close()
		return fmt.Errorf("no welcome (%q): %v", w.Type, err)
	}
	ws.SetReadDeadline(time.Time{})
	c.mu.Lock()
	old := c.ws
	c.ws, c.token = ws, w.Token
	c.mu.Unlock()
	if old != nil {
		old.Close()
	}
	return nil
}

// citizenMsg is what the chat sends a citizen, as far as the bench reads it.
type citizenMsg struct {
	Type     string            `json:"type"`
	ReplyTo  string            `json:"reply_to"`
	Text     string            `json:"text"`
	Reason   string            `json:"reason"`
	Messages []json.RawMessage `json:"messages"`
}

// read reads the citizen's socket until the bench ends; a socket the server closed (a citizen
// fallen behind the relay is dropped) is resumed with the token, as the widget does.
func (c *liveCitizen) read(ctx context.Context, b *liveBench) {
	for {
		ws := c.conn()
		_, frame, err := ws.ReadMessage()
		now := time.Now()
		if err != nil {
			if b.stopping.Load() || ctx.Err() != nil {
				return
			}
			b.citizenReconnects.Add(1)
			ok := false
			for try := 0; try < 20 && !ok && !b.stopping.Load(); try++ {
				if ok = c.connect(ctx, c.token) == nil; !ok {
					time.Sleep(500 * time.Millisecond)
				}
			}
			if !ok {
				return
			}
			continue
		}
		var m citizenMsg
		if err := json.Unmarshal(frame, &m); err != nil {
			b.citizenErrors.Add(1)
			continue
		}
		c.got(b, m, now, false)
	}
}

// got acts on a message from the chat; replay: it comes again in a resumed history.
func (c *liveCitizen) got(b *liveBench, m citizenMsg, now time.Time, replay bool) {
	switch m.Type {
	case "agent_joined":
		c.once.Do(func() { close(c.joined) })
	case "sent":
		b.probe(m.ReplyTo, func(p *liveProbe) {
			if p.acked.IsZero() {
				p.acked = now
			}
		})
	case "agent_message":
		id, ok := strings.CutPrefix(m.Text, "re:")
		if !ok {
			return
		}
		fresh := false
		known := b.probe(id, func(p *liveProbe) {
			if p.back.IsZero() {
				p.back, fresh = now, true
			}
		})
		if known && !fresh && !replay {
			b.duplicates.Add(1)
		}
	case "history": // after a reconnect: what was said meanwhile is here
		for _, raw := range m.Messages {
			var h citizenMsg
			if json.Unmarshal(raw, &h) == nil && (h.Type == "agent_joined" || h.Type == "agent_message") {
				c.got(b, h, now, true)
			}
		}
	case "handoff":
		if m.Reason == "no_agent" {
			b.refused.Add(1)
		}
	case "error":
		b.citizenErrors.Add(1)
	}
}

// ask writes to the person every liveEvery or so until end, each message a probe.
func (c *liveCitizen) ask(ctx context.Context, b *liveBench, end time.Time) {
	rng := rand.New(rand.NewPCG(uint64(c.i), 12))
	// Spread the first messages over one pause, so that the citizens do not write in step.
	time.Sleep(time.Duration(rng.Int64N(int64(liveEvery))))
	for k := 0; time.Now().Before(end) && ctx.Err() == nil; k++ {
		id := "q" + strconv.Itoa(c.i) + "-" + strconv.Itoa(k)
		b.mu.Lock()
		b.probes[id] = &liveProbe{sent: time.Now()}
		b.mu.Unlock()
		if err := c.write(map[string]any{"type": "ask", "id": id, "text": liveText}); err != nil {
			b.citizenErrors.Add(1)
		}
		time.Sleep(liveEvery*3/4 + time.Duration(rng.Int64N(int64(liveEvery/2))))
	}
}

// liveCPUTimes are the CPU seconds used so far by the two servers, this process (the citizens
// and agents) and the embedded PostgreSQL (-1 when it is not ours to see: DATABASE_URL).
type liveCPUTimes struct{ a, b, bench, pg float64 }

func liveCPU(e *env, a, b int) liveCPUTimes {
	t := liveCPUTimes{a: cpuSeconds(a), b: cpuSeconds(b), bench: cpuSeconds(os.Getpid()), pg: -1}
	if e.cfg.DatabaseURL == "" {
		raw, err := os.ReadFile(filepath.Join(e.cfg.DataDir, "pg", "postmaster.pid"))
		if err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(raw), "\n", 2)[0])); err == nil {
				t.pg = treeCPUSeconds(pid)
			}
		}
	}
	return t
}

func (t liveCPUTimes) since(t0 liveCPUTimes) string {
	s := fmt.Sprintf("A %.1f s, B %.1f s, citizens and agents (this process) %.1f s", t.a-t0.a, t.b-t0.b, t.bench-t0.bench)
	if t.pg >= 0 && t0.pg >= 0 {
		s += fmt.Sprintf(", PostgreSQL %.1f s", t.pg-t0.pg)
	}
	return s
}

// clockTicks is USER_HZ, the unit of /proc's CPU times: 100 on every Linux citybot runs on.
const clockTicks = 100

// procStat is a process's /proc/PID/stat fields after the command's name (which may hold spaces
// and parentheses): [0] state, [1] ppid, [11] utime, [12] stime.
func procStat(pid int) []string {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil
	}
	s := string(raw)
	return strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
}

// cpuSeconds is the user and system CPU time pid has used; 0 when it cannot be read.
func cpuSeconds(pid int) float64 {
	return statCPU(procStat(pid))
}

func statCPU(f []string) float64 {
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return float64(u+s) / clockTicks
}

// treeCPUSeconds is the CPU time of pid and its children now alive: the postmaster and its
// backends. A backend that ended meanwhile takes its time with it; the pools keep theirs.
func treeCPUSeconds(pid int) float64 {
	total := cpuSeconds(pid)
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return total
	}
	parent := strconv.Itoa(pid)
	for _, d := range entries {
		child, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		if f := procStat(child); len(f) > 1 && f[1] == parent {
			total += statCPU(f)
		}
	}
	return total
}
