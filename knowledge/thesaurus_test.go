package knowledge

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/citybot-project/citybot/analysis"
)

// testThesaurus is written for these tests in MyThes' format, the way OpenThesaurus is shipped:
// each sense listed under each of its words.
const testThesaurus = `UTF-8
kühlschrank|1
-|Eisschrank (veraltet)|Kühlschrank|Elektrogerät (Oberbegriff)|Gefrierkombination (Unterbegriff)
eisschrank|1
-|Eisschrank (veraltet)|Kühlschrank|Elektrogerät (Oberbegriff)|Gefrierkombination (Unterbegriff)
rabatt|2
-|Ermäßigung|Nachlass|Preisnachlass|Rabatt
(Adjektiv)|billig|günstig|preiswert|Rabatt
hund|2
-|Hund|Vierbeiner|Haustier (Oberbegriff)
-|Hund (derb)|Mistkerl (derb)|Schuft (abwertend)
sommerfest|1
-|Sommerfest|Gartenfest|Veranstaltung (Oberbegriff)|im Jahre (...)
`

func TestThesaurusReadsSynonymsAndHypernyms(t *testing.T) {
	th, err := readThesaurus(strings.NewReader(testThesaurus))
	if err != nil {
		t.Fatal(err)
	}
	has := func(w, want string) bool {
		return slices.ContainsFunc(th.Related(analysis.Stem(analysis.Fold(w), "de")), func(ls []string) bool {
			return strings.Join(ls, " ") == strings.Join(analysis.Lexemes(want, "de"), " ")
		})
	}
	for _, c := range []struct {
		word, related string
		want          bool
		why           string
	}{
		{"Kühlschrank", "Eisschrank", true, "a synonym"},
		{"Kühlschrank", "Elektrogerät", true, "a hypernym: a fridge is an electrical appliance"},
		{"Kühlschrank", "Gefrierkombination", false, "a hyponym says more than the citizen asked"},
		{"Elektrogerät", "Kühlschrank", false, "a hypernym is no key: an appliance is not a fridge"},
		{"Rabatt", "Ermäßigung", true, "a synonym"},
		{"Rabatt", "günstig", false, "adjectives are the question's frame, not its topic"},
		{"Hund", "Haustier", true, "the animal"},
		{"Hund", "Mistkerl", false, "a sense as an insult"},
		{"Sommerfest", "Veranstaltung", true, "a hypernym"},
	} {
		if got := has(c.word, c.related); got != c.want {
			t.Errorf("%s ~ %s: %v, want %v (%s)", c.word, c.related, got, c.want, c.why)
		}
	}
}

func TestThesaurusRejectsBadFiles(t *testing.T) {
	for name, text := range map[string]string{
		"empty":          "",
		"other encoding": "ISO8859-1\nhund|1\n-|Hund|Haustier (Oberbegriff)\n",
		"no entries":     "UTF-8\n",
	} {
		if _, err := readThesaurus(strings.NewReader(text)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := LoadThesaurus(filepath.Join(t.TempDir(), "missing.dat")); !os.IsNotExist(unwrapAll(err)) {
		t.Errorf("missing file: %v", err)
	}
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		err = u.Unwrap()
	}
}

// TestThesaurusSpeaksForWordsThePagesDoNotUse: a citizen's everyday word that no page uses meets
// the page that uses its hypernym or synonym; a word the pages use is left to them.
func TestThesaurusSpeaksForWordsThePagesDoNotUse(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"elektroschrott.html": page("Elektroschrott",
			`<p>Elektrogeräte nimmt der Wertstoffhof kostenlos an. Große Elektrogeräte entsorgen wir nach Anmeldung.</p>`),
		"sperrmuell.html": page("Sperrmüll",
			`<p>Alte Möbel holen wir zweimal im Jahr ab. Melden Sie den Termin zwei Wochen vorher an.</p>`),
		"baeder.html": page("Hallenbad",
			`<p>Der Eintritt kostet 4 Euro. Eine Ermäßigung erhalten Schüler und Studierende.</p>`),
		"tarife.html": page("Parkhaus",
			`<p>Parken kostet 2 Euro je Stunde. Einen Rabatt gibt es nicht.</p>`),
	})
	ix := newTestIndex(t, nil)
	ctx := context.Background()
	if sum, err := ix.Ingest(ctx, DirSource{Dir: dir, BaseURL: "https://www.lindenbrueck.example"}, 2, nil); err != nil || sum.Failed > 0 {
		t.Fatalf("ingest: %+v %v", sum, err)
	}
	th, err := readThesaurus(strings.NewReader(testThesaurus))
	if err != nil {
		t.Fatal(err)
	}
	first := func(q string) string {
		hits, err := ix.Search(ctx, Query{Text: q, Lang: "de", Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		if len(hits) == 0 {
			return ""
		}
		return strings.TrimPrefix(hits[0].URL, "https://www.lindenbrueck.example/")
	}
	const q = "Wohin mit meinem Kühlschrank?"
	if got := first(q); got == "elektroschrott" {
		t.Fatalf("without a thesaurus the test proves nothing: %q already finds %s", q, got)
	}
	ix.SetThesaurus(th)
	if got := first(q); got != "elektroschrott" {
		t.Errorf("%q: first %s, want elektroschrott", q, got)
	}
	// "Rabatt" is a word of the pages: the thesaurus leaves it to them.
	if got := first("Gibt es Rabatt?"); got != "tarife" {
		t.Errorf("a word the pages use: first %s, want tarife", got)
	}
}
