package bot

import (
	"maps"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode"

	"github.com/citybot-project/citybot/analysis"
	"github.com/citybot-project/citybot/knowledge"
)

// unit is the smallest piece of a page an answer quotes: a list item, a table row, a sentence.
type unit struct {
	heading string // the section's heading ("" for the page's introduction)
	text    string
	order   int
	terms   map[string]bool // the lexemes of its text and of its heading
	facts   aspect          // the kinds of fact it states (an amount, a time...)
	ranges  [][2]float64    // the number ranges it states ("12 bis 17 Jahre", "1953 bis 1970")
	block   int             // units of one table or list share a block number > 0
	score   float64
}

// maxUnitRunes: longer paragraphs are quoted sentence by sentence.
const maxUnitRunes = 280

// units splits a page's chunks into quotable units, in page order.
func units(chunks []knowledge.ChunkHit, lang string) []unit {
	var out []unit
	blocks := 0
	for _, c := range chunks {
		heading := ""
		if len(c.Headings) > 1 {
			heading = c.Headings[len(c.Headings)-1]
		}
		for _, line := range strings.Split(c.Text, "\n") {
			for _, piece := range sentences(line) {
				u := unit{heading: heading, text: piece, order: len(out), terms: map[string]bool{}, facts: factsIn(piece),
					ranges: rangesIn(piece)}
				// The heading says what a row or item is about ("Gebühren": 37,00 Euro).
				for _, t := range analysis.Lexemes(heading+" "+piece, lang) {
					u.terms[t] = true
				}
				if rowLike(piece) {
					if prev := len(out) - 1; prev >= 0 && out[prev].block > 0 && out[prev].heading == heading {
						u.block = out[prev].block
					} else {
						blocks++
						u.block = blocks
					}
				}
				out = append(out, u)
			}
		}
	}
	return out
}

// rowLike tells a table row ("Biotonne 120 Liter: 84,00 Euro") or list item from a sentence of
// running text: the page's tables and lists are quoted whole when one of their lines answers.
func rowLike(s string) bool {
	if strings.HasPrefix(s, "- ") {
		return true
	}
	return strings.Contains(s, ": ") && len([]rune(s)) <= 200 && !strings.HasSuffix(s, ".")
}

// sentences splits a long line at sentence ends; list items and table rows stay whole.
func sentences(line string) []string {
	line = strings.TrimSpace(line)
	if line == "" {
		return nil
	}
	if len([]rune(line)) <= maxUnitRunes || strings.HasPrefix(line, "- ") {
		return []string{line}
	}
	var out []string
	start := 0
	r := []rune(line)
	for i := 1; i < len(r)-1; i++ {
		// ". " followed by a capital ends a sentence, but not after a number ("18. Dezember")
		// or a one-letter abbreviation ("z. B. Sie").
		if (r[i-1] == '.' || r[i-1] == '!' || r[i-1] == '?') && r[i] == ' ' && isUpper(r[i+1]) && i-start > 40 &&
			!(i >= 2 && (unicode.IsDigit(r[i-2]) || (unicode.IsLetter(r[i-2]) && (i < 3 || !unicode.IsLetter(r[i-3]))))) {
			out = append(out, strings.TrimSpace(string(r[start:i])))
			start = i + 1
		}
	}
	return append(out, strings.TrimSpace(string(r[start:])))
}

func isUpper(r rune) bool {
	return strings.ToUpper(string(r)) == string(r) && strings.ToLower(string(r)) != string(r)
}

// passageQuery is what selectPassages looks for: the question's lexemes (own), the glossary's
// (added), the page title's (topic: they found the page, they don't tell its sentences apart) and
// the aspects the question asks for.
type passageQuery struct {
	own, added, topic []string
	values            []float64 // the question's numbers, to find in the page's ranges
	asks              aspect
}

// Selection tuning, measured on the dev questions' fact recall.
const (
	addedWeight = 0.7 // a glossary term counts less than the citizen's own word
	topicWeight = 0.3 // a word of the page's title, found in much of the page
	// aspectBonus: a unit stating the kind of fact asked for (an amount for "was kostet")
	// outranks one that only shares a word with the question.
	aspectBonus = 2.0
	// maxBlockRunes: a table or list this short is quoted whole when one of its lines is picked.
	maxBlockRunes = 450
)

