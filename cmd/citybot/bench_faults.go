package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
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
	port, err := freePort()
	if err != nil {
		return err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, self, "serve", "--addr", addr)
	cmd.Env = append(os.Environ(), envAddrLimits+"=off", envAddrConns+"=off", envConnLimits+"=1000,1000", envLogLevel+"=error")
	if e.cfg.City == "" {
		cmd.Env = append(cmd.Env, envCity+"=Musterstadt", envPrivacyURL+"=https://www.musterstadt.example/datenschutz")
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start server: %w", err)
	}
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	}()
	if err := waitReady("http://"+addr+"/readyz", 60*time.Second); err != nil {
		return err
	}
	var texts []string
	for _, q := range qs {
		if q.Kind != "out_of_scope" {
			texts = append(texts, q.Question)
		}
	}
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
