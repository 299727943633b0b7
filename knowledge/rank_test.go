package knowledge

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
)

// The pages below are written for these tests (an invented town, Lindenbrück): each pair is a
// right page and the kind of page that used to beat it on real towns' sites.
var rankingSite = map[string]string{
	// One short section, the service in its title.
	"hundesteuer.html": page("Hundesteuer – Hund anmelden",
		`<p>Wer einen Hund hält, meldet ihn innerhalb von zwei Wochen beim Steueramt an. Die Hundesteuer beträgt 96 Euro im Jahr.</p>`),
	// Many sections with prices and registrations; the dog tax named once, in passing.
	"bibliothek-gebuehren.html": page("Stadtbücherei: Gebühren und Anmeldung",
		`<h2>Jahresausweis</h2><p>Erwachsene zahlen 15 Euro im Jahr. Anmelden können Sie sich an der Theke.</p>
<h2>Säumnisgebühren</h2><p>Je Medium und Woche 1 Euro. Die Gebühr ist sofort fällig.</p>
<h2>Verlust</h2><p>Ein neuer Ausweis kostet 5 Euro. Anmelden müssen Sie sich dafür nicht neu.</p>
<h2>Kopien</h2><p>Eine Kopie kostet 0,20 Euro, ein Farbdruck 1 Euro.</p>
<h2>Befreiung</h2><p>Befreit sind Kinder. Die Befreiung gilt nicht für Säumnisgebühren, Hundesteuer oder andere Abgaben der Stadt.</p>
<h2>Veranstaltungen</h2><p>Lesungen kosten 4 Euro. Anmelden bitte an der Theke.</p>`),
	"fahrzeug-abmelden.html": page("Fahrzeug abmelden",
		`<h2>Kosten</h2><p>Die Abmeldung kostet 7 Euro.</p><h2>Anmelden</h2><p>Zum Wiederanmelden brauchen Sie die Zulassungsbescheinigung.</p>
<h2>Steuer</h2><p>Die Kfz-Steuer endet mit der Abmeldung, anders als etwa die Hundesteuer.</p>`),
	// The service's name against an FAQ heading that asks for the price of something else.
	"geburtsurkunde.html": page("Geburtsurkunde",
		`<p>Eine Geburtsurkunde erhalten Sie beim Standesamt des Geburtsorts. Sie kostet 12 Euro, jede weitere 6 Euro.</p>`),
	"internationaler-fuehrerschein.html": page("Internationaler Führerschein",
		`<h2>Häufige Fragen</h2><h3>Was kostet er, und wie lange dauert es?</h3><p>Er kostet 16 Euro und wird sofort ausgestellt. Die Kosten zahlen Sie bar.</p>
<h3>Was kostet ein Ersatz?</h3><p>Ein Ersatz kostet ebenfalls 16 Euro.</p>`),
	// Compounds and lists that leave out the head.
	"jagd.html": page("Jagd und Fischerei",
		`<h2>Jahresjagdschein</h2><p>Den Jahresjagdschein stellt die untere Jagdbehörde aus, er kostet 60 Euro.</p>`),
	"fuehrerschein.html": page("Führerschein beantragen",
		`<p>Den Schein beantragen Sie bei der Fahrerlaubnisbehörde. Der Schein kostet 43 Euro.</p>`),
	"friedhof.html": page("Friedhof: Grabarten",
		`<h2>Urnenwahlgrab</h2><p>Ein Urnenwahlgrab kostet 900 Euro für 20 Jahre.</p><h2>Erdwahlgrab</h2><p>1.800 Euro für 25 Jahre.</p>`),
	"wahlen.html": page("Wahlen",
		`<p>Die Briefwahl beantragen Sie im Wahlamt. Wählen können Sie auch im Wahllokal.</p>`),
	"zweitwohnung.html": page("Zweitwohnungssteuer",
		`<p>Wer in Lindenbrück eine Nebenwohnung hat, zahlt 10 Prozent der Jahresnettokaltmiete.</p>`),
	"grundsteuer.html": page("Grundsteuer",
		`<p>Die Grundsteuer zahlen Eigentümer von Grundstücken, vierteljährlich am 15. Februar, Mai, August und November.</p>`),
	"urkunden.html": page("Urkunden bestellen",
		`<p>Geburts-, Ehe- und Sterbeurkunden bestellen Sie online beim Standesamt.</p>`),
	"kirchenaustritt.html": page("Kirchenaustritt",
		`<p>Den Kirchenaustritt erklären Sie persönlich beim Standesamt. Die Gebühr beträgt 30 Euro.</p>`),
	"verein.html": page("Vereine",
		`<p>Ein Austritt aus einem Verein ist Sache des Vereins, nicht der Stadt.</p>`),
}

