package knowledge

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestBaselineWordsAreNaive(t *testing.T) {
	got := BaselineWords("Die Müllabfuhr, ab 2025: STRASSE & Straße! e-Mail بِالكَفَن")
	want := []string{"die", "müllabfuhr", "ab", "2025", "strasse", "straße", "e", "mail", "بِالكَفَن"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("words %q, want %q", got, want)
	}
	if w := BaselineWords(" ,.;!? "); len(w) != 0 {
		t.Errorf("punctuation gave words %q", w)
	}
}

func testBaseline() *Baseline {
	return NewBaseline([]PageText{
		{URL: "https://s/hund", Text: "Hund Katze Hund"},
		{URL: "https://s/katze", Text: "Katze Maus"},
		{URL: "https://s/baum", Text: "Baum"},
	})
}

func TestBaselineScoresAreOkapiBM25(t *testing.T) {
	b := testBaseline()
	// N 3, average length 2; "hund" is in one page twice, that page has 3 words.
	idf := math.Log(1 + (3-1+0.5)/(1+0.5))
	want := idf * 2 * 2.2 / (2 + 1.2*(0.25+0.75*3.0/2))
	got := b.Scores("Hund? HUND hund")
	if math.Abs(got[0]-want) > 1e-9 || got[1] != 0 || got[2] != 0 {
		t.Errorf("scores %v, want [%v 0 0]", got, want)
	}
	// "katze" is in two pages once each: the shorter page scores more.
	got = b.Scores("katze")
	if !(got[1] > got[0] && got[0] > 0 && got[2] == 0) {
		t.Errorf("katze: scores %v, want the short page first", got)
	}
	// A rarer word outweighs a commoner one at the same frequency.
	if s := b.Scores("maus katze"); !(s[1] > s[0]) {
		t.Errorf("maus katze: %v", s)
	}
	if s := NewBaseline(nil).Scores("hund"); len(s) != 0 {
		t.Errorf("empty baseline scored %v", s)
	}
}

func TestBaselineSearch(t *testing.T) {
	b := testBaseline()
	hits := b.Search("Wo melde ich meinen Hund und meine Katze an?", 0)
	if len(hits) != 2 || hits[0].URL != "https://s/hund" || hits[1].URL != "https://s/katze" {
		t.Fatalf("hits %+v", hits)
	}
	if hits := b.Search("Hund Katze", 1); len(hits) != 1 {
		t.Errorf("limit 1 gave %d hits", len(hits))
	}
	if hits := b.Search("Fahrrad", 10); len(hits) != 0 {
		t.Errorf("no shared word, hits %+v", hits)
	}
	// No folding: the baseline is naive on purpose.
	f := NewBaseline([]PageText{{URL: "https://s/a", Text: "Sperrmüll und Straßenreinigung"}, {URL: "https://s/b", Text: "Parken"}})
	if hits := f.Search("sperrmuell strassenreinigung", 10); len(hits) != 0 {
		t.Errorf("folded spellings matched: %+v", hits)
	}
	// Equal scores: by URL.
	e := NewBaseline([]PageText{{URL: "https://s/z", Text: "Ampel"}, {URL: "https://s/a", Text: "Ampel"}, {URL: "https://s/m", Text: "Brücke"}})
	if hits := e.Search("Ampel", 0); len(hits) != 2 || hits[0].URL != "https://s/a" {
		t.Errorf("ties: %+v", hits)
	}
}

func TestBaselineLanguageVersionsShareAHit(t *testing.T) {
	b := NewBaseline([]PageText{
		{URL: "https://s/hundesteuer", Lang: "de", Alternates: map[string]string{"en": "https://s/en/dog-tax"},
			Text: "Hundesteuer für jeden Hund: der erste Hund kostet 90 Euro, tax"},
		{URL: "https://s/en/dog-tax", Lang: "en", Text: "Dog tax: the first dog costs 90 euros a year, the tax is due in May"},
		{URL: "https://s/katzen", Lang: "de", Text: "Katzen brauchen keine Steuer, tax"},
		{URL: "https://s/ls/hund", Lang: "de-simple", Alternates: map[string]string{"de": "https://s/hundesteuer"},
			Text: "Sie haben einen Hund. Dann zahlen Sie Geld. tax tax"},
	})
	hits := b.Search("dog tax 90", 0)
	if len(hits) != 2 || hits[0].URL != "https://s/en/dog-tax" || hits[1].URL != "https://s/katzen" {
		t.Fatalf("hits %+v", hits)
	}
	if got := strings.Join(hits[0].URLs(), " "); got != "https://s/en/dog-tax https://s/hundesteuer https://s/ls/hund" {
		t.Errorf("family %s", got)
	}
}

func TestPageTextsAreTheSearchedPages(t *testing.T) {
	ctx := context.Background()
	ix := newTestIndex(t, nil)
	dir := t.TempDir()
	en := `<link rel="alternate" hreflang="en" href="https://stadt.example/en/dog">`
	writeFiles(t, dir, map[string]string{
		"hund.html": strings.Replace(page("Hundesteuer", "<p>Der erste Hund kostet 96 Euro.</p><h2>Zahlung</h2><p>Fällig am 1. Juli.</p>"),
			"<head>", "<head>"+en, 1),
		"baum.html": page("Baumfällung", "<p>Für große Bäume brauchen Sie eine Genehmigung.</p>"),
	})
	src := DirSource{Dir: dir, BaseURL: "https://stadt.example"}
	if _, err := ix.Ingest(ctx, src, 1, nil); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, "baum.html"))
	if _, err := ix.Ingest(ctx, src, 1, nil); err != nil {
		t.Fatal(err)
	}
	pages, err := ix.PageTexts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) != 1 {
		t.Fatalf("%d pages, want only the active one: %+v", len(pages), pages)
	}
	p := pages[0]
	if p.URL != "https://stadt.example/hund" || p.Lang != "de" || p.Alternates["en"] != "https://stadt.example/en/dog" {
		t.Errorf("page %+v", p)
	}
	first, second := strings.Index(p.Text, "96 Euro"), strings.Index(p.Text, "1. Juli")
	if first < 0 || second < first {
		t.Errorf("text is not the chunks in order: %q", p.Text)
	}
	if hits := NewBaseline(pages).Search("Was kostet der Hund?", 3); len(hits) != 1 {
		t.Errorf("baseline over the index: %+v", hits)
	}
}
