package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/citybot-project/citybot/database/dbtest"
	"github.com/citybot-project/citybot/eval"
	"github.com/citybot-project/citybot/knowledge"
)

func TestMain(m *testing.M) {
	// The test binary doubles as citybot for the tests that need a process of its own to kill:
	// CITYBOT_TEST_MAIN runs the command line in CITYBOT_TEST_ARGS (see startChild).
	if os.Getenv("CITYBOT_TEST_MAIN") == "1" {
		os.Exit(run(context.Background(), strings.Fields(os.Getenv("CITYBOT_TEST_ARGS")), os.Stdin, os.Stdout, os.Stderr, os.Getenv))
	}
	os.Exit(dbtest.Main(m))
}

// citybot runs the command line with env as the whole environment. An ingest run in the test
// process leaves its CPU priority alone (TestIngestYieldsCPU checks it in a process of its own).
func citybot(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(""), &out, &errb, func(k string) string {
		if v, ok := env[k]; ok || k != envIngestNice {
			return v
		}
		return "0"
	})
	return code, out.String(), errb.String()
}

// mustRun runs citybot's command line with env and fails the test unless it exits 0.
func mustRun(t *testing.T, env map[string]string, args ...string) {
	t.Helper()
	if code, stdout, stderr := citybot(t, env, args...); code != 0 {
		t.Fatalf("citybot %v: exit %d: %s %s", args, code, stdout, stderr)
	}
}

func TestUsageAndBadCommandLines(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "usage: citybot <command>"},
		{[]string{"--help"}, 0, "ingest"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"ingest", "--help"}, 0, "--sitemap"},
		{[]string{"ingest"}, 2, "give exactly one of --dir, --sitemap, --url"},
		{[]string{"ingest", "--dir", "x"}, 2, "--dir needs --base-url"},
		{[]string{"ingest", "--dir", "x", "--sitemap", "y"}, 2, "exactly one"},
		{[]string{"ingest", "--nope"}, 2, "flag provided but not defined"},
		{[]string{"eval"}, 2, "--questions is required"},
		{[]string{"ask", "--k", "many"}, 2, "invalid value"},
	} {
		code, stdout, stderr := citybot(t, nil, tc.args...)
		if code != tc.code || !strings.Contains(stdout+stderr, tc.want) {
			t.Errorf("citybot %v: exit %d, output %q; want exit %d and %q", tc.args, code, stdout+stderr, tc.code, tc.want)
		}
	}
}