func rankingIndex(t *testing.T) *Index {
	t.Helper()
	dir := t.TempDir()
	writeFiles(t, dir, rankingSite)
	ix := newTestIndex(t, nil)
	if sum, err := ix.Ingest(context.Background(), DirSource{Dir: dir, BaseURL: "https://www.lindenbrueck.example"}, 2, nil); err != nil || sum.Failed > 0 {
		t.Fatalf("ingest: %+v %v", sum, err)
	}
	return ix
}

// TestRankingByEvidence: the page about what the question asks comes first, against pages that
// hold many weak matches, generic words or the parts of a compound.
func TestRankingByEvidence(t *testing.T) {
	ix := rankingIndex(t)
	const base = "https://www.lindenbrueck.example/"
	for _, tc := range []struct{ pattern, q, want string }{
		{"one strong section beats many weak ones", "Hundesteuer", "hundesteuer"},
		{"the service's name beats a generic FAQ heading", "Was kostet eine Geburtsurkunde?", "geburtsurkunde"},
		{"a compound meets its more specific form", "Jagdschein", "jagd"},
		{"a compound meets its sibling with the same head", "Urnengrab", "friedhof"},
		{"linking s or not", "Zweitwohnungsteuer", "zweitwohnung"},
		{"a list that leaves out the head", "Eheurkunde bestellen", "urkunden"},
		{"words that a compound joins", "Austritt aus der Kirche", "kirchenaustritt"},
		{"a hyphenated compound", "Hunde-Steuer", "hundesteuer"},
	} {
		t.Run(tc.pattern, func(t *testing.T) {
			hits, err := ix.Search(context.Background(), Query{Text: tc.q, Lang: "de", Limit: 3})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, h := range hits {
				got = append(got, strings.TrimPrefix(h.URL, base))
			}
			if len(got) == 0 || got[0] != tc.want {
				t.Errorf("%q: want %s first, got %v", tc.q, tc.want, got)
			}
		})
	}
}

