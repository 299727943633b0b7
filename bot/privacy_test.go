package bot

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/citybot-project/citybot/analysis"
	"github.com/citybot-project/citybot/i18n"
	"github.com/citybot-project/citybot/knowledge"
)

// The privacy test set (testdata/privacy): invented messages full of personal data in the ten
// languages, each with the personal strings ("kind:value") that must not survive, and ordinary
// questions full of numbers that must.
type privacyCase struct {
	Lang     string   `json:"lang"`
	Where    string   `json:"where"` // ask, comment (a rating's) or note (a ticket's)
	Text     string   `json:"text"`
	Personal []string `json:"personal"`
}

func readJSONL[T any](t testing.TB, name string) []T {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "privacy", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []T
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("%s: %v: %s", name, err, sc.Text())
		}
		out = append(out, v)
	}
	return out
}

// personalValue splits "kind:value".
func personalValue(p string) (kind, value string) {
	kind, value, _ = strings.Cut(p, ":")
	return kind, value
}

// leaked tells whether value survives in text: as written, or, for a value with five digits or
// more, its digits among text's digits.
func leaked(text, value string) bool {
	if strings.Contains(text, value) || strings.Contains(analysis.WesternDigits(text), analysis.WesternDigits(value)) {
		return true
	}
	d := knowledge.StatedDigits(value)
	return len(d) >= 5 && strings.Contains(knowledge.StatedDigits(text), d)
}

var testNow = func() time.Time { return time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC) }

func TestPrivacySetRecall(t *testing.T) {
	_, ix := testIndex(t)
	r := NewRedactor(testNow).WithKnownNumbers(ix)
	cases := readJSONL[privacyCase](t, "personal.jsonl")
	langs, kinds := map[string]bool{}, map[string][2]int{}
	total, gone := 0, 0
	var took []time.Duration
	for _, c := range cases {
		langs[c.Lang] = true
		start := time.Now()
		out := r.Redact(c.Text)
		took = append(took, time.Since(start))
		for _, p := range c.Personal {
			kind, v := personalValue(p)
			k := kinds[kind]
			k[0]++
			total++
			if leaked(out, v) {
				t.Logf("%s: %s %q survives: %q", c.Lang, kind, v, out)
			} else {
				k[1]++
				gone++
			}
			kinds[kind] = k
		}
	}
	slices.Sort(took)
	var ks []string
	for k, n := range kinds {
		ks = append(ks, k+" "+itoa(n[1])+"/"+itoa(n[0]))
	}
	sort.Strings(ks)
	recall := float64(gone) / float64(total)
	t.Logf("%d messages in %d languages, %d personal strings; recall %.3f; by kind: %s; redaction p95 %v",
		len(cases), len(langs), total, recall, strings.Join(ks, ", "), took[len(took)*95/100])
	if len(cases) < 60 || total < 150 || len(langs) < 10 {
		t.Errorf("the set is too small: %d messages, %d personal strings, %d languages", len(cases), total, len(langs))
	}
	if recall < 0.99 {
		t.Errorf("recall %.3f, want at least 0.99", recall)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

var reNumberToken = regexp.MustCompile(`\d+(?:[.,:]\d+)*`)

// TestOrdinaryNumbersSurvive: questions about fees, deadlines, dates, hours, postcodes and the
// city's own phone numbers keep their numbers.
func TestOrdinaryNumbersSurvive(t *testing.T) {
	_, ix := testIndex(t)
	r := NewRedactor(testNow).WithKnownNumbers(ix)
	cases := readJSONL[privacyCase](t, "ordinary.jsonl")
	langs := map[string]bool{}
	lost := 0
	for _, c := range cases {
		langs[c.Lang] = true
		out := r.Redact(c.Text)
		for _, n := range reNumberToken.FindAllString(analysis.WesternDigits(c.Text), -1) {
			if !strings.Contains(out, n) {
				lost++
				t.Logf("%s: %q lost %s: %q", c.Lang, c.Text, n, out)
				break
			}
		}
	}
	share := float64(lost) / float64(len(cases))
	t.Logf("%d ordinary questions in %d languages; %d lost a number (%.1f %%)", len(cases), len(langs), lost, 100*share)
	if len(cases) < 100 || len(langs) < 10 {
		t.Errorf("too few ordinary questions: %d in %d languages", len(cases), len(langs))
	}
	if share > 0.01 {
		t.Errorf("%.1f %% of ordinary questions lost a number, want at most 1 %%", 100*share)
	}
}

// TestRedactedQuestionsStillFindTheirPages: hit@3 of the dev questions through the index,
// redacted as the server redacts them and not.
func TestRedactedQuestionsStillFindTheirPages(t *testing.T) {
	_, ix := testIndex(t)
	r := NewRedactor(testNow).WithKnownNumbers(ix)
	files, _ := filepath.Glob(filepath.Join("..", "sample", "eval", "dev.*.jsonl"))
	type question struct {
		Lang     string   `json:"lang"`
		Question string   `json:"question"`
		Expect   []string `json:"expect"`
	}
	ctx := context.Background()
	hit := func(text, lang string, expect []string) bool {
		q := rePlaceholder.ReplaceAllString(text, " ")
		hits, err := ix.Search(ctx, knowledge.Query{Text: q, Lang: lang, Limit: 5})
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hits[:min(3, len(hits))] {
			if slices.Contains(expect, h.URL) {
				return true
			}
		}
		return false
	}
	n, plain, redacted, changed := 0, 0, 0, 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			var q question
			if err := json.Unmarshal([]byte(line), &q); err != nil {
				t.Fatal(err)
			}
			if len(q.Expect) == 0 {
				continue
			}
			lang := q.Lang
			if lang == "de-simple" {
				lang = "de"
			}
			n++
			red := r.Redact(q.Question)
			if red != q.Question {
				changed++
				t.Logf("redacted: %q -> %q", q.Question, red)
			}
			if hit(q.Question, lang, q.Expect) {
				plain++
			}
			if hit(red, lang, q.Expect) {
				redacted++
			}
		}
	}
	p, rd := float64(plain)/float64(n), float64(redacted)/float64(n)
	t.Logf("%d dev questions (%d changed by redaction): hit@3 %.3f unredacted, %.3f redacted", n, changed, p, rd)
	if p-rd > 0.02 {
		t.Errorf("hit@3 %.3f redacted vs %.3f unredacted: more than 0.02 lost", rd, p)
	}
}

