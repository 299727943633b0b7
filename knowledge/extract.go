package knowledge

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/html"
	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding/charmap"
)

// Page is one extracted web page: its main content in chunks along the heading structure, with
// the metadata retrieval and answers need.
type Page struct {
	URL   string // canonical URL
	Title string
	// DocTitle is the document's <title> as written, often the service with the site's or
	// town's name: retrieval reads it as part of the title field.
	DocTitle    string
	Lang        string
	Description string
	Modified    time.Time         // zero when unknown
	Alternates  map[string]string // hreflang -> URL
	Chunks      []Chunk
	Links       []string // absolute links found anywhere on the page, for crawling
	Hash        string
}

// Chunk is a section of a page with the headings above it.
type Chunk struct {
	Headings []string // page title › h2 › h3
	Text     string
}

// errNoContent marks a page with no main text left after boilerplate is removed.
var errNoContent = errors.New("no main content")

// Extract parses an HTML document fetched from pageURL. contentType is the HTTP header (may be
// empty) and is only a hint for the charset.
func Extract(raw []byte, pageURL *url.URL, contentType string) (*Page, error) {
	r, err := decodeHTML(raw, contentType)
	if err != nil {
		return nil, err
	}
	doc, err := goquery.NewDocumentFromReader(r)
	if err != nil {
		// The parser refuses documents nested deeper than 512 elements, at once.
		return nil, fmt.Errorf("parse HTML: %w", err)
	}
	for _, n := range doc.Nodes {
		flattenDeep(n, 0)
	}
	p := &Page{Alternates: map[string]string{}}
	p.URL = pageURL.String()
	if href, ok := doc.Find(`link[rel="canonical"]`).First().Attr("href"); ok {
		if u := resolve(pageURL, href); u != "" {
			p.URL = u
		}
	}
	p.Lang = strings.ToLower(strings.TrimSpace(doc.Find("html").AttrOr("lang", "")))
	if p.Lang == "" {
		p.Lang = "de"
	}
	p.Description = clean(doc.Find(`meta[name="description"]`).AttrOr("content", ""))
	p.DocTitle = clean(doc.Find("title").First().Text())
	p.Modified = pageModified(doc)
	doc.Find(`link[rel="alternate"][hreflang]`).Each(func(_ int, s *goquery.Selection) {
		if u := resolve(pageURL, s.AttrOr("href", "")); u != "" {
			p.Alternates[strings.ToLower(s.AttrOr("hreflang", ""))] = u
		}
	})
	doc.Find("a[href]").Each(func(_ int, s *goquery.Selection) {
		if u := resolve(pageURL, s.AttrOr("href", "")); u != "" {
			p.Links = append(p.Links, u)
		}
	})

	root := mainContent(doc)
	openDisclosures(root)
	removeBoilerplate(root)
	p.Title = pageTitle(doc, root, pageURL.Hostname())
	if p.Title == "" {
		p.Title = p.URL
	}
	p.Chunks = chunk(p.Title, blocks(root))
	if len(p.Chunks) == 0 {
		return nil, errNoContent
	}
	p.Hash = p.hash()
	return p, nil
}

// maxDepth bounds how deep the extractor reads elements: an element this deep stands for its
// subtree's text. Real pages nest 20 to 60 deep; the reading of blocks, tables and lists recurses
// over the tree and some of it looks at a subtree for each element above it, so depth multiplies
// their work. (The HTML parser itself refuses pages nested deeper than 512 elements.)
const maxDepth = 128

// flattenDeep replaces the children of every element maxDepth below n by their text.
func flattenDeep(n *html.Node, depth int) {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type != html.ElementNode {
			continue
		}
		if depth+1 < maxDepth {
			flattenDeep(c, depth+1)
			continue
		}
		if c.FirstChild == nil {
			continue
		}
		t := textOf(c)
		for c.FirstChild != nil {
			c.RemoveChild(c.FirstChild)
		}
		c.AppendChild(&html.Node{Type: html.TextNode, Data: t})
	}
}

// decodeHTML returns the document as UTF-8. Bytes that are valid UTF-8 are taken as such whatever
// the page declares (a wrong declaration is the commoner error); otherwise the declared or sniffed
// charset is used, and Windows-1252 when that too claims UTF-8.
func decodeHTML(raw []byte, contentType string) (io.Reader, error) {
	if utf8.Valid(raw) {
		return bytes.NewReader(raw), nil
	}
	enc, name, _ := charset.DetermineEncoding(raw, contentType)
	if name == "utf-8" {
		enc = charmap.Windows1252
	}
	return enc.NewDecoder().Reader(bytes.NewReader(raw)), nil
}

