package bot

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/citybot-project/citybot/analysis"
	"github.com/citybot-project/citybot/i18n"
	"github.com/citybot-project/citybot/knowledge"
)

func TestAspectsOfQuestions(t *testing.T) {
	a := newAspects()
	for _, c := range []struct {
		q, lang string
		want    aspect
	}{
		{"Was kostet ein Reisepass?", "de", aspectMoney},
		{"How much is the fee for a new ID card?", "en", aspectMoney},
		{"Скільки коштує біотонна?", "uk", aspectMoney},
		{"Bis wann hat das Hallenbad am Sonntag auf?", "de", aspectTime},
		{"Kiedy jest otwarte biuro?", "pl", aspectTime},
		{"Welche Telefonnummer hat das Standesamt?", "de", aspectPhone},
		{"What is the e-mail address of the library?", "en", aspectEmail | aspectPlace},
		{"Wo ist das Bürgerbüro Nord?", "de", aspectPlace},
		// Turkish "ile" (with) is Polish "ile" (how much): not a question for an amount.
		{"Eşim ile birlikte başvurabilir miyim?", "tr", 0},
		{"Brauche ich für die Ummeldung einen Mietvertrag?", "de", 0},
		// Romanian "cât" (how much) counts in Romanian only: English "cat" is an animal.
		{"Cât costă un pașaport?", "ro", aspectMoney},
		{"Cât Unterhaltsvorschuss pot primi?", "ro", aspectMoney},
		{"Do I have to register my cat?", "en", 0},
	} {
		if got := a.of(c.q, c.lang); got != c.want {
			t.Errorf("aspects of %q = %b, want %b", c.q, got, c.want)
		}
	}
}

func TestFactsInText(t *testing.T) {
	for _, c := range []struct {
		text string
		want aspect
	}{
		{"Personalausweis ab 24 Jahren: 37,00 Euro", aspectMoney | aspectTime},
		{"Die Beratung ist kostenlos", aspectMoney},
		{"Öffnungszeiten: Mo–Fr 8–12 Uhr", aspectTime},
		{"Die Bearbeitung dauert etwa zwei Wochen", aspectTime},
		{"Telefon: 0123 456-1010", aspectPhone},
		{"Schreiben Sie an tiefbau@musterstadt.example", aspectEmail},
		{"Das Bürgerbüro Nord ist am Nordring 40", aspectPlace},
		{"Bringen Sie Ihren alten Ausweis mit", 0},
	} {
		if got := factsIn(c.text); got != c.want {
			t.Errorf("facts in %q = %b, want %b", c.text, got, c.want)
		}
	}
}

// page builds the units of a small page: chunks of heading › text.
func page(sections ...string) []unit {
	var chunks []knowledge.ChunkHit
	for i := 0; i+1 < len(sections); i += 2 {
		chunks = append(chunks, knowledge.ChunkHit{Headings: []string{"Bibliotheksausweis", sections[i]}, Text: sections[i+1]})
	}
	return units(chunks, "de")
}

func query(q string) passageQuery {
	return passageQuery{own: append(numbers(q), analysis.Lexemes(q, "de")...),
		topic: analysis.Lexemes("Bibliotheksausweis", "de"), asks: newAspects().of(q, "de")}
}

var library = page(
	"Beschreibung", "Mit dem Bibliotheksausweis leihen Sie Bücher aus. Der Bibliotheksausweis gilt ein Jahr lang für alle Standorte der Bibliothek und für die Onleihe.",
	"Voraussetzungen", "- Wohnsitz in Musterstadt\n- ein gültiger Ausweis",
	"Versäumnisgebühren", "Überschreitung der Leihfrist, je Medium und Öffnungstag: 0,30 Euro\nMahnung: 2,00 Euro\nGebührenbescheid: 10,00 Euro",
	"Kontakt", "Stadtbibliothek, Kulturplatz 2\nTelefon: 0123 456-8100",
)

func TestSelectPassagesQuotesWhatTheQuestionAsksFor(t *testing.T) {
	for _, c := range []struct {
		q, want, not string
	}{
		// An amount for "was kostet", and the whole fee table with it.
		{"Bücher zu spät zurückgebracht, was kostet mich das?", "0,30 Euro", "Wohnsitz in Musterstadt"},
		{"Bücher zu spät zurückgebracht, was kostet mich das?", "Gebührenbescheid: 10,00 Euro", "Wohnsitz in Musterstadt"},
		// A phone number for "Telefonnummer".
		{"Unter welcher Telefonnummer erreiche ich die Bibliothek?", "0123 456-8100", "0,30 Euro"},
	} {
		got := selectPassages(append([]unit(nil), library...), query(c.q), 300)
		if !strings.Contains(got, c.want) || strings.Contains(got, c.not) {
			t.Errorf("%q: quote\n%s\nwants %q, not %q", c.q, got, c.want, c.not)
		}
	}
}

