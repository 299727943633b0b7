package main

import (
	"context"
	"fmt"
	"html"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/citybot-project/citybot/database"
	"github.com/citybot-project/citybot/eval"
	"github.com/citybot-project/citybot/knowledge"
	"github.com/citybot-project/citybot/tenant"
)

const benchUsage = `bench [--site DIR --base-url URL] [--questions GLOB] [--synthetic CHUNKS] [--towns N] [--load] [--faults] [--live] [--rounds N]

Measures, in a scratch database on the configured server (dropped afterwards): ingest of the site
from an empty index, re-ingest when nothing changed, and retrieval latency over the questions.
With --synthetic it also generates a corpus of that many chunks from the site's own sentences
and measures ingest throughput, database size and retrieval latency on it. With --towns N it
serves the sample city and N towns generated from its sections from one database: ingest,
each town's retrieval latency, a server's start-up, set-up per town and memory, and the
other towns' answers while one town ingests. With --live it starts two servers on one database,
50 agents at one's console and 500 citizens in live chats with them at the other's chat, and
measures for a minute how long a citizen's message takes to reach the agent and the agent's
answer to come back (issue 12's target: p95 within 150 ms).`

func cmdBench(ctx context.Context, e *env, args []string) error {
	fs := newFlags("bench", benchUsage, e.stderr)
	townFlag(fs, e)
	site := fs.String("site", "sample/musterstadt", "local mirror to ingest")
	baseURL := fs.String("base-url", "https://www.musterstadt.example", "its address")
	questions := fs.String("questions", "sample/eval/dev.*.jsonl", "question files for retrieval latency")
	synthetic := fs.Int("synthetic", 0, "also measure a generated corpus of this many chunks")
	townCount := fs.Int("towns", 0, "also measure a deployment of the sample city and this many towns generated from it")
	rounds := fs.Int("rounds", 5, "times each question is asked")
	load := fs.Bool("load", false, "also run the WebSocket load benchmark against a `citybot serve` child process")
	citizens := fs.Int("citizens", 200, "simulated citizens for --load")
	loadFor := fs.Duration("load-time", 30*time.Second, "length of the --load phase with think time")
	idle := fs.Int("idle", 10000, "idle connections for --load's memory measurement")
	faults := fs.Bool("faults", false, "also kill the embedded database, then serve itself, under load (citizens and time as --load)")
	live := fs.Bool("live", false, "also measure the live chat between 50 agents and 500 citizens across two serve children (one database)")
	if err := parse(fs, args); err != nil {
		return err
	}
	qs, err := eval.ReadQuestions([]string{*questions})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "citybot bench, %s, %d CPUs (GOMAXPROCS %d), %s\n\n", time.Now().Format("2006-01-02"),
		runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version())

	db, ix, drop, err := scratchIndex(ctx, e, "citybot_bench")
	if err != nil {
		return err
	}
	defer drop()
	src := knowledge.DirSource{Dir: *site, BaseURL: *baseURL, MaxBytes: e.cfg.MaxPageBytes}
	start := time.Now()
	sum, err := ix.Ingest(ctx, src, e.cfg.IngestWorkers, nil)
	if err != nil {
		return err
	}
	cold := time.Since(start)
	start = time.Now()
	if _, err := ix.Ingest(ctx, src, e.cfg.IngestWorkers, nil); err != nil {
		return err
	}
	warm := time.Since(start)
	st, _ := ix.Stats(ctx)
	fmt.Fprintf(e.stdout, "sample site: %d pages, %d chunks\n", sum.New, st.Chunks)
	fmt.Fprintf(e.stdout, "  ingest into an empty index   %8.2f s\n", cold.Seconds())
	fmt.Fprintf(e.stdout, "  re-ingest, nothing changed   %8.2f s\n", warm.Seconds())
	if err := benchSearch(ctx, e, ix, qs, *rounds); err != nil {
		return err
	}
	db.Close()

	if *synthetic > 0 {
		if err := benchSynthetic(ctx, e, *site, *baseURL, *synthetic, qs, *rounds); err != nil {
			return err
		}
	}
	if *townCount > 0 {
		if err := benchTowns(ctx, e, *site, *baseURL, *townCount, qs); err != nil {
			return err
		}
	}
	if *live {
		if err := benchLive(ctx, e, *site, *baseURL); err != nil {
			return err
		}
	}
	if *faults || *load {
		// The servers under load answer from the configured database: bring the sample in.
		db, ix, err := openIndex(ctx, e)
		if err != nil {
			return err
		}
		_, err = ix.Ingest(ctx, src, e.cfg.IngestWorkers, nil)
		db.Close()
		if err != nil {
			return err
		}
	}
	if *faults {
		if err := benchFaults(ctx, e, *citizens, *loadFor, qs); err != nil {
			return err
		}
		if err := benchServeKill(ctx, e, *citizens, *loadFor, qs); err != nil {
			return err
		}
	}
	if *load {
		return benchLoad(ctx, e, loadOptions{citizens: *citizens, duration: *loadFor, idle: *idle}, qs)
	}
	return nil
}

// scratchDB creates an empty database next to the configured one; drop removes it.
func scratchDB(ctx context.Context, e *env, name string) (*database.DB, func(), error) {
	main, err := database.Open(ctx, database.Options{URL: e.cfg.DatabaseURL, DataDir: e.cfg.DataDir, Log: e.log})
	if err != nil {
		return nil, nil, err
	}
	name = fmt.Sprintf("%s_%d", name, os.Getpid())
	if _, err := main.Pool.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		main.Close()
		return nil, nil, fmt.Errorf("create scratch database: %w", err)
	}
	cfg := main.Pool.Config().ConnConfig.Copy()
	cfg.Database = name
	db, err := database.Open(ctx, database.Options{URL: connString(cfg), Log: e.log})
	drop := func() {
		if db != nil {
			db.Close()
		}
		if _, err := main.Pool.Exec(context.WithoutCancel(ctx), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			e.log.Warn("drop scratch database", "name", name, "err", err)
		}
		main.Close()
	}
	if err != nil {
		db = nil
		drop()
		return nil, nil, err
	}
	return db, drop, nil
}

