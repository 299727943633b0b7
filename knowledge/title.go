package knowledge

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/PuerkitoBio/goquery"

	"github.com/citybot-project/citybot/analysis"
)

// pageTitle is the page's <h1> (in the main content, else anywhere but the site's header and
// navigation), or its <title> without the site's name when there is no <h1> or the <h1> is a
// generic one ("Bürgerservice") that many pages of a site share. A generic <h1> the title
// replaces is removed from root, so that it does not head the page's sections.
func pageTitle(doc *goquery.Document, root *goquery.Selection, host string) string {
	h1 := root.Find("h1").First()
	if h1.Length() == 0 {
		doc.Find("h1").EachWithBreak(func(_ int, s *goquery.Selection) bool {
			if s.Closest(`nav, header, footer, aside, [role=navigation], [role=banner], [role=contentinfo]`).Length() > 0 {
				return true
			}
			if t := clean(s.Text()); t != "" && !siteNamePart(t, host) {
				h1 = s
				return false
			}
			return true
		})
	}
	heading := clean(h1.Text())
	fromTitle := siteTitle(doc.Find("title").First().Text(), host)
	if heading != "" && (!genericTitle(heading) || fromTitle == "" || genericTitle(fromTitle) || fromTitle == heading) {
		return heading
	}
	if heading != "" && root.Find("h1").Length() > 0 {
		h1.Remove()
	}
	if fromTitle == "" {
		return heading
	}
	return fromTitle
}

// genericTitles are <h1>s that name a kind of page, not its subject (folded).
var genericTitles = map[string]bool{
	"burgerservice": true, "dienstleistung": true, "dienstleistungen": true, "leistung": true, "leistungen": true,
	"leistungsbeschreibung": true, "leistungsdetails": true, "service": true, "services": true, "serviceportal": true,
	"online-dienste": true, "onlinedienste": true, "ihr anliegen": true, "anliegen": true, "details": true,
	"detailansicht": true, "detail": true, "inhalt": true, "startseite": true, "was erledige ich wo": true,
	"burgerservice a-z": true, "dienstleistungen a-z": true, "leistungen a-z": true, "a-z": true,
}

func genericTitle(t string) bool { return genericTitles[analysis.Fold(t)] }

// titleSeparators split a <title> into the page's name and the site's.
var titleSeparators = []string{" | ", " :: ", " – ", " — ", " - ", " · ", " » ", ": "}

// siteTitle drops the site name that <title> usually carries ("Wohngeld | Stadt Musterstadt",
// "Stadt Musterstadt - Wohngeld", "Stadt Musterstadt: Wohngeld"). It splits at the separator
// next to a part that names the site (see siteNamePart) and keeps the first part that does not;
// when no part names the site, the last part is taken for the site's name (the usual order),
// and when all do, the longest part is kept.
func siteTitle(t, host string) string {
	t = clean(t)
	for _, sep := range titleSeparators {
		parts := strings.Split(t, sep)
		if len(parts) < 2 {
			continue
		}
		first, last := siteNamePart(parts[0], host), siteNamePart(parts[len(parts)-1], host)
		if !first && !last {
			continue
		}
		longest := ""
		for _, p := range parts {
			p = strings.TrimSpace(p)
			if p != "" && !siteNamePart(p, host) {
				return p
			}
			if len(p) > len(longest) {
				longest = p
			}
		}
		return longest
	}
	for _, sep := range titleSeparators[:len(titleSeparators)-1] {
		if i := strings.LastIndex(t, sep); i > 0 {
			return strings.TrimSpace(t[:i])
		}
	}
	return t
}

// siteWords name a municipality or its administration (folded): a part of a <title> with one of
// them is the site's name ("Stadt Musterstadt", "Landratsamt Beispielkreis", "Bürgerportal").
var siteWords = map[string]bool{
	"stadt": true, "gemeinde": true, "landkreis": true, "kreis": true, "landratsamt": true, "verwaltung": true,
	"rathaus": true, "portal": true, "stadtverwaltung": true, "kreisverwaltung": true, "gemeindeverwaltung": true,
	"samtgemeinde": true, "verbandsgemeinde": true, "hansestadt": true, "kreisstadt": true, "landeshauptstadt": true,
	"stadtportal": true, "burgerportal": true, "serviceportal": true, "city": true, "town": true, "county": true,
	"municipality": true,
}

// siteNamePart tells a part of a <title> that names the site: it has one of the siteWords, or it
// is the name in the site's host ("Musterstadt" on www.musterstadt.de).
func siteNamePart(part, host string) bool {
	f := analysis.Fold(part)
	for _, w := range analysis.Words(f) {
		if siteWords[w] {
			return true
		}
	}
	letters := lettersOf(f)
	if utf8.RuneCountInString(letters) < 4 {
		return false
	}
	labels := strings.Split(strings.ToLower(host), ".")
	for _, label := range labels[:len(labels)-1] { // not the top-level domain
		label = lettersOf(analysis.Fold(label))
		if len(label) < 4 || label == "www" {
			continue
		}
		if strings.Contains(letters, label) || (strings.Contains(label, letters) && 10*len(letters) >= 6*len(label)) {
			return true
		}
	}
	return false
}

func lettersOf(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) {
			return r
		}
		return -1
	}, s)
}
