package knowledge

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/citybot-project/citybot/analysis"
)

//go:embed glossary/*.json
var glossaryFS embed.FS

// Glossary maps how citizens name administrative concepts, in any supported language, to the
// German words a city's pages use for them. It is what lets the offline default find
// "Personalausweis" for "ID card", "kimlik kartı" or "Perso".
type Glossary struct {
	concepts []concept
	// byStart finds the trigger words a question word can match: every match begins with the
	// word's first three letters (prefixes are at least four long), and loose infix matches with
	// their prefix's first three somewhere inside the word.
	byStart, byInfix map[string][]wordRef
}

// wordRef points at one word of one trigger of one concept.
type wordRef struct{ concept, trigger, word int }

// key3 is the first three runes of w (all of it when shorter).
func key3(w string) string {
	n := 0
	for i := range w {
		if n == 3 {
			return w[:i]
		}
		n++
	}
	return w
}

func (g *Glossary) buildIndex() {
	g.byStart, g.byInfix = map[string][]wordRef{}, map[string][]wordRef{}
	for ci, c := range g.concepts {
		for ti, t := range c.triggers {
			for wi, w := range t.words {
				ref := wordRef{ci, ti, wi}
				g.byStart[key3(w.word)] = append(g.byStart[key3(w.word)], ref)
				if w.infix {
					g.byInfix[key3(w.loose)] = append(g.byInfix[key3(w.loose)], ref)
				}
			}
		}
	}
}

// trigger is one way of naming a concept, in one language: all of its words must occur in a
// question.
type trigger struct {
	words []triggerWord
	lang  string
}

// triggerWord is a folded glossary word with the prefixes a question's word must start with,
// computed once at load: Expand runs on every question.
type triggerWord struct {
	word          string
	strict, loose string // empty for words under four letters, which must match exactly
	infix         bool   // loosely, the prefix may also stand inside the word
}

func newTriggerWord(w string) triggerWord {
	w = strings.TrimPrefix(w, "ال")
	r := []rune(w)
	n := len(r)
	if n < 4 {
		return triggerWord{word: w}
	}
	return triggerWord{word: w, strict: string(r[:max(4, n-2)]), loose: string(r[:max(4, (n*6+9)/10)]), infix: n >= 7}
}

type concept struct {
	german   []string // what an expansion adds
	alt      []string // colloquial German, for Meilisearch's synonyms
	triggers []trigger
}

// glossaryLangs are the keys of a glossary entry that name the concept.
var glossaryLangs = []string{"de", "alt", "en", "tr", "ar", "uk", "ru", "fa", "pl", "ro"}

// Turkish, Polish, Romanian, Ukrainian, Russian, Arabic and Persian inflect richly (cases,
// possessive suffixes, verbal prefixes), so their terms match on a shorter stem (see matches).
// Terms in Cyrillic or Arabic script always may: no German question shares their words. Latin-script
// terms only when the question is in their language: loosely matched Polish, Turkish or Romanian
// terms misread German compounds (German hit@3 fell from 0.91 to 0.86 on the dev questions).
var (
	looseScript   = map[string]bool{"ar": true, "uk": true, "ru": true, "fa": true}
	looseInflects = map[string]bool{"tr": true, "pl": true, "ro": true}
)

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
	g.buildIndex()
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
					ws := analysis.Words(analysis.Fold(term))
					if len(ws) == 0 {
						continue
					}
					tr := trigger{lang: lang}
					for _, w := range ws {
						tr.words = append(tr.words, newTriggerWord(w))
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

// Expand returns the German terms of every concept that text mentions, each once. lang is the
// question's language, if known.
func (g *Glossary) Expand(text, lang string) []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range g.Concepts(text, lang) {
		for _, t := range c.Terms {
			if !seen[t] {
				seen[t] = true
				out = append(out, t)
			}
		}
	}
	return out
}

// Mention is a concept a question names: its German terms, and the question's words (their
// positions in analysis.Words(analysis.Fold(text))) that named it.
type Mention struct {
	Terms []string
	Words []int
}

