package knowledge

import (
	"strings"
	"testing"
)

// The pages here are invented (Auenstadt, Eichenau, Birkenfeld); each shows one way real town
// sites write their structure.

func extractHTML(t *testing.T, page string) *Page {
	t.Helper()
	p, err := Extract([]byte(page), mustURL(t, "https://www.auenstadt.example/leistung"), "text/html")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// section returns the text of the chunks under a heading path ("Title › Heading"), joined.
func section(p *Page, path string) (string, bool) {
	var out []string
	for _, c := range p.Chunks {
		if strings.Join(c.Headings, " › ") == path {
			out = append(out, c.Text)
		}
	}
	return strings.Join(out, "\n"), len(out) > 0
}

func paths(p *Page) []string {
	var out []string
	for _, c := range p.Chunks {
		out = append(out, strings.Join(c.Headings, " › "))
	}
	return out
}

func linesOf(s string) map[string]bool {
	m := map[string]bool{}
	for _, l := range strings.Split(s, "\n") {
		m[l] = true
	}
	return m
}

func TestExtractTablesKeepTheirLabels(t *testing.T) {
	for _, c := range []struct {
		name, table string
		want        []string // whole lines of the section's text
		not         []string // substrings that must not appear
	}{
		{"group rows, caption, header of two columns",
			`<table><caption>Eintritt Hallenbad Eichenau</caption>
			<thead><tr><th>Tarif</th><th>Preis</th></tr></thead>
			<tbody><tr><td colspan="2">Einzelkarte</td></tr>
			<tr><td>Erwachsene</td><td>4,50 Euro</td></tr>
			<tr><td>Kinder</td><td>2,50 Euro</td></tr>
			<tr><th colspan="2"><strong>10er-Karte</strong></th></tr>
			<tr><td>Erwachsene</td><td>36,00 Euro</td></tr>
			<tr><td>Kinder</td><td>20,00 Euro</td></tr></tbody></table>`,
			[]string{"Eintritt Hallenbad Eichenau", "Einzelkarte – Erwachsene: 4,50 Euro", "Einzelkarte – Kinder: 2,50 Euro",
				"10er-Karte – Erwachsene: 36,00 Euro", "10er-Karte – Kinder: 20,00 Euro"},
			[]string{"Tarif"}},
		{"group row without colspan (one cell, the others missing)",
			`<table><tr><td><b>Jahreskarte</b></td></tr><tr><td>Erwachsene</td><td>300 Euro</td></tr></table>`,
			[]string{"Jahreskarte – Erwachsene: 300 Euro"}, nil},
		{"row and column headers, empty corner",
			`<table><tr><td></td><th>Einzelkarte</th><th>10er-Karte</th></tr>
			<tr><th>Erwachsene</th><td>4,50 Euro</td><td>36,00 Euro</td></tr>
			<tr><th scope="row">Kinder unter 6 Jahren</th><td colspan="2">frei</td></tr></table>`,
			[]string{"Erwachsene – Einzelkarte: 4,50 Euro; 10er-Karte: 36,00 Euro",
				"Kinder unter 6 Jahren – Einzelkarte: frei; 10er-Karte: frei"}, nil},
		{"first column of labels under an empty corner, td only",
			`<table><tr><td></td><td><strong>Vormittag</strong></td><td><strong>Nachmittag</strong></td></tr>
			<tr><td>Montag</td><td>8–12 Uhr</td><td>14–18 Uhr</td></tr></table>`,
			[]string{"Montag – Vormittag: 8–12 Uhr; Nachmittag: 14–18 Uhr"}, nil},
		{"rowspan repeats the merged cell in every row",
			`<table><tr><th>Behälter</th><th>Größe</th><th>Gebühr pro Jahr</th></tr>
			<tr><td rowspan="2">Restmülltonne</td><td>80 Liter</td><td>96,00 Euro</td></tr>
			<tr><td>120 Liter</td><td>132,00 Euro</td></tr>
			<tr><td>Biotonne</td><td>120 Liter</td><td>60,00 Euro</td></tr></table>`,
			[]string{"Behälter: Restmülltonne; Größe: 80 Liter; Gebühr pro Jahr: 96,00 Euro",
				"Behälter: Restmülltonne; Größe: 120 Liter; Gebühr pro Jahr: 132,00 Euro",
				"Behälter: Biotonne; Größe: 120 Liter; Gebühr pro Jahr: 60,00 Euro"}, nil},
		{"rowspan in a two-column table: the label applies to both rows",
			`<table><tr><td rowspan="2">Parkausweis</td><td>30,00 Euro im Jahr</td></tr>
			<tr><td>15,00 Euro für ein halbes Jahr</td></tr></table>`,
			[]string{"Parkausweis: 30,00 Euro im Jahr", "Parkausweis: 15,00 Euro für ein halbes Jahr"}, nil},
		{"two header rows, colspan over the upper one",
			`<table><thead><tr><th rowspan="2"></th><th colspan="2">Hallenbad</th><th>Sauna</th></tr>
			<tr><th>Einzel</th><th>Monat</th><th>Einzel</th></tr></thead>
			<tbody><tr><td>Erwachsene</td><td>4 Euro</td><td>40 Euro</td><td>12 Euro</td></tr></tbody></table>`,
			[]string{"Erwachsene – Hallenbad – Einzel: 4 Euro; Hallenbad – Monat: 40 Euro; Sauna – Einzel: 12 Euro"}, nil},
		{"bold first row as header, several columns",
			`<table><tr><td><strong>Kurs</strong></td><td><strong>Termin</strong></td><td><strong>Gebühr</strong></td></tr>
			<tr><td>Yoga</td><td>montags, 18 Uhr</td><td>40 Euro</td></tr></table>`,
			[]string{"Kurs: Yoga; Termin: montags, 18 Uhr; Gebühr: 40 Euro"}, nil},
		{"a note across the table is a line of its own, not a group",
			`<table><tr><td>Ausweis</td><td>37,00 Euro</td></tr>
			<tr><td colspan="2">Alle Gebühren sind bei Antragstellung zu zahlen.</td></tr></table>`,
			[]string{"Ausweis: 37,00 Euro", "Alle Gebühren sind bei Antragstellung zu zahlen."}, nil},
		{"lines in a cell",
			`<table><tr><th>Tag</th><th>Uhrzeit</th><th>Ort</th></tr>
			<tr><td>Dienstag</td><td>8–12 Uhr<br>14–16 Uhr</td><td>Rathaus</td></tr></table>`,
			[]string{"Tag: Dienstag; Uhrzeit: 8–12 Uhr, 14–16 Uhr; Ort: Rathaus"}, nil},
		{"no headers at all",
			`<table><tr><td>Mo</td><td>8–12 Uhr</td><td>14–18 Uhr</td></tr></table>`,
			[]string{"Mo | 8–12 Uhr | 14–18 Uhr"}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := extractHTML(t, `<html><body><main><h1>Hallenbad</h1><h2>Preise</h2>`+c.table+`</main></body></html>`)
			text, ok := section(p, "Hallenbad › Preise")
			if !ok {
				t.Fatalf("no section Hallenbad › Preise: %v", paths(p))
			}
			lines := linesOf(text)
			for _, w := range c.want {
				if !lines[w] {
					t.Errorf("no line %q in\n%s", w, text)
				}
			}
			for _, n := range c.not {
				if strings.Contains(text, n) {
					t.Errorf("%q in\n%s", n, text)
				}
			}
		})
	}
}

