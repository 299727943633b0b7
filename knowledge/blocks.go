package knowledge

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/html"
)

// block is a unit of main text in document order: a heading, a piece of content, or the end of a
// section.
type block struct {
	level int    // 1-6 for headings (and section ends), 0 for content
	text  string // for content, lead's lines first
	lead  string // content: the lines that introduce the rest (a table's caption, "Sie brauchen:"), repeated when it is split
	weak  bool   // a heading guessed from style (a bold line): content again when no text follows it
	end   bool   // the end of the section of this level (an accordion panel's end)
}

// blocks reads the content under root into blocks. Besides <h1>-<h6>, sections start at what
// pages use as headings: the summary of a <details> accordion (see openDisclosures for the ARIA
// kind; the section ends with the panel), role=heading, a paragraph with a heading's class ("h3",
// "headline") or all in bold.
func blocks(root *goquery.Selection) []block {
	w := &walker{cur: 1, seen: map[string]*html.Node{}}
	for _, n := range root.Nodes {
		w.walk(n)
	}
	w.flush()
	return leadIn(demoteWeak(w.out))
}

type walker struct {
	out  []block
	para strings.Builder       // loose inline text between blocks
	cur  int                   // the level of the innermost section, 1 for the page's
	seen map[string]*html.Node // elements read, by kind and text, to skip repeated ones
	size int                   // bytes of content read, against maxPageChars
}

func (w *walker) flush() {
	w.content(clean(w.para.String()), "")
	w.para.Reset()
}

// maxPageChars bounds the text read from a page; the rest of a longer page is dropped. The
// longest pages of city sites (a council's minutes, an A-Z of services) have some 200,000
// characters; the fetcher's cap (5 MB by default) bounds the HTML, not what tables with spans
// make of it.
const maxPageChars = 1 << 20

func (w *walker) content(text, lead string) {
	if text == "" || w.size >= maxPageChars {
		return
	}
	if left := maxPageChars - w.size; len(text) > left {
		// The last block read is cut at a line (or, failing one, a character) within the budget.
		cut := strings.LastIndexByte(text[:left], '\n')
		if cut <= 0 {
			cut = left
			for cut > 0 && !utf8.RuneStart(text[cut]) {
				cut--
			}
		}
		text = text[:cut]
	}
	w.size += len(text)
	w.out = append(w.out, block{text: text, lead: lead})
}

func (w *walker) walk(n *html.Node) {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		w.node(c)
	}
}

func (w *walker) node(c *html.Node) {
	switch c.Type {
	case html.TextNode:
		w.para.WriteString(c.Data)
		return
	case html.ElementNode:
	default:
		return
	}
	if w.repeated(c) {
		w.flush()
		return
	}
	if level, weak := headingOf(c, w.cur); level > 0 {
		w.flush()
		if t := headingText(c); t != "" {
			w.out = append(w.out, block{level: level, text: t, weak: weak})
			if !weak {
				w.cur = level
			}
		}
		return
	}
	switch c.Data {
	case "p", "address", "blockquote", "pre", "figcaption":
		w.flush()
		w.content(cleanLines(inlineText(c)), "")
	case "ul", "ol":
		w.flush()
		switch {
		case hasSections(c):
			// an accordion written as a list: its items are sections, not lines
			w.walk(c)
			w.flush()
		case !linkList(c):
			w.content(listText(c, 0), "")
		}
	case "dl":
		w.flush()
		w.content(dlText(c), "")
	case "table":
		w.flush()
		if layoutTable(c) {
			w.walk(c)
			w.flush()
		} else {
			w.content(tableText(c))
		}
	case "details":
		w.flush()
		w.details(c)
	case "br":
		w.para.WriteString("\n")
	case "div", "section", "article", "main", "summary", "figure", "fieldset", "header", "li",
		"tr", "td", "th", "tbody", "thead", "tfoot", "caption":
		w.flush()
		w.walk(c)
		w.flush()
	default:
		w.walk(c)
	}
}

// hasSections tells an element holding headings or accordions.
func hasSections(n *html.Node) bool {
	found := false
	eachElement(n, func(e *html.Node) {
		found = found || e.Data == "details" || elementHeadingLevel(e) > 0
	})
	return found
}

