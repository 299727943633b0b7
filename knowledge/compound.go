package knowledge

import (
	"cmp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/citybot-project/citybot/analysis"
)

// German writes one concept as one word (Jahresjagdschein, Urnenwahlgrab, Zweitwohnungsteuer)
// where a citizen may write another (Jagdschein, Urnengrab, Zweitwohnungssteuer, "Austritt aus
// der Kirche"). Two things make the parts meet, and neither depends on a site:
//
//   - At index time, hyphens: "Hunde-Steuer" also yields "hundesteuer", and a list that leaves
//     out a shared head ("Geburts-, Ehe- und Sterbeurkunden", "An- und Abmeldung") yields the
//     words it stands for ("geburtsurkunden", "anmeldung"): analysis.CompoundForms.
//   - At question time, the corpus's own vocabulary splits a compound into its parts (a word is
//     a part only if the pages use it on its own), and a compound meets the corpus's compounds
//     of the same head: German compounds are right-headed, so a Jahresjagdschein is a
//     Jagdschein, while a Hundesteuer is no Hund.

// linking are the elements German puts between a compound's parts (Geburt-s-urkunde,
// Hund-e-steuer, Urne-n-grab, Jahr-es-jagdschein), longest first.
var linking = []string{"ens", "es", "en", "er", "ns", "s", "n", "e"}

// minPart is the shortest part a compound is split into (Amt, Ehe).
const minPart = 3

// compounds splits lexemes into parts against a vocabulary and finds the vocabulary's compounds
// of a head.
type compounds struct {
	known  func(string) bool
	parts  map[string][]string // compound lexeme -> its parts, head last
	byHead map[string][]string // head -> the vocabulary's compounds ending in it
	sorted []string            // the vocabulary, sorted
	// deletes finds the words of the vocabulary that are a key with one letter added: typos
	// within one edit meet there (symmetric deletion).
	deletes deleteIndex
	df      map[string]int
}

// deleteIndex maps each word of a vocabulary with one letter left out to the words. It is
// held as sorted hashes of the deletions beside their words' places in the sorted vocabulary
// (12 bytes a deletion) rather than a map of strings: a town's vocabulary has some ten
// thousand words and a hundred thousand deletions, which as a map took megabytes per town.
// A hash's words are checked against the key, so a collision adds nothing.
type deleteIndex struct {
	words  []string // the vocabulary, sorted
	hashes []uint64 // sorted
	at     []int32  // at[i]: the word of hashes[i]
}

func newDeleteIndex(sorted []string, minLen int) deleteIndex {
	type entry struct {
		h uint64
		w int32
	}
	var es []entry
	for i, w := range sorted {
		if utf8.RuneCountInString(w) < minLen {
			continue
		}
		for _, d := range deletions(w) {
			es = append(es, entry{hashString(d), int32(i)})
		}
	}
	slices.SortFunc(es, func(a, b entry) int {
		if a.h != b.h {
			return cmp.Compare(a.h, b.h)
		}
		return cmp.Compare(a.w, b.w)
	})
	x := deleteIndex{words: sorted, hashes: make([]uint64, len(es)), at: make([]int32, len(es))}
	for i, e := range es {
		x.hashes[i], x.at[i] = e.h, e.w
	}
	return x
}

// lookup returns the words that are key with one letter added, in vocabulary order.
func (x deleteIndex) lookup(key string) []string {
	h := hashString(key)
	i, _ := slices.BinarySearch(x.hashes, h)
	var out []string
	for ; i < len(x.hashes) && x.hashes[i] == h; i++ {
		w := x.words[x.at[i]]
		if slices.Contains(deletions(w), key) && (len(out) == 0 || out[len(out)-1] != w) {
			out = append(out, w)
		}
	}
	return out
}