// A table laying out a contact box is read as the sections and paragraphs in its cells.
func TestExtractLayoutTable(t *testing.T) {
	p := extractHTML(t, `<html><body><main><h1>Bürgerbüro</h1>
		<table><tr><td><h2>Bürgerbüro Lindenhof</h2><p>Am Brunnen 3<br>54321 Auenstadt</p></td>
		<td><p>Telefon: 0987 654-0</p><p>Öffnungszeiten: Mo–Fr 8–12 Uhr</p></td></tr></table></main></body></html>`)
	text, ok := section(p, "Bürgerbüro › Bürgerbüro Lindenhof")
	if want := "Am Brunnen 3\n54321 Auenstadt\nTelefon: 0987 654-0\nÖffnungszeiten: Mo–Fr 8–12 Uhr"; !ok || text != want {
		t.Errorf("contact box %v: %q, want %q", paths(p), text, want)
	}
}

// A table too long for one chunk is split between rows, and each part starts with its caption
// and the line introducing it.
func TestChunkRepeatsTheLeadOfASplitTable(t *testing.T) {
	var rows strings.Builder
	for i := 0; i < 80; i++ {
		rows.WriteString("<tr><td>Grabstätte Feld " + strings.Repeat("x", i%7) + string(rune('A'+i%26)) + "</td><td>1.200,00 Euro</td></tr>")
	}
	p := extractHTML(t, `<html><body><main><h1>Friedhof</h1><h2>Gebühren</h2><p>Für ein Nutzungsrecht von 20 Jahren zahlen Sie:</p>
		<table><caption>Wahlgrabstätten</caption>`+rows.String()+`</table></main></body></html>`)
	if len(p.Chunks) < 2 {
		t.Fatalf("%d chunks, want the table split", len(p.Chunks))
	}
	for _, c := range p.Chunks {
		if !strings.HasPrefix(c.Text, "Für ein Nutzungsrecht von 20 Jahren zahlen Sie:\nWahlgrabstätten\n") {
			t.Errorf("part of the table without its lead: %.80q", c.Text)
		}
		if len(c.Text) > maxChunkChars {
			t.Errorf("chunk of %d chars", len(c.Text))
		}
	}
}

