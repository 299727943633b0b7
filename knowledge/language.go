package knowledge

import (
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Detector tells which of citybot's languages a question is written in: the script narrows the
// choice (Cyrillic is Russian or Ukrainian, Arabic script Arabic or Persian), then each word
// votes for the languages whose frequent short words or distinctive letters it has. A statistical
// detector with models of every language (lingua-go) made the binary 155 MB; nine known
// languages need a few hundred words. Leichte Sprache is German to a detector: choosing it is
// the citizen's setting, not something to detect.
type Detector struct {
	words map[string][]string // a frequent word, as written -> its languages
	bare  map[string][]string // the same words without diacritics, as some keyboards type them
}

// NewDetector builds the word tables of the supported languages.
func NewDetector() *Detector {
	d := &Detector{words: map[string][]string{}, bare: map[string][]string{}}
	for lang, list := range functionWords {
		for _, w := range strings.Fields(list) {
			w = normalizeWord(w)
			d.words[w] = appendNew(d.words[w], lang)
			if b := stripDiacritics(w); b != w {
				d.bare[b] = appendNew(d.bare[b], lang)
			}
		}
	}
	return d
}

// Evidence below which a short text keeps the caller's prior: one frequent word or one
// distinctive letter is as likely a borrowed term ("Danke", "Bürgeramt") as a change of language.
const (
	minEvidence = 2
	shortWords  = 3
)

// Detect returns the language code of text; prior (may be empty) is returned for texts too
// short or too mixed to tell.
func (d *Detector) Detect(text, prior string) string {
	words := splitWords(text)
	if len(words) == 0 {
		return prior
	}
	sc := mainScript(words)
	score := map[string]float64{}
	for _, w := range words {
		if w.script == sc {
			d.vote(w, score)
		}
	}
	langs := scriptLanguages[sc]
	best := langs[0]
	for _, l := range langs {
		if score[l] > score[best] {
			best = l
		}
	}
	second := -1.0
	for _, l := range langs {
		if l != best {
			second = max(second, score[l])
		}
	}
	margin := score[best] - second
	// A Latin-script text without evidence is most often a German term in any language's
	// conversation; a text in another script cannot be in a language of another script.
	fits := sc == latinScript || slices.Contains(langs, detectable(prior))
	if prior != "" && fits && (margin == 0 || len(words) <= shortWords && margin < minEvidence) {
		return prior
	}
	return best
}

// detectable is the language a detector can tell for lang: Leichte Sprache is German.
func detectable(lang string) string {
	if lang == "de-simple" {
		return "de"
	}
	return lang
}

// DetectLanguage tells the language of a question as retrieval sees it; see Detector.Detect.
func (ix *Index) DetectLanguage(text, prior string) string { return ix.detector.Detect(text, prior) }

// word is a run of letters in one script, lower-cased and normalized (see normalizeWord).
type word struct {
	text   string // normalized, to look up
	raw    string // lower-cased as written, for its letters
	script int
	dotted bool // written with Turkish İ, which lower-cases to a plain i
}

// splitWords returns text's words in the three scripts; digits, punctuation and other scripts
// separate words. An apostrophe between letters stays inside a word (Ukrainian м'ясо, Turkish
// Bürgerbüro'ya, English what's); a hyphen and Persian's zero-width non-joiner (می‌خواهم) split.
func splitWords(text string) []word {
	var out []word
	rs := []rune(norm.NFC.String(text)) // one code point for ș, not s and a comma below
	for i := 0; i < len(rs); {
		sc, ok := scriptOf(rs[i])
		if !ok {
			i++
			continue
		}
		var b strings.Builder
		dotted := false
		for ; i < len(rs); i++ {
			r := rs[i]
			if isApostrophe(r) && b.Len() > 0 && i+1 < len(rs) && sameScript(rs[i+1], sc) {
				b.WriteByte('\'')
				continue
			}
			if unicode.Is(unicode.Mn, r) || r == 'ـ' {
				continue // Arabic vowel marks and tatweel, combining accents: not letters of their own
			}
			if !sameScript(r, sc) {
				break
			}
			if r == 'İ' {
				dotted, r = true, 'i'
			}
			b.WriteRune(unicode.ToLower(r))
		}
		raw := b.String()
		out = append(out, word{text: normalizeWord(raw), raw: raw, script: sc, dotted: dotted})
	}
	return out
}

func scriptOf(r rune) (int, bool) {
	switch {
	case !unicode.IsLetter(r):
		return 0, false
	case unicode.Is(unicode.Latin, r):
		return latinScript, true
	case unicode.Is(unicode.Cyrillic, r):
		return cyrillicScript, true
	case unicode.Is(unicode.Arabic, r):
		return arabicScript, true
	}
	return 0, false
}

func sameScript(r rune, sc int) bool {
	s, ok := scriptOf(r)
	return ok && s == sc
}

func isApostrophe(r rune) bool { return r == '\'' || r == '’' || r == 'ʼ' }

// mainScript is the script the question is written in. German terms turn up in questions
// written in Cyrillic or Arabic script (Bürgerbüro, Anmeldung), never the other way round in a
// German town's chat: any word in those scripts decides, the more frequent one if both occur.
func mainScript(words []word) int {
	var count [numScripts]int
	for _, w := range words {
		count[w.script]++
	}
	switch {
	case count[cyrillicScript] == 0 && count[arabicScript] == 0:
		return latinScript
	case count[cyrillicScript] >= count[arabicScript]:
		return cyrillicScript
	}
	return arabicScript
}

// vote adds w's evidence to score: one for each language whose frequent word it is, one for
// each language that writes all its distinctive letters, one for a Turkish case ending or an
// English clitic after an apostrophe, one for the Arabic article.
func (d *Detector) vote(w word, score map[string]float64) {
	text := w.text
	if stem, suffix, ok := strings.Cut(text, "'"); ok {
		switch {
		case w.script == cyrillicScript:
			score["uk"]++ // Ukrainian writes the apostrophe Russian writes ъ for
		case turkishSuffixes[suffix]:
			score["tr"]++
		case englishClitics[suffix]:
			score["en"]++
		}
		text = stem
	}
	langs, known := d.words[text]
	if !known && isASCII(text) {
		langs, known = d.bare[text]
	}
	if !known && w.script == arabicScript {
		langs, known = d.arabicPrefixed(text)
	}
	for _, l := range langs {
		score[l]++
	}
	langs, weight := letterVote(w)
	for _, l := range langs {
		score[l] += weight
	}
}

// arabicPrefixed recognizes the Arabic article and the conjunction و, which Arabic writes joined
// to the next word (البطاقة, وكيف); Persian writes و apart and the article only in a few loans.
func (d *Detector) arabicPrefixed(text string) ([]string, bool) {
	rs := []rune(text)
	if len(rs) >= 3 && rs[0] == 'و' {
		if langs, ok := d.words[string(rs[1:])]; ok && slices.Contains(langs, "ar") {
			return []string{"ar"}, true
		}
	}
	for _, article := range []string{"وال", "بال", "لل", "ال"} {
		if strings.HasPrefix(text, article) && len(rs)-len([]rune(article)) >= 3 {
			return []string{"ar"}, true
		}
	}
	return nil, false
}

// letterVote returns the languages that write every distinctive letter of w (ü: German or
// Turkish; ü and ß: German), or, for a word whose letters no one language writes all of, each
// language that writes one of them. Its weight is one, half for Arabic ي and ك alone: Persians
// type those on Arabic keyboards, while no Arabic keyboard types Persian ی and ک.
func letterVote(w word) (langs []string, weight float64) {
	var all, some []string
	first, keyboardOnly := true, true
	if w.dotted {
		all, some, first, keyboardOnly = []string{"tr"}, []string{"tr"}, false, false
	}
	for _, r := range w.raw {
		list, ok := letterLanguages[r]
		if !ok {
			continue
		}
		keyboardOnly = keyboardOnly && arabicKeyboardLetters[r]
		ls := strings.Fields(list)
		for _, l := range ls {
			some = appendNew(some, l)
		}
		if first {
			all, first = ls, false
			continue
		}
		var both []string
		for _, l := range all {
			if slices.Contains(ls, l) {
				both = append(both, l)
			}
		}
		all = both
	}
	weight = 1
	if keyboardOnly {
		weight = 0.5
	}
	if len(all) == 0 {
		return some, weight
	}
	return all, weight
}

// normalizeWord merges spellings of one word that keyboards and habits vary: Russian е for ё,
// alef with or without hamza, Arabic and Persian forms of yeh and kaf (a Persian typing on an
// Arabic keyboard writes ي and ك). The letters themselves still vote, see letterVote.
func normalizeWord(s string) string { return wordVariants.Replace(s) }

var wordVariants = strings.NewReplacer("ё", "е", "أ", "ا", "إ", "ا", "ٱ", "ا",
	"ي", "ی", "ى", "ی", "ك", "ک")

// stripDiacritics removes accents, cedillas and the like (nasıl -> nasil, și -> si).
func stripDiacritics(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, strings.NewReplacer("ı", "i", "ł", "l").Replace(s))
	if err != nil {
		return s
	}
	return out
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func appendNew(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

func setOf(list string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(list) {
		m[w] = true
	}
	return m
}
