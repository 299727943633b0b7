package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/citybot-project/citybot/bot"
	"github.com/citybot-project/citybot/knowledge"
	"github.com/citybot-project/citybot/privacy"
)

const evalUsage = `eval --questions FILE.jsonl [--questions ...] [--json] [--misses]

Runs every question through the same retrieval citizens get and reports hit@1, hit@3 and MRR
by language and kind, beside a naive baseline (BM25 over whole pages' main text, no stemming, no
glossary: base@1, base@3; "!" marks a row of at least 5 questions where citybot's hit@1 is below
the baseline's), and through the chat engine: fact recall, out-of-scope declines, false handoffs.
FILE may be a glob ('eval/dev.*.jsonl').`

// question is one line of a question file.
type question struct {
	ID       string   `json:"id"`
	Lang     string   `json:"lang"`
	Question string   `json:"question"`
	Expect   []string `json:"expect"`
	Facts    []string `json:"facts"`
	Kind     string   `json:"kind"`
}

// evalReport is the --json output; its shape is fixed by the issue tracker.
type evalReport struct {
	Questions int     `json:"questions"`
	HitAt1    float64 `json:"hit_at_1"`
	HitAt3    float64 `json:"hit_at_3"`
	MRR       float64 `json:"mrr"`
	// FactRecall is the share of answerable and redirect questions with facts whose reply holds
	// every fact verbatim (an answerable question handed off is not right; a redirect's facts
	// name the authority, and its reply, answer or handoff, must name it). Questions without
	// facts are left out of it and counted in WithoutFacts.
	FactRecall   *float64             `json:"fact_recall"`
	OOSDeclined  *float64             `json:"oos_declined"`
	FalseHandoff *float64             `json:"false_handoff"`
	ByLang       map[string]langScore `json:"by_lang"`
	// WithoutFacts counts the answerable and redirect questions that fact recall leaves out.
	WithoutFacts int `json:"without_facts"`
	// RedirectNamed is the redirect questions' part of FactRecall: replies naming the authority.
	RedirectNamed *float64 `json:"redirect_named"`
	// Baseline is the naive baseline's retrieval on the same questions.
	Baseline baselineReport `json:"baseline"`
}

// baselineReport is the naive baseline's part of the --json output.
type baselineReport struct {
	HitAt1 float64              `json:"hit_at_1"`
	HitAt3 float64              `json:"hit_at_3"`
	ByLang map[string]langScore `json:"by_lang"`
}

type langScore struct {
	N      int     `json:"n"`
	HitAt1 float64 `json:"hit_at_1"`
	HitAt3 float64 `json:"hit_at_3"`
}

type tally struct {
	n          int
	at1, at3   int
	reciprocal float64
}

func (t *tally) add(rank int) {
	t.n++
	if rank == 1 {
		t.at1++
	}
	if rank >= 1 && rank <= 3 {
		t.at3++
	}
	if rank >= 1 {
		t.reciprocal += 1 / float64(rank)
	}
}

// tallies are one retriever's ranks overall, by language and by kind.
type tallies struct {
	all            *tally
	byLang, byKind map[string]*tally
}

func newTallies() *tallies {
	return &tallies{all: &tally{}, byLang: map[string]*tally{}, byKind: map[string]*tally{}}
}

func (ts *tallies) add(q question, rank int) {
	ts.all.add(rank)
	for key, m := range map[string]map[string]*tally{q.Lang: ts.byLang, q.Kind: ts.byKind} {
		if m[key] == nil {
			m[key] = &tally{}
		}
		m[key].add(rank)
	}
}

func (ts *tallies) byLangScores() map[string]langScore {
	out := make(map[string]langScore, len(ts.byLang))
	for l, t := range ts.byLang {
		out[l] = langScore{N: t.n, HitAt1: ratio(t.at1, t.n), HitAt3: ratio(t.at3, t.n)}
	}
	return out
}

func ratio(a, n int) float64 {
	if n == 0 {
		return 0
	}
	return float64(a) / float64(n)
}

// mrrDepth is how deep MRR looks.
const mrrDepth = 10

