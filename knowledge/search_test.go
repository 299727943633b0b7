package knowledge

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestSearchCopesWithWhatCitizensType runs on the sample site: the same questions typed the ways
// citizens type them must find the same page.
func TestSearchCopesWithWhatCitizensType(t *testing.T) {
	ctx := context.Background()
	ix := newTestIndex(t, nil)
	src := DirSource{Dir: filepath.Join("..", "sample", "musterstadt"), BaseURL: "https://www.musterstadt.example"}
	if sum, err := ix.Ingest(ctx, src, 4, nil); err != nil || sum.Failed > 0 {
		t.Fatalf("ingest sample site: %+v %v", sum, err)
	}
	const base = "https://www.musterstadt.example/"
	for _, tc := range []struct {
		kind, q, want string
	}{
		{"umlauts", "Führerschein umtauschen", "buergerservice/fuehrerschein-umtausch"},
		{"umlauts as ae/oe/ue", "Fuehrerschein umtauschen", "buergerservice/fuehrerschein-umtausch"},
		{"umlauts left out", "Fuhrerschein umtauschen", "buergerservice/fuehrerschein-umtausch"},
		{"ß as ss", "Strassenschaden melden", "buergerservice/strassenschaden-melden"},
		{"typo", "Persnalausweis beantragen", "buergerservice/personalausweis-beantragen"},
		{"typo", "Wohngelt beantragen", "buergerservice/wohngeld"},
		{"colloquial", "Perso beantragen was kostet das", "buergerservice/personalausweis-beantragen"},
		{"colloquial", "Sperrmüll abholen lassen", "buergerservice/sperrmuell"},
		{"compound", "Sperrmüllabholung anmelden", "buergerservice/sperrmuell"},
		{"compound split", "Hunde Steuer", "buergerservice/hundesteuer"},
		{"lower case, no punctuation", "meldebescheinigung kosten", "buergerservice/meldebescheinigung"},
		{"English", "How do I get rid of bulky waste?", "en/bulky-waste"},
		{"English, page only in German", "How much is the dog tax?", "buergerservice/hundesteuer"},
		{"Turkish", "kimlik kartı ne kadar", "buergerservice/personalausweis-beantragen"},
		{"Arabic", "كيف يتم تسجيل العنوان الجديد", "buergerservice/wohnsitz-anmelden"},
		{"Ukrainian", "Як отримати закордонний паспорт?", "buergerservice/reisepass-beantragen"},
		{"Russian", "Как зарегистрировать автомобиль?", "buergerservice/fahrzeug-zulassen"},
		{"Persian", "کمک هزینه مسکن", "buergerservice/wohngeld"},
		{"Polish", "Jak wymienić prawo jazdy?", "buergerservice/fuehrerschein-umtausch"},
		{"Romanian", "Cum obțin o carte de identitate?", "buergerservice/personalausweis-beantragen"},
	} {
		t.Run(tc.kind+"/"+tc.q, func(t *testing.T) {
			hits, err := ix.Search(ctx, Query{Text: tc.q, Limit: 3})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, h := range hits {
				got = append(got, strings.TrimPrefix(h.URL, base))
				// A hit stands for its page and the page's matching language versions.
				for _, u := range h.URLs() {
					if u == base+tc.want {
						return
					}
				}
			}
			t.Errorf("%q: want %s in the top 3, got %v", tc.q, tc.want, got)
		})
	}
}

