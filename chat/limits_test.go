package chat

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/citybot-project/citybot/bot"
	"github.com/citybot-project/citybot/conversation"
	"github.com/citybot-project/citybot/i18n"
	"github.com/citybot-project/citybot/internal/testsite"
	"github.com/citybot-project/citybot/knowledge"
	"github.com/citybot-project/citybot/privacy"
)

// goroutinesSettle waits until at most want goroutines run, and returns how many do.
func goroutinesSettle(want int, within time.Duration) int {
	deadline := time.Now().Add(within)
	for {
		n := runtime.NumGoroutine()
		if n <= want || time.Now().After(deadline) {
			return n
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Thousands of connections at once from one address: AddrConns of them are let in, the rest are
// refused at once, before the upgrade, and hold no goroutine or memory afterwards.
func TestAddrConnsBoundsConnectionsPerAddress(t *testing.T) {
	const limit, dials = 20, 2000
	h := newHarness(t, ServerConfig{Addrs: NewAddrLimits(0, 0, limit)})
	mustDial(t, h, "").Close() // the harness's first connection warms the index and the store
	goroutinesSettle(0, 200*time.Millisecond)
	runtime.GC()
	base := runtime.NumGoroutine()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)

	var (
		mu       sync.Mutex
		open     []*websocket.Conn
		refused  int
		slowest  time.Duration
		failures []error
	)
	start := time.Now()
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	for range dials {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			t0 := time.Now()
			c, resp, err := h.dial(t, "", nil)
			took := time.Since(t0)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				open = append(open, c)
			case resp != nil && resp.StatusCode == http.StatusTooManyRequests:
				refused++
				slowest = max(slowest, took)
			default:
				failures = append(failures, err)
			}
		})
	}
	wg.Wait()
	total := time.Since(start)
	t.Cleanup(func() {
		for _, c := range open {
			c.Close()
		}
	})
	t.Logf("%d dials in %v: %d open, %d refused (slowest refusal %v), %d failed", dials, total, len(open), refused, slowest, len(failures))
	if len(failures) > 0 {
		t.Fatalf("dials failed otherwise than refused: %v", failures[0])
	}
	if len(open) != limit || refused != dials-limit {
		t.Fatalf("%d open, %d refused; want %d open", len(open), refused, limit)
	}
	if slowest > 2*time.Second {
		t.Errorf("a refusal took %v", slowest)
	}
	// What is left running: a reader for each open connection, nothing for the refused ones.
	if n := goroutinesSettle(base+2*limit, 2*time.Second); n > base+2*limit {
		t.Errorf("%d goroutines, %d before: the refused connections left some behind", n, base)
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if grew := int64(after.HeapInuse) - int64(before.HeapInuse); grew > 32<<20 {
		t.Errorf("the heap grew by %d MB", grew>>20)
	}
	// A connection closed frees its place.
	open[0].Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, _, err := h.dial(t, "", nil)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no place after a connection closed: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Other addresses are not counted against this one.
	if !h.srv.openConn("192.0.2.1") {
		t.Error("another address refused")
	}
}