func TestExtractDefinitionLists(t *testing.T) {
	p := extractHTML(t, `<html><body><main><h1>Standesamt</h1><h2>Auf einen Blick</h2>
		<dl><dt>Gebühr</dt><dd>12 Euro</dd>
		<dt>Öffnungszeiten</dt><dd>Mo 8–12 Uhr</dd><dd>Do 14–18 Uhr</dd>
		<div><dt>Telefon</dt><dt>Fax</dt><dd>0987 11-0</dd></div>
		<div><dt>Bearbeitungsdauer:</dt><dd>etwa <b>zwei</b> Wochen</dd></div>
		<dt>Unterlagen</dt><dd><ul><li>Geburtsurkunde</li><li>Personalausweis</li></ul></dd></dl></main></body></html>`)
	text, _ := section(p, "Standesamt › Auf einen Blick")
	want := "Gebühr: 12 Euro\nÖffnungszeiten: Mo 8–12 Uhr\nÖffnungszeiten: Do 14–18 Uhr\nTelefon, Fax: 0987 11-0\n" +
		"Bearbeitungsdauer: etwa zwei Wochen\nUnterlagen: Geburtsurkunde\nUnterlagen: Personalausweis"
	if text != want {
		t.Errorf("definition list as\n%s\nwant\n%s", text, want)
	}
}

