package eval

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/citybot-project/citybot/bot"
	"github.com/citybot-project/citybot/knowledge"
)

// Doubles: the engine replies by question, retrieval and the baseline rank pages by question.
type (
	fakeEngine   map[string]bot.Reply
	fakeSearcher map[string][]string
)

func (f fakeEngine) Reply(_ context.Context, text, convLang, _ string) (bot.Reply, error) {
	if convLang == "de-simple" != strings.Contains(text, "leicht:") { // Leichte Sprache passed on as the conversation's
		return bot.Reply{Kind: "handoff", Reason: "wrong language"}, nil
	}
	return f[text], nil
}

func (f fakeSearcher) hits(q string) []knowledge.Hit {
	var hits []knowledge.Hit
	for _, u := range f[q] {
		hits = append(hits, knowledge.Hit{URL: u})
	}
	return hits
}

func (f fakeSearcher) Search(_ context.Context, q knowledge.Query) ([]knowledge.Hit, error) {
	return f.hits(q.Text), nil
}

type fakeBaseline fakeSearcher

func (f fakeBaseline) Search(q string, _ int) []knowledge.Hit { return fakeSearcher(f).hits(q) }

func TestRunScoresRetrievalAndAnswers(t *testing.T) {
	const pass, court = "https://x.example/reisepass", "https://x.example/amtsgericht"
	answer := func(text string) bot.Reply {
		return bot.Reply{Kind: "answer", Text: text, Sources: []bot.Source{{URL: pass}}}
	}
	qs := []Question{
		{ID: "1", Lang: "de", Question: "Was kostet ein Reisepass?", Expect: []string{pass + "/"}, Facts: []string{"37,00 Euro"}, Kind: "answerable"},
		{ID: "2", Lang: "de", Question: "Wie lange dauert ein Pass?", Expect: []string{pass}, Facts: []string{"drei Wochen"}, Kind: "answerable"},
		{ID: "3", Lang: "en", Question: "Who issues a certificate of inheritance?", Expect: []string{court}, Facts: []string{"Amtsgericht"}, Kind: "redirect"},
		{ID: "4", Lang: "de-simple", Question: "leicht: Pass", Expect: []string{pass}, Kind: "answerable"},
		{ID: "5", Lang: "en", Question: "Best pizza in town?", Kind: "out_of_scope"},
	}
	engine := fakeEngine{
		"[redacted] Was kostet ein Reisepass?":                answer("Er kostet 37,00 Euro."),
		"[redacted] Wie lange dauert ein Pass?":               answer("Er kostet 37,00 Euro."),
		"[redacted] Who issues a certificate of inheritance?": {Kind: "handoff", Reason: "out_of_scope", Text: "Ask the Amtsgericht."},
		"[redacted] leicht: Pass":                             answer("Der Pass kostet Geld."),
		"[redacted] Best pizza in town?":                      answer("Pizza."),
	}
	ours := fakeSearcher{
		"Was kostet ein Reisepass?":                {pass},
		"Wie lange dauert ein Pass?":               {court, "https://x.example/a", "https://x.example/b", pass},
		"Who issues a certificate of inheritance?": {court},
		"leicht: Pass":                             {pass},
	}
	base := fakeBaseline{"Was kostet ein Reisepass?": {court, pass}}
	res, err := Run(context.Background(), Setup{Engine: engine, Index: ours, Baseline: base, MissDepth: 3,
		Redact: func(s string) string { return "[redacted] " + s }}, qs)
	if err != nil {
		t.Fatal(err)
	}
	rep := res.Report
	if rep.Questions != 5 || rep.HitAt1 != 0.75 || rep.HitAt3 != 0.75 || rep.MRR != (1+0.25+1+1)/4.0 {
		t.Errorf("retrieval: %+v", rep)
	}
	if *rep.FactRecall != 2/3.0 || *rep.RedirectNamed != 1 || rep.WithoutFacts != 1 || *rep.OOSDeclined != 0 || *rep.FalseHandoff != 0 {
		t.Errorf("answering: fact recall %v redirects %v without facts %d declined %v false handoffs %v",
			*rep.FactRecall, *rep.RedirectNamed, rep.WithoutFacts, *rep.OOSDeclined, *rep.FalseHandoff)
	}
	if rep.ByLang["de"] != (LangScore{N: 2, HitAt1: 0.5, HitAt3: 0.5}) || rep.Baseline.ByLang["de"] != (LangScore{N: 2, HitAt3: 0.5}) {
		t.Errorf("by language: %+v, baseline %+v", rep.ByLang, rep.Baseline.ByLang)
	}
	var js bytes.Buffer
	if err := res.WriteJSON(&js); err != nil || strings.Count(js.String(), "\n") != 1 {
		t.Fatalf("JSON %q: %v", js.String(), err)
	}
	var back Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || back.MRR != rep.MRR || *back.FactRecall != 2/3.0 {
		t.Errorf("JSON round trip: %+v, %v", back, err)
	}
	var text bytes.Buffer
	res.WriteText(&text, true)
	for _, want := range []string{
		"5 questions, 4 with an expected page\n",
		"answering: fact recall 0.67 (2 of 3; redirects naming the authority 1 of 1; 1 without facts not counted), out of scope declined 0.00, false handoffs 0.00\n\n",
		"\nmissed (3):\n",
		`  5 [en] "Best pizza in town?"` + "\n    out of scope, but answered from " + pass + "\n",
		`  2 [de] "Wie lange dauert ein Pass?"` + "\n    answer from " + pass + ` lacks [drei Wochen]: "Er kostet 37,00 Euro."` + "\n",
		"    want " + pass + "\n    got  " + court + " https://x.example/a https://x.example/b (expected at rank 4)\n",
	} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, text.String())
		}
	}
	text.Reset()
	res.WriteText(&text, false)
	if strings.Contains(text.String(), "missed") {
		t.Errorf("misses listed unasked:\n%s", text.String())
	}
}
