package main

import (
	"bufio"
	"context"

	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/citybot-project/citybot/eval"
)

// loadOptions shape `citybot bench --load`.
type loadOptions struct {
	citizens int           // simulated citizens asking with think time
	duration time.Duration // of the think-time phase
	idle     int           // idle connections for the memory measurement
}

// benchLoad starts `citybot serve` as a child process (so its memory is its own), then measures
// it over real WebSockets on loopback: citizens who ask again 0.5–1.5 s after every answer, the
// most answers per second without think time, and the memory of idle connections.
func benchLoad(ctx context.Context, e *env, o loadOptions, qs []eval.Question) error {
	addr, err := freeLoopback()
	if err != nil {
		return err
	}
	srv, err := startServeChild(ctx, e, addr)
	if err != nil {
		return err
	}
	defer srv.stop()
	url := "ws://" + addr + "/ws"
	texts := inScope(qs)

	fmt.Fprintf(e.stdout, "\nload: %d citizens over WebSockets, asking 0.5–1.5 s after each answer, %s\n", o.citizens, o.duration)
	r := runCitizens(ctx, url, texts, o.citizens, o.duration, true)
	r.print(e)

	fmt.Fprintf(e.stdout, "load: 32 citizens without think time, 15s (throughput)\n")
	r = runCitizens(ctx, url, texts, 32, 15*time.Second, false)
	r.print(e)

	return benchIdle(ctx, e, url, srv.pid(), o.idle)
}

type loadResult struct {
	latencies []time.Duration
	warm      []time.Duration // those of questions asked after the first warmUp of the run
	errors    int64
	took      time.Duration
}

// warmUp: in the first seconds every citizen connects at once and the caches are cold; the
// latencies after it show the steady state apart.
const warmUp = 5 * time.Second

func (r loadResult) print(e *env) {
	if len(r.latencies) == 0 {
		fmt.Fprintf(e.stdout, "  no answers, %d errors\n", r.errors)
		return
	}
	p := percentiles(r.latencies)
	fmt.Fprintf(e.stdout, "  %d answers, %.0f answers/s, %d errors; latency p50 %.1f ms, p95 %.1f ms, p99 %.1f ms, max %.1f ms\n",
		len(r.latencies), float64(len(r.latencies))/r.took.Seconds(), r.errors, p(0.5), p(0.95), p(0.99), p(1))
	if len(r.warm) > 0 {
		w := percentiles(r.warm)
		fmt.Fprintf(e.stdout, "  after the first %s: p50 %.1f ms, p95 %.1f ms, p99 %.1f ms, max %.1f ms\n",
			warmUp, w(0.5), w(0.95), w(0.99), w(1))
	}
}

// percentiles sorts lat and returns its percentile function, in milliseconds.
func percentiles(lat []time.Duration) func(p float64) float64 {
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
}

func runCitizens(ctx context.Context, url string, texts []string, n int, d time.Duration, think bool) loadResult {
	var mu sync.Mutex
	var res loadResult
	var errs atomic.Int64
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			c, _, err := websocket.DefaultDialer.DialContext(ctx, url, nil)
			if err != nil {
				errs.Add(1)
				return
			}
			defer c.Close()
			var m map[string]any
			if err := c.ReadJSON(&m); err != nil || m["type"] != "welcome" {
				errs.Add(1)
				return
			}
			if think { // spread the first questions over the think time
				time.Sleep(time.Duration(rng.IntN(1000)) * time.Millisecond)
			}
			for k := 0; time.Now().Before(deadline) && ctx.Err() == nil; k++ {
				t0 := time.Now()
				if err := c.WriteJSON(map[string]any{"type": "ask", "id": "c" + strconv.Itoa(k), "text": texts[rng.IntN(len(texts))]}); err != nil {
					errs.Add(1)
					return
				}
				c.SetReadDeadline(time.Now().Add(30 * time.Second))
				if err := c.ReadJSON(&m); err != nil {
					errs.Add(1)
					return
				}
				if m["type"] != "answer" && m["type"] != "handoff" {
					errs.Add(1)
					continue
				}
				el := time.Since(t0)
				mu.Lock()
				res.latencies = append(res.latencies, el)
				if t0.Sub(start) >= warmUp {
					res.warm = append(res.warm, el)
				}
				mu.Unlock()
				if think {
					time.Sleep(500*time.Millisecond + time.Duration(rng.IntN(1000))*time.Millisecond)
				}
			}
		}(i)
	}
	wg.Wait()
	res.took = time.Since(start)
	res.errors = errs.Load()
	return res
}