// TestCoverageSaysWhetherAPageFits: a question whose words the best page holds is covered; one
// about something no page names is not, whatever page shares a word with it.
func TestCoverageSaysWhetherAPageFits(t *testing.T) {
	ix := rankingIndex(t)
	ctx := context.Background()
	fits, err := ix.Search(ctx, Query{Text: "Wie hoch ist die Hundesteuer?", Lang: "de", Limit: 1})
	if err != nil || len(fits) == 0 {
		t.Fatal(fits, err)
	}
	none, err := ix.Search(ctx, Query{Text: "Wie hoch ist der Rundfunkbeitrag für meine Wohnung?", Lang: "de", Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if fits[0].Coverage < 0.8 {
		t.Errorf("Hundesteuer question: coverage %.2f, want ≥ 0.8", fits[0].Coverage)
	}
	if len(none) > 0 && none[0].Coverage > 0.5 {
		t.Errorf("Rundfunkbeitrag question: best page %s covers %.2f, want ≤ 0.5", none[0].URL, none[0].Coverage)
	}
}

func TestCompoundsSplitAgainstTheVocabulary(t *testing.T) {
	vocab := map[string]int{}
	for _, w := range []string{"jahr", "jagd", "schein", "jagdschein", "jahresjagdschein", "urn", "wahl", "grab",
		"urnenwahlgrab", "zweit", "wohnung", "steur", "zweitwohnungssteur", "kirch", "austritt", "kirchenaustritt",
		"fuhrerschein", "fuhr", "bibliotheksausweis", "bibliothek", "ausweis", "hund", "hundesteur", "beantrag"} {
		vocab[w] = 1
	}
	c := newCompounds(vocab)
	for w, want := range map[string][]string{
		"jahresjagdschein":   {"jahr", "jagd", "schein"},
		"urnenwahlgrab":      {"urn", "wahl", "grab"},
		"zweitwohnungsteur":  {"zweit", "wohnung", "steur"},
		"zweitwohnungssteur": {"zweit", "wohnung", "steur"},
		"beantrag":           {"beantrag"},
		"ausweis":            {"ausweis"},
	} {
		if got := c.split(w); !slices.Equal(got, want) {
			t.Errorf("split(%q) = %v, want %v", w, got, want)
		}
	}
	has := func(vs []variant, w string) bool {
		return slices.ContainsFunc(vs, func(v variant) bool { return len(v.terms) == 1 && v.terms[0] == w })
	}
	if vs := c.variants("jagdschein", nil); !has(vs, "jahresjagdschein") {
		t.Errorf("Jagdschein should meet Jahresjagdschein: %v", vs)
	}
	if vs := c.variants("urnengrab", nil); !has(vs, "urnenwahlgrab") {
		t.Errorf("Urnengrab should meet Urnenwahlgrab: %v", vs)
	}
	if vs := c.variants("zweitwohnungsteur", nil); !has(vs, "zweitwohnungssteur") {
		t.Errorf("Zweitwohnungsteuer should meet Zweitwohnungssteuer: %v", vs)
	}
	if vs := c.variants("austritt", map[string]bool{"kirch": true}); !has(vs, "kirchenaustritt") {
		t.Errorf("Austritt (with Kirche asked) should meet Kirchenaustritt: %v", vs)
	}
	// A single word's compounds are other things: Ausweis is no Bibliotheksausweis, Hund no
	// Hundesteuer (the head is last), Schein no Führerschein.
	if vs := c.variants("ausweis", nil); has(vs, "bibliotheksausweis") {
		t.Errorf("Ausweis alone must not become Bibliotheksausweis: %v", vs)
	}
	if vs := c.variants("hund", nil); has(vs, "hundesteur") {
		t.Errorf("Hund must not become Hundesteuer: %v", vs)
	}
	if vs := c.variants("schein", nil); has(vs, "fuhrerschein") || has(vs, "jagdschein") {
		t.Errorf("Schein alone must not become every Schein: %v", vs)
	}
}

// TestNamesKnowsTheTownsOfThePages: a town named in a page's title field (its document title
// included) is one the pages serve.
func TestNamesKnowsTheTownsOfThePages(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"hundesteuer.html": `<!DOCTYPE html><html lang="de"><head><title>Hundesteuer – Stadt Lindenbrück</title></head>
<body><main><h1>Hundesteuer</h1><p>Die Hundesteuer beträgt 96 Euro im Jahr.</p></main></body></html>`})
	ix := newTestIndex(t, nil)
	ctx := context.Background()
	if _, err := ix.Ingest(ctx, DirSource{Dir: dir, BaseURL: "https://www.lindenbrueck.example"}, 1, nil); err != nil {
		t.Fatal(err)
	}
	for place, want := range map[string]bool{"Lindenbrück": true, "lindenbruck": true, "Hamburg": false, "": false} {
		if got, err := ix.Names(ctx, place); err != nil || got != want {
			t.Errorf("Names(%q) = %v, %v; want %v", place, got, err, want)
		}
	}
}