// lockedBuffer is a log destination the server's goroutines write while the test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// TestNoPersonalDataStoredOrLogged sends every message of the set through the real server (as
// a question, a rating's comment or a ticket's note), with a debug-level logger, then searches
// every table's rows and the log for every personal string. A ticket's contact fields (name,
// phone, e-mail, entered with consent) are the one place personal data is kept: they are left
// out of the search, and are invented apart from the set.
func TestNoPersonalDataStoredOrLogged(t *testing.T) {
	pool, ix := testIndex(t)
	cat, err := i18n.Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	city := City{Name: "Musterstadt", PrivacyURL: "https://www.musterstadt.example/datenschutz", Contact: Contact{Office: "Musterstadt", Phone: "115"}}
	eng := NewEngine(ix, ix, cat, city, EngineConfig{MinConfidence: 0.3}, log)
	srv := NewServer(eng, NewStore(pool, testNow), cat, city, ServerConfig{Retention: 90 * 24 * time.Hour, ConnRate: 100, ConnBurst: 100,
		KnownNumbers: ix}, log, testNow)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ws", srv.ServeWS)
	hs := httptest.NewServer(mux)
	defer hs.Close()
	h := &harness{srv: srv, http: hs, pool: pool}

	cases := readJSONL[privacyCase](t, "personal.jsonl")
	for i, c := range cases {
		conn := mustDial(t, h, "?lang="+c.Lang)
		read(t, conn)
		switch c.Where {
		case "ask":
			send(t, conn, map[string]any{"type": "ask", "id": "p" + itoa(i), "text": c.Text})
			if m := read(t, conn); m["type"] != "answer" && m["type"] != "handoff" {
				t.Fatalf("%q: %v", c.Text, m)
			}
		case "comment":
			send(t, conn, map[string]any{"type": "ask", "id": "p" + itoa(i), "text": "Was kostet ein Reisepass?"})
			a := read(t, conn)
			send(t, conn, map[string]any{"type": "rate", "answer_id": a["id"], "value": "down", "comment": c.Text})
			if m := read(t, conn); m["type"] != "rated" {
				t.Fatalf("%q: %v", c.Text, m)
			}
		case "note":
			send(t, conn, map[string]any{"type": "ticket", "kind": "callback", "name": "Kontakt Person" + itoa(i),
				"phone": "0999 000" + itoa(i), "consent": true, "text": c.Text})
			if m := read(t, conn); m["type"] != "ticket_created" {
				t.Fatalf("%q: %v", c.Text, m)
			}
		default:
			t.Fatalf("where %q", c.Where)
		}
		conn.Close()
	}

	ctx := context.Background()
	rows, err := pool.Query(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		rows.Scan(&name)
		tables = append(tables, name)
	}
	rows.Close()
	if len(tables) < 8 {
		t.Fatalf("tables %v", tables)
	}
	var dump strings.Builder
	for _, name := range tables {
		sql := `SELECT to_jsonb(t)::text FROM ` + quoteIdent(name) + ` t`
		if name == "tickets" {
			sql = `SELECT (to_jsonb(t) - 'name' - 'phone' - 'email')::text FROM tickets t`
		}
		if name == "chunks" || name == "pages" || name == "postings" || name == "lexeme_stats" {
			continue // the city's pages: searched below for the strings only, not for digits
		}
		rs, err := pool.Query(ctx, sql)
		if err != nil {
			t.Fatal(name, err)
		}
		for rs.Next() {
			var s string
			rs.Scan(&s)
			dump.WriteString(s)
			dump.WriteByte('\n')
		}
		rs.Close()
	}
	// Digits compared without separators: in what came from citizens, row by row (the whole
	// dump's digits run together and hold any short number by chance).
	var citizen []string
	crs, err := pool.Query(ctx, `SELECT body::text FROM messages WHERE role = 'citizen' UNION ALL SELECT question FROM answers
		UNION ALL SELECT comment FROM ratings UNION ALL SELECT note FROM tickets`)
	if err != nil {
		t.Fatal(err)
	}
	for crs.Next() {
		var s string
		crs.Scan(&s)
		citizen = append(citizen, s)
	}
	crs.Close()
	stored, logged := dump.String(), logs.String()
	if !strings.Contains(stored, "[name]") || !strings.Contains(stored, "[secret]") {
		t.Fatalf("the messages were not stored redacted: %.500s", stored)
	}
	n := 0
	for _, c := range cases {
		for _, p := range c.Personal {
			n++
			kind, v := personalValue(p)
			// A short number (a PIN "9021") can stand in any table's timestamps and ids by chance:
			// those are searched for in what came from citizens only, below.
			if short := len(knowledge.StatedDigits(v)) == len(v) && len(v) < 6; !short &&
				(strings.Contains(stored, v) || strings.Contains(stored, analysis.WesternDigits(v))) {
				t.Errorf("%s %s %q stored (%s)", c.Lang, kind, v, c.Where)
			}
			for _, row := range citizen {
				if leaked(row, v) {
					t.Errorf("%s %s %q stored (%s): %s", c.Lang, kind, v, c.Where, row)
				}
			}
			if leaked(logged, v) {
				t.Errorf("%s %s %q logged", c.Lang, kind, v)
			}
			var inPages bool
			pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM chunks WHERE strpos(body, $1) > 0)`, v).Scan(&inPages)
			if inPages {
				t.Errorf("%s %q is in the sample pages: invent another", kind, v)
			}
		}
	}
	t.Logf("%d messages, %d personal strings searched in %d tables (%d bytes) and %d bytes of debug log", len(cases), n, len(tables), len(stored), len(logged))
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// mapNumbers is a KnownNumbers over a fixed set, for the benchmark.
type mapNumbers map[string]bool

func (m mapNumbers) StatesNumber(_ context.Context, d string) (bool, error) { return m[d], nil }

// BenchmarkRedact reports, besides the mean, the 95th percentile per message of two sets: the
// citizens' questions of the sample's dev set (what redaction costs in daily use) and the
// messages full of personal data of the privacy test set (its hard case).
func BenchmarkRedact(b *testing.B) {
	var personal, questions []string
	for _, c := range readJSONL[privacyCase](b, "personal.jsonl") {
		personal = append(personal, c.Text)
	}
	for _, c := range readJSONL[privacyCase](b, "ordinary.jsonl") {
		questions = append(questions, c.Text)
	}
	files, _ := filepath.Glob(filepath.Join("..", "sample", "eval", "dev.*.jsonl"))
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		for _, line := range strings.Split(string(raw), "\n") {
			var q struct{ Question string }
			if json.Unmarshal([]byte(line), &q) == nil && q.Question != "" {
				questions = append(questions, q.Question)
			}
		}
	}
	r := NewRedactor(testNow).WithKnownNumbers(mapNumbers{"01234567000": true, "01234560": true})
	p95 := func(texts []string) float64 {
		var ds []time.Duration
		for range 20 {
			for _, t := range texts {
				start := time.Now()
				r.Redact(t)
				ds = append(ds, time.Since(start))
			}
		}
		slices.Sort(ds)
		return float64(ds[len(ds)*95/100].Nanoseconds())
	}
	all := append(append([]string(nil), questions...), personal...)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r.Redact(all[i%len(all)])
	}
	b.StopTimer()
	b.ReportMetric(p95(questions), "p95-question-ns")
	b.ReportMetric(p95(personal), "p95-personal-ns")
}