// Concepts returns, for every concept that text mentions, its German terms and the words that
// named it: one entry per concept, so that retrieval can count a concept once however many
// synonyms it has, and as the same thing as the word that named it.
func (g *Glossary) Concepts(text, lang string) []Mention {
	if g == nil {
		return nil
	}
	qs := analysis.Words(analysis.Fold(text))
	// matched[concept, trigger] has bit w set when word w of that trigger occurs in the question;
	// at[concept, trigger] holds the question's words that matched.
	type tkey struct{ c, t int }
	matched := map[tkey]uint64{}
	at := map[tkey][]int{}
	try := func(qi int, q string, ref wordRef) {
		term := g.concepts[ref.concept].triggers[ref.trigger]
		loose := looseScript[term.lang] || (looseInflects[term.lang] && term.lang == lang)
		if ref.word < 64 && term.words[ref.word].matches(q, loose) {
			k := tkey{ref.concept, ref.trigger}
			matched[k] |= 1 << ref.word
			if !slices.Contains(at[k], qi) {
				at[k] = append(at[k], qi)
			}
		}
	}
	for qi, word := range qs {
		for _, q := range arabicForms(word) {
			for _, ref := range g.byStart[key3(q)] {
				try(qi, q, ref)
			}
			r := []rune(q)
			for i := 1; i+3 <= len(r); i++ {
				for _, ref := range g.byInfix[string(r[i:i+3])] {
					try(qi, q, ref)
				}
			}
		}
	}
	words := make([][]int, len(g.concepts))
	mentioned := make([]bool, len(g.concepts))
	for k, bits := range matched {
		if n := len(g.concepts[k.c].triggers[k.t].words); bits == (uint64(1)<<n)-1 {
			mentioned[k.c] = true
			for _, qi := range at[k] {
				if !slices.Contains(words[k.c], qi) {
					words[k.c] = append(words[k.c], qi)
				}
			}
		}
	}
	var out []Mention
	for ci, c := range g.concepts {
		if mentioned[ci] {
			slices.Sort(words[ci])
			out = append(out, Mention{Terms: c.german, Words: words[ci]})
		}
	}
	return out
}

// arabicProclitics are what Arabic writes onto the front of a word: the article with the
// conjunctions and prepositions joined to it, and the prefixes of the present tense (يقص ~ قص,
// بالكفن ~ كفن, للنفايات ~ نفايات). Longest first, folded as questions are (ي → ی, ك → ک).
var arabicProclitics = func() []string {
	var out []string
	for _, p := range []string{"وال", "بال", "فال", "كال", "لل", "ال", "و", "ف", "ب", "ل", "ي", "ت"} {
		out = append(out, analysis.Fold(p))
	}
	return out
}()

// arabicForms returns a folded question word and, for a word in Arabic script, the word without
// its proclitics, as long as two letters remain.
func arabicForms(w string) []string {
	r, _ := utf8.DecodeRuneInString(w)
	if !unicode.Is(unicode.Arabic, r) {
		return []string{w}
	}
	out := []string{w}
	for _, p := range arabicProclitics {
		if rest, ok := strings.CutPrefix(w, p); ok && utf8.RuneCountInString(rest) >= 2 {
			return append(out, rest)
		}
	}
	return out
}

// matches accepts inflected and compounded forms of a glossary word. Strictly, the question's
// word must begin with the glossary word less its last two letters, at least four (Ausweis ~
// Ausweises); loosely, with its first 60 % (kimlik ~ kimliğimi, прибирання ~ прибирати,
// głosowanie ~ głosować), or hold that part inside a long word (a Slavic verb prefix:
// регистрация ~ зарегистрировать). Arabic's article is ignored (السفر ~ سفر).
func (tw triggerWord) matches(q string, loose bool) bool {
	switch {
	case q == tw.word:
		return true
	case tw.strict == "":
		return false
	case !loose:
		return strings.HasPrefix(q, tw.strict)
	}
	return strings.HasPrefix(q, tw.loose) || (tw.infix && strings.Contains(q, tw.loose))
}