func pageModified(doc *goquery.Document) time.Time {
	for _, sel := range []string{`meta[name="dcterms.modified"]`, `meta[name="DC.date.modified"]`,
		`meta[property="article:modified_time"]`, `meta[name="last-modified"]`} {
		if v, ok := doc.Find(sel).First().Attr("content"); ok {
			for _, layout := range []string{"2006-01-02", time.RFC3339, "2006-01-02T15:04:05", "02.01.2006"} {
				if t, err := time.Parse(layout, strings.TrimSpace(v)); err == nil {
					return t
				}
			}
		}
	}
	return time.Time{}
}

func resolve(base *url.URL, href string) string {
	href = strings.TrimSpace(href)
	if href == "" || strings.HasPrefix(href, "#") {
		return ""
	}
	u, err := base.Parse(href)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return ""
	}
	u.Fragment = ""
	return u.String()
}

func (p *Page) hash() string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00%s\x00%s\x00", p.URL, p.Title, p.DocTitle, p.Lang, p.Description, p.Modified.Format(time.DateOnly))
	keys := make([]string, 0, len(p.Alternates))
	for k := range p.Alternates {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(h, "%s=%s\x00", k, p.Alternates[k])
	}
	for _, c := range p.Chunks {
		fmt.Fprintf(h, "%s\x01%s\x00", strings.Join(c.Headings, "\x02"), c.Text)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// inlineText is the text of n with <br> as line breaks.
func inlineText(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			switch {
			case c.Type == html.TextNode:
				b.WriteString(c.Data)
			case c.Type == html.ElementNode && c.Data == "br":
				b.WriteString("\n")
			case c.Type == html.ElementNode && (c.Data == "ul" || c.Data == "ol"):
				b.WriteString("\n" + listText(c, 1))
			case c.Type == html.ElementNode && c.Data == "table":
				// broken or quirks-mode pages nest tables in paragraphs
				t, _ := tableText(c)
				b.WriteString("\n" + t + "\n")
			case c.Type == html.ElementNode && c.Data == "img":
				// alt text of images is not content here; logos and icons dominate.
			case c.Type == html.ElementNode:
				walk(c)
			}
		}
	}
	walk(n)
	return b.String()
}

func listText(n *html.Node, depth int) string {
	var lines []string
	i := 0
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type != html.ElementNode || c.Data != "li" {
			continue
		}
		i++
		marker := "-"
		if n.Data == "ol" {
			marker = fmt.Sprintf("%d.", i)
		}
		t := cleanLines(inlineText(c))
		if t == "" {
			continue
		}
		lines = append(lines, strings.Repeat("  ", depth)+marker+" "+strings.ReplaceAll(t, "\n", "\n"+strings.Repeat("  ", depth+1)))
	}
	return strings.Join(lines, "\n")
}

// linkList tells lists that are navigation ("Verwandte Leistungen", A–Z indexes): nearly all of
// their text is link text. Links to documents (forms as PDF, Word, OpenDocument) are content, not
// navigation: a page of forms is what a citizen came for, and it often has nothing else.
func linkList(n *html.Node) bool {
	total := len(clean(inlineText(n)))
	if total == 0 {
		return true
	}
	linked := 0
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type == html.ElementNode && c.Data == "a" {
				if !documentLink(c) {
					linked += len(clean(inlineText(c)))
				}
				continue
			}
			walk(c)
		}
	}
	walk(n)
	return float64(linked) >= 0.8*float64(total)
}

// documentLink tells a link to a document rather than a page.
func documentLink(a *html.Node) bool {
	for _, at := range a.Attr {
		if at.Key != "href" {
			continue
		}
		p := strings.ToLower(at.Val)
		if i := strings.IndexAny(p, "?#"); i >= 0 {
			p = p[:i]
		}
		switch path.Ext(p) {
		case ".pdf", ".doc", ".docx", ".odt", ".rtf", ".xls", ".xlsx", ".ods":
			return true
		}
	}
	return false
}

// clean collapses all white space to single spaces.
func clean(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// cleanLines collapses white space within lines and drops empty lines.
func cleanLines(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = clean(l); l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
