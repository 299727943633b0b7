package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"

	"github.com/citybot-project/citybot/eval"
)

// benchFaults measures what citizens meet when the embedded database is killed under load: a
// `citybot serve` child answers citizens who ask every second or so; the database's postmaster
// is killed (SIGKILL) a third of the way in. Every question must get a reply (an answer, or
// "unavailable" while the database is away) within 15 seconds; it reports how many did not
// (lost), how many citizens were told, and how long after the kill answers came again.
func benchFaults(ctx context.Context, e *env, citizens int, d time.Duration, qs []eval.Question) error {
	if e.cfg.DatabaseURL != "" {
		return fmt.Errorf("bench --faults kills the embedded database: unset %s", envDatabaseURL)
	}
	addr, err := freeLoopback()
	if err != nil {
		return err
	}
	srv, err := startServeChild(ctx, e, addr, envLogLevel+"=error")
	if err != nil {
		return err
	}
	defer srv.stop()
	texts := inScope(qs)
	var (
		asked, answered, unavailable, lost, reconnects atomic.Int64
		mu                                             sync.Mutex
		told                                           = map[int]bool{}
		killedAt, firstAfter                           time.Time
	)
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for i := range citizens {
		wg.Go(func() {
			var c *websocket.Conn
			defer func() {
				if c != nil {
					c.Close()
				}
			}()
			for k := 0; time.Now().Before(deadline) && ctx.Err() == nil; k++ {
				if c == nil {
					var err error
					if c, _, err = websocket.DefaultDialer.DialContext(ctx, "ws://"+addr+"/ws", nil); err != nil {
						c = nil
						time.Sleep(200 * time.Millisecond)
						continue
					}
					var w map[string]any
					c.SetReadDeadline(time.Now().Add(15 * time.Second))
					if err := c.ReadJSON(&w); err != nil || w["type"] != "welcome" {
						c.Close()
						c = nil
						reconnects.Add(1)
						time.Sleep(200 * time.Millisecond)
						continue
					}
				}
				id := fmt.Sprintf("c%d-%d", i, k)
				sent := time.Now()
				asked.Add(1)
				if err := c.WriteJSON(map[string]any{"type": "ask", "id": id, "text": texts[(i+k)%len(texts)]}); err != nil {
					lost.Add(1)
					c.Close()
					c = nil
					reconnects.Add(1)
					continue
				}
				c.SetReadDeadline(time.Now().Add(15 * time.Second))
				for {
					var m map[string]any
					if err := c.ReadJSON(&m); err != nil {
						lost.Add(1)
						c.Close()
						c = nil
						reconnects.Add(1)
						break
					}
					if m["reply_to"] != id {
						continue
					}
					switch {
					case m["type"] == "answer" || m["type"] == "handoff":
						answered.Add(1)
						mu.Lock()
						if !killedAt.IsZero() && sent.After(killedAt) && firstAfter.IsZero() && unavailable.Load() > 0 {
							firstAfter = time.Now()
						}
						mu.Unlock()
					case m["type"] == "error" && m["code"] == "unavailable":
						unavailable.Add(1)
						mu.Lock()
						told[i] = true
						mu.Unlock()
					default:
						lost.Add(1)
					}
					break
				}
				time.Sleep(500*time.Millisecond + time.Duration((i*37+k*11)%1000)*time.Millisecond)
			}
		})
	}
	time.Sleep(d / 3)
	pidFile, err := os.ReadFile(filepath.Join(e.cfg.DataDir, "pg", "postmaster.pid"))
	if err != nil {
		return fmt.Errorf("the embedded database's pid: %w", err)
	}
	var pid int
	fmt.Sscan(strings.SplitN(string(pidFile), "\n", 2)[0], &pid)
	mu.Lock()
	killedAt = time.Now()
	mu.Unlock()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return fmt.Errorf("kill the embedded database (%d): %w", pid, err)
	}
	wg.Wait()
	fmt.Fprintf(e.stdout, "\nfaults: %d citizens asking about every second for %s, the embedded database killed (SIGKILL) after %s\n",
		citizens, d, killedAt.Sub(start).Round(time.Second))
	fmt.Fprintf(e.stdout, "  %d questions: %d answered, %d told \"unavailable\" (%d citizens), %d lost (no reply within 15 s), %d reconnects\n",
		asked.Load(), answered.Load(), unavailable.Load(), len(told), lost.Load(), reconnects.Load())
	if firstAfter.IsZero() {
		fmt.Fprintf(e.stdout, "  no answer to a question asked after the kill\n")
	} else {
		fmt.Fprintf(e.stdout, "  answers again %.1f s after the kill\n", firstAfter.Sub(killedAt).Seconds())
	}
	return nil
}

