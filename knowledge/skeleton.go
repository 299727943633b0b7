package knowledge

import (
	"strings"
	"unicode/utf8"

	"github.com/citybot-project/citybot/analysis"
)

// A question in Ukrainian, Russian, Arabic or Persian writes the names of the page's world in its
// own script: "Людвігсгафені", "أوسنابروك", "Грундштойер". No spelling table can list every
// town and every borrowed word, but the sounds survive: written in Latin, Cyrillic or Arabic
// letters, Ludwigshafen keeps the consonants l-d-w-g-s-f-n in that order. A word's skeleton is
// its consonants in broad classes (b/p, d/t, g/k/c/q, s/z/sch/ts, f/v/w), vowels and h left out
// (Cyrillic writes German h as г or х, Arabic script writes most vowels not at all). A question
// word in another script meets the title words whose skeleton it begins with: titles name the
// town and the service, and a few hundred or thousand title words leave little room for chance.

// minSkeleton is the fewest consonants a skeleton needs to match: shorter ones (Amt: m-t) meet
// too many words by chance.
const minSkeleton = 4

// latinClusters are written as one sound before letters are classed.
// German ch is the sound that Cyrillic writes х and Arabic script خ: all three are left out,
// like h.
var latinClusters = strings.NewReplacer("tsch", "s", "sch", "s", "ck", "k", "ch", "", "ph", "v", "tz", "s", "qu", "kv")

// skeletonClass maps a letter of any of the scripts to its consonant class; letters not in it
// (vowels, h, glides, signs) are left out.
var skeletonClass = func() map[rune]byte {
	m := map[rune]byte{}
	set := func(class byte, letters string) {
		for _, r := range letters {
			m[r] = class
		}
	}
	// Latin (folded: no umlauts, ß as ss).
	set('b', "bp")
	set('t', "dt")
	set('k', "gkcqx")
	set('s', "sz")
	set('v', "fvw")
	set('l', "l")
	set('m', "m")
	set('n', "n")
	set('r', "r")
	// Cyrillic (Ukrainian and Russian). г is h in Ukrainian and g in Russian (one edit apart
	// when it is h); х, German h or ch, is left out like them.
	set('b', "бп")
	set('t', "дт")
	set('k', "гґк")
	set('s', "сзцчшщж")
	set('v', "вф")
	set('l', "л")
	set('m', "м")
	set('n', "н")
	set('r', "р")
	// Arabic and Persian (folded: ي ک ا for their variants). و and ي are vowels as often as
	// consonants and are left out; ه, ح, ع too.
	set('b', "بپ")
	set('t', "تطدض")
	set('k', "کقغگج")
	set('s', "سصثزذظشژچ")
	set('v', "ف")
	set('l', "ل")
	set('m', "م")
	set('n', "ن")
	set('r', "ر")
	return m
}()

// skeleton returns the consonant classes of a folded word, repeated classes once.
func skeleton(w string) string {
	if analysis.IsLatin(w) {
		w = latinClusters.Replace(w)
	}
	var b []byte
	for _, r := range w {
		c, ok := skeletonClass[r]
		if !ok {
			continue
		}
		if n := len(b); n > 0 && b[n-1] == c {
			continue
		}
		b = append(b, c)
	}
	return string(b)
}

// skeletons indexes the title field's words by skeleton, and by their skeletons with one class
// left out: a letter heard differently (Ukrainian writes the h of Ludwigshafen as г, a g) is one
// edit away.
type skeletons struct {
	exact, deletes map[string][]string
}

func newSkeletons(titleTerms map[string]int) *skeletons {
	s := &skeletons{exact: map[string][]string{}, deletes: map[string][]string{}}
	for t := range titleTerms {
		if !analysis.IsLatin(t) {
			continue
		}
		k := skeleton(t)
		if len(k) < minSkeleton {
			continue
		}
		s.exact[k] = append(s.exact[k], t)
		for i := range len(k) {
			d := k[:i] + k[i+1:]
			s.deletes[d] = append(s.deletes[d], t)
		}
	}
	return s
}

// minFuzzySkeleton: a skeleton needs this many classes to meet one at an edit's distance.
const minFuzzySkeleton = 5

// match returns the title words that w, a word in another script, may write: first those whose
// skeleton is w's, or w's without the consonants of an ending (Айленбурге, the stem of
// Людвигсхафене); else those one edit away.
func (s *skeletons) match(w string) []string {
	if s == nil || analysis.IsLatin(w) || utf8.RuneCountInString(w) < minSkeleton {
		return nil
	}
	// The Arabic article (الانتخابات, the elections) is no part of a name.
	if r, _ := utf8.DecodeRuneInString(w); r == 'ا' && strings.HasPrefix(w, "ال") && utf8.RuneCountInString(w) > 5 {
		w = strings.TrimPrefix(w, "ال")
	}
	k := skeleton(w)
	var forms []string // k and k without one or two final classes
	for n := len(k); n >= max(minSkeleton, len(k)-2); n-- {
		forms = append(forms, k[:n])
	}
	var out []string
	for _, f := range forms {
		out = append(out, s.exact[f]...)
	}
	if len(out) > 0 {
		return dedupe(out)
	}
	for _, f := range forms {
		if len(f) < minFuzzySkeleton {
			continue
		}
		out = append(out, s.deletes[f]...) // one class more in the title word
		for i := range len(f) {
			d := f[:i] + f[i+1:]
			if len(d) >= minFuzzySkeleton {
				out = append(out, s.exact[d]...) // one class more in the question's word
			}
			out = append(out, s.deletes[d]...) // one class heard differently
		}
	}
	return dedupe(out)
}
