package eval

import (
	"strings"

	"github.com/citybot-project/citybot/bot"
	"github.com/citybot-project/citybot/knowledge"
)

// tally counts one retriever's ranks on a set of questions.
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

func (ts *tallies) add(q Question, rank int) {
	ts.all.add(rank)
	for key, m := range map[string]map[string]*tally{q.Lang: ts.byLang, q.Kind: ts.byKind} {
		if m[key] == nil {
			m[key] = &tally{}
		}
		m[key].add(rank)
	}
}

func (ts *tallies) byLangScores() map[string]LangScore {
	out := make(map[string]LangScore, len(ts.byLang))
	for l, t := range ts.byLang {
		out[l] = LangScore{N: t.n, HitAt1: ratio(t.at1, t.n), HitAt3: ratio(t.at3, t.n)}
	}
	return out
}

func ratio(a, n int) float64 {
	if n == 0 {
		return 0
	}
	return float64(a) / float64(n)
}

// factCheck tells whether a question counts in fact recall (answerable and redirect questions
// with facts) and whether reply then is right: an answerable question's answer (not a handoff)
// holds every fact verbatim; a redirect's facts name the responsible authority, and its reply,
// answer or handoff, must name it.
func factCheck(q Question, reply bot.Reply) (counts, right bool) {
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
