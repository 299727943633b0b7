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
)

const evalUsage = `eval --questions FILE.jsonl [--questions ...] [--json] [--misses]

Runs every question through the same retrieval citizens get and reports hit@1, hit@3 and MRR
by language and kind. FILE may be a glob ('eval/dev.*.jsonl').`

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
	Questions    int                  `json:"questions"`
	HitAt1       float64              `json:"hit_at_1"`
	HitAt3       float64              `json:"hit_at_3"`
	MRR          float64              `json:"mrr"`
	FactRecall   *float64             `json:"fact_recall"`
	OOSDeclined  *float64             `json:"oos_declined"`
	FalseHandoff *float64             `json:"false_handoff"`
	ByLang       map[string]langScore `json:"by_lang"`
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
	redactor := bot.NewRedactor(time.Now)
	var answerable, factsFound, handedOff, oos, declined int

	all := &tally{}
	byLang := map[string]*tally{}
	byKind := map[string]*tally{}
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
				missed = append(missed, fmt.Sprintf("%s [%s] %q\n    out of scope, but answered from %s", q.ID, q.Lang, q.Question, reply.Sources[0].URL))
			}
			continue
		case "answerable":
			answerable++
			switch {
			case reply.Kind == "handoff":
				handedOff++
				missed = append(missed, fmt.Sprintf("%s [%s] %q\n    handed off (%s, confidence %.2f)", q.ID, q.Lang, q.Question, reply.Reason, reply.Confidence))
			case containsAll(reply.Text, q.Facts):
				factsFound++
			default:
				missed = append(missed, fmt.Sprintf("%s [%s] %q\n    answer from %s lacks %v: %q", q.ID, q.Lang, q.Question, reply.Sources[0].URL, q.Facts, reply.Text))
			}
		}
		hits, err := ix.Search(ctx, knowledge.Query{Text: q.Question, Limit: mrrDepth})
		if err != nil {
			return fmt.Errorf("question %s: %w", q.ID, err)
		}
		rank := rankOf(hits, q.Expect)
		all.add(rank)
		for key, m := range map[string]map[string]*tally{q.Lang: byLang, q.Kind: byKind} {
			if m[key] == nil {
				m[key] = &tally{}
			}
			m[key].add(rank)
		}
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
	rep := evalReport{Questions: len(qs), HitAt1: ratio(all.at1, all.n), HitAt3: ratio(all.at3, all.n),
		ByLang: map[string]langScore{}}
	if all.n > 0 {
		rep.MRR = all.reciprocal / float64(all.n)
	}
	if answerable > 0 {
		fr, fh := ratio(factsFound, answerable), ratio(handedOff, answerable)
		rep.FactRecall, rep.FalseHandoff = &fr, &fh
	}
	if oos > 0 {
		d := ratio(declined, oos)
		rep.OOSDeclined = &d
	}
	for l, t := range byLang {
		rep.ByLang[l] = langScore{N: t.n, HitAt1: ratio(t.at1, t.n), HitAt3: ratio(t.at3, t.n)}
	}
	if *asJSON {
		return json.NewEncoder(e.stdout).Encode(rep)
	}
	printEval(e.stdout, rep, all, byLang, byKind)
	if *misses {
		fmt.Fprintf(e.stdout, "\nmissed (%d):\n", len(missed))
		for _, m := range missed {
			fmt.Fprintln(e.stdout, "  "+m)
		}
	}
	return nil
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

func printEval(w io.Writer, rep evalReport, all *tally, byLang, byKind map[string]*tally) {
	fmt.Fprintf(w, "%d questions, %d with an expected page\n", rep.Questions, all.n)
	pct := func(p *float64) string {
		if p == nil {
			return "-"
		}
		return fmt.Sprintf("%.2f", *p)
	}
	fmt.Fprintf(w, "answering: fact recall %s, out of scope declined %s, false handoffs %s\n\n",
		pct(rep.FactRecall), pct(rep.OOSDeclined), pct(rep.FalseHandoff))
	fmt.Fprintf(w, "%-12s %5s %7s %7s %7s\n", "", "n", "hit@1", "hit@3", "mrr")
	row := func(name string, t *tally) {
		mrr := 0.0
		if t.n > 0 {
			mrr = t.reciprocal / float64(t.n)
		}
		fmt.Fprintf(w, "%-12s %5d %7.2f %7.2f %7.2f\n", name, t.n, ratio(t.at1, t.n), ratio(t.at3, t.n), mrr)
	}
	row("all", all)
	for _, group := range []map[string]*tally{byLang, byKind} {
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
			row(k, group[k])
		}
	}
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