// hashString is FNV-1a, 64 bits.
func hashString(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// minTypoLen: shorter words have too many neighbours one edit away to guess a typo's word.
const minTypoLen = 6

// deletions returns w with each one of its letters left out.
func deletions(w string) []string {
	r := []rune(w)
	out := make([]string, 0, len(r))
	for i := range r {
		out = append(out, string(r[:i])+string(r[i+1:]))
	}
	return out
}

// typos returns the vocabulary's words one edit (a letter missing, added or changed) from w,
// the most common first.
func (c *compounds) typos(w string) []string {
	if utf8.RuneCountInString(w) < minTypoLen {
		return nil
	}
	seen := map[string]bool{w: true}
	var out []string
	add := func(cands ...string) {
		for _, x := range cands {
			if !seen[x] {
				seen[x] = true
				out = append(out, x)
			}
		}
	}
	add(c.deletes.lookup(w)...) // a letter missing in w
	for _, d := range deletions(w) {
		if c.known(d) {
			add(d) // a letter too many in w
		}
		add(c.deletes.lookup(d)...) // a letter changed
	}
	slices.SortFunc(out, func(a, b string) int { return c.df[b] - c.df[a] })
	return out
}

func newCompounds(vocab map[string]int) *compounds {
	c := &compounds{known: func(w string) bool { _, ok := vocab[w]; return ok },
		parts: map[string][]string{}, byHead: map[string][]string{}, df: vocab}
	for w := range vocab {
		c.sorted = append(c.sorted, w)
		if ps := c.split(w); len(ps) > 1 {
			c.parts[w] = ps
			c.byHead[ps[len(ps)-1]] = append(c.byHead[ps[len(ps)-1]], w)
		}
	}
	for _, ws := range c.byHead {
		slices.Sort(ws)
	}
	slices.Sort(c.sorted)
	c.deletes = newDeleteIndex(c.sorted, minTypoLen-1)
	return c
}

// split returns w's parts, head last, or w alone. The longest head the vocabulary knows wins,
// then each side is split again.
func (c *compounds) split(w string) []string {
	r := []rune(w)
	if len(r) < 2*minPart {
		return []string{w}
	}
	for i := minPart; i+minPart <= len(r); i++ {
		head := string(r[i:])
		if !c.known(head) {
			continue
		}
		mod := c.modifier(string(r[:i]))
		if mod == nil {
			continue
		}
		return append(mod, c.split(head)...)
	}
	return []string{w}
}

// modifier returns the parts of a compound's front, with or without its linking element.
func (c *compounds) modifier(m string) []string {
	try := func(m string) []string {
		if len([]rune(m)) < minPart || analysis.Stopword(m) {
			return nil
		}
		if c.known(m) {
			return []string{m}
		}
		if ps := c.split(m); len(ps) > 1 {
			return ps
		}
		return nil
	}
	if ps := try(m); ps != nil {
		return ps
	}
	for _, l := range linking {
		if rest, ok := strings.CutSuffix(m, l); ok {
			if ps := try(rest); ps != nil {
				return ps
			}
		}
	}
	return nil
}

// variant is a way the pages write a question's word.
type variant struct {
	terms  []string // one lexeme, or the parts that must all be there
	weight float64
}

// variantWeight: a compound of the same head with the same parts counts fully (a linking
// element more or less), one more or less specific nearly so, the bare parts less.
const (
	sameParts     = 1.0
	relatedParts  = 0.8
	splitParts    = 0.7
	maxVariations = 8
)

// variants returns how the corpus writes the question word w (a lexeme), beside w itself.
// others are the question's other lexemes: a more specific compound counts only when its extra
// parts are among them ("Austritt aus der Kirche" ~ Kirchenaustritt) or w is itself a compound
// (Jagdschein ~ Jahresjagdschein), since a single word's compounds are many other things
// (Ausweis ~ Bibliotheksausweis).
func (c *compounds) variants(w string, others map[string]bool) []variant {
	if c == nil {
		return nil
	}
	ps := c.parts[w]
	if ps == nil {
		ps = c.split(w)
	}
	head, mods := ps[len(ps)-1], ps[:len(ps)-1]
	var out []variant
	for _, l := range c.byHead[head] {
		if l == w || len(out) >= maxVariations {
			continue
		}
		lm := c.parts[l][:len(c.parts[l])-1]
		switch {
		case slices.Equal(lm, mods):
			out = append(out, variant{[]string{l}, sameParts})
		case subset(mods, lm) && (len(mods) > 0 || allIn(lm, others)):
			out = append(out, variant{[]string{l}, relatedParts})
		case len(lm) > 0 && subset(lm, mods) && !c.known(w):
			out = append(out, variant{[]string{l}, relatedParts})
		}
	}
	if len(ps) > 1 && !c.known(w) {
		out = append(out, variant{ps, splitParts})
		// A word no page uses whose head is itself a specific word (seven letters or more) is
		// a kind of it: a Jahresjagdschein is a Jagdschein, a Kinderreisepass a Reisepass. A
		// short head (Steuer, Amt) says too little alone.
		if utf8.RuneCountInString(head) >= 7 && len(out) < maxVariations && !slices.ContainsFunc(out, func(v variant) bool {
			return len(v.terms) == 1 && v.terms[0] == head
		}) {
			out = append(out, variant{[]string{head}, relatedParts})
		}
	}
	if len(ps) == 1 && !c.known(w) {
		out = append(out, c.near(w)...)
		// A word no page uses and no part explains: a typo of a word the pages use
		// (Baugenemigung, Persnalausweis), the most common of them.
		if ts := c.typos(w); len(ts) > 0 && len(out) < maxVariations {
			out = append(out, variant{[]string{ts[0]}, relatedParts})
		}
	}
	return out
}

// near finds, for a word no page uses and the vocabulary cannot split, the compounds that share
// its front and its head, four letters each at least (Urnengrab ~ Urnenwahlgrab where no page
// writes "Grab" alone, Zweitwohnungsteuer ~ Zweitwohnungssteuer).
func (c *compounds) near(w string) []variant {
	r := []rune(w)
	if len(r) < 8 {
		return nil
	}
	front, head := string(r[:4]), string(r[len(r)-4:])
	i, _ := slices.BinarySearch(c.sorted, front)
	var out []variant
	for ; i < len(c.sorted) && strings.HasPrefix(c.sorted[i], front) && len(out) < maxVariations; i++ {
		l := []rune(c.sorted[i])
		if !strings.HasSuffix(c.sorted[i], head) || len(l) < 8 || abs(len(l)-len(r)) > 6 {
			continue
		}
		// The shared front and head must not overlap in either word.
		p := commonPrefix(r, l)
		s := commonSuffix(r, l)
		if p+s <= len(r) && p+s <= len(l) {
			out = append(out, variant{[]string{c.sorted[i]}, relatedParts})
		}
	}
	return out
}

func commonPrefix(a, b []rune) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

func commonSuffix(a, b []rune) int {
	n := 0
	for n < len(a) && n < len(b) && a[len(a)-1-n] == b[len(b)-1-n] {
		n++
	}
	return n
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func subset(a, b []string) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

func allIn(a []string, set map[string]bool) bool {
	for _, x := range a {
		if !set[x] {
			return false
		}
	}
	return true
}