func TestSearchHitsCarryTheirEvidence(t *testing.T) {
	ctx := context.Background()
	ix := newTestIndex(t, nil)
	src := DirSource{Dir: filepath.Join("..", "sample", "musterstadt"), BaseURL: "https://www.musterstadt.example"}
	if _, err := ix.Ingest(ctx, src, 4, nil); err != nil {
		t.Fatal(err)
	}
	hits, err := ix.Search(ctx, Query{Text: "Welche Unterlagen brauche ich für den Reisepass und was kostet er?", Limit: 5})
	if err != nil || len(hits) == 0 {
		t.Fatalf("%v %v", hits, err)
	}
	seen := map[string]bool{}
	for i, h := range hits {
		if seen[h.URL] {
			t.Errorf("page %s returned twice", h.URL)
		}
		seen[h.URL] = true
		if h.Title == "" || h.Text == "" || len(h.Headings) == 0 || h.Headings[0] != h.Title {
			t.Errorf("hit %d lacks title, text or heading path: %+v", i, h)
		}
		if i > 0 && h.Score > hits[i-1].Score {
			t.Errorf("hits not ordered by score")
		}
		if h.Lexical == 0 && h.Vector == 0 {
			t.Errorf("hit %d has no score from either side", i)
		}
	}
	if hits[0].URL != "https://www.musterstadt.example/buergerservice/reisepass-beantragen" {
		t.Errorf("top hit %s", hits[0].URL)
	}
	// Both sections the question asks about are there as evidence.
	heads := strings.Join(hits[0].Headings, "/")
	for _, c := range hits[0].Chunks {
		heads += " " + strings.Join(c.Headings, "/")
	}
	for _, want := range []string{"Gebühren", "Erforderliche Unterlagen"} {
		if !strings.Contains(heads, want) {
			t.Errorf("evidence lacks section %s: %s", want, heads)
		}
	}
}

func TestGlossaryMatchesInflectedForms(t *testing.T) {
	g, err := LoadGlossary(nil)
	if err != nil {
		t.Fatal(err)
	}
	if g.Len() < 200 {
		t.Fatalf("glossary has %d concepts", g.Len())
	}
	for q, want := range map[string]string{
		"kimlik kartı kaybettim":    "Personalausweis",
		"Mein Perso ist weg":        "Personalausweis",
		"Nie mam dowodu osobistego": "Personalausweis",
		"Як продовжити посвідку?":   "Aufenthaltserlaubnis verlängern",
		"bulky waste pickup":        "Sperrmüll",
		// Arabic writes prepositions and the present tense's prefix onto the word: يقصّ ~ قص.
		"جاري يقصّ العشب يوم الأحد": "Rasenmäher",
		"هل يمكن الدفن بالكفن؟":     "Bestattung",
	} {
		if got := g.Expand(q, ""); !contains(got, want) {
			t.Errorf("Expand(%q) = %v, want %s among them", q, got, want)
		}
	}
	if got := g.Expand("Guten Tag", "de"); len(got) != 0 {
		t.Errorf("Expand of a greeting = %v, want nothing", got)
	}
	// Polish inflection matches loosely only in a Polish question.
	const pl, want = "Jak przedłużyć kartę pobytu?", "Aufenthaltserlaubnis verlängern"
	if got := g.Expand(pl, "pl"); !contains(got, want) {
		t.Errorf("Polish question: %v, want %s", got, want)
	}
	if got := g.Expand(pl, "de"); contains(got, want) {
		t.Errorf("a question taken for German matched Polish loosely: %v", got)
	}
}

func TestMergeTranslationsKeepsOneHitPerService(t *testing.T) {
	hits := []Hit{
		{URL: "https://s/en/passport", Score: 0.9, Alternates: map[string]string{"de": "https://s/reisepass"}},
		{URL: "https://s/hund", Score: 0.8},
		{URL: "https://s/reisepass", Score: 0.7, Alternates: map[string]string{"en": "https://s/en/passport"}},
		{URL: "https://s/leichte-sprache/pass", Score: 0.6, Alternates: map[string]string{"de": "https://s/reisepass"}},
	}
	got := mergeTranslations(hits)
	if len(got) != 2 || got[0].URL != "https://s/en/passport" || got[1].URL != "https://s/hund" {
		t.Fatalf("merged to %+v", got)
	}
	if got[0].Score != 0.9 {
		t.Errorf("translations changed the score: %v", got[0].Score)
	}
	if urls := strings.Join(got[0].URLs(), " "); urls != "https://s/en/passport https://s/reisepass https://s/leichte-sprache/pass" {
		t.Errorf("family %s", urls)
	}
}