func TestBadConfig(t *testing.T) {
	for env, want := range map[string]string{
		"CITYBOT_FETCH_TIMEOUT=soon":            "CITYBOT_FETCH_TIMEOUT",
		"CITYBOT_WORKERS=-1":                    "CITYBOT_WORKERS",
		"CITYBOT_EMBED_URL=http://x":            "CITYBOT_EMBED_MODEL",
		"CITYBOT_TRUSTED_PROXIES=10.0.0.0/33":   "CITYBOT_TRUSTED_PROXIES",
		"CITYBOT_RERANK_TIMEOUT=soon":           "CITYBOT_RERANK_TIMEOUT",
		"CITYBOT_RERANK_URL=http://x/v1":        "CITYBOT_RERANK_MODEL must name the model",
		"CITYBOT_RERANK_URL=tei:8080":           "CITYBOT_RERANK_URL",
		"CITYBOT_LOG_FORMAT=xml":                "CITYBOT_LOG_FORMAT",
		"CITYBOT_THESAURUS=/nonexistent.dat":    "CITYBOT_THESAURUS",
		"CITYBOT_AUDIT_DAYS=0":                  "CITYBOT_AUDIT_DAYS",
		"CITYBOT_TOWN_IDLE=never":               "CITYBOT_TOWN_IDLE",
		"CITYBOT_INGEST_NICE=20":                "CITYBOT_INGEST_NICE",
		"CITYBOT_OIDC_ISSUER=https://sso.x":     "CITYBOT_OIDC_CLIENT_ID and CITYBOT_OIDC_REDIRECT_URL",
		"CITYBOT_SMTP_URL=smtp://mail.x":        "CITYBOT_SMTP_FROM must name the sender",
		"CITYBOT_PUBLIC_URL=chat.x":             "CITYBOT_PUBLIC_URL",
		"CITYBOT_RELAY_URL=postgres://x:y@[::1": "CITYBOT_RELAY_URL",
	} {
		k, v, _ := strings.Cut(env, "=")
		code, _, stderr := citybot(t, map[string]string{k: v}, "config")
		if code != 2 || !strings.Contains(stderr, want) {
			t.Errorf("%s: exit %d, %q", env, code, stderr)
		}
	}
	if code, _, stderr := citybot(t, map[string]string{"CITYBOT_SMTP_URL": "http://mail.x", "CITYBOT_SMTP_FROM": "a@b.x"}, "config"); code != 2 ||
		!strings.Contains(stderr, "want smtp://") {
		t.Errorf("an SMTP URL of another scheme: exit %d, %q", code, stderr)
	}
	if code, out, _ := citybot(t, map[string]string{"CITYBOT_SMTP_URL": "smtp://citybot:geheim@mail.x:587", "CITYBOT_SMTP_FROM": "a@b.x"}, "config"); code != 0 ||
		strings.Contains(out, "geheim") || !strings.Contains(out, "CITYBOT_SMTP_URL=smtp://citybot:xxxxx@mail.x:587") {
		t.Errorf("SMTP configured: exit %d, %s", code, out)
	}
	sso := map[string]string{"CITYBOT_OIDC_ISSUER": "https://sso.x", "CITYBOT_OIDC_CLIENT_ID": "citybot",
		"CITYBOT_OIDC_REDIRECT_URL": "https://chat.x/console/login"}
	if code, _, stderr := citybot(t, sso, "config"); code != 2 || !strings.Contains(stderr, "the public address of /console/sso/callback") {
		t.Errorf("a redirect URL that is not the callback: exit %d, %q", code, stderr)
	}
	sso["CITYBOT_OIDC_REDIRECT_URL"], sso["CITYBOT_OIDC_CLIENT_SECRET"] = "https://chat.x/console/sso/callback", "geheim"
	if code, out, _ := citybot(t, sso, "config"); code != 0 || strings.Contains(out, "geheim") || !strings.Contains(out, "CITYBOT_OIDC_CLIENT_SECRET=(set)") {
		t.Errorf("a whole single sign-on: exit %d, %s", code, out)
	}
}

func TestConfigRedactsSecrets(t *testing.T) {
	keyFile, rerankKey := filepath.Join(t.TempDir(), "key"), filepath.Join(t.TempDir(), "rerank-key")
	os.WriteFile(keyFile, []byte("s3cret\n"), 0o600)
	os.WriteFile(rerankKey, []byte("r3rank\n"), 0o600)
	code, stdout, _ := citybot(t, map[string]string{"DATABASE_URL": "postgres://bot:hunter2@db/citybot",
		"MEILI_API_KEY_FILE": keyFile, "CITYBOT_RERANK_URL": "http://tei:8080", "CITYBOT_RERANK_API_KEY_FILE": rerankKey, "MEILI_SEARCH_KEY": "s3arch"}, "config")
	if code != 0 || strings.Contains(stdout, "hunter2") || strings.Contains(stdout, "s3cret") || strings.Contains(stdout, "r3rank") ||
		strings.Contains(stdout, "s3arch") {
		t.Fatalf("exit %d, secrets shown: %s", code, stdout)
	}
	for _, want := range []string{"DATABASE_URL=postgres://bot:xxxxx@db/citybot", "MEILI_API_KEY=(set)", "MEILI_SEARCH_KEY=(set)",
		"CITYBOT_RERANK_URL=http://tei:8080\n", "CITYBOT_RERANK_API_KEY=(set)", "CITYBOT_RERANK_TIMEOUT=5s"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("config output lacks %q: %s", want, stdout)
		}
	}
	// Off by default.
	if _, stdout, _ := citybot(t, nil, "config"); !strings.Contains(stdout, "CITYBOT_RERANK_URL=\n") || !strings.Contains(stdout, "CITYBOT_RERANK_API_KEY=\n") {
		t.Errorf("default config: %s", stdout)
	}
}

