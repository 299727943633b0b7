package knowledge

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func samplePage(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "sample", "musterstadt", rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func allText(p *Page) string {
	var b strings.Builder
	for _, c := range p.Chunks {
		b.WriteString(strings.Join(c.Headings, " › ") + "\n" + c.Text + "\n")
	}
	return b.String()
}

func TestExtractDropsBoilerplateAndKeepsStructure(t *testing.T) {
	p, err := Extract(samplePage(t, "buergerservice/personalausweis-beantragen.html"),
		mustURL(t, "https://www.musterstadt.example/buergerservice/personalausweis-beantragen.html"), "text/html")
	if err != nil {
		t.Fatal(err)
	}
	if p.URL != "https://www.musterstadt.example/buergerservice/personalausweis-beantragen" {
		t.Errorf("URL %q, want the canonical link", p.URL)
	}
	if p.Title != "Personalausweis beantragen" || p.Lang != "de" || p.Modified.Format("2006-01-02") != "2026-09-14" {
		t.Errorf("title %q lang %q modified %v", p.Title, p.Lang, p.Modified)
	}
	text := allText(p)
	// What the site repeats on every page must not reach the index.
	for _, junk := range []string{"technisch notwendige Cookies", "Zum Inhalt springen", "Hauptnavigation",
		"Rathaus & Politik", "Suchen", "Startseite", "Impressum", "© 2026", "- Reisepass beantragen"} {
		if strings.Contains(text, junk) {
			t.Errorf("boilerplate %q reached the chunks", junk)
		}
	}
	// Tables are kept readable, row by row, and lists whole.
	for _, want := range []string{"Personalausweis ab 24 Jahren: 37,00 Euro", "- bisheriger Personalausweis, Reisepass oder Kinderreisepass",
		"Telefon: 0123 456-0 oder Behördennummer 115"} {
		if !strings.Contains(text, want) {
			t.Errorf("chunks lack %q", want)
		}
	}
	var fees *Chunk
	for i := range p.Chunks {
		if strings.Join(p.Chunks[i].Headings, " › ") == "Personalausweis beantragen › Gebühren" {
			fees = &p.Chunks[i]
		}
	}
	if fees == nil || !strings.Contains(fees.Text, "22,80 Euro") {
		t.Fatalf("no chunk with heading path title › Gebühren holding the fee table: %+v", p.Chunks)
	}
}

func TestExtractHreflangAlternates(t *testing.T) {
	p, err := Extract(samplePage(t, "leichte-sprache/wohngeld.html"), mustURL(t, "https://www.musterstadt.example/x"), "")
	if err != nil {
		t.Fatal(err)
	}
	if p.Alternates["de"] != "https://www.musterstadt.example/buergerservice/wohngeld" {
		t.Errorf("alternates %v", p.Alternates)
	}
	if strings.Contains(p.Title, "·") {
		// the Leichte-Sprache middle dot is kept in the text shown, folded only for matching
		t.Logf("title keeps the middle dot: %q", p.Title)
	}
}

func TestExtractCharsets(t *testing.T) {
	u := mustURL(t, "https://example.org/a")
	latin1 := []byte("<html><head><meta charset=\"iso-8859-1\"><title>T</title></head><body><main><h1>Geb\xfchren</h1><p>Stra\xdfe und M\xfcll</p></main></body></html>")
	wrongUTF8 := []byte("<html><head><meta charset=\"utf-8\"></head><body><main><h1>Geb\xfchren</h1><p>Stra\xdfe</p></main></body></html>")
	noDecl := []byte("<html><body><main><h1>Gebühren</h1><p>Straße</p></main></body></html>")
	utf8DeclaredLatin := []byte("<html><head><meta charset=\"iso-8859-1\"></head><body><main><h1>Gebühren</h1><p>Straße</p></main></body></html>")
	for name, raw := range map[string][]byte{"latin1 declared": latin1, "latin1 declared as utf-8": wrongUTF8,
		"utf-8 undeclared": noDecl, "utf-8 declared as latin1": utf8DeclaredLatin} {
		t.Run(name, func(t *testing.T) {
			p, err := Extract(raw, u, "")
			if err != nil {
				t.Fatal(err)
			}
			if p.Title != "Gebühren" || !strings.Contains(p.Chunks[0].Text, "Straße") {
				t.Errorf("decoded title %q text %q", p.Title, p.Chunks[0].Text)
			}
		})
	}
}

func TestExtractBrokenHTML(t *testing.T) {
	raw := []byte("<html><body><main><h1>Hundesteuer<h2>Kosten</h1><p>Der erste Hund kostet <b>96 Euro<p>im Jahr<table><tr><td>Zweiter Hund<td>120 Euro</main>")
	p, err := Extract(raw, mustURL(t, "https://example.org/hund"), "")
	if err != nil {
		t.Fatal(err)
	}
	text := allText(p)
	for _, want := range []string{"96 Euro", "im Jahr", "Zweiter Hund: 120 Euro"} {
		if !strings.Contains(text, want) {
			t.Errorf("broken HTML lost %q: %s", want, text)
		}
	}
}

func TestExtractPageWithoutContent(t *testing.T) {
	raw := []byte(`<html><body><nav><a href="/a">A</a></nav><main><ul><li><a href="/x">X</a></li><li><a href="/y">Y</a></li></ul></main></body></html>`)
	if _, err := Extract(raw, mustURL(t, "https://example.org/"), ""); err != errNoContent {
		t.Fatalf("err %v, want errNoContent", err)
	}
}

func TestChunkSplitsLongSectionsBetweenBlocks(t *testing.T) {
	var bs []block
	bs = append(bs, block{level: 2, text: "Lang"})
	for i := 0; i < 10; i++ {
		bs = append(bs, block{text: strings.Repeat("Wort ", 60)})
	}
	cs := chunk("Titel", bs)
	if len(cs) < 3 {
		t.Fatalf("%d chunks, want the 3000-char section split", len(cs))
	}
	for _, c := range cs {
		if len(c.Text) > maxChunkChars {
			t.Errorf("chunk of %d chars", len(c.Text))
		}
		if strings.Join(c.Headings, "/") != "Titel/Lang" {
			t.Errorf("heading path %v", c.Headings)
		}
	}
}