// TestSearchAppliesTheReranker: with a cross-encoder (a double of TEI's /rerank that prefers the
// page whose text names "Bibliothek" or "Stadtbücherei"), Search orders the best pages by its
// scores; when it fails, the evidence's order stands.
func TestSearchAppliesTheReranker(t *testing.T) {
	ix := rankingIndex(t)
	ctx := context.Background()
	q := Query{Text: "Hundesteuer", Lang: "de", Limit: 3}
	plain, err := ix.Search(ctx, q)
	if err != nil || len(plain) < 2 || !strings.HasSuffix(plain[0].URL, "/hundesteuer") {
		t.Fatalf("without reranker: %v %v", plain, err)
	}
	var asked []string
	tei := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Query string   `json:"query"`
			Texts []string `json:"texts"`
		}
		if r.URL.Path != "/rerank" || json.NewDecoder(r.Body).Decode(&req) != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		asked = req.Texts
		var out []map[string]any
		for i, text := range req.Texts {
			score := 0.1
			if strings.Contains(text, "Stadtbücherei") {
				score = 0.9
			}
			out = append(out, map[string]any{"index": i, "score": score})
		}
		json.NewEncoder(w).Encode(out)
	}))
	defer tei.Close()
	rr, err := NewHTTPReranker(tei.URL, "", "", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	ix.SetReranker(rr)
	reranked, err := ix.Search(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if len(asked) < 2 || len(asked) > rerankPages {
		t.Errorf("reranker was asked about %d pages, want 2..%d", len(asked), rerankPages)
	}
	if !strings.HasSuffix(reranked[0].URL, "/bibliothek-gebuehren") {
		t.Errorf("with reranker: first %s, want the page the reranker prefers", reranked[0].URL)
	}
	if reranked[0].Coverage != coverageOf(plain, reranked[0].URL) {
		t.Errorf("reranking changed the evidence (coverage)")
	}
	tei.Close() // a reranker that is down
	failed, err := ix.Search(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if failed[0].URL != plain[0].URL {
		t.Errorf("reranker down: first %s, want the evidence's order (%s)", failed[0].URL, plain[0].URL)
	}
}

func coverageOf(hits []Hit, url string) float64 {
	for _, h := range hits {
		if h.URL == url {
			return h.Coverage
		}
	}
	return -1
}

// shiftedEmbedder is an embedder like many real models: every text shares a large common
// direction, so all cosines are high (0.7 and more) and a fixed cosine says nothing. Lift, which
// measures against the question's own background, must still tell a fitting page from none.
type shiftedEmbedder struct{ *HashEmbedder }

func (s shiftedEmbedder) Model() string { return "test-shifted" }

func (s shiftedEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	vs, err := s.HashEmbedder.Embed(ctx, texts)
	for _, v := range vs {
		v[0] += 2 // the shared direction, then back to unit length
		var n float32
		for _, x := range v {
			n += x * x
		}
		n = float32(math.Sqrt(float64(n)))
		for i := range v {
			v[i] /= n
		}
	}
	return vs, err
}

// TestEvidenceMeansTheSameOnEveryBackend: coverage and lift, which confidence is made of, tell a
// question that a page answers from one that no page answers, with PostgreSQL or Meilisearch as
// the lexical side and with an embedder whose cosines are all high.
func TestEvidenceMeansTheSameOnEveryBackend(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	writeFiles(t, dir, rankingSite)
	src := DirSource{Dir: dir, BaseURL: "https://www.lindenbrueck.example"}
	_, meiliSrv := newMeiliDouble(t, "secret")
	backends := map[string]*Index{
		"postgres":          newTestIndex(t, nil),
		"meilisearch":       newMeiliIndex(t, meiliSrv.URL, "secret", "chunks"),
		"high-cosine model": newTestIndex(t, shiftedEmbedder{NewHashEmbedder(0)}),
	}
	for name, ix := range backends {
		t.Run(name, func(t *testing.T) {
			if sum, err := ix.Ingest(ctx, src, 2, nil); err != nil || sum.Failed > 0 {
				t.Fatalf("ingest: %+v %v", sum, err)
			}
			fits, err := ix.Search(ctx, Query{Text: "Wann muss ich meinen Hund zur Hundesteuer anmelden?", Lang: "de", Limit: 3})
			if err != nil || len(fits) == 0 {
				t.Fatal(fits, err)
			}
			none, err := ix.Search(ctx, Query{Text: "Wie kündige ich den Rundfunkbeitrag für meine Wohnung?", Lang: "de", Limit: 3})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasSuffix(fits[0].URL, "/hundesteuer") || fits[0].Coverage < 0.8 {
				t.Errorf("fitting question: %s covers %.2f, want the dog tax page covering ≥ 0.8", fits[0].URL, fits[0].Coverage)
			}
			if len(none) > 0 && none[0].Coverage > 0.5 {
				t.Errorf("question no page answers: %s covers %.2f, want ≤ 0.5", none[0].URL, none[0].Coverage)
			}
			if len(none) > 0 && none[0].Lift >= fits[0].Lift {
				t.Errorf("lift %.3f for a question no page answers, %.3f for a fitting one", none[0].Lift, fits[0].Lift)
			}
			if name == "high-cosine model" && len(none) > 0 && none[0].Vector < 0.6 {
				t.Errorf("the test's premise: a raw cosine of %.2f for a question no page answers should be high", none[0].Vector)
			}
			if fits[0].Lift <= 0 || fits[0].Lift > 1 {
				t.Errorf("lift %.3f outside (0, 1]", fits[0].Lift)
			}
		})
	}
}

// TestMisspelledHeadingFoundByItsTitle: a page whose only heading misspells the service
// ("Hundesteur") is found by the title field's document title and by its text.
func TestMisspelledHeadingFoundByItsTitle(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"hundesteuer.html": `<!DOCTYPE html><html lang="de"><head><title>Hundesteuer - Stadt Lindenbrück</title></head>
<body><div id="content"><h1>Hundesteur</h1><p>Für jeden Hund zahlen Sie im Jahr 96 Euro. Melden Sie den Hund beim Steueramt an.</p></div></body></html>`,
		"bibliothek.html": rankingSite["bibliothek-gebuehren.html"],
		"fahrzeug.html":   rankingSite["fahrzeug-abmelden.html"],
	})
	ix := newTestIndex(t, nil)
	ctx := context.Background()
	if sum, err := ix.Ingest(ctx, DirSource{Dir: dir, BaseURL: "https://www.lindenbrueck.example"}, 2, nil); err != nil || sum.Failed > 0 {
		t.Fatalf("ingest: %+v %v", sum, err)
	}
	hits, err := ix.Search(ctx, Query{Text: "Hundesteuer", Lang: "de", Limit: 3})
	if err != nil || len(hits) == 0 {
		t.Fatal(hits, err)
	}
	if !strings.HasSuffix(hits[0].URL, "/hundesteuer") {
		t.Errorf("first %s, want the page whose heading misspells the service", hits[0].URL)
	}
}