func TestExtractAccordionsAreSections(t *testing.T) {
	for _, c := range []struct {
		name, body string
		want       map[string]string // heading path -> text
	}{
		{"details only, no headings",
			`<h1>Sperrmüll</h1><p>Die Stadt holt Sperrmüll zweimal im Jahr kostenlos ab.</p>
			<details><summary>Was ist Sperrmüll?</summary><p>Möbel und große Gegenstände aus dem Haushalt.</p></details>
			<details><summary><span>Abholung</span> <em>anmelden</em></summary><p>Melden Sie die Abholung online an.</p></details>`,
			map[string]string{
				"Sperrmüll":                      "Die Stadt holt Sperrmüll zweimal im Jahr kostenlos ab.",
				"Sperrmüll › Was ist Sperrmüll?": "Möbel und große Gegenstände aus dem Haushalt.",
				"Sperrmüll › Abholung anmelden":  "Melden Sie die Abholung online an.",
			}},
		{"details under a heading; the text after the panel is the heading's again",
			`<h1>Sperrmüll</h1><h2>Fragen</h2>
			<details><summary>Was kostet die Abholung?</summary><p>Zwei Abholungen im Jahr sind frei.</p></details>
			<p>Weitere Fragen beantwortet das Abfallamt.</p><h2>Kontakt</h2><p>Telefon: 0987 22-0</p>`,
			map[string]string{
				"Sperrmüll › Fragen › Was kostet die Abholung?": "Zwei Abholungen im Jahr sind frei.",
				"Sperrmüll › Fragen":                            "Weitere Fragen beantwortet das Abfallamt.",
				"Sperrmüll › Kontakt":                           "Telefon: 0987 22-0",
			}},
		{"ARIA disclosure: button and hidden region",
			`<h1>Reisepass</h1><div class="accordion">
			<div class="accordion-item"><button type="button" aria-expanded="false" aria-controls="acc-1">Unterlagen</button>
			<div id="acc-1" role="region" hidden><ul><li>bisheriger Reisepass</li><li>ein biometrisches Foto</li></ul></div></div>
			<div class="accordion-item"><button type="button" aria-expanded="false" aria-controls="acc-2"><span class="icon"></span>Gebühren</button>
			<div id="acc-2" class="panel" style="display: none"><p>Der Reisepass kostet 70 Euro.</p></div></div></div>`,
			map[string]string{
				"Reisepass › Unterlagen": "- bisheriger Reisepass\n- ein biometrisches Foto",
				"Reisepass › Gebühren":   "Der Reisepass kostet 70 Euro.",
			}},
		{"button inside a heading keeps the heading's level",
			`<h1>Wohngeld</h1><h2>Antrag</h2><p>Den Antrag stellen Sie schriftlich.</p>
			<h3 class="accordion-header"><button class="accordion-button" aria-expanded="true" aria-controls="c1">Fristen</button></h3>
			<div id="c1" class="accordion-collapse collapse"><p>Wohngeld gibt es ab dem Monat des Antrags.</p></div>
			<h2>Kontakt</h2><p>Wohngeldstelle, Zimmer 12</p>`,
			map[string]string{
				"Wohngeld › Antrag":           "Den Antrag stellen Sie schriftlich.",
				"Wohngeld › Antrag › Fristen": "Wohngeld gibt es ab dem Monat des Antrags.",
				"Wohngeld › Kontakt":          "Wohngeldstelle, Zimmer 12",
			}},
		{"tabs",
			`<h1>Führungszeugnis</h1><div role="tablist">
			<button role="tab" aria-selected="true" aria-controls="tab-online">Online</button>
			<button role="tab" aria-selected="false" aria-controls="tab-vor-ort">Vor Ort</button></div>
			<div role="tabpanel" id="tab-online"><p>Beantragen Sie es mit der Online-Ausweisfunktion.</p></div>
			<div role="tabpanel" id="tab-vor-ort" hidden><p>Im Bürgerbüro mit Personalausweis.</p></div>`,
			map[string]string{
				"Führungszeugnis › Online":  "Beantragen Sie es mit der Online-Ausweisfunktion.",
				"Führungszeugnis › Vor Ort": "Im Bürgerbüro mit Personalausweis.",
			}},
		{"a 'mehr anzeigen' button only shows more of the text before it",
			`<h1>Parken</h1><p>Anwohner parken mit Ausweis.</p><div id="more" hidden><p>Der Ausweis gilt ein Jahr.</p></div>
			<button aria-expanded="false" aria-controls="more">Mehr anzeigen</button>`,
			map[string]string{
				"Parken": "Anwohner parken mit Ausweis.\nDer Ausweis gilt ein Jahr.",
			}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := extractHTML(t, `<html><body><main>`+c.body+`</main></body></html>`)
			if len(p.Chunks) != len(c.want) {
				t.Errorf("sections %v, want %d", paths(p), len(c.want))
			}
			for path, want := range c.want {
				if got, ok := section(p, path); !ok || got != want {
					t.Errorf("%s: %q (found %v), want %q; sections %v", path, got, ok, want, paths(p))
				}
			}
		})
	}
}

