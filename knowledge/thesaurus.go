package knowledge

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/citybot-project/citybot/analysis"
)

// A citizen names a thing by its everyday word (Kühlschrank, Birke, Sommerfest) where the town's
// page names its kind (Elektrogeräte, Bäume, Veranstaltungen) or a synonym. The glossary knows
// the words of public services; a general thesaurus knows the rest of the language. OpenThesaurus
// (Debian's mythes-de, LGPL, written by its community, not for any town) lists for each German
// word its synonyms and its hypernyms ("Kühlschrank: elektrisches Gerät (Oberbegriff)"). Only
// nouns are taken (German capitalises them): they carry a question's topic, while verbs and
// adjectives (machen, schnell) have dozens of senses each and are the question's frame.
//
// A related word counts only where the town's pages use it and weighs less than the citizen's
// own word: the thesaurus suggests, the pages decide.

// DefaultThesaurus is where Debian's mythes-de installs OpenThesaurus.
const DefaultThesaurus = "/usr/share/mythes/th_de_DE_v2.dat"

// Thesaurus maps a German noun's stem to the nouns related to it: its synonyms and hypernyms,
// each as the lexemes of its words (a phrase such as "elektrisches Gerät" needs all of them).
type Thesaurus struct {
	related map[string][][]string
}

// maxRelated bounds what one word brings: a word in many synonym sets (Bank, Schloss) has many
// senses, and the first sets are no better than the last.
const maxRelated = 24

// reInsult matches the annotations of vulgar and derogatory senses.
var reInsult = regexp.MustCompile(`\((?:vulg\.|derb|abwertend|beleidigend|Schimpfwort)`)

// LoadThesaurus reads a thesaurus in MyThes' format (as mythes-de ships OpenThesaurus).
func LoadThesaurus(path string) (*Thesaurus, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open thesaurus: %w", err)
	}
	defer f.Close()
	t, err := readThesaurus(f)
	if err != nil {
		return nil, fmt.Errorf("read thesaurus %s: %w", path, err)
	}
	return t, nil
}

// readThesaurus parses MyThes' data format: a first line naming the encoding, then per entry a
// line "word|n" and n lines "(part of speech)|term|term…", one per sense. Every sense is listed
// under each of its words, so each distinct line is read once.
func readThesaurus(r io.Reader) (*Thesaurus, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	if !sc.Scan() {
		if err := sc.Err(); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("empty file")
	}
	if enc := strings.TrimSpace(sc.Text()); !strings.EqualFold(enc, "UTF-8") {
		return nil, fmt.Errorf("encoding %q: only UTF-8 is read", enc)
	}
	t := &Thesaurus{related: map[string][][]string{}}
	seen := map[string]bool{}
	// Terms recur in many senses: each is analysed once (nil: not a noun).
	analysed := map[string][]string{}
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "-|") && !strings.HasPrefix(line, "(") {
			continue // "word|n": the entry's head, which its senses list again
		}
		if seen[line] {
			continue
		}
		seen[line] = true
		fields := strings.Split(line, "|")[1:]
		if insults := len(reInsult.FindAllString(line, -1)); 2*insults >= len(fields) {
			continue // a word's sense as an insult (Hund, Sack) is never a citizen's topic
		}
		var words []string // the sense's single nouns: the keys
		var terms [][]string
		for _, f := range fields {
			hyper := strings.Contains(f, "(Oberbegriff)")
			if strings.Contains(f, "(Unterbegriff)") || strings.Contains(f, "...") || reInsult.MatchString(f) {
				continue // a narrower word says less than the citizen's; "(...)" is a pattern
			}
			ls, ok := analysed[f]
			if !ok {
				if term := stripAnnotations(f); isNoun(term) {
					ls = analysis.Lexemes(term, "de")
				}
				analysed[f] = ls
			}
			if len(ls) == 0 {
				continue
			}
			terms = append(terms, ls)
			if !hyper && len(ls) == 1 {
				words = append(words, ls[0])
			}
		}
		for _, w := range words {
			for _, ls := range terms {
				if len(ls) == 1 && ls[0] == w || len(t.related[w]) >= maxRelated {
					continue
				}
				t.related[w] = appendUnique(t.related[w], ls)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(t.related) == 0 {
		return nil, fmt.Errorf("no entries")
	}
	return t, nil
}

// stripAnnotations removes OpenThesaurus' annotations: "(ugs.)", "(Oberbegriff)", "(fachspr.)".
func stripAnnotations(f string) string {
	var b strings.Builder
	depth := 0
	for _, r := range f {
		switch {
		case r == '(':
			depth++
		case r == ')' && depth > 0:
			depth--
		case depth == 0:
			b.WriteRune(r)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// isNoun: a German noun or noun phrase ends in a capitalised word (Kühlschrank, elektrisches
// Gerät); one of several words that is all capitals is an abbreviation's expansion or a name.
func isNoun(term string) bool {
	fs := strings.Fields(term)
	if len(fs) == 0 || len(fs) > 3 {
		return false
	}
	last := fs[len(fs)-1]
	r, _ := utf8.DecodeRuneInString(last)
	return unicode.IsUpper(r) && utf8.RuneCountInString(last) >= 3
}

func appendUnique(list [][]string, ls []string) [][]string {
	for _, x := range list {
		if slices.Equal(x, ls) {
			return list
		}
	}
	return append(list, ls)
}

// Len is the number of words the thesaurus relates.
func (t *Thesaurus) Len() int {
	if t == nil {
		return 0
	}
	return len(t.related)
}

// Related returns the nouns related to the German stem w, each as its lexemes.
func (t *Thesaurus) Related(w string) [][]string {
	if t == nil {
		return nil
	}
	return t.related[w]
}