// TestIngestAskEvalOnSampleSite runs the commands an editor runs, end to end, against a real
// database, and holds retrieval on the dev questions to a floor below the README's numbers, so a
// regression fails the build.
func TestIngestAskEvalOnSampleSite(t *testing.T) {
	env := map[string]string{"DATABASE_URL": dbtest.URL(t), "CITYBOT_LOG_LEVEL": "warn", "CITYBOT_CITY": "Musterstadt"}
	sample := filepath.Join("..", "..", "sample")
	code, stdout, stderr := citybot(t, env, "ingest", "--dir", filepath.Join(sample, "musterstadt"),
		"--base-url", "https://www.musterstadt.example", "--json")
	if code != 0 {
		t.Fatalf("ingest: exit %d: %s %s", code, stdout, stderr)
	}
	var sum struct{ New, Failed int }
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil || sum.New < 100 || sum.Failed != 0 {
		t.Fatalf("ingest summary %s: %v", stdout, err)
	}

	code, stdout, _ = citybot(t, env, "ask", "Was kostet ein Reisepass?")
	if code != 0 || !strings.Contains(stdout, "https://www.musterstadt.example/buergerservice/reisepass-beantragen") ||
		!strings.Contains(stdout, "score") {
		t.Errorf("ask: exit %d: %s", code, stdout)
	}

	code, stdout, stderr = citybot(t, env, "eval", "--json", "--questions", filepath.Join(sample, "eval", "dev.*.jsonl"))
	if code != 0 {
		t.Fatalf("eval: exit %d: %s", code, stderr)
	}
	if strings.Count(strings.TrimSpace(stdout), "\n") != 0 {
		t.Fatalf("eval --json printed more than one line: %s", stdout)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(stdout), &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"questions", "hit_at_1", "hit_at_3", "mrr", "fact_recall", "oos_declined", "false_handoff", "by_lang",
		"without_facts", "redirect_named", "baseline"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("eval JSON lacks %q", k)
		}
	}
	var rep eval.Report
	json.Unmarshal([]byte(stdout), &rep)
	if rep.Questions < 200 || rep.FactRecall == nil || rep.OOSDeclined == nil || rep.FalseHandoff == nil {
		t.Fatalf("questions %d, answering metrics %v %v %v", rep.Questions, rep.FactRecall, rep.OOSDeclined, rep.FalseHandoff)
	}
	// Floors below the README's numbers: the chat engine must not regress.
	if *rep.FactRecall < 0.67 || *rep.OOSDeclined < 0.92 || *rep.FalseHandoff > 0.05 {
		t.Errorf("answering regressed: fact recall %.2f, out of scope declined %.2f, false handoffs %.2f",
			*rep.FactRecall, *rep.OOSDeclined, *rep.FalseHandoff)
	}
	if rep.HitAt3 < 0.88 || rep.HitAt1 < 0.74 {
		t.Errorf("retrieval regressed: hit@1 %.2f hit@3 %.2f", rep.HitAt1, rep.HitAt3)
	}
	// Hit@3 floors a bit below today's numbers (de 0.91, en 0.91, de-simple 0.81, tr 0.80,
	// uk 0.71, ar 1.00, pl 1.00) for every language with at least 5 questions; for the small sets
	// about one question's worth below.
	floors := map[string]float64{"de": 0.88, "en": 0.85, "de-simple": 0.76, "tr": 0.7, "uk": 0.57, "ar": 0.8, "pl": 0.8}
	for lang, s := range rep.ByLang {
		floor, ok := floors[lang]
		switch {
		case s.N >= 5 && !ok:
			t.Errorf("%s has %d questions but no hit@3 floor here: add one", lang, s.N)
		case ok && s.HitAt3 < floor:
			t.Errorf("retrieval regressed for %s: hit@3 %.2f, floor %.2f", lang, s.HitAt3, floor)
		}
	}
	for lang := range floors {
		if rep.ByLang[lang].N < 5 {
			t.Errorf("floor for %s, which has %d questions", lang, rep.ByLang[lang].N)
		}
	}
	// In no language with at least 5 questions may citybot's hit@1 fall below the naive
	// baseline's (BM25 over whole pages).
	for lang, s := range rep.ByLang {
		if b, ok := rep.Baseline.ByLang[lang]; ok && s.N >= 5 && s.HitAt1 < b.HitAt1 {
			t.Errorf("%s: hit@1 %.2f below the baseline's %.2f", lang, s.HitAt1, b.HitAt1)
		}
	}

	// Fact recall leaves out the questions without facts and counts redirects by the authority
	// they name.
	qs, err := eval.ReadQuestions([]string{filepath.Join(sample, "eval", "dev.*.jsonl")})
	if err != nil {
		t.Fatal(err)
	}
	noFacts := 0
	for _, q := range qs {
		if q.Kind != "out_of_scope" && len(q.Facts) == 0 {
			noFacts++
		}
	}
	if noFacts == 0 || rep.WithoutFacts != noFacts {
		t.Errorf("%d questions without facts reported, the files have %d", rep.WithoutFacts, noFacts)
	}
	if rep.RedirectNamed == nil || *rep.RedirectNamed < 0.5 {
		t.Errorf("redirects naming the authority: %v", rep.RedirectNamed)
	}

	// The naive baseline (BM25 over whole pages, measured at about 0.36 / 0.49 from outside; 0.41 /
	// 0.58 here) is computed and stays far below citybot.
	b := rep.Baseline
	if b.HitAt1 < 0.25 || b.HitAt1 > 0.55 || b.HitAt3 < b.HitAt1 || b.HitAt3 >= rep.HitAt3 {
		t.Errorf("baseline hit@1 %.2f hit@3 %.2f, want hit@1 in 0.25-0.55 and hit@3 below citybot's %.2f", b.HitAt1, b.HitAt3, rep.HitAt3)
	}
	if len(b.ByLang) != len(rep.ByLang) {
		t.Errorf("baseline languages %v, citybot's %v", b.ByLang, rep.ByLang)
	}
	for lang, s := range rep.ByLang {
		bs, ok := b.ByLang[lang]
		if !ok || bs.N != s.N || bs.HitAt1 < 0 || bs.HitAt1 > bs.HitAt3 || bs.HitAt3 > 1 {
			t.Errorf("baseline for %s: %+v (citybot %+v)", lang, bs, s)
		}
	}
	t.Logf("dev questions: hit@1 %.2f hit@3 %.2f mrr %.2f fact recall %.2f (%d without facts, redirects %.2f) declined %.2f false handoffs %.2f; baseline %.2f / %.2f",
		rep.HitAt1, rep.HitAt3, rep.MRR, *rep.FactRecall, rep.WithoutFacts, *rep.RedirectNamed, *rep.OOSDeclined, *rep.FalseHandoff, b.HitAt1, b.HitAt3)
}