// TestStatesNumberKnowsThePagesNumbers: the numbers a page states (a phone number with its
// groups, a postcode) are the city's, others are not, and an ingest that changes them is seen.
func TestStatesNumberKnowsThePagesNumbers(t *testing.T) {
	dir := t.TempDir()
	write := func(body string) {
		writeFiles(t, dir, map[string]string{"kontakt.html": page("Kontakt", body)})
	}
	write(`<p>Bürgerbüro, Markt 1, 12345 Lindenbrück, Telefon 0123 456-7000 / -7001</p>`)
	ix := newTestIndex(t, nil)
	ctx := context.Background()
	src := DirSource{Dir: dir, BaseURL: "https://www.lindenbrueck.example"}
	if _, err := ix.Ingest(ctx, src, 1, nil); err != nil {
		t.Fatal(err)
	}
	for digits, want := range map[string]bool{"01234567000": true, "4567000": true, "12345": true, "9876543": false, "123": false} {
		if got, err := ix.StatesNumber(ctx, digits); err != nil || got != want {
			t.Errorf("StatesNumber(%s) = %v, %v; want %v", digits, got, err, want)
		}
	}
	write(`<p>Bürgerbüro, Markt 1, 12345 Lindenbrück, Telefon 0123 999-8000</p>`)
	if _, err := ix.Ingest(ctx, src, 1, nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := ix.StatesNumber(ctx, "01234567000"); got {
		t.Error("a number the pages no longer state is still the city's")
	}
	if got, _ := ix.StatesNumber(ctx, "01239998000"); !got {
		t.Error("the new number is not the city's")
	}
}

// TestConceptIsTheWordThatNamedIt: a glossary concept counts as the same thing asked as the
// question's word that named it, so a question's frame ("kostet" and the concept of fees) counts
// once, and a colloquial word ("Perso") is its concept.
func TestConceptIsTheWordThatNamedIt(t *testing.T) {
	g, err := LoadGlossary(nil)
	if err != nil {
		t.Fatal(err)
	}
	ix := &Index{glossary: g, detector: NewDetector()}
	a := ix.Analyze("Was kostet der Perso?", "de")
	has := func(u unit, term string) bool {
		return slices.ContainsFunc(u.alts, func(al alt) bool { return slices.Contains(al.terms, term) })
	}
	if len(a.units) != 2 {
		t.Fatalf("%d units, want 2 (kostet, Perso): %+v", len(a.units), a.units)
	}
	if !has(a.units[0], "kostet") || !has(a.units[0], "gebuhr") {
		t.Errorf("the fee concept is not the unit of kostet: %+v", a.units[0])
	}
	if !has(a.units[1], "perso") || !has(a.units[1], "personalausweis") {
		t.Errorf("Personalausweis is not the unit of Perso: %+v", a.units[1])
	}
}

// TestTyposMeetTheirWord: a word no page uses, one edit from one that pages use, meets it.
func TestTyposMeetTheirWord(t *testing.T) {
	c := newCompounds(map[string]int{"baugenehmig": 5, "personalausweis": 9, "wohngeld": 4, "wohnung": 20})
	for typo, want := range map[string]string{
		"baugenemig":       "baugenehmig",     // a letter missing
		"personalausweiss": "personalausweis", // a letter too many
		"wohngelt":         "wohngeld",        // a letter changed
	} {
		vs := c.variants(typo, nil)
		if !slices.ContainsFunc(vs, func(v variant) bool { return len(v.terms) == 1 && v.terms[0] == want }) {
			t.Errorf("%s: variants %v, want %s", typo, vs, want)
		}
	}
	if ts := c.typos("wohn"); len(ts) > 0 {
		t.Errorf("a short word guesses typos: %v", ts)
	}
}

// TestHitsSayHowTheQuestionWasFound: a hit names the lexemes that found it, the ways the page
// writes the question's words included, so that the answer's sentences are found by them too.
func TestHitsSayHowTheQuestionWasFound(t *testing.T) {
	ix := rankingIndex(t)
	hits, err := ix.Search(context.Background(), Query{Text: "Was kostet der Jagdschein?", Lang: "de", Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) == 0 || !strings.HasSuffix(hits[0].URL, "/jagd") {
		t.Fatalf("hits %v", hits)
	}
	if !slices.Contains(hits[0].Matched, "jahresjagdschein") {
		t.Errorf("matched %v, want the page's compound", hits[0].Matched)
	}
}