func cmdEval(ctx context.Context, e *env, args []string) error {
	fs := newFlags("eval", evalUsage, e.stderr)
	townFlag(fs, e)
	var files stringList
	fs.Var(&files, "questions", "question file (JSONL), repeatable, globs allowed")
	asJSON := fs.Bool("json", false, "print exactly one JSON object")
	misses := fs.Bool("misses", false, "list the questions whose expected page is not among the first --miss-depth")
	missDepth := fs.Int("miss-depth", 3, "rank beyond which --misses lists a question")
	if err := parse(fs, args); err != nil {
		return err
	}
	if len(files) == 0 {
		fmt.Fprintln(e.stderr, "eval: --questions is required")
		fs.Usage()
		return errUsage
	}
	qs, err := readQuestions(files)
	if err != nil {
		return err
	}
	db, ix, err := openIndex(ctx, e)
	if err != nil {
		return err
	}
	defer db.Close()
	engine, _, err := newEngine(e, ix)
	if err != nil {
		return err
	}
	pages, err := ix.PageTexts(ctx)
	if err != nil {
		return err
	}
	baseline := knowledge.NewBaseline(pages)
	redactor := privacy.NewRedactor(time.Now).WithKnownNumbers(ix)
	var answerable, handedOff, oos, declined int
	// Fact recall: over the answerable and redirect questions that have facts.
	var withFacts, factsFound, withoutFacts, redirects, redirectsNamed int

	ours, base := newTallies(), newTallies()
	var missed []string
	for _, q := range qs {
		// Leichte Sprache is the citizen's choice in the widget, not something to detect.
		conv := ""
		if q.Lang == "de-simple" {
			conv = q.Lang
		}
		reply, err := engine.Reply(ctx, redactor.Redact(q.Question), conv, "")
		if err != nil {
			return fmt.Errorf("question %s: %w", q.ID, err)
		}
		switch q.Kind {
		case "out_of_scope":
			oos++
			if reply.Kind == "handoff" {
				declined++
			} else {
				missed = append(missed, fmt.Sprintf("%s [%s] %q\n    out of scope, but answered from %s", q.ID, q.Lang, q.Question, sourceOf(reply)))
			}
			continue
		case "answerable":
			answerable++
			if reply.Kind == "handoff" {
				handedOff++
				missed = append(missed, fmt.Sprintf("%s [%s] %q\n    handed off (%s, confidence %.2f)", q.ID, q.Lang, q.Question, reply.Reason, reply.Confidence))
			}
		}
		counts, right := factCheck(q, reply)
		switch {
		case !counts:
			withoutFacts++
		case q.Kind == "redirect":
			withFacts++
			redirects++
			if right {
				factsFound++
				redirectsNamed++
			} else {
				missed = append(missed, fmt.Sprintf("%s [%s] %q\n    redirect: %s from %s does not name %v: %q", q.ID, q.Lang, q.Question, reply.Kind, sourceOf(reply), q.Facts, reply.Text))
			}
		default:
			withFacts++
			if right {
				factsFound++
			} else if reply.Kind != "handoff" { // a handoff is listed above
				missed = append(missed, fmt.Sprintf("%s [%s] %q\n    answer from %s lacks %v: %q", q.ID, q.Lang, q.Question, sourceOf(reply), q.Facts, reply.Text))
			}
		}
		hits, err := ix.Search(ctx, knowledge.Query{Text: q.Question, Limit: mrrDepth})
		if err != nil {
			return fmt.Errorf("question %s: %w", q.ID, err)
		}
		rank := rankOf(hits, q.Expect)
		ours.add(q, rank)
		base.add(q, rankOf(baseline.Search(q.Question, mrrDepth), q.Expect))
		if rank < 1 || rank > *missDepth {
			var top []string
			for _, h := range hits[:min(3, len(hits))] {
				top = append(top, h.URL)
			}
			got := strings.Join(top, " ")
			missed = append(missed, fmt.Sprintf("%s [%s] %q\n    want %s\n    got  %s (expected at rank %d)",
				q.ID, q.Lang, q.Question, strings.Join(q.Expect, " | "), got, rank))
		}
	}
	all := ours.all
	rep := evalReport{Questions: len(qs), HitAt1: ratio(all.at1, all.n), HitAt3: ratio(all.at3, all.n),
		ByLang: ours.byLangScores(), WithoutFacts: withoutFacts,
		Baseline: baselineReport{HitAt1: ratio(base.all.at1, base.all.n), HitAt3: ratio(base.all.at3, base.all.n),
			ByLang: base.byLangScores()}}
	if all.n > 0 {
		rep.MRR = all.reciprocal / float64(all.n)
	}
	if withFacts > 0 {
		fr := ratio(factsFound, withFacts)
		rep.FactRecall = &fr
	}
	if redirects > 0 {
		rn := ratio(redirectsNamed, redirects)
		rep.RedirectNamed = &rn
	}
	if answerable > 0 {
		fh := ratio(handedOff, answerable)
		rep.FalseHandoff = &fh
	}
	if oos > 0 {
		d := ratio(declined, oos)
		rep.OOSDeclined = &d
	}
	if *asJSON {
		return json.NewEncoder(e.stdout).Encode(rep)
	}
	fmt.Fprintf(e.stdout, "%d questions, %d with an expected page\n", rep.Questions, all.n)
	fmt.Fprintf(e.stdout, "answering: fact recall %s (%d of %d; redirects naming the authority %d of %d; %d without facts not counted), out of scope declined %s, false handoffs %s\n\n",
		pct(rep.FactRecall), factsFound, withFacts, redirectsNamed, redirects, withoutFacts, pct(rep.OOSDeclined), pct(rep.FalseHandoff))
	printEval(e.stdout, ours, base)
	if *misses {
		fmt.Fprintf(e.stdout, "\nmissed (%d):\n", len(missed))
		for _, m := range missed {
			fmt.Fprintln(e.stdout, "  "+m)
		}
	}
	return nil
}