func TestExtractHeadingsWrittenAsSomethingElse(t *testing.T) {
	for _, c := range []struct {
		name, body string
		want       map[string]string
	}{
		{"bold paragraphs under a heading are its subsections",
			`<h1>Hallenbad</h1><h2>Preise</h2><p><strong>Erwachsene</strong></p><p>4,50 Euro je Besuch.</p>
			<p><b>Kinder:</b></p><p>2,50 Euro je Besuch.</p>`,
			map[string]string{"Hallenbad › Preise › Erwachsene": "4,50 Euro je Besuch.", "Hallenbad › Preise › Kinder": "2,50 Euro je Besuch."}},
		{"bold line as the page's subheading, a question too",
			`<h1>Hallenbad</h1><p>Das Bad liegt am See.</p><div><strong>Darf ich mein Kind mitbringen?</strong></div><p>Ja, ab drei Jahren.</p>`,
			map[string]string{"Hallenbad": "Das Bad liegt am See.", "Hallenbad › Darf ich mein Kind mitbringen?": "Ja, ab drei Jahren."}},
		{"heading classes",
			`<h1>Hallenbad</h1><div class="headline">Anfahrt</div><p>Bus 5 bis Seestraße.</p>
			<p class="h2">Öffnungszeiten</p><p>Täglich 7–21 Uhr.</p><p class="h3 text-bold">Feiertage</p><p>Geschlossen.</p>`,
			map[string]string{"Hallenbad › Öffnungszeiten": "Täglich 7–21 Uhr.", "Hallenbad › Öffnungszeiten › Feiertage": "Geschlossen.",
				"Hallenbad › Anfahrt": "Bus 5 bis Seestraße."}},
		{"role=heading with aria-level",
			`<h1>Hallenbad</h1><div role="heading" aria-level="2">Kurse</div><p>Schwimmkurse für Kinder ab 5.</p>
			<span role="heading" aria-level="3">Anmeldung</span><p>An der Kasse.</p>`,
			map[string]string{"Hallenbad › Kurse": "Schwimmkurse für Kinder ab 5.", "Hallenbad › Kurse › Anmeldung": "An der Kasse."}},
		{"bold sentence, bold line before a heading and bold words in text stay text",
			`<h1>Hallenbad</h1><p><strong>Bitte bringen Sie ein Handtuch mit.</strong></p><p>Der Eintritt ist <b>frei</b></p>
			<p><strong>Ab 1. Mai neue Preise</strong></p><h2>Preise</h2><p>4,50 Euro</p>`,
			map[string]string{"Hallenbad": "Bitte bringen Sie ein Handtuch mit.\nDer Eintritt ist frei\nAb 1. Mai neue Preise", "Hallenbad › Preise": "4,50 Euro"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := extractHTML(t, `<html><body><main>`+c.body+`</main></body></html>`)
			if len(p.Chunks) != len(c.want) {
				t.Errorf("sections %v, want %d", paths(p), len(c.want))
			}
			for path, want := range c.want {
				if got, ok := section(p, path); !ok || got != want {
					t.Errorf("%s: %q (found %v), want %q; sections %v", path, got, ok, want, paths(p))
				}
			}
		})
	}
}

func TestSiteTitle(t *testing.T) {
	for _, c := range []struct{ title, host, want string }{
		{"Hundesteuer - Stadt Auenstadt", "www.auenstadt.example", "Hundesteuer"},
		{"Hundesteuer – Stadt Auenstadt", "www.example.org", "Hundesteuer"},
		{"Hundesteuer | Auenstadt", "www.auenstadt.example", "Hundesteuer"},
		{"Auenstadt | Hundesteuer", "www.auenstadt.example", "Hundesteuer"},
		{"Stadt Auenstadt: Hundesteuer", "www.example.org", "Hundesteuer"},
		{"Gemeinde Birkenfeld :: Wohngeld beantragen", "www.birkenfeld.example", "Wohngeld beantragen"},
		{"Landratsamt Eichenkreis - Kfz-Zulassung - Bürgerservice", "www.lra-eichenkreis.example", "Kfz-Zulassung"},
		{"Ein- und Ausreise - Hinweise | Stadt Auenstadt", "www.auenstadt.example", "Ein- und Ausreise - Hinweise"},
		{"Hundesteuer: Anmeldung und Abmeldung", "www.example.org", "Hundesteuer: Anmeldung und Abmeldung"},
		{"Hundesteuer | Eichenau", "www.example.org", "Hundesteuer"}, // no part names the site: the last one is taken for it
		{"Rathaus | Stadt Auenstadt", "www.auenstadt.example", "Stadt Auenstadt"},
		{"Wohngeld", "www.auenstadt.example", "Wohngeld"},
	} {
		if got := siteTitle(c.title, c.host); got != c.want {
			t.Errorf("siteTitle(%q, %q) = %q, want %q", c.title, c.host, got, c.want)
		}
	}
}