// A client that sends and never reads: the server's writes to it stop within WriteWait, it is
// dropped, and nobody else waits for it meanwhile.
func TestClientThatNeverReadsIsDropped(t *testing.T) {
	// Long enough that the bounds below, each well under it, hold on a loaded machine under
	// -race, and still tell a held-up client (which would wait all of it) apart.
	const writeWait = 5 * time.Second
	// One answer a second: the rest of the questions get a rate_limited error, cheap replies
	// that fill the connection's buffers fast.
	h := newHarness(t, ServerConfig{WriteWait: writeWait, ConnRate: 1, ConnBurst: 1})
	healthy := mustDial(t, h, "")
	read(t, healthy)
	base := len(h.srv.connected())
	goroutines := runtime.NumGoroutine()

	// A client whose socket takes little: the server's writes block sooner.
	d := *websocket.DefaultDialer
	d.NetDialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetReadBuffer(4096)
		}
		return c, err
	}
	slow, _, err := d.Dial("ws"+strings.TrimPrefix(h.http.URL, "http")+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	var sent atomic.Int64
	writerDone := make(chan error, 1)
	go func() {
		frame := []byte(`{"type":"ask","id":"q","text":"Was kostet ein Reisepass?"}`)
		for {
			slow.SetWriteDeadline(time.Now().Add(20 * time.Second))
			if err := slow.WriteMessage(websocket.TextMessage, frame); err != nil {
				writerDone <- err
				return
			}
			sent.Add(1)
		}
	}()

	// The server's write to the slow client blocks once the buffers between them are full; its
	// reader then reads no more, and the client's own writes stall soon after.
	var stalled time.Time
	for last, lastChange := int64(-1), time.Now(); stalled.IsZero(); time.Sleep(10 * time.Millisecond) {
		n := sent.Load()
		switch {
		case n != last:
			last, lastChange = n, time.Now()
		case time.Since(lastChange) > 100*time.Millisecond:
			stalled = lastChange
		}
		if time.Since(lastChange) > 10*time.Second {
			t.Fatal("never stalled")
		}
	}
	t.Logf("the client's writes stall after %d frames", sent.Load())

	// While the server waits on the slow client, pings go out at once and other clients are
	// answered.
	var pinged atomic.Bool
	healthy.SetPingHandler(func(string) error { pinged.Store(true); return nil })
	t0 := time.Now()
	h.srv.pingAll()
	if took := time.Since(t0); took > writeWait/2 {
		t.Errorf("pinging took %v: the slow client held up the others' pings", took)
	}
	send(t, healthy, map[string]any{"type": "ask", "id": "h1", "text": "Was kostet ein Reisepass?"})
	for {
		m := read(t, healthy)
		if m["reply_to"] == "h1" {
			break
		}
	}
	if took := time.Since(t0); took > writeWait/2 {
		t.Errorf("the other client's answer took %v", took)
	}
	if !pinged.Load() {
		t.Error("the other client was not pinged")
	}

	// The slow client is dropped within WriteWait of the stall.
	for len(h.srv.connected()) > base && time.Since(stalled) < writeWait+10*time.Second {
		time.Sleep(10 * time.Millisecond)
	}
	took := time.Since(stalled)
	t.Logf("dropped %v after the stall", took)
	if len(h.srv.connected()) > base {
		t.Fatalf("the client that never reads is still connected %v after the stall", took)
	}
	if took > writeWait+5*time.Second {
		t.Errorf("dropped %v after the stall, want about %v", took, writeWait)
	}
	select {
	case err := <-writerDone:
		t.Logf("the client's writes end: %v", err)
	case <-time.After(25 * time.Second):
		t.Error("the server still reads from the dropped client")
	}
	if n := goroutinesSettle(goroutines, 2*time.Second); n > goroutines+2 {
		t.Errorf("%d goroutines, %d before", n, goroutines)
	}
	// The healthy client is still served.
	send(t, healthy, map[string]any{"type": "ask", "id": "h2", "text": "Öffnungszeiten Bürgerbüro"})
	for {
		if m := read(t, healthy); m["reply_to"] == "h2" {
			break
		}
	}
}

// TestAddrLimitsSharedByTowns: the servers of two towns share one AddrLimits, so a client's
// connections at one town count at the other; one closed makes room at either.
func TestAddrLimitsSharedByTowns(t *testing.T) {
	shared := NewAddrLimits(0, 0, 3)
	a, b := newHarness(t, ServerConfig{Addrs: shared}), newHarness(t, ServerConfig{Addrs: shared})
	first := mustDial(t, a, "")
	mustDial(t, a, "")
	mustDial(t, b, "")
	c, resp, err := b.dial(t, "", nil)
	if err == nil {
		c.Close()
		t.Fatal("a fourth connection across the two towns was let in")
	}
	if resp == nil || resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("the fourth connection: %v %v, want HTTP 429", resp, err)
	}
	first.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, _, err := b.dial(t, "", nil)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no room at the other town after a connection closed: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// downIndex is the index with its database gone: every search fails as a dial does.
type downIndex struct{ *knowledge.Index }

func (downIndex) Search(context.Context, knowledge.Query) ([]knowledge.Hit, error) {
	return nil, &net.OpError{Op: "dial", Net: "unix", Err: errors.New("connect: connection refused")}
}

// TestUnavailableSaysWhatToDo: a question that meets a database outage gets the "unavailable"
// error in the citizen's language, with the town's phone number, and the socket stays open.
func TestUnavailableSaysWhatToDo(t *testing.T) {
	h := newHarness(t, ServerConfig{})
	_, ix := testsite.Index(t)
	cat, _ := i18n.Load(nil)
	eng := bot.NewEngine(downIndex{ix}, ix, cat, h.srv.city, bot.EngineConfig{MinConfidence: 0.3}, quiet)
	h.srv.turns = conversation.NewService(h.srv.store, eng, privacy.NewRedactor(h.clock.now))
	for lang, want := range map[string]string{"de": "Bitte senden Sie Ihre Frage in ein paar Minuten noch einmal, oder rufen Sie uns an: 115.",
		"en": "Please send your question again in a few minutes, or call us: 115."} {
		c := mustDial(t, h, "?lang="+lang)
		read(t, c)
		for i := range 2 {
			send(t, c, map[string]any{"type": "ask", "id": fmt.Sprint("q", i), "text": "Was kostet ein Reisepass?", "lang": lang})
			m := read(t, c)
			if m["type"] != "error" || m["code"] != "unavailable" || m["reply_to"] != fmt.Sprint("q", i) || !strings.Contains(m["message"].(string), want) {
				t.Errorf("%s, question %d: %v", lang, i, m)
			}
		}
	}
}
