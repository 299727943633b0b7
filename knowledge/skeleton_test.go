package knowledge

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/citybot-project/citybot/analysis"
)

// TestSkeletonsMeetNamesInOtherScripts: a town's or a service's name written in Cyrillic or
// Arabic script meets the title word it stands for; chance likeness does not. The towns are
// invented, their names transliterated by hand as a Ukrainian, Russian, Arabic or Persian writer
// would.
func TestSkeletonsMeetNamesInOtherScripts(t *testing.T) {
	titles := map[string]int{}
	for _, w := range []string{"Lindenbrück", "Eichenfeld", "Wolfshafen", "Grundsteuer", "Hallenbad", "Ulm", "Tornau"} {
		for _, l := range analysis.Lexemes(w, "de") {
			titles[l]++
		}
	}
	s := newSkeletons(titles)
	for _, c := range []struct {
		word, want string // want "": no title word
	}{
		{"Лінденбрюку", "lindenbruck"}, // uk, locative
		{"Линденбрюке", "lindenbruck"}, // ru, prepositional
		{"ليندنبروك", "lindenbruck"},   // ar
		{"لیندنبروک", "lindenbruck"},   // fa
		{"Айхенфельді", "eichenfeld"},  // uk: ch as х
		{"آيخنفيلد", "eichenfeld"},     // ar: ch as خ
		{"Вольфсгафені", "wolfshaf"},   // uk: h as г, one edit away
		{"Вольфсхафене", "wolfshaf"},   // ru: h as х
		{"Грундштойер", "grundsteur"},  // a service's name, borrowed
		{"الانتخابات", ""},             // "the elections": l-n-t-b-t is not Hallenbad's l-n-b-t
		{"Ульм", ""},                   // too short to tell from chance
		{"Торнау", ""},                 // t-r-n: too short
		{"Lindenbrück", ""},            // Latin words meet the title by their lexemes
	} {
		got := s.match(analysis.Fold(c.word))
		if c.want == "" && len(got) > 0 || c.want != "" && !slices.Contains(got, c.want) {
			t.Errorf("%s (skeleton %s): %v, want %q", c.word, skeleton(analysis.Fold(c.word)), got, c.want)
		}
	}
}

// TestQuestionInAnotherScriptFindsItsTown: of two towns' pages on the same service, a question
// naming the town in Cyrillic gets that town's.
func TestQuestionInAnotherScriptFindsItsTown(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"lindenbrueck-hundesteuer.html": `<html><head><title>Hundesteuer – Lindenbrück</title></head><body><main><h1>Hundesteuer</h1>
<p>Die Hundesteuer beträgt 96 Euro im Jahr für den ersten Hund.</p></main></body></html>`,
		"eichenfeld-hundesteuer.html": `<html><head><title>Hundesteuer – Eichenfeld</title></head><body><main><h1>Hundesteuer</h1>
<p>Für den ersten Hund zahlen Sie 120 Euro Hundesteuer im Jahr, für jeden weiteren Hund 180 Euro.</p></main></body></html>`,
	})
	ix := newTestIndex(t, nil)
	ctx := context.Background()
	if sum, err := ix.Ingest(ctx, DirSource{Dir: dir, BaseURL: "https://www.kreis.example"}, 2, nil); err != nil || sum.Failed > 0 {
		t.Fatalf("ingest: %+v %v", sum, err)
	}
	for q, want := range map[string]string{
		"Скільки коштує Hundesteuer у Лінденбрюку?": "lindenbrueck-hundesteuer",
		"Сколько стоит Hundesteuer в Айхенфельде?":  "eichenfeld-hundesteuer",
		"كم تبلغ Hundesteuer في ليندنبروك؟":         "lindenbrueck-hundesteuer",
	} {
		hits, err := ix.Search(ctx, Query{Text: q, Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		if len(hits) == 0 || !strings.HasSuffix(hits[0].URL, "/"+want) {
			var got []string
			for _, h := range hits {
				got = append(got, h.URL)
			}
			t.Errorf("%q: got %v, want %s first", q, got, want)
		}
	}
}