func TestRerankerIsPassedOn(t *testing.T) {
	ctx := context.Background()
	for url, want := range map[string]string{"": "", "http://tei:8080": "http://tei:8080/rerank"} {
		vars := map[string]string{"DATABASE_URL": dbtest.URL(t), "CITYBOT_RERANK_URL": url, "CITYBOT_CITY": "Musterstadt"}
		cfg, err := loadConfig(func(k string) string { return vars[k] })
		if err != nil {
			t.Fatal(err)
		}
		e := &env{stdout: io.Discard, stderr: io.Discard, cfg: cfg, log: newLogger(io.Discard, "error", "text")}
		db, ix, err := openIndex(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		if r, ok := ix.Reranker().(*knowledge.HTTPReranker); ok {
			got = r.Endpoint
		} else if ix.Reranker() != nil {
			t.Errorf("%q: reranker %T", url, ix.Reranker())
		}
		if got != want {
			t.Errorf("%q: index's reranker at %q, want %q", url, got, want)
		}
		if _, _, err := newEngine(e, ix, e.town, nil); err != nil {
			t.Error(err)
		}
		db.Close()
	}
}

// TestEvalOnAuenstadt holds retrieval and answering on the second sample town, written in a
// messy legacy template (no <main>, titles only in <title>, accordions, tables with group rows,
// a page of PDF forms), to floors below today's numbers: what was built to hold on any site must
// not quietly come to hold on the first sample only.
func TestEvalOnAuenstadt(t *testing.T) {
	env := map[string]string{"DATABASE_URL": dbtest.URL(t), "CITYBOT_LOG_LEVEL": "warn", "CITYBOT_CITY": "Musterstadt"}
	sample := filepath.Join("..", "..", "sample")
	code, stdout, stderr := citybot(t, env, "ingest", "--dir", filepath.Join(sample, "auenstadt"),
		"--base-url", "https://www.auenstadt.example", "--json")
	var sum struct{ New, Failed int }
	if code != 0 || json.Unmarshal([]byte(stdout), &sum) != nil || sum.New < 50 || sum.Failed != 0 {
		t.Fatalf("ingest: exit %d, %s %s", code, stdout, stderr)
	}
	code, stdout, stderr = citybot(t, env, "eval", "--json", "--questions", filepath.Join(sample, "eval-auenstadt", "tune.jsonl"))
	if code != 0 {
		t.Fatalf("eval: exit %d: %s", code, stderr)
	}
	var rep eval.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil || rep.FactRecall == nil || rep.OOSDeclined == nil || rep.FalseHandoff == nil {
		t.Fatalf("eval JSON %s: %v", stdout, err)
	}
	// Today: hit@1 0.76, hit@3 0.85, fact recall 0.80, declined 1.00, false handoffs 0.05.
	if rep.HitAt1 < 0.7 || rep.HitAt3 < 0.8 || *rep.FactRecall < 0.72 || *rep.OOSDeclined < 0.9 || *rep.FalseHandoff > 0.08 {
		t.Errorf("Auenstadt regressed: hit@1 %.2f hit@3 %.2f fact recall %.2f declined %.2f false handoffs %.2f",
			rep.HitAt1, rep.HitAt3, *rep.FactRecall, *rep.OOSDeclined, *rep.FalseHandoff)
	}
	if rep.HitAt1 <= rep.Baseline.HitAt1 {
		t.Errorf("hit@1 %.2f not above the naive baseline's %.2f", rep.HitAt1, rep.Baseline.HitAt1)
	}
	t.Logf("Auenstadt: hit@1 %.2f hit@3 %.2f fact recall %.2f declined %.2f false handoffs %.2f; baseline %.2f",
		rep.HitAt1, rep.HitAt3, *rep.FactRecall, *rep.OOSDeclined, *rep.FalseHandoff, rep.Baseline.HitAt1)
}

func TestLogFormat(t *testing.T) {
	code, stdout, _ := citybot(t, map[string]string{"CITYBOT_LOG_FORMAT": " JSON "}, "config")
	if code != 0 || !strings.Contains(stdout, "CITYBOT_LOG_FORMAT=json\n") {
		t.Fatalf("config: exit %d: %s", code, stdout)
	}
	cfg, err := loadConfig(func(k string) string { return map[string]string{"CITYBOT_LOG_FORMAT": "json"}[k] })
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	newLogger(&buf, cfg.LogLevel, cfg.LogFormat).Warn("ingest failed", "url", "https://x.example/a b", "pages", 3)
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("json log line %q: %v", buf.String(), err)
	}
	if rec["level"] != "WARN" || rec["msg"] != "ingest failed" || rec["url"] != "https://x.example/a b" || rec["pages"] != 3.0 {
		t.Errorf("json log line %v", rec)
	}
	buf.Reset()
	newLogger(&buf, "info", "text").Info("started", "addr", ":8080")
	if s := buf.String(); !strings.Contains(s, "level=INFO msg=started addr=:8080") {
		t.Errorf("text log line %q", s)
	}
}