// benchServeKill kills the `citybot serve` child itself (SIGKILL) halfway under load and starts
// another on the same address at once: citizens reconnect and resume with their tokens, and at
// the end every question a citizen got an answer to must be in their resumed history.
func benchServeKill(ctx context.Context, e *env, citizens int, d time.Duration, qs []eval.Question) error {
	addr, err := freeLoopback()
	if err != nil {
		return err
	}
	first, err := startServeChild(ctx, e, addr, envLogLevel+"=error")
	if err != nil {
		return err
	}
	texts := inScope(qs)
	type citizen struct {
		token string
		acked []string // ids of the questions answered
	}
	people := make([]citizen, citizens)
	var asked, reconnects atomic.Int64
	deadline := time.Now().Add(d)
	dial := func(token string) (*websocket.Conn, string) {
		for time.Now().Before(deadline.Add(30 * time.Second)) {
			url := "ws://" + addr + "/ws"
			if token != "" {
				url += "?resume=" + token
			}
			c, _, err := websocket.DefaultDialer.DialContext(ctx, url, nil)
			if err == nil {
				var w map[string]any
				c.SetReadDeadline(time.Now().Add(15 * time.Second))
				if err := c.ReadJSON(&w); err == nil && w["type"] == "welcome" {
					t, _ := w["token"].(string)
					return c, t
				}
				c.Close()
			}
			time.Sleep(100 * time.Millisecond)
		}
		return nil, ""
	}
	var wg sync.WaitGroup
	for i := range citizens {
		wg.Go(func() {
			p := &people[i]
			c, tok := dial("")
			if c == nil {
				return
			}
			p.token = tok
			for k := 0; time.Now().Before(deadline); k++ {
				id := fmt.Sprintf("c%d-%d", i, k)
				asked.Add(1)
				err := c.WriteJSON(map[string]any{"type": "ask", "id": id, "text": texts[(i+k)%len(texts)]})
				for err == nil {
					var m map[string]any
					c.SetReadDeadline(time.Now().Add(15 * time.Second))
					if err = c.ReadJSON(&m); err == nil && m["reply_to"] == id && (m["type"] == "answer" || m["type"] == "handoff") {
						p.acked = append(p.acked, id)
						break
					}
				}
				if err != nil { // the server went away: back with the token
					c.Close()
					reconnects.Add(1)
					if c, _ = dial(p.token); c == nil {
						return
					}
				}
				time.Sleep(500*time.Millisecond + time.Duration((i*37+k*11)%1000)*time.Millisecond)
			}
			c.Close()
		})
	}
	time.Sleep(d / 2)
	first.kill()
	second, err := startServeChild(ctx, e, addr, envLogLevel+"=error")
	if err != nil {
		return err
	}
	defer second.stop()
	wg.Wait()
	// Every answered question in the resumed history.
	var acked, missing int
	for _, p := range people {
		if p.token == "" {
			continue
		}
		c, _ := dial(p.token)
		if c == nil {
			missing += len(p.acked)
			continue
		}
		var h struct {
			Type     string           `json:"type"`
			Messages []map[string]any `json:"messages"`
		}
		c.SetReadDeadline(time.Now().Add(15 * time.Second))
		for h.Type != "history" {
			if err := c.ReadJSON(&h); err != nil {
				break
			}
		}
		c.Close()
		got := map[string]bool{}
		for _, m := range h.Messages {
			if r, ok := m["reply_to"].(string); ok {
				got[r] = true
			}
		}
		for _, id := range p.acked {
			acked++
			if !got[id] {
				missing++
			}
		}
	}
	fmt.Fprintf(e.stdout, "\nfaults: %d citizens asking about every second for %s, `serve` killed (SIGKILL) after %s and started again\n",
		citizens, d, (d / 2).Round(time.Second))
	fmt.Fprintf(e.stdout, "  %d questions, %d answered; %d reconnects with the resume token; %d answered questions missing from the resumed histories\n",
		asked.Load(), acked, reconnects.Load(), missing)
	return nil
}