func TestExtractPageTitle(t *testing.T) {
	for _, c := range []struct{ name, page, want, root string }{
		{"h1 in the content", `<title>Start | Stadt Auenstadt</title><main><h1>Hundesteuer</h1><p>96 Euro im Jahr.</p></main>`,
			"Hundesteuer", "Hundesteuer"},
		{"no h1: the title without the site name", `<title>Hundesteuer - Stadt Auenstadt</title><main><p>96 Euro im Jahr.</p></main>`,
			"Hundesteuer", "Hundesteuer"},
		{"generic h1: the specific title", `<title>Hundesteuer | Stadt Auenstadt</title><main><h1>Leistungsbeschreibung</h1><p>96 Euro im Jahr.</p></main>`,
			"Hundesteuer", "Hundesteuer"},
		{"generic h1 and a generic title: the h1", `<title>Service | Stadt Auenstadt</title><main><h1>Bürgerservice</h1><p>96 Euro im Jahr.</p></main>`,
			"Bürgerservice", "Bürgerservice"},
		{"h1 outside the content", `<title>x</title><div class="page-title"><h1>Wohngeld</h1></div><main><p>Wohngeld ist ein Zuschuss zur Miete.</p></main>`,
			"Wohngeld", "Wohngeld"},
		{"the site's name in an h1 of the header is not the page's", `<title>Wohngeld | Stadt Auenstadt</title><header><h1>Stadt Auenstadt</h1></header>
			<div class="logo"><h1>Auenstadt</h1></div><main><p>Wohngeld ist ein Zuschuss zur Miete.</p></main>`,
			"Wohngeld", "Wohngeld"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := extractHTML(t, `<html><head>`+c.page[:strings.Index(c.page, "</title>")+8]+`</head><body>`+c.page[strings.Index(c.page, "</title>")+8:]+`</body></html>`)
			if p.Title != c.want || p.Chunks[0].Headings[0] != c.root {
				t.Errorf("title %q, sections %v; want title %q under %q", p.Title, paths(p), c.want, c.root)
			}
		})
	}
}

func TestExtractMainContentWithoutMain(t *testing.T) {
	chrome := func(content string) string {
		return `<html><head><title>Wohngeld | Stadt Auenstadt</title></head><body>
		<div class="cookie-notice"><p>Diese Seite verwendet Cookies für die Statistik.</p><a href="#">OK</a></div>
		<div id="header"><a href="/"><img src="logo.png" alt="Auenstadt"></a><div class="nav-main"><a href="/a">Rathaus</a> <a href="/b">Leben</a></div></div>
		<div class="breadcrumb">Sie sind hier: <a href="/">Start</a> › <a href="/bs">Bürgerservice</a> › Wohngeld</div>` + content + `
		<div class="footer"><p>Stadt Auenstadt · Marktplatz 1 · 54321 Auenstadt</p><a href="/impressum">Impressum</a></div></body></html>`
	}
	article := `<h1>Wohngeld</h1><p>Wohngeld ist ein Zuschuss zur Miete für Haushalte mit geringem Einkommen.</p>
		<h2>Unterlagen</h2><ul><li>Mietvertrag</li><li>Einkommensnachweise der letzten zwölf Monate</li></ul>
		<div class="social-share">Teilen auf <a href="#">Facebook</a></div><p class="print-link"><a href="#">Seite drucken</a></p>`
	sidebar := `<h3>Das könnte Sie interessieren</h3><ul><li><a href="/x">Kinderzuschlag</a></li><li><a href="/y">Lastenzuschuss</a></li></ul>
		<p>Haben Sie Fragen? Rufen Sie uns an.</p>`
	for _, c := range []struct{ name, page string }{
		{"grid column beside a sidebar", chrome(`<div class="container"><div class="row"><div class="col-md-3">` + sidebar +
			`</div><div class="col-md-9">` + article + `</div></div></div>`)},
		{"div#content with a sidebar div", chrome(`<div id="content" class="has-sidebar"><div class="sidebar-right">` + sidebar + `</div>` + article + `</div>`)},
		{"div.content", chrome(`<div class="wrapper"><div class="content">` + article + `</div></div>`)},
		{"#inhalt", chrome(`<div id="inhalt">` + article + `</div>`)},
		{"role=main", chrome(`<div role="main">` + article + `</div>`)},
		{"no container at all", chrome(article)},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, err := Extract([]byte(c.page), mustURL(t, "https://www.auenstadt.example/wohngeld"), "")
			if err != nil {
				t.Fatal(err)
			}
			text := allText(p)
			for _, want := range []string{"Zuschuss zur Miete für Haushalte", "- Einkommensnachweise der letzten zwölf Monate"} {
				if !strings.Contains(text, want) {
					t.Errorf("content %q missing:\n%s", want, text)
				}
			}
			for _, junk := range []string{"Cookies", "Sie sind hier", "Marktplatz 1", "Impressum", "Rathaus", "Facebook", "drucken",
				"Kinderzuschlag", "Rufen Sie uns an"} {
				if strings.Contains(text, junk) {
					t.Errorf("boilerplate %q reached the chunks:\n%s", junk, text)
				}
			}
			if p.Title != "Wohngeld" {
				t.Errorf("title %q", p.Title)
			}
		})
	}
}