// scratchIndex is a scratch database holding one town, the bench's, and its index.
func scratchIndex(ctx context.Context, e *env, name string) (*database.DB, *knowledge.Index, func(), error) {
	db, drop, err := scratchDB(ctx, e, name)
	if err != nil {
		return nil, nil, nil, err
	}
	town, err := tenant.NewStore(db.Pool).Add(ctx, "bench", "Bench", tenant.Settings{})
	if err != nil {
		drop()
		return nil, nil, nil, err
	}
	ix, err := newIndex(ctx, e, db, town)
	if err != nil {
		drop()
		return nil, nil, nil, err
	}
	return db, ix, drop, nil
}

// connString writes a pgx config back as a keyword/value connection string.
func connString(c *pgx.ConnConfig) string {
	s := fmt.Sprintf("host=%s port=%d user=%s dbname=%s", c.Host, c.Port, c.User, c.Database)
	if c.Password != "" {
		s += " password=" + c.Password
	}
	if c.TLSConfig == nil {
		s += " sslmode=disable"
	}
	return s
}

func benchSearch(ctx context.Context, e *env, ix *knowledge.Index, qs []eval.Question, rounds int) error {
	var lat []time.Duration
	for r := 0; r < rounds; r++ {
		for _, q := range qs {
			start := time.Now()
			if _, err := ix.Search(ctx, knowledge.Query{Text: q.Question, Limit: eval.MRRDepth}); err != nil {
				return err
			}
			lat = append(lat, time.Since(start))
		}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	fmt.Fprintf(e.stdout, "  retrieval, %d questions x %d: p50 %.1f ms, p95 %.1f ms, p99 %.1f ms\n",
		len(qs), rounds, pct(0.5), pct(0.95), pct(0.99))
	return nil
}

// syntheticSource makes pages from the sample site's own sections, shuffled into new pages, so
// vocabulary and section sizes stay realistic.
type syntheticSource struct {
	base     string
	sections []knowledge.Chunk
	titles   []string
	chunks   int
}

func (s *syntheticSource) Key() string { return "synthetic:" + s.base }

func (s *syntheticSource) Walk(ctx context.Context, visit func(knowledge.Item)) error {
	rng := rand.New(rand.NewPCG(1, 2))
	made := 0
	for n := 0; made < s.chunks; n++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		title := fmt.Sprintf("%s (Bezirk %d)", s.titles[rng.IntN(len(s.titles))], n)
		var b strings.Builder
		fmt.Fprintf(&b, `<html lang="de"><body><main><h1>%s</h1>`, html.EscapeString(title))
		sections := 6 + rng.IntN(8)
		for i := 0; i < sections && made < s.chunks; i++ {
			sec := s.sections[rng.IntN(len(s.sections))]
			fmt.Fprintf(&b, "<h2>%s</h2>", html.EscapeString(sec.Headings[len(sec.Headings)-1]))
			for _, line := range strings.Split(sec.Text, "\n") {
				fmt.Fprintf(&b, "<p>%s</p>", html.EscapeString(line))
			}
			made++
		}
		b.WriteString("</main></body></html>")
		u, _ := url.Parse(fmt.Sprintf("%s/synthetisch/%d", s.base, n))
		p, err := knowledge.Extract([]byte(b.String()), u, "text/html")
		visit(knowledge.Item{URL: u.String(), Page: p, Err: err})
	}
	return nil
}

func benchSynthetic(ctx context.Context, e *env, site, baseURL string, chunks int, qs []eval.Question, rounds int) error {
	src := &syntheticSource{base: "https://synthetisch.example", chunks: chunks}
	files, _ := filepath.Glob(filepath.Join(site, "buergerservice", "*.html"))
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		u, _ := url.Parse(baseURL)
		p, err := knowledge.Extract(raw, u, "")
		if err != nil {
			continue
		}
		src.titles = append(src.titles, p.Title)
		for _, c := range p.Chunks {
			if len(c.Headings) > 1 {
				src.sections = append(src.sections, c)
			}
		}
	}
	if len(src.sections) == 0 {
		return fmt.Errorf("no sections to build a synthetic corpus from in %s", site)
	}
	db, ix, drop, err := scratchIndex(ctx, e, "citybot_bench_synth")
	if err != nil {
		return err
	}
	defer drop()
	// The real site too, so the questions have their answers among the noise.
	if _, err := ix.Ingest(ctx, knowledge.DirSource{Dir: site, BaseURL: baseURL}, e.cfg.IngestWorkers, nil); err != nil {
		return err
	}
	start := time.Now()
	sum, err := ix.Ingest(ctx, src, e.cfg.IngestWorkers, nil)
	if err != nil {
		return err
	}
	took := time.Since(start)
	var size int64
	db.Pool.QueryRow(ctx, "SELECT pg_database_size(current_database())").Scan(&size)
	st, _ := ix.Stats(ctx)
	fmt.Fprintf(e.stdout, "\nsynthetic corpus: %d pages, %d chunks in all\n", sum.New, st.Chunks)
	fmt.Fprintf(e.stdout, "  ingest %8.1f s, %.0f chunks/s; database %d MiB\n", took.Seconds(), float64(chunks)/took.Seconds(), size>>20)
	return benchSearch(ctx, e, ix, qs, rounds)
}