// benchIdle opens n idle connections and reports the server's resident memory per connection.
func benchIdle(ctx context.Context, e *env, url string, pid, n int) error {
	before, err := rss(pid)
	if err != nil {
		return err
	}
	conns := make([]*websocket.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	failed := 0
	for i := 0; i < n; i++ {
		c, _, err := websocket.DefaultDialer.DialContext(ctx, url, nil)
		if err != nil {
			failed++
			continue
		}
		var m map[string]any
		if err := c.ReadJSON(&m); err != nil {
			failed++
			c.Close()
			continue
		}
		conns = append(conns, c)
	}
	time.Sleep(5 * time.Second) // let the server settle
	after, err := rss(pid)
	if err != nil {
		return err
	}
	// None may have been dropped: each still answers a ping with a pong.
	dropped := 0
	for _, c := range conns {
		if err := c.WriteControl(websocket.PingMessage, nil, time.Now().Add(5*time.Second)); err != nil {
			dropped++
		}
	}
	per := float64(after-before) / float64(max(1, len(conns)))
	fmt.Fprintf(e.stdout, "idle: %d connections held (%d failed to open, %d dropped); server RSS %d -> %d MiB, %.1f KiB per connection\n",
		len(conns), failed, dropped, before>>20, after>>20, per/1024)
	return nil
}

// serveChild is `citybot serve` run as a child process for the benchmarks, so that its memory
// and its death are its own.
type serveChild struct{ cmd *exec.Cmd }

// startServeChild starts `citybot serve` on addr and waits until it is ready. Every simulated
// citizen comes from 127.0.0.1: per-address limits off, per-connection limits wide enough for
// the phases without think time. The sample city is served unless one is configured; env
// (KEY=value) comes last and wins.
func startServeChild(ctx context.Context, e *env, addr string, env ...string) (*serveChild, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, self, "serve", "--addr", addr)
	cmd.Env = append(os.Environ(), envAddrLimits+"=off", envAddrConns+"=off", envConnLimits+"=1000,1000", envLogLevel+"=warn")
	if e.cfg.City == "" {
		cmd.Env = append(cmd.Env, envCity+"=Musterstadt", envPrivacyURL+"=https://www.musterstadt.example/datenschutz")
	}
	cmd.Env = append(cmd.Env, env...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start server: %w", err)
	}
	s := &serveChild{cmd}
	if err := waitReady("http://"+addr+"/readyz", 120*time.Second); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

func (s *serveChild) pid() int { return s.cmd.Process.Pid }

// stop ends the server as an operator would (SIGINT) and waits for it.
func (s *serveChild) stop() {
	s.cmd.Process.Signal(os.Interrupt)
	s.cmd.Wait()
}

// kill ends the server at once (SIGKILL), as a crash would.
func (s *serveChild) kill() {
	s.cmd.Process.Kill()
	s.cmd.Wait()
}

// inScope are the texts of the questions the town's pages answer: what the simulated citizens ask.
func inScope(qs []eval.Question) []string {
	var texts []string
	for _, q := range qs {
		if q.Kind != "out_of_scope" {
			texts = append(texts, q.Question)
		}
	}
	return texts
}

// freeLoopback is a free address on loopback.
func freeLoopback() (string, error) {
	port, err := freePort()
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("127.0.0.1:%d", port), nil
}

// rss is a process's resident memory in bytes, from /proc.
func rss(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no VmRSS for process %d", pid)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func waitReady(url string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("server not ready at %s after %s", url, limit)
}