// selectPassages quotes the units of a page that answer a question best, up to budget runes,
// in page order under their headings. A term found in few units of the page says more than one
// in all of them.
func selectPassages(us []unit, q passageQuery, budget int) string {
	if len(us) == 0 {
		return ""
	}
	weight := map[string]float64{}
	for _, t := range q.added {
		weight[t] = addedWeight
	}
	for _, t := range q.own {
		weight[t] = 1
	}
	for _, t := range q.topic {
		if _, ok := weight[t]; ok {
			weight[t] *= topicWeight
		}
	}
	df := map[string]int{}
	for _, u := range us {
		for t := range u.terms {
			if _, ok := weight[t]; ok {
				df[t]++
			}
		}
	}
	// A number of the question inside a unit's range ("13-Jährige" in "12 bis 17 Jahre") counts
	// like a word of the question, as rare as the ranges that hold it.
	inRange := make([][]bool, len(q.values))
	rangeDF := make([]int, len(q.values))
	for v, x := range q.values {
		inRange[v] = make([]bool, len(us))
		for i, u := range us {
			for _, r := range u.ranges {
				if r[0] <= x && x <= r[1] {
					inRange[v][i] = true
					rangeDF[v]++
					break
				}
			}
		}
	}
	n := float64(len(us))
	// The question's terms in one fixed order: a sum over a map's order differs in its last bits
	// from run to run, and units that tie would then be quoted in a different order each time.
	asked := slices.Sorted(maps.Keys(weight))
	for i := range us {
		s := 0.0
		for _, t := range asked {
			if us[i].terms[t] {
				s += weight[t] * math.Log(1+n/float64(df[t]))
			}
		}
		for v := range q.values {
			if inRange[v][i] {
				s += math.Log(1 + n/float64(rangeDF[v]))
			}
		}
		switch {
		case us[i].facts&q.asks != 0:
			s = s*1.5 + aspectBonus
		case q.asks == 0 && hasDigit(us[i].text):
			// Without a recognised aspect, citizens still mostly ask for amounts, deadlines and hours.
			s *= 1.5
		}
		us[i].score = s
	}
	ranked := append([]unit(nil), us...)
	sort.SliceStable(ranked, func(i, j int) bool { return ranked[i].score > ranked[j].score })
	blockRunes := map[int]int{}
	for _, u := range us {
		if u.block > 0 {
			blockRunes[u.block] += len([]rune(u.text))
		}
	}
	picked := map[int]bool{}
	used := 0
	take := func(u unit) {
		if !picked[u.order] {
			picked[u.order] = true
			used += len([]rune(u.text))
		}
	}
	for _, u := range ranked {
		if u.score <= 0 && len(picked) > 0 {
			break
		}
		if picked[u.order] {
			continue
		}
		l := len([]rune(u.text))
		if used+l > budget && len(picked) > 0 {
			continue
		}
		take(u)
		if b := u.block; b > 0 && blockRunes[b] <= maxBlockRunes && used+blockRunes[b]-l <= budget {
			for _, v := range us {
				if v.block == b {
					take(v)
				}
			}
		}
		if used >= budget {
			break
		}
	}
	var b strings.Builder
	last := "\x00"
	for _, u := range us {
		if !picked[u.order] {
			continue
		}
		if u.heading != last {
			if b.Len() > 0 {
				b.WriteString("\n\n")
			}
			if u.heading != "" {
				b.WriteString(u.heading + ":\n")
			}
			last = u.heading
		} else {
			b.WriteString("\n")
		}
		b.WriteString(u.text)
	}
	return b.String()
}

// reRange finds "12 bis 17", "8–12", "1.000 to 5.000" (German or English number formats).
var reRange = regexp.MustCompile(`(\d[\d.,]*)\s*(?:bis|–|-|to)\s*(\d[\d.,]*)`)

// rangesIn returns the closed number ranges text states.
func rangesIn(text string) [][2]float64 {
	var out [][2]float64
	for _, m := range reRange.FindAllStringSubmatch(text, -1) {
		lo, ok1 := parseNumber(m[1])
		hi, ok2 := parseNumber(m[2])
		if ok1 && ok2 && lo < hi {
			out = append(out, [2]float64{lo, hi})
		}
	}
	return out
}

// reNumber finds a number as citizens and pages write it: 58.000, 2,5, 1968.
var reNumber = regexp.MustCompile(`\d{1,3}(?:\.\d{3})+(?:,\d+)?|\d+(?:,\d+)?`)

// parseNumber reads a German-formatted number; a trailing dot or comma is punctuation.
func parseNumber(s string) (float64, bool) {
	s = strings.TrimRight(s, ".,")
	if !reNumber.MatchString(s) || reNumber.FindString(s) != s {
		return 0, false
	}
	f, err := strconv.ParseFloat(strings.ReplaceAll(strings.ReplaceAll(s, ".", ""), ",", "."), 64)
	return f, err == nil
}

// maxValues: a question states a few numbers; a text full of them is not a question about ranges.
const maxValues = 8

// values are the numbers a question states, the first maxValues of them.
func values(question string) []float64 {
	var out []float64
	for _, m := range reNumber.FindAllString(question, maxValues) {
		if f, ok := parseNumber(m); ok {
			out = append(out, f)
		}
	}
	return out
}

func hasDigit(s string) bool {
	for _, r := range s {
		if r >= '0' && r <= '9' {
			return true
		}
	}
	return false
}

// unitCache keeps a page's analysed units while its chunks stay the same: analysing (folding,
// stemming) every sentence of the page was a fifth of an answer's work.
type unitCache struct {
	mu    sync.Mutex
	pages map[string]cachedUnits
}

type cachedUnits struct {
	first *knowledge.ChunkHit // identifies the chunk slice the units were made from
	units []unit
}

// maxCachedUnitPages bounds the cache; it is emptied when full.
const maxCachedUnitPages = 2000

// get returns a fresh copy of the units of chunks (scores are written into it), analysing them
// only when the page's chunks changed.
func (c *unitCache) get(url string, chunks []knowledge.ChunkHit, lang string) []unit {
	if len(chunks) == 0 {
		return nil
	}
	c.mu.Lock()
	e, ok := c.pages[url]
	c.mu.Unlock()
	if !ok || e.first != &chunks[0] {
		e = cachedUnits{first: &chunks[0], units: units(chunks, lang)}
		c.mu.Lock()
		if c.pages == nil || len(c.pages) >= maxCachedUnitPages {
			c.pages = map[string]cachedUnits{}
		}
		c.pages[url] = e
		c.mu.Unlock()
	}
	return append([]unit(nil), e.units...)
}