func TestSelectPassagesKeepsBudgetAndPageOrder(t *testing.T) {
	got := selectPassages(append([]unit(nil), library...), query("Bibliotheksausweis Wohnsitz Mahnung Telefon"), 120)
	if n := len([]rune(got)) - len("Voraussetzungen:\n") - len("Versäumnisgebühren:\n") - len("Kontakt:\n"); n > 120 {
		t.Errorf("quote of %d runes over the budget of 120:\n%s", n, got)
	}
	if i, j := strings.Index(got, "Wohnsitz"), strings.Index(got, "Mahnung"); i < 0 || j < 0 || i > j {
		t.Errorf("quote lacks its units or has them out of page order:\n%s", got)
	}
}

// fakePages is a Retriever over fixed hits, for the composer's decisions.
type fakePages struct {
	hits   []knowledge.Hit
	chunks map[string][]knowledge.ChunkHit
	places map[string]bool // towns the pages' titles name
}

func (f fakePages) Search(context.Context, knowledge.Query) ([]knowledge.Hit, error) {
	return f.hits, nil
}
func (f fakePages) PageChunks(_ context.Context, url string) ([]knowledge.ChunkHit, error) {
	return f.chunks[url], nil
}
func (f fakePages) Analyze(text, lang string) knowledge.Analysis {
	return knowledge.Analysis{Lang: lang, Own: analysis.Lexemes(text, "de")}
}
func (f fakePages) DetectLanguage(_, prior string) string               { return "de" }
func (f fakePages) Names(_ context.Context, place string) (bool, error) { return f.places[place], nil }

// A second page whose evidence is close to the best's is quoted too, shorter, and named as a
// second source; a distant one is not.
func TestAnswerQuotesCloseSecondPage(t *testing.T) {
	cat, err := i18n.Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	pass := "https://example.org/reisepass"
	express := "https://example.org/express-reisepass"
	f := fakePages{chunks: map[string][]knowledge.ChunkHit{
		pass:    {{Headings: []string{"Reisepass", "Gebühren"}, Text: "Reisepass ab 24 Jahren: 70,00 Euro"}},
		express: {{Headings: []string{"Express-Reisepass", "Gebühren"}, Text: "Zuschlag für den Express-Reisepass: 32,00 Euro"}},
	}}
	for _, c := range []struct {
		second float64
		quoted bool
	}{{0.95, true}, {0.5, false}} {
		f.hits = []knowledge.Hit{
			{URL: pass, Title: "Reisepass", Lang: "de", Score: 1, Lexical: 20, Vector: 0.5, Text: "Reisepass ab 24 Jahren: 70,00 Euro"},
			{URL: express, Title: "Express-Reisepass", Lang: "de", Score: c.second, Lexical: 15, Vector: 0.4, Text: "Zuschlag: 32,00 Euro"},
		}
		eng := NewEngine(f, f, cat, City{Name: "Musterstadt"}, EngineConfig{}, quiet)
		r, err := eng.Reply(context.Background(), "Was kostet ein Reisepass?", "de", "de")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(r.Text, "70,00 Euro") || r.Sources[0].URL != pass {
			t.Errorf("second page at %.2f: the best page is not quoted first:\n%s", c.second, r.Text)
		}
		also := strings.Contains(r.Text, "32,00 Euro") && strings.Contains(r.Text, cat.T("de", "answer.also", map[string]any{"Title": "Express-Reisepass"}))
		named := len(r.Sources) > 1 && r.Sources[1].URL == express
		if also != c.quoted || named != c.quoted {
			t.Errorf("second page at %.2f of the best: quoted %v, named as source %v, want %v\n%s", c.second, also, named, c.quoted, r.Text)
		}
	}
}

func TestNumbersAndRanges(t *testing.T) {
	if got := values("Wir verdienen 58.000 € im Jahr, unser Sohn ist 2, Tarif 2,5"); len(got) != 3 || got[0] != 58000 || got[1] != 2 || got[2] != 2.5 {
		t.Errorf("values = %v", got)
	}
	for text, want := range map[string][][2]float64{
		"12 bis 17 Jahre: 394 Euro":                         {{12, 17}},
		"Mo–Fr 8–12 Uhr":                                    {{8, 12}},
		"Einkommen 25.000 bis 50.000 Euro":                  {{25000, 50000}},
		"vom 16. November bis 18. Dezember":                 nil,
		"geboren 1953 bis 1970: abgelaufen (2022 bis 2024)": {{1953, 1970}, {2022, 2024}},
	} {
		got := rangesIn(text)
		if len(got) != len(want) {
			t.Errorf("ranges in %q = %v, want %v", text, got, want)
			continue
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("ranges in %q = %v, want %v", text, got, want)
			}
		}
	}
}

