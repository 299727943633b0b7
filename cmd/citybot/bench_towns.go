package main

import (
	"context"
	"fmt"
	"html"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/gorilla/websocket"

	"github.com/citybot-project/citybot/bot"
	"github.com/citybot-project/citybot/database"
	"github.com/citybot-project/citybot/eval"
	"github.com/citybot-project/citybot/knowledge"
	"github.com/citybot-project/citybot/tenant"
)

// benchTowns measures one deployment serving the sample city and n generated towns: ingest of
// them all, each town's retrieval latency, a `citybot serve` child's start-up, the time to set
// up each town on its first request and its memory with every town set up and asked, and the
// answers of the other towns while one town ingests, side by side with and without.
func benchTowns(ctx context.Context, e *env, site, baseURL string, n int, qs []eval.Question) error {
	db, drop, err := scratchDB(ctx, e, "citybot_bench_towns")
	if err != nil {
		return err
	}
	defer drop()
	tmp, err := os.MkdirTemp("", "citybot-bench-towns-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	sample, err := samplePages(ctx, site, baseURL)
	if err != nil {
		return err
	}

	store := tenant.NewStore(db.Pool)
	type benchTown struct {
		town tenant.Town
		ix   *knowledge.Index
		qs   []eval.Question
	}
	var towns []benchTown
	add := func(slug, name string) (tenant.Town, error) {
		return store.Add(ctx, slug, name, tenant.Settings{PrivacyURL: "https://www." + slug + ".example/datenschutz"})
	}
	mt, err := add("musterstadt", "Musterstadt")
	if err != nil {
		return err
	}
	base, err := newIndex(ctx, e, db, mt)
	if err != nil {
		return err
	}
	start := time.Now()
	if _, err := base.Ingest(ctx, knowledge.DirSource{Dir: site, BaseURL: baseURL}, e.cfg.IngestWorkers, nil); err != nil {
		return err
	}
	towns = append(towns, benchTown{mt, base, qs})
	names := townNames(n + 1)
	for i, name := range names[:n] {
		t, err := add(tenant.Slugify(name), name)
		if err != nil {
			return err
		}
		dir := filepath.Join(tmp, t.Slug)
		if err := writeTown(dir, sample, baseURL, name, uint64(i)); err != nil {
			return err
		}
		ix, err := base.ForTown(ctx, knowledge.Scope{Town: t.ID}, nil)
		if err != nil {
			return err
		}
		if _, err := ix.Ingest(ctx, knowledge.DirSource{Dir: dir, BaseURL: "https://www." + t.Slug + ".example"}, e.cfg.IngestWorkers, nil); err != nil {
			return fmt.Errorf("ingest %s: %w", t.Slug, err)
		}
		towns = append(towns, benchTown{t, ix, townQuestions(qs, name, i)})
	}
	took := time.Since(start)
	var chunks int
	var size int64
	db.Pool.QueryRow(ctx, "SELECT (SELECT count(*) FROM chunks), pg_database_size(current_database())").Scan(&chunks, &size)
	fmt.Fprintf(e.stdout, "\n%d towns: the sample city and %d generated from its sections (%d chunks in all)\n", len(towns), n, chunks)
	fmt.Fprintf(e.stdout, "  ingest of all  %8.1f s, %.0f chunks/s; database %d MiB\n", took.Seconds(), float64(chunks)/took.Seconds(), size>>20)

	// Each town's retrieval, the towns taken in turn as citizens of all of them would come.
	lat := make([][]time.Duration, len(towns))
	foreign := 0
	for _, bt := range towns {
		if err := bt.ix.Warm(ctx); err != nil {
			return err
		}
	}
	for round := 0; ; round++ {
		asked := false
		for i, bt := range towns {
			if round >= len(bt.qs) {
				continue
			}
			asked = true
			start := time.Now()
			hits, err := bt.ix.Search(ctx, knowledge.Query{Text: bt.qs[round].Question, Limit: eval.MRRDepth})
			if err != nil {
				return err
			}
			lat[i] = append(lat[i], time.Since(start))
			for _, h := range hits {
				if h.Town != bt.town.ID {
					foreign++
				}
			}
		}
		if !asked {
			break
		}
	}
	var p95s, all []time.Duration
	for _, l := range lat {
		p95s = append(p95s, percentile(l, 0.95))
		all = append(all, l...)
	}
	fmt.Fprintf(e.stdout, "  retrieval, %d searches: p50 %.1f ms, p95 %.1f ms; per town p95: median %.1f ms, worst %.1f ms (%s)\n",
		len(all), ms(percentile(all, 0.5)), ms(percentile(all, 0.95)), ms(percentile(p95s, 0.5)), ms(slices.Max(p95s)),
		towns[slices.Index(p95s, slices.Max(p95s))].town.Slug)
	fmt.Fprintf(e.stdout, "  hits from another town's pages: %d\n", foreign)

	if err := benchTownServer(ctx, e, db, towns[0].town, len(towns), func(yield func(tenant.Town, []eval.Question) bool) {
		for _, bt := range towns {
			if !yield(bt.town, bt.qs) {
				return
			}
		}
	}); err != nil {
		return err
	}

	// Answers of the other towns while one more town ingests.
	bigName := names[n]
	big, err := add(tenant.Slugify(bigName), bigName)
	if err != nil {
		return err
	}
	bigDir := filepath.Join(tmp, big.Slug)
	for i := 0; i < 20; i++ { // a big town: twenty towns' worth of pages
		if err := writeTown(filepath.Join(bigDir, fmt.Sprintf("teil%d", i)), sample, baseURL, bigName, uint64(1000+i)); err != nil {
			return err
		}
	}
	var engines []*bot.Engine
	for _, bt := range towns {
		eng, _, err := newEngine(e, bt.ix, bt.town, nil)
		if err != nil {
			return err
		}
		engines = append(engines, eng)
	}
	return benchIngestBeside(ctx, e, db, big, bigDir, engines, towns[0].qs)
}

// benchTownServer starts `citybot serve` on the bench's database and measures its start-up, the
// first request of every town (which sets the town up), its memory with every town set up and
// asked, and again once the towns have been idle for CITYBOT_TOWN_IDLE.
func benchTownServer(ctx context.Context, e *env, db *database.DB, first tenant.Town, n int, towns func(func(tenant.Town, []eval.Question) bool)) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	mport, err := freePort()
	if err != nil {
		return err
	}
	addr, metrics := fmt.Sprintf("127.0.0.1:%d", port), fmt.Sprintf("http://127.0.0.1:%d/metrics", mport)
	const idle = 2 * time.Minute
	start := time.Now()
	srv, err := startServeChild(ctx, e, addr, envDatabaseURL+"="+connString(db.Pool.Config().ConnConfig), envTown+"="+first.Slug,
		envMetricsAddr+fmt.Sprintf("=127.0.0.1:%d", mport), envTownIdle+"="+idle.String())
	if err != nil {
		return err
	}
	defer srv.stop()
	up := time.Since(start)
	memory := func() string {
		r, _ := rss(srv.pid())
		return fmt.Sprintf("%d MiB resident, %d MiB heap in use", r>>20, heapInUse(metrics)>>20)
	}
	fmt.Fprintf(e.stdout, "  serve: ready in %.2f s (the default town set up at start), %s\n", up.Seconds(), memory())
	var firsts []time.Duration
	var failed error
	towns(func(t tenant.Town, _ []eval.Question) bool {
		start := time.Now()
		resp, err := http.Get("http://" + addr + "/t/" + t.Slug + "/widget.js")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				err = fmt.Errorf("%s: HTTP %d", t.Slug, resp.StatusCode)
			}
		}
		if err != nil {
			failed = err
			return false
		}
		firsts = append(firsts, time.Since(start))
		return true
	})
	if failed != nil {
		return failed
	}
	fmt.Fprintf(e.stdout, "  a town's first request (sets it up): p50 %.0f ms, worst %.0f ms; %d towns set up: %s\n",
		ms(percentile(firsts, 0.5)), ms(slices.Max(firsts)), n, memory())
	// Every town asked, over its WebSocket, so that its page caches fill.
	towns(func(t tenant.Town, qs []eval.Question) bool {
		texts := []string{}
		for _, q := range qs[:min(10, len(qs))] {
			texts = append(texts, q.Question)
		}
		if err := askOver(ctx, "ws://"+addr+"/t/"+t.Slug+"/ws", texts); err != nil {
			failed = fmt.Errorf("%s: %w", t.Slug, err)
			return false
		}
		return true
	})
	if failed != nil {
		return failed
	}
	asked := time.Now()
	fmt.Fprintf(e.stdout, "  every town asked 10 questions: %s\n", memory())
	time.Sleep(time.Until(asked.Add(idle + 90*time.Second)))
	fmt.Fprintf(e.stdout, "  %s later, the towns idle (CITYBOT_TOWN_IDLE=%s): %s\n", time.Since(asked).Round(time.Second), idle, memory())
	return nil
}

