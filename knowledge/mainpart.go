package knowledge

import (
	"strings"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/html"
)

// boilerplate is what the sample site (and most city sites) repeat on every page around the
// content: none of it may reach the index. Buttons go too: accordions' buttons, which are
// headings, were made <summary> before (openDisclosures).
const boilerplate = `script, style, noscript, template, iframe, svg, nav, header, footer, aside, form, button,
	[role=navigation], [role=banner], [role=contentinfo], [role=search], [aria-hidden=true], [hidden],
	.cookie-banner, .cookie, #cookie-banner, .breadcrumb, .breadcrumbs, .skip-link, .skiplink, .sr-only-focusable`

// boilerplateNames are the class and id words (or their hyphen-separated parts) of the same
// things written as <div>s: "cookie-notice", "breadcrumb", "sidebar-right", "footer",
// "nav-main", "skip-links", "social-share", "print-link".
var boilerplateNames = map[string]bool{
	"cookie": true, "cookies": true, "cookiebanner": true, "cookienotice": true, "cookiehint": true, "consent": true,
	"breadcrumb": true, "breadcrumbs": true, "brotkrumen": true,
	"sidebar": true, "footer": true,
	"nav": true, "navbar": true, "navigation": true, "subnav": true, "mainnav": true, "metanav": true, "servicenav": true, "topnav": true,
	"skip": true, "skiplink": true, "skiplinks": true,
	"share": true, "sharing": true, "shariff": true, "social": true, "socialmedia": true,
	"pagination": true,
}

// removeBoilerplate removes from root what is not the page's own text. An element is kept when it
// holds the page's <h1> or most of root's text, whatever its class says ("has-sidebar" on the
// content's wrapper), and a <header> holding the <h1> and no navigation is the article's.
func removeBoilerplate(root *goquery.Selection) {
	root.Find(boilerplate).Each(func(_ int, s *goquery.Selection) {
		if goquery.NodeName(s) == "header" && s.Find("h1").Length() > 0 && s.Find("nav, [role=navigation], ul").Length() == 0 {
			return
		}
		s.Remove()
	})
	total := 0
	for _, n := range root.Nodes {
		total += textLen(n)
	}
	var h1 *html.Node
	if s := root.Find("h1").First(); s.Length() > 0 {
		h1 = s.Nodes[0]
	}
	root.Find("[class], [id]").Each(func(_ int, s *goquery.Selection) {
		n := s.Nodes[0]
		if !boilerplateName(n) || (h1 != nil && isAncestor(n, h1)) || 2*textLen(n) > total {
			return
		}
		s.Remove()
	})
}

// boilerplateName tells an element whose class or id names it as boilerplate.
func boilerplateName(n *html.Node) bool {
	for _, attr := range []string{"class", "id"} {
		for _, tok := range strings.Fields(strings.ToLower(attrOf(n, attr))) {
			// print links and buttons ("print", "print-link"), not Bootstrap's d-print-none or no-print
			if strings.HasPrefix(tok, "print") {
				return true
			}
			if boilerplateNames[tok] {
				return true
			}
			for _, part := range strings.FieldsFunc(tok, func(r rune) bool { return r == '-' || r == '_' }) {
				if boilerplateNames[part] {
					return true
				}
			}
		}
	}
	return false
}

// mainSelectors are where content management systems put a page's own text when it has no
// <main>: ids and classes named content or main, an article, the wide column of a grid.
const mainSelectors = `#content, #inhalt, #main, #main-content, #maincontent, #page-content, #contentarea,
	.main-content, .content, .inhalt, article, .col-md-9, .col-lg-9, .col-sm-9, .col-md-8, .col-lg-8`

// mainContent finds the element holding the page's own text. <main> and role=main are taken as
// the page declares them. Otherwise the usual containers compete on their text outside links and
// navigation, and one nested in the winner takes over when it holds nearly all of that text (the
// content column beside a sidebar of links). When none holds a good part of the page's text, the
// page is read whole, boilerplate removed.
func mainContent(doc *goquery.Document) *goquery.Selection {
	for _, sel := range []string{"main", "[role=main]"} {
		if s := doc.Find(sel).First(); s.Length() > 0 {
			return s
		}
	}
	body := doc.Find("body")
	best := func(in *goquery.Selection, min int) (*goquery.Selection, int) {
		var top *goquery.Selection
		score := 0
		in.Find(mainSelectors).Each(func(_ int, s *goquery.Selection) {
			if s.Closest(`nav, header, footer, aside, form, [role=navigation], [role=banner], [role=contentinfo]`).Length() > 0 {
				return
			}
			for a := s.Nodes[0]; a != nil; a = a.Parent {
				if a.Type == html.ElementNode && boilerplateName(a) {
					return
				}
			}
			if t := textLen(s.Nodes[0]); t > score && t >= min {
				top, score = s, t
			}
		})
		return top, score
	}
	total := 0
	for _, n := range body.Nodes {
		total += textLen(n)
	}
	top, score := best(body, 1)
	if top == nil || 3*score < total {
		return body
	}
	for {
		inner, s := best(top, score*7/10)
		if inner == nil || inner.Nodes[0] == top.Nodes[0] {
			return top
		}
		top, score = inner, s
	}
}

// textLen counts the characters of n's text outside links, navigation and scripts: the text a
// page is about.
func textLen(n *html.Node) int {
	switch {
	case n.Type == html.TextNode:
		return len(strings.TrimSpace(n.Data))
	case n.Type == html.ElementNode:
		switch n.Data {
		case "a", "nav", "header", "footer", "aside", "script", "style", "noscript", "template", "form", "button", "select":
			return 0
		}
	case n.Type != html.DocumentNode:
		return 0
	}
	total := 0
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		total += textLen(c)
	}
	return total
}