// factCheck tells whether a question counts in fact recall (answerable and redirect questions
// with facts) and whether reply then is right: an answerable question's answer (not a handoff)
// holds every fact verbatim; a redirect's facts name the responsible authority, and its reply,
// answer or handoff, must name it.
func factCheck(q question, reply bot.Reply) (counts, right bool) {
	if len(q.Facts) == 0 {
		return false, false
	}
	switch q.Kind {
	case "answerable":
		return true, reply.Kind != "handoff" && containsAll(reply.Text, q.Facts)
	case "redirect":
		return true, containsAll(reply.Text, q.Facts)
	}
	return false, false
}

// containsAll: the answer contains every fact verbatim.
func containsAll(text string, facts []string) bool {
	for _, f := range facts {
		if !strings.Contains(text, f) {
			return false
		}
	}
	return true
}

// rankOf is the 1-based rank of the first hit whose page, or one of its matching translations
// (the same service in another language, which an answer cites with it), is expected; else 0.
func rankOf(hits []knowledge.Hit, expect []string) int {
	for i, h := range hits {
		for _, u := range h.URLs() {
			for _, x := range expect {
				if sameURL(u, x) {
					return i + 1
				}
			}
		}
	}
	return 0
}

func sameURL(a, b string) bool {
	return strings.TrimSuffix(a, "/") == strings.TrimSuffix(b, "/")
}

// sourceOf is the first source a reply cites, for the --misses list.
func sourceOf(r bot.Reply) string {
	if len(r.Sources) == 0 {
		return "no source"
	}
	return r.Sources[0].URL
}

func pct(p *float64) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprintf("%.2f", *p)
}

// baselineMinN is how many questions a row needs before "!" may mark citybot below the baseline.
const baselineMinN = 5

func printEval(w io.Writer, ours, base *tallies) {
	fmt.Fprintf(w, "%-12s %5s %7s %7s %7s | %6s %6s\n", "", "n", "hit@1", "hit@3", "mrr", "base@1", "base@3")
	row := func(name string, t, b *tally) {
		if b == nil {
			b = &tally{}
		}
		mrr := 0.0
		if t.n > 0 {
			mrr = t.reciprocal / float64(t.n)
		}
		mark := ""
		if t.n >= baselineMinN && ratio(t.at1, t.n) < ratio(b.at1, b.n) {
			mark = " !"
		}
		fmt.Fprintf(w, "%-12s %5d %7.2f %7.2f %7.2f | %6.2f %6.2f%s\n", name, t.n, ratio(t.at1, t.n), ratio(t.at3, t.n), mrr,
			ratio(b.at1, b.n), ratio(b.at3, b.n), mark)
	}
	row("all", ours.all, base.all)
	for i, group := range []map[string]*tally{ours.byLang, ours.byKind} {
		baseGroup := []map[string]*tally{base.byLang, base.byKind}[i]
		fmt.Fprintln(w)
		keys := make([]string, 0, len(group))
		for k := range group {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			if group[keys[i]].n != group[keys[j]].n {
				return group[keys[i]].n > group[keys[j]].n
			}
			return keys[i] < keys[j]
		})
		for _, k := range keys {
			row(k, group[k], baseGroup[k])
		}
	}
	fmt.Fprintf(w, "\nbase@1, base@3: naive BM25 over whole pages' main text (lower-cased words, no stemming, no folding,\n"+
		"no glossary); ! marks a row of at least %d questions where citybot's hit@1 is below the baseline's\n", baselineMinN)
}

func readQuestions(patterns []string) ([]question, error) {
	var qs []question
	for _, p := range patterns {
		files, err := filepath.Glob(p)
		if err != nil || len(files) == 0 {
			files = []string{p} // let the open below report the missing file
		}
		sort.Strings(files)
		for _, f := range files {
			more, err := readQuestionFile(f)
			if err != nil {
				return nil, err
			}
			qs = append(qs, more...)
		}
	}
	return qs, nil
}

func readQuestionFile(name string) ([]question, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var qs []question
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		var q question
		if err := json.Unmarshal([]byte(text), &q); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, line, err)
		}
		switch {
		case q.Question == "":
			return nil, fmt.Errorf("%s:%d: no question", name, line)
		case q.Kind != "answerable" && q.Kind != "redirect" && q.Kind != "out_of_scope":
			return nil, fmt.Errorf("%s:%d: kind %q, want answerable, redirect or out_of_scope", name, line, q.Kind)
		case q.Kind != "out_of_scope" && len(q.Expect) == 0:
			return nil, fmt.Errorf("%s:%d: %s question without expected URLs", name, line, q.Kind)
		}
		qs = append(qs, q)
	}
	return qs, sc.Err()
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }
