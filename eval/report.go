package eval

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
)

// Report is the JSON report; its shape is fixed by the issue tracker.
type Report struct {
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
	ByLang       map[string]LangScore `json:"by_lang"`
	// WithoutFacts counts the answerable and redirect questions that fact recall leaves out.
	WithoutFacts int `json:"without_facts"`
	// RedirectNamed is the redirect questions' part of FactRecall: replies naming the authority.
	RedirectNamed *float64 `json:"redirect_named"`
	// Baseline is the naive baseline's retrieval on the same questions.
	Baseline BaselineReport `json:"baseline"`
}

// BaselineReport is the naive baseline's part of the report.
type BaselineReport struct {
	HitAt1 float64              `json:"hit_at_1"`
	HitAt3 float64              `json:"hit_at_3"`
	ByLang map[string]LangScore `json:"by_lang"`
}

// LangScore is retrieval on one language's questions.
type LangScore struct {
	N      int     `json:"n"`
	HitAt1 float64 `json:"hit_at_1"`
	HitAt3 float64 `json:"hit_at_3"`
}

// WriteJSON writes the report as exactly one line of JSON.
func (r *Result) WriteJSON(w io.Writer) error { return json.NewEncoder(w).Encode(r.Report) }

// WriteText writes the report for editors: the answering figures, then retrieval's table
// overall, by language and by kind; with misses, every question missed and why.
func (r *Result) WriteText(w io.Writer, misses bool) {
	rep := r.Report
	fmt.Fprintf(w, "%d questions, %d with an expected page\n", rep.Questions, r.ours.all.n)
	fmt.Fprintf(w, "answering: fact recall %s (%d of %d; redirects naming the authority %d of %d; %d without facts not counted), out of scope declined %s, false handoffs %s\n\n",
		pct(rep.FactRecall), r.factsFound, r.withFacts, r.redirectsNamed, r.redirects, rep.WithoutFacts, pct(rep.OOSDeclined), pct(rep.FalseHandoff))
	printTable(w, r.ours, r.base)
	if misses {
		fmt.Fprintf(w, "\nmissed (%d):\n", len(r.missed))
		for _, m := range r.missed {
			fmt.Fprintln(w, "  "+m)
		}
	}
}

func pct(p *float64) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprintf("%.2f", *p)
}

// baselineMinN is how many questions a row needs before "!" may mark citybot below the baseline.
const baselineMinN = 5

// printTable writes retrieval's table: citybot's hit@1, hit@3 and MRR beside the baseline's
// hit@1 and hit@3, overall, by language and by kind, largest groups first.
func printTable(w io.Writer, ours, base *tallies) {
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
