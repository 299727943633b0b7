package knowledge

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"strings"
	"unicode/utf8"
)

//go:embed glossary/*.json
var glossaryFS embed.FS

// Glossary maps how citizens name administrative concepts, in any supported language, to the
// German words a city's pages use for them. It is what lets the offline default find
// "Personalausweis" for "ID card", "kimlik kartı" or "Perso".
type Glossary struct {
	concepts []concept
}

type concept struct {
	german   []string   // what an expansion adds
	alt      []string   // colloquial German, for Meilisearch's synonyms
	triggers [][]string // each a term's folded words; all of a term's words must occur
}

// glossaryLangs are the keys of a glossary entry that name the concept.
var glossaryLangs = []string{"de", "alt", "en", "tr", "ar", "uk", "ru", "fa", "pl", "ro"}

// LoadGlossary reads the glossary shipped in the binary, plus the *.json files of extraDir when
// it is not empty (a city's own terms).
func LoadGlossary(extra fs.FS) (*Glossary, error) {
	g := &Glossary{}
	if err := g.load(glossaryFS, "glossary"); err != nil {
		return nil, err
	}
	if extra != nil {
		if err := g.load(extra, "."); err != nil {
			return nil, err
		}
	}
	return g, nil
}

func (g *Glossary) load(fsys fs.FS, dir string) error {
	files, err := fs.Glob(fsys, dir+"/*.json")
	if err != nil {
		return err
	}
	for _, f := range files {
		b, err := fs.ReadFile(fsys, f)
		if err != nil {
			return fmt.Errorf("read glossary %s: %w", f, err)
		}
		var entries []map[string][]string
		if err := json.Unmarshal(b, &entries); err != nil {
			return fmt.Errorf("parse glossary %s: %w", f, err)
		}
		for i, e := range entries {
			if len(e["de"]) == 0 {
				return fmt.Errorf("glossary %s: entry %d has no German term", f, i+1)
			}
			c := concept{german: e["de"], alt: e["alt"]}
			for _, lang := range glossaryLangs {
				for _, term := range e[lang] {
					if ws := words(fold(term)); len(ws) > 0 {
						c.triggers = append(c.triggers, ws)
					}
				}
			}
			g.concepts = append(g.concepts, c)
		}
	}
	return nil
}

// Len is the number of concepts.
func (g *Glossary) Len() int { return len(g.concepts) }

// Expand returns the German terms of every concept that text mentions, each once.
func (g *Glossary) Expand(text string) []string {
	if g == nil {
		return nil
	}
	qs := words(fold(text))
	seen := map[string]bool{}
	var out []string
	for _, c := range g.concepts {
		if !c.mentionedIn(qs) {
			continue
		}
		for _, t := range c.german {
			if !seen[t] {
				seen[t] = true
				out = append(out, t)
			}
		}
	}
	return out
}

func (c concept) mentionedIn(qs []string) bool {
	for _, term := range c.triggers {
		all := true
		for _, tw := range term {
			if !containsWord(qs, tw) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

func containsWord(qs []string, tw string) bool {
	for _, q := range qs {
		if wordMatches(q, tw) {
			return true
		}
	}
	return false
}

// wordMatches accepts inflected and compounded forms of a glossary word: the question's word must
// begin with the glossary word minus its last two letters (kimlik ~ kimliğimi, паспорт ~ паспорта,
// dowód ~ dowodu), keeping at least four letters; short words must match exactly. Arabic's article
// is ignored (السفر ~ سفر).
func wordMatches(q, tw string) bool {
	if q == tw {
		return true
	}
	q = strings.TrimPrefix(q, "ال")
	tw = strings.TrimPrefix(tw, "ال")
	n := utf8.RuneCountInString(tw)
	if n < 4 {
		return q == tw
	}
	keep := n - 2
	if keep < 4 {
		keep = 4
	}
	prefix := string([]rune(tw)[:keep])
	return strings.HasPrefix(q, prefix)
}
