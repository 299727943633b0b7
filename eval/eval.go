// Package eval measures citybot on question sets: every question goes through the retrieval
// citizens get (hit@1, hit@3 and MRR by language and kind, beside a naive baseline's) and through
// the chat engine (fact recall, out-of-scope declines, false handoffs). The report is text for
// editors or one JSON object for the issue tracker.
package eval

import (
	"context"
	"fmt"
	"strings"

	"github.com/citybot-project/citybot/bot"
	"github.com/citybot-project/citybot/knowledge"
)

// Answerer is the chat engine that replies to citizens.
type Answerer interface {
	Reply(ctx context.Context, text, convLang, lang string) (bot.Reply, error)
}

// Searcher is the retrieval citizens get.
type Searcher interface {
	Search(ctx context.Context, q knowledge.Query) ([]knowledge.Hit, error)
}

// Baseline is the naive retriever citybot is measured against (knowledge.Baseline).
type Baseline interface {
	Search(query string, k int) []knowledge.Hit
}

// Setup is what a run measures.
type Setup struct {
	Engine   Answerer
	Index    Searcher
	Baseline Baseline
	// Redact is what the chat server does to a citizen's message before the engine sees it.
	Redact func(text string) string
	// MissDepth is the rank beyond which a question's expected page counts as missed.
	MissDepth int
}

// MRRDepth is how deep MRR looks: the hits asked of retrieval for each question.
const MRRDepth = 10

// Result is a run's report and what its text form shows beyond the JSON.
type Result struct {
	Report Report
	ours   *tallies
	base   *tallies
	// Fact recall's counts: over the answerable and redirect questions that have facts.
	withFacts, factsFound, redirects, redirectsNamed int
	missed                                           []string
}

// Run asks every question and scores the replies and the retrieval.
func Run(ctx context.Context, s Setup, qs []Question) (*Result, error) {
	r := &Result{ours: newTallies(), base: newTallies()}
	var answerable, handedOff, oos, declined, withoutFacts int
	for _, q := range qs {
		// Leichte Sprache is the citizen's choice in the widget, not something to detect.
		conv := ""
		if q.Lang == "de-simple" {
			conv = q.Lang
		}
		reply, err := s.Engine.Reply(ctx, s.Redact(q.Question), conv, "")
		if err != nil {
			return nil, fmt.Errorf("question %s: %w", q.ID, err)
		}
		switch q.Kind {
		case "out_of_scope":
			oos++
			if reply.Kind == "handoff" {
				declined++
			} else {
				r.miss(q, "out of scope, but answered from %s", sourceOf(reply))
			}
			continue
		case "answerable":
			answerable++
			if reply.Kind == "handoff" {
				handedOff++
				r.miss(q, "handed off (%s, confidence %.2f)", reply.Reason, reply.Confidence)
			}
		}
		counts, right := factCheck(q, reply)
		switch {
		case !counts:
			withoutFacts++
		case q.Kind == "redirect":
			r.withFacts++
			r.redirects++
			if right {
				r.factsFound++
				r.redirectsNamed++
			} else {
				r.miss(q, "redirect: %s from %s does not name %v: %q", reply.Kind, sourceOf(reply), q.Facts, reply.Text)
			}
		default:
			r.withFacts++
			if right {
				r.factsFound++
			} else if reply.Kind != "handoff" { // a handoff is listed above
				r.miss(q, "answer from %s lacks %v: %q", sourceOf(reply), q.Facts, reply.Text)
			}
		}
		hits, err := s.Index.Search(ctx, knowledge.Query{Text: q.Question, Limit: MRRDepth})
		if err != nil {
			return nil, fmt.Errorf("question %s: %w", q.ID, err)
		}
		rank := rankOf(hits, q.Expect)
		r.ours.add(q, rank)
		r.base.add(q, rankOf(s.Baseline.Search(q.Question, MRRDepth), q.Expect))
		if rank < 1 || rank > s.MissDepth {
			var top []string
			for _, h := range hits[:min(3, len(hits))] {
				top = append(top, h.URL)
			}
			r.miss(q, "want %s\n    got  %s (expected at rank %d)", strings.Join(q.Expect, " | "), strings.Join(top, " "), rank)
		}
	}
	r.Report = r.report(len(qs), withoutFacts)
	r.Report.FalseHandoff = share(handedOff, answerable)
	r.Report.OOSDeclined = share(declined, oos)
	return r, nil
}

// miss lists q among the misses, with why.
func (r *Result) miss(q Question, format string, args ...any) {
	r.missed = append(r.missed, fmt.Sprintf("%s [%s] %q\n    ", q.ID, q.Lang, q.Question)+fmt.Sprintf(format, args...))
}

// report is the JSON report of the tallies and counts; questions counts all questions asked.
func (r *Result) report(questions, withoutFacts int) Report {
	all, base := r.ours.all, r.base.all
	rep := Report{Questions: questions, HitAt1: ratio(all.at1, all.n), HitAt3: ratio(all.at3, all.n),
		ByLang: r.ours.byLangScores(), WithoutFacts: withoutFacts,
		Baseline: BaselineReport{HitAt1: ratio(base.at1, base.n), HitAt3: ratio(base.at3, base.n),
			ByLang: r.base.byLangScores()}}
	if all.n > 0 {
		rep.MRR = all.reciprocal / float64(all.n)
	}
	rep.FactRecall = share(r.factsFound, r.withFacts)
	rep.RedirectNamed = share(r.redirectsNamed, r.redirects)
	return rep
}

// share is a/n, nil when there is nothing to share out (n is 0).
func share(a, n int) *float64 {
	if n == 0 {
		return nil
	}
	v := ratio(a, n)
	return &v
}

// sourceOf is the first source a reply cites, for the misses.
func sourceOf(r bot.Reply) string {
	if len(r.Sources) == 0 {
		return "no source"
	}
	return r.Sources[0].URL
}