// TestIngestYieldsCPU: yieldCPU renices every thread of the process, and the threads the Go
// runtime starts afterwards inherit it. Run in a child process: a niceness cannot be taken back.
func TestIngestYieldsCPU(t *testing.T) {
	if os.Getenv("CITYBOT_TEST_YIELD") == "1" {
		if err := yieldCPU(7); err != nil {
			fmt.Println("error:", err)
			return
		}
		// Busy goroutines make the runtime start threads of its own.
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				runtime.LockOSThread()
				time.Sleep(20 * time.Millisecond)
				fmt.Println(threadNice(t, fmt.Sprint("task/", syscall.Gettid())))
			})
		}
		wg.Wait()
		tasks, _ := os.ReadDir("/proc/self/task")
		for _, task := range tasks {
			if n := threadNice(t, "task/"+task.Name()); n != "gone" {
				fmt.Println(n)
			}
		}
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestIngestYieldsCPU$")
	cmd.Env = append(os.Environ(), "CITYBOT_TEST_YIELD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	lines := strings.Fields(strings.TrimSuffix(string(out), "PASS\n"))
	if len(lines) < 9 {
		t.Fatalf("child said %q", out)
	}
	for _, l := range lines {
		if l != "7" && l != "PASS" {
			t.Fatalf("a thread's niceness %q, want 7 for all: %s", l, out)
		}
	}
}

// threadNice is the niceness of a thread from /proc/self/<which>/stat (field 19).
func threadNice(t *testing.T, which string) string {
	b, err := os.ReadFile("/proc/self/" + which + "/stat")
	if errors.Is(err, fs.ErrNotExist) {
		return "gone" // a thread that ended meanwhile
	}
	if err != nil {
		return err.Error()
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	fields := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	return fields[16]
}