// heapInUse reads go_memstats_heap_inuse_bytes from a Prometheus endpoint; 0 when it cannot.
func heapInUse(url string) int64 {
	resp, err := http.Get(url)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "go_memstats_heap_inuse_bytes "); ok {
			var f float64
			fmt.Sscan(v, &f)
			return int64(f)
		}
	}
	return 0
}

// benchIngestBeside answers the towns' questions in turn while a `citybot ingest` child brings in
// a big town, stopping and continuing it every second (SIGSTOP, SIGCONT): the answers with and
// without the ingest are measured side by side, in the same minutes.
func benchIngestBeside(ctx context.Context, e *env, db *database.DB, big tenant.Town, dir string, engines []*bot.Engine, qs []eval.Question) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, self, "ingest", "--town", big.Slug, "--dir", dir, "--base-url", "https://www."+big.Slug+".example")
	cmd.Env = append(os.Environ(), envDatabaseURL+"="+connString(db.Pool.Config().ConnConfig), envLogLevel+"=warn")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start ingest: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var with, without []time.Duration
	running, switched, k := true, time.Now(), 0
	for finished := false; !finished; {
		select {
		case err := <-done:
			if err != nil {
				return fmt.Errorf("ingest: %w: %s", err, out.String())
			}
			finished = true
			continue
		default:
		}
		if time.Since(switched) > time.Second {
			sig := syscall.SIGSTOP
			if !running {
				sig = syscall.SIGCONT
			}
			if err := cmd.Process.Signal(sig); err != nil {
				return err
			}
			running, switched = !running, time.Now()
			time.Sleep(50 * time.Millisecond) // let the switch take hold before measuring
		}
		eng, q := engines[k%len(engines)], qs[k%len(qs)]
		k++
		start := time.Now()
		if _, err := eng.Reply(ctx, q.Question, "", q.Lang); err != nil {
			return err
		}
		if running {
			with = append(with, time.Since(start))
		} else {
			without = append(without, time.Since(start))
		}
	}
	var chunks int
	db.Pool.QueryRow(ctx, "SELECT count(*) FROM chunks WHERE town_id = $1", big.ID).Scan(&chunks)
	fmt.Fprintf(e.stdout, "  answers of the other towns while a town of %d chunks ingests, side by side:\n", chunks)
	fmt.Fprintf(e.stdout, "    without: %d answers, p50 %.1f ms, p95 %.1f ms\n", len(without), ms(percentile(without, 0.5)), ms(percentile(without, 0.95)))
	fmt.Fprintf(e.stdout, "    with:    %d answers, p50 %.1f ms, p95 %.1f ms (p50 %+.0f %%, p95 %+.0f %%)\n", len(with),
		ms(percentile(with, 0.5)), ms(percentile(with, 0.95)),
		100*(ms(percentile(with, 0.5))/ms(percentile(without, 0.5))-1), 100*(ms(percentile(with, 0.95))/ms(percentile(without, 0.95))-1))
	return nil
}

