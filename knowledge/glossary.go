package knowledge

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"strings"
)

//go:embed glossary/*.json
var glossaryFS embed.FS

// Glossary maps how citizens name administrative concepts, in any supported language, to the
// German words a city's pages use for them. It is what lets the offline default find
// "Personalausweis" for "ID card", "kimlik kartı" or "Perso".
type Glossary struct {
	concepts []concept
}

// trigger is one way of naming a concept: all of its folded words must occur in a question.
// Terms of the richly inflected languages match loosely (see wordMatches).
type trigger struct {
	words []triggerWord
	loose bool
}

// triggerWord is a folded glossary word with the prefix a question's word must start with,
// computed once at load: Expand runs on every question.
type triggerWord struct {
	word, prefix string
	infix        bool // the prefix may also stand inside a long word
}

func newTriggerWord(w string, loose bool) triggerWord {
	w = strings.TrimPrefix(w, "ال")
	r := []rune(w)
	n := len(r)
	if n < 4 {
		return triggerWord{word: w}
	}
	keep := max(4, n-2)
	if loose {
		keep = max(4, (n*6+9)/10)
	}
	return triggerWord{word: w, prefix: string(r[:keep]), infix: loose && n >= 7}
}

type concept struct {
	german   []string // what an expansion adds
	alt      []string // colloquial German, for Meilisearch's synonyms
	triggers []trigger
}

// glossaryLangs are the keys of a glossary entry that name the concept.
var glossaryLangs = []string{"de", "alt", "en", "tr", "ar", "uk", "ru", "fa", "pl", "ro"}

// looseLangs inflect richly (cases, verbal prefixes) and are written in scripts no German question
// uses, so their terms can match on a shorter stem without misreading German words. Loose Polish,
// Turkish or Romanian terms (Latin script) matched German compounds: German hit@3 fell from 0.91
// to 0.86 on the dev questions.
var looseLangs = map[string]bool{"ar": true, "uk": true, "ru": true, "fa": true}

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
					ws := words(fold(term))
					if len(ws) == 0 {
						continue
					}
					tr := trigger{loose: looseLangs[lang]}
					for _, w := range ws {
						tr.words = append(tr.words, newTriggerWord(w, tr.loose))
					}
					c.triggers = append(c.triggers, tr)
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
	for i, q := range qs {
		qs[i] = strings.TrimPrefix(q, "ال")
	}
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
		for _, tw := range term.words {
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

func containsWord(qs []string, tw triggerWord) bool {
	for _, q := range qs {
		if tw.matches(q) {
			return true
		}
	}
	return false
}

// matches accepts inflected and compounded forms of a glossary word. Strictly, the question's
// word must begin with the glossary word less its last two letters, at least four (Ausweis ~
// Ausweises); loosely, with its first 60 % (kimlik ~ kimliğimi, прибирання ~ прибирати), or hold
// that part inside a long word (a Slavic verb prefix: регистрация ~ зарегистрировать). Words
// under four letters must match exactly. Arabic's article is ignored (السفر ~ سفر).
func (tw triggerWord) matches(q string) bool {
	if q == tw.word {
		return true
	}
	if tw.prefix == "" {
		return false
	}
	return strings.HasPrefix(q, tw.prefix) || (tw.infix && strings.Contains(q, tw.prefix))
}
