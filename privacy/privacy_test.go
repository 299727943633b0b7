package privacy

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/citybot-project/citybot/analysis"
	"github.com/citybot-project/citybot/database/dbtest"
	"github.com/citybot-project/citybot/internal/testsite"
	"github.com/citybot-project/citybot/knowledge"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

// testNow is the day the privacy test set's dates are read against: a date ten years or more
// before it can be a birth date.
func testNow() time.Time { return time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC) }

func TestPrivacySetRecall(t *testing.T) {
	_, ix := testsite.Index(t)
	r := NewRedactor(testNow).WithKnownNumbers(ix)
	cases := testsite.PrivacyCases(t, "personal.jsonl")
	langs, kinds := map[string]bool{}, map[string][2]int{}
	total, gone := 0, 0
	var took []time.Duration
	for _, c := range cases {
		langs[c.Lang] = true
		start := time.Now()
		out := r.Redact(c.Text)
		took = append(took, time.Since(start))
		for _, p := range c.Personal {
			kind, v := testsite.PersonalValue(p)
			k := kinds[kind]
			k[0]++
			total++
			if testsite.Leaked(out, v) {
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
		ks = append(ks, k+" "+strconv.Itoa(n[1])+"/"+strconv.Itoa(n[0]))
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

var reNumberToken = regexp.MustCompile(`\d+(?:[.,:]\d+)*`)

// TestOrdinaryNumbersSurvive: questions about fees, deadlines, dates, hours, postcodes and the
// city's own phone numbers keep their numbers.
func TestOrdinaryNumbersSurvive(t *testing.T) {
	_, ix := testsite.Index(t)
	r := NewRedactor(testNow).WithKnownNumbers(ix)
	cases := testsite.PrivacyCases(t, "ordinary.jsonl")
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
	_, ix := testsite.Index(t)
	r := NewRedactor(testNow).WithKnownNumbers(ix)
	files, _ := filepath.Glob(testsite.Path("sample", "eval", "dev.*.jsonl"))
	type question struct {
		Lang     string   `json:"lang"`
		Question string   `json:"question"`
		Expect   []string `json:"expect"`
	}
	ctx := context.Background()
	hit := func(text, lang string, expect []string) bool {
		q := WithoutPlaceholders(text)
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

// mapNumbers is a KnownNumbers over a fixed set, for the benchmark.
type mapNumbers map[string]bool

func (m mapNumbers) StatesNumber(_ context.Context, d string) (bool, error) { return m[d], nil }

// BenchmarkRedact reports, besides the mean, the 95th percentile per message of two sets: the
// citizens' questions of the sample's dev set (what redaction costs in daily use) and the
// messages full of personal data of the privacy test set (its hard case).
func BenchmarkRedact(b *testing.B) {
	var personal, questions []string
	for _, c := range testsite.PrivacyCases(b, "personal.jsonl") {
		personal = append(personal, c.Text)
	}
	for _, c := range testsite.PrivacyCases(b, "ordinary.jsonl") {
		questions = append(questions, c.Text)
	}
	files, _ := filepath.Glob(testsite.Path("sample", "eval", "dev.*.jsonl"))
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