// samplePages is the sample site's pages as extracted.
func samplePages(ctx context.Context, site, baseURL string) ([]*knowledge.Page, error) {
	var pages []*knowledge.Page
	err := knowledge.DirSource{Dir: site, BaseURL: baseURL}.Walk(ctx, func(it knowledge.Item) {
		if it.Page != nil {
			pages = append(pages, it.Page)
		}
	})
	if err == nil && len(pages) == 0 {
		err = fmt.Errorf("no pages in %s", site)
	}
	return pages, err
}

// writeTown writes a town's site made of the sample's: about three pages in five, each with
// about four of five of its sections, the sample city's name replaced by the town's, so that
// every town is distinct and its questions still have answers.
func writeTown(dir string, sample []*knowledge.Page, baseURL, name string, seed uint64) error {
	rng := rand.New(rand.NewPCG(seed, 7))
	rename := strings.NewReplacer("Musterstadt", name, "musterstadt", strings.ToLower(name))
	for _, p := range sample {
		if rng.Float64() > 0.6 {
			continue
		}
		u, err := url.Parse(p.URL)
		if err != nil {
			return err
		}
		path := strings.TrimPrefix(u.Path, "/")
		if path == "" || strings.HasSuffix(path, "/") {
			path += "index"
		}
		var b strings.Builder
		fmt.Fprintf(&b, "<!DOCTYPE html><html lang=%q><head><title>%s</title></head><body><main><h1>%s</h1>",
			p.Lang, html.EscapeString(rename.Replace(p.DocTitle)), html.EscapeString(rename.Replace(p.Title)))
		for i, c := range p.Chunks {
			if i > 0 && rng.Float64() > 0.8 {
				continue
			}
			if len(c.Headings) > 1 {
				fmt.Fprintf(&b, "<h2>%s</h2>", html.EscapeString(rename.Replace(c.Headings[len(c.Headings)-1])))
			}
			for _, line := range strings.Split(c.Text, "\n") {
				fmt.Fprintf(&b, "<p>%s</p>", html.EscapeString(rename.Replace(line)))
			}
		}
		b.WriteString("</main></body></html>")
		file := filepath.Join(dir, filepath.FromSlash(path)+".html")
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// townNames makes n distinct town names of German shape (Ahornfeld, Birkenau, …).
func townNames(n int) []string {
	first := []string{"Ahorn", "Birken", "Eichen", "Linden", "Buchen", "Erlen", "Weiden", "Tannen", "Fichten", "Eschen",
		"Ulmen", "Kiefern", "Pappel", "Holunder", "Rosen", "Wald", "Berg", "Tal", "See", "Bach", "Mühl", "Stein", "Brunn", "Wiesen"}
	second := []string{"au", "feld", "dorf", "hausen", "heim", "bach", "stadt", "berg", "rode", "ingen", "burg", "hagen", "brück"}
	var names []string
	for _, s := range second {
		for _, f := range first {
			names = append(names, f+s)
		}
	}
	if n > len(names) {
		for i := len(names); i < n; i++ {
			names = append(names, fmt.Sprintf("%s %d", names[i%len(names)], i/len(names)+1))
		}
	}
	return names[:n]
}

// townQuestions are a town's share of the dev questions, in every language, with the sample
// city's name replaced by the town's: a different share for each town.
func townQuestions(qs []eval.Question, name string, seed int) []eval.Question {
	const each = 40
	var out []eval.Question
	step := max(1, len(qs)/each)
	for i := seed % step; i < len(qs) && len(out) < each; i += step {
		q := qs[i]
		q.Question = strings.ReplaceAll(q.Question, "Musterstadt", name)
		out = append(out, q)
	}
	return out
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// percentile of the latencies (sorted in place).
func percentile(l []time.Duration, p float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	slices.Sort(l)
	return l[int(p*float64(len(l)-1))]
}

// askOver asks the texts one after the other in one conversation over a WebSocket.
func askOver(ctx context.Context, url string, texts []string) error {
	c, _, err := websocket.DefaultDialer.DialContext(ctx, url, nil)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(time.Minute))
	var m map[string]any
	if err := c.ReadJSON(&m); err != nil || m["type"] != "welcome" {
		return fmt.Errorf("no welcome: %v %v", m, err)
	}
	for i, text := range texts {
		if err := c.WriteJSON(map[string]any{"type": "ask", "id": fmt.Sprint("q", i), "text": text}); err != nil {
			return err
		}
		for m = nil; m["type"] != "answer" && m["type"] != "handoff"; {
			if err := c.ReadJSON(&m); err != nil {
				return err
			}
			if m["type"] == "error" {
				return fmt.Errorf("asking %q: %v", text, m)
			}
		}
	}
	return nil
}