// details reads an accordion: its summary is the heading of a section one level below the one it
// is in (or of its own heading's level), ending with the panel.
func (w *walker) details(n *html.Node) {
	var summary *html.Node
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && c.Data == "summary" {
			summary = c
			break
		}
	}
	title := ""
	if summary != nil {
		title = headingText(summary)
	}
	if title == "" {
		w.walk(n)
		w.flush()
		return
	}
	level := min(w.cur+1, 6)
	eachElement(summary, func(e *html.Node) {
		if l := elementHeadingLevel(e); l > 1 {
			level = l
		}
	})
	w.out = append(w.out, block{level: level, text: title})
	saved := w.cur
	w.cur = level
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c != summary {
			w.node(c)
		}
	}
	w.flush()
	w.out = append(w.out, block{level: level, end: true})
	w.cur = saved
}

// headingText is an element's text as a heading: one line, without a closing colon.
func headingText(n *html.Node) string {
	return strings.TrimSpace(strings.TrimSuffix(clean(inlineText(n)), ":"))
}

// headingOf tells whether element n heads a section, at which level, and whether that is a guess
// from its style (weak). cur is the level of the section n is in.
func headingOf(n *html.Node, cur int) (level int, weak bool) {
	if l := elementHeadingLevel(n); l > 0 {
		return l, false
	}
	if n.Data != "p" && n.Data != "div" {
		return 0, false
	}
	if hasBlockChild(n) {
		return 0, false
	}
	t := clean(inlineText(n))
	if !headingLike(t) {
		return 0, false
	}
	for _, tok := range nameParts(n, "class") {
		if len(tok) == 2 && tok[0] == 'h' && tok[1] >= '1' && tok[1] <= '6' {
			return int(tok[1] - '0'), false
		}
		switch tok {
		case "headline", "heading", "title", "subheadline", "subtitle", "ueberschrift", "überschrift", "zwischenueberschrift", "zwischenüberschrift":
			return min(cur+1, 6), true
		}
	}
	// A line all in bold, short and not a sentence, is how many editors write a subheading.
	if boldOnly(n) && utf8.RuneCountInString(t) <= 80 && !strings.Contains(strings.TrimSuffix(t, ":"), ": ") {
		return min(cur+1, 6), true
	}
	return 0, false
}

// headingLike: a heading is short, has letters and does not end like a sentence (a question
// may head an answer).
func headingLike(t string) bool {
	n := utf8.RuneCountInString(t)
	if n < 2 || n > 120 || !strings.ContainsFunc(t, unicode.IsLetter) {
		return false
	}
	last, _ := utf8.DecodeLastRuneInString(t)
	return !strings.ContainsRune(".!,;", last)
}

func hasBlockChild(n *html.Node) bool {
	return anyDescendant(n, func(e *html.Node) bool {
		switch e.Data {
		case "p", "div", "ul", "ol", "dl", "table", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "blockquote", "address", "br":
			return true
		}
		return false
	})
}

// anyDescendant tells whether f holds for an element below n; it stops at the first.
func anyDescendant(n *html.Node, f func(*html.Node) bool) bool {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && (f(c) || anyDescendant(c, f)) {
			return true
		}
	}
	return false
}

// nameParts are the words of an element's class (or id) attribute, lower-cased and split at
// hyphens and underscores too: "page-title" gives "page-title", "page", "title".
func nameParts(n *html.Node, attr string) []string {
	var out []string
	for _, tok := range strings.Fields(strings.ToLower(attrOf(n, attr))) {
		out = append(out, tok)
		if strings.ContainsAny(tok, "-_") {
			out = append(out, strings.FieldsFunc(tok, func(r rune) bool { return r == '-' || r == '_' })...)
		}
	}
	return out
}