func TestExtractReadsARepeatedBoxOnce(t *testing.T) {
	box := `<div class="kontakt"><p><strong>Ordnungsamt Auenstadt</strong><br>Marktplatz 4, 54321 Auenstadt<br>Telefon: 0987 654-300<br>E-Mail: ordnungsamt@auenstadt.example</p></div>`
	p := extractHTML(t, `<html><body><main><h1>Veranstaltungen</h1>
		<details><summary>Straßenfest</summary><p>Ein Straßenfest melden Sie vier Wochen vorher an.</p>`+box+`</details>
		<details><summary>Flohmarkt</summary><p>Einen Flohmarkt melden Sie zwei Wochen vorher an.</p>`+box+`</details>
		<details><summary>Umzug</summary><p>Einen Umzug melden Sie acht Wochen vorher an.</p>`+box+`</details>
		<h2>Bürgerbüros</h2><h3>Nord</h3><p>Nordring 1</p><p>Öffnungszeiten: Mo–Fr 8–12 Uhr; Do 14–18 Uhr</p>
		<h3>Süd</h3><p>Südring 9</p><p>Öffnungszeiten: Mo–Fr 8–12 Uhr; Do 14–18 Uhr</p></main></body></html>`)
	if n := strings.Count(allText(p), "ordnungsamt@auenstadt.example"); n != 1 {
		t.Errorf("the contact box is in the chunks %d times, want once:\n%s", n, allText(p))
	}
	if got, _ := section(p, "Veranstaltungen › Flohmarkt"); got != "Einen Flohmarkt melden Sie zwei Wochen vorher an." {
		t.Errorf("Flohmarkt: %q", got)
	}
	// A box nested in a box of the same text is read (once).
	nested := extractHTML(t, `<html><body><div class="content"><div class="inner"><div class="text"><h1>Ordnungsamt</h1>`+box+`</div></div></div></body></html>`)
	if n := strings.Count(allText(nested), "ordnungsamt@auenstadt.example"); n != 1 {
		t.Errorf("nested box in the chunks %d times, want once:\n%s", n, allText(nested))
	}
	// Short lines that repeat belong to different things.
	for _, office := range []string{"Nord", "Süd"} {
		if got, _ := section(p, "Veranstaltungen › Bürgerbüros › "+office); !strings.Contains(got, "Öffnungszeiten: Mo–Fr 8–12 Uhr; Do 14–18 Uhr") {
			t.Errorf("%s lost its opening hours: %q", office, got)
		}
	}
}

// TestPageOfFormsIsContent: a page whose content is only links to forms (PDF) is read, not
// dropped as navigation; a list of links to other pages still is navigation.
func TestPageOfFormsIsContent(t *testing.T) {
	raw := []byte(`<!DOCTYPE html><html lang="de"><head><title>Formulare - Stadt Lindenbrück</title></head><body>
<div class="sidebar"><ul><li><a href="/rathaus">Rathaus</a></li><li><a href="/kontakt">Kontakt</a></li></ul></div>
<div id="content"><h1>Formulare</h1><h3>Steuern</h3><ul>
<li><a href="/files/hundesteuer-anmeldung.pdf">Anmeldung zur Hundesteuer (PDF, 77 KB)</a></li>
<li><a href="/files/sepa.pdf?v=2">SEPA-Lastschriftmandat (PDF, 45 KB)</a></li></ul>
<h3>Verwandte Seiten</h3><ul><li><a href="/hundesteuer">Hundesteuer</a></li><li><a href="/steuern">Steuern</a></li></ul></div>
</body></html>`)
	p, err := Extract(raw, mustURL(t, "https://www.lindenbrueck.example/formulare"), "")
	if err != nil {
		t.Fatalf("a page of forms has no content: %v", err)
	}
	text := allText(p)
	if !strings.Contains(text, "Anmeldung zur Hundesteuer (PDF, 77 KB)") || !strings.Contains(text, "SEPA-Lastschriftmandat") {
		t.Errorf("forms missing:\n%s", text)
	}
	if strings.Contains(text, "- Steuern") {
		t.Errorf("a list of links to pages is navigation:\n%s", text)
	}
}