// A number of the question picks the table row whose range holds it.
func TestSelectPassagesFindsNumberInRange(t *testing.T) {
	us := units([]knowledge.ChunkHit{
		{Headings: []string{"Führerschein umtauschen", "Beschreibung"}, Text: "Alte Führerscheine müssen umgetauscht werden. Die Fristen richten sich nach dem Geburtsjahr."},
		{Headings: []string{"Führerschein umtauschen", "Fristen"}, Text: "geboren vor 1953: 19. Januar 2033\ngeboren 1953 bis 1970: Frist abgelaufen (2022 bis 2024)\ngeboren 1971 oder später: 19. Januar 2025"},
	}, "de")
	for _, q := range []string{"Ich bin 1968 geboren, bis wann muss ich umtauschen?", "ولدت عام ١٩٦٨، متى يجب أن أستبدل رخصتي؟"} {
		folded := analysis.Fold(q)
		pq := passageQuery{own: analysis.Lexemes(q, "de"), values: values(folded), asks: newAspects().of(q, "de")}
		if got := selectPassages(us, pq, 60); !strings.Contains(got, "1953 bis 1970") {
			t.Errorf("%q: quote for a citizen born 1968:\n%s", q, got)
		}
	}
}

// A row quoted from a table carries the labels of its group, row and column, as extraction
// wrote them: the quote answers on its own.
func TestSelectPassagesQuotesTableRowsWithTheirLabels(t *testing.T) {
	title, chunks := extracted(t, `<html><body><main><h1>Hallenbad Eichenau</h1><h2>Eintritt</h2>
		<table><tr><th>Tarif</th><th>Preis</th></tr>
		<tr><td colspan="2">Einzelkarte</td></tr><tr><td>Erwachsene</td><td>4,50 Euro</td></tr><tr><td>Kinder</td><td>2,50 Euro</td></tr>
		<tr><td colspan="2">10er-Karte</td></tr><tr><td>Erwachsene</td><td>36,00 Euro</td></tr><tr><td>Kinder</td><td>20,00 Euro</td></tr>
		</table><h2>Saunatarife</h2>
		<table><tr><td></td><th>2 Stunden</th><th>Tageskarte</th></tr>
		<tr><th>Erwachsene</th><td>12,00 Euro</td><td>18,00 Euro</td></tr></table>
		<h2>Anfahrt</h2><p>Mit dem Bus bis zur Haltestelle Seeweg.</p></main></body></html>`)
	us := units(chunks, "de")
	for _, c := range []struct{ q, want string }{
		{"Was kostet die 10er-Karte für Kinder?", "10er-Karte – Kinder: 20,00 Euro"},
		{"Was kostet die Sauna-Tageskarte?", "Erwachsene – 2 Stunden: 12,00 Euro; Tageskarte: 18,00 Euro"},
	} {
		pq := passageQuery{own: analysis.Lexemes(c.q, "de"), topic: analysis.Lexemes(title, "de"), asks: newAspects().of(c.q, "de")}
		got := selectPassages(append([]unit(nil), us...), pq, 40)
		if !strings.Contains(got, c.want) {
			t.Errorf("%q: quote\n%s\nlacks the labelled row %q", c.q, got, c.want)
		}
	}
}

// TestQuoteFindsTheWordsRetrievalFound: the question's word as the page writes it (a compound's
// parts, another form) picks the sentence, as it picked the page.
func TestQuoteFindsTheWordsRetrievalFound(t *testing.T) {
	title, chunks := extracted(t, `<html><body><main><h1>Schulweg</h1>
		<h2>Anspruch</h2><p>Die Stadt übernimmt die Fahrkosten, wenn der Weg zur Schule weit ist.</p>
		<h2>Entfernungen</h2><p>Für die Grundschule gilt eine Mindestentfernung von 2 km, für weiterführende Schulen 3,5 km.</p>
		<h2>Antrag</h2><p>Den Antrag stellen Sie bis zum 30. Juni beim Schulamt.</p></main></body></html>`)
	const q = "Wer zahlt das Ticket für ein Grundschulkind?"
	a := knowledge.Analysis{Own: analysis.Lexemes(q, "de")}
	top := knowledge.Hit{Matched: analysis.Lexemes("Grundschule", "de")} // how retrieval found it
	for _, c := range []struct {
		pq   passageQuery
		want bool
	}{
		{passageQuery{own: a.Own, topic: analysis.Lexemes(title, "de")}, false},
		{passageQuery{own: a.Own, added: related(a, top), topic: analysis.Lexemes(title, "de")}, true},
	} {
		got := selectPassages(units(chunks, "de"), c.pq, 100)
		if strings.Contains(got, "2 km") != c.want {
			t.Errorf("added %v: quote\n%s\nhas the distance: %v, want %v", c.pq.added, got, !c.want, c.want)
		}
	}
}

// extracted reads a page written for a test as ingestion does and returns its title and chunks.
func extracted(t *testing.T, html string) (string, []knowledge.ChunkHit) {
	t.Helper()
	p, err := knowledge.Extract([]byte(html), &url.URL{Scheme: "https", Host: "www.eichenau.example", Path: "/seite"}, "")
	if err != nil {
		t.Fatal(err)
	}
	var chunks []knowledge.ChunkHit
	for _, c := range p.Chunks {
		chunks = append(chunks, knowledge.ChunkHit{Headings: c.Headings, Text: c.Text})
	}
	return p.Title, chunks
}