// dlText writes a definition list as "term: description" lines. A term with several descriptions
// gives a line for each, several terms for one description are joined ("Montag, Dienstag: 8-12
// Uhr"), and the <div> HTML allows around each group is read through.
func dlText(n *html.Node) string {
	var lines, terms []string
	described := false
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type != html.ElementNode {
				continue
			}
			switch c.Data {
			case "div":
				walk(c)
			case "dt":
				t := headingText(c)
				if t == "" {
					continue
				}
				if described {
					terms, described = nil, false
				}
				terms = append(terms, t)
			case "dd":
				t := cleanLines(inlineText(c))
				if t == "" {
					continue
				}
				described = true
				label := strings.Join(terms, ", ")
				for _, l := range strings.Split(t, "\n") {
					if label != "" {
						l = label + ": " + strings.TrimPrefix(l, "- ")
					}
					lines = append(lines, l)
				}
			default:
				if t := cleanLines(inlineText(c)); t != "" {
					lines = append(lines, t)
				}
			}
		}
	}
	walk(n)
	if len(terms) > 0 && !described {
		lines = append(lines, strings.Join(terms, ", "))
	}
	return strings.Join(lines, "\n")
}

// minDuplicateRunes: an element with this much text seen twice on a page is one box repeated
// (the office's contact box under every section of an accordion), read once. Shorter text
// ("Öffnungszeiten: Mo–Fr 8–12 Uhr" of two offices) may repeat with a different meaning.
const minDuplicateRunes = 100

// maxDuplicateBytes: a longer element is not a box that repeats, and its text is not compared.
// (Each element's text is read for the comparison: without a bound, an element nested in a
// hundred others would be read a hundred times.)
const maxDuplicateBytes = 4096

// repeated tells an element whose text the page had already, word for word, in an element of
// the same kind (not in one around it: <div><div>text</div></div> is one box).
func (w *walker) repeated(n *html.Node) bool {
	switch n.Data {
	case "p", "ul", "ol", "dl", "table", "div", "section", "article", "aside", "address", "blockquote":
	default:
		return false
	}
	if textBytesOver(n, maxDuplicateBytes) {
		return false
	}
	t := clean(textOf(n))
	if utf8.RuneCountInString(t) < minDuplicateRunes {
		return false
	}
	key := n.Data + "\x00" + t
	if prev := w.seen[key]; prev != nil {
		return !isAncestor(prev, n)
	}
	w.seen[key] = n
	return false
}

// textOf is the text of n and its descendants, with spaces between elements.
func textOf(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			switch c.Type {
			case html.TextNode:
				b.WriteString(c.Data)
			case html.ElementNode:
				b.WriteString(" ")
				walk(c)
			}
		}
	}
	walk(n)
	return b.String()
}

// textBytesOver tells whether the text below n is longer than limit bytes; it reads no further.
func textBytesOver(n *html.Node, limit int) bool {
	var walk func(*html.Node) bool
	walk = func(n *html.Node) bool {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type == html.TextNode {
				if limit -= len(c.Data); limit < 0 {
					return true
				}
			}
			if c.Type == html.ElementNode && walk(c) {
				return true
			}
		}
		return false
	}
	return walk(n)
}

// demoteWeak makes a guessed heading content again when no content follows it before the next
// heading of its level or above: a bold line alone is emphasis, not a section.
func demoteWeak(bs []block) []block {
	for i := range bs {
		if !bs[i].weak {
			continue
		}
		if i+1 == len(bs) || bs[i+1].end || (bs[i+1].level > 0 && bs[i+1].level <= bs[i].level) {
			bs[i].level, bs[i].weak = 0, false
		}
	}
	return bs
}

// maxLeadChars: a longer introduction is not repeated with each part of what it introduces.
const maxLeadChars = 400

// leadIn keeps a line introducing a table or list ("Sie brauchen:") with it: the two become one
// block, the line its lead.
func leadIn(bs []block) []block {
	var out []block
	for i := 0; i < len(bs); i++ {
		b := bs[i]
		if b.level == 0 && i+1 < len(bs) && bs[i+1].level == 0 && strings.HasSuffix(b.text, ":") &&
			len(b.text) <= maxLeadChars && !strings.Contains(b.text, "\n") {
			next := bs[i+1]
			out = append(out, block{text: b.text + "\n" + next.text, lead: joinNonEmpty("\n", b.text, next.lead)})
			i++
			continue
		}
		out = append(out, b)
	}
	return out
}
