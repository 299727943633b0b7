package knowledge

import (
	"strconv"
	"strings"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Accordions and tabs hide a page's sections behind their titles until a click. As <details>
// with a <summary>, blocks() reads them as sections under the summary's title. The ARIA kinds (a
// button with aria-expanded or role=tab whose aria-controls names the panel's id) are rewritten
// here into that form before the page's buttons and hidden elements are dropped as boilerplate:
// their button's text is the section's heading and their hidden panel its content.

// openDisclosures rewrites the ARIA accordions and tabs under root as <details> and un-hides
// their panels.
func openDisclosures(root *goquery.Selection) {
	ids := map[string]*html.Node{}
	var triggers []*html.Node
	for _, n := range root.Nodes {
		eachElement(n, func(e *html.Node) {
			if id := attrOf(e, "id"); id != "" {
				if _, dup := ids[id]; !dup {
					ids[id] = e
				}
			}
			if attrOf(e, "aria-controls") != "" && (hasAttr(e, "aria-expanded") || attrOf(e, "role") == "tab") {
				triggers = append(triggers, e)
			}
		})
	}
	done := map[*html.Node]bool{}
	for _, t := range triggers {
		fields := strings.Fields(attrOf(t, "aria-controls"))
		panel := ids[fields[0]]
		if panel == nil || done[panel] || panel.Parent == nil || t.Parent == nil || isAncestor(panel, t) || isAncestor(t, panel) {
			continue
		}
		done[panel] = true
		unhide(panel)
		head, level := t, 0
		for a, i := t.Parent, 0; a != nil && i < 3; a, i = a.Parent, i+1 {
			if l := elementHeadingLevel(a); l > 0 {
				head, level = a, l
				break
			}
		}
		title := clean(inlineText(head))
		if title == "" {
			title = clean(attrOf(t, "aria-label"))
		}
		if title == "" || toggleWord(title) || follows(t, panel) {
			continue // "mehr anzeigen": the panel goes on the text before it
		}
		summary := &html.Node{Type: html.ElementNode, Data: "summary", DataAtom: atom.Summary}
		if level > 0 {
			h := &html.Node{Type: html.ElementNode, Data: "h" + strconv.Itoa(level)}
			h.AppendChild(&html.Node{Type: html.TextNode, Data: title})
			summary.AppendChild(h)
		} else {
			summary.AppendChild(&html.Node{Type: html.TextNode, Data: title})
		}
		details := &html.Node{Type: html.ElementNode, Data: "details", DataAtom: atom.Details}
		details.AppendChild(summary)
		panel.Parent.InsertBefore(details, panel)
		panel.Parent.RemoveChild(panel)
		details.AppendChild(panel)
		if head.Parent != nil {
			head.Parent.RemoveChild(head)
		}
	}
	// Tab panels and regions hidden without a button pointing at them are still the page's text.
	for _, n := range root.Nodes {
		eachElement(n, func(e *html.Node) {
			if r := attrOf(e, "role"); r == "tabpanel" || r == "region" {
				unhide(e)
			}
		})
	}
}

// unhide drops what hides an element until a click: hidden, aria-hidden, display: none.
func unhide(n *html.Node) {
	attrs := n.Attr[:0]
	for _, a := range n.Attr {
		switch {
		case a.Key == "hidden", a.Key == "aria-hidden":
		case a.Key == "style" && strings.Contains(strings.ReplaceAll(strings.ToLower(a.Val), " ", ""), "display:none"):
		default:
			attrs = append(attrs, a)
		}
	}
	n.Attr = attrs
}

// toggleWord tells a button that shows more of the text before it, not a section's title.
func toggleWord(t string) bool {
	switch strings.ToLower(strings.Trim(t, " .…»›+")) {
	case "mehr", "mehr anzeigen", "mehr lesen", "weiterlesen", "mehr erfahren", "weniger", "weniger anzeigen",
		"alle anzeigen", "alles anzeigen", "details", "details anzeigen", "ausklappen", "aufklappen", "einblenden",
		"more", "show more", "read more", "show all", "less", "show less":
		return true
	}
	return false
}

// elementHeadingLevel is 1-6 for <h1>-<h6> and role=heading (aria-level, 2 when missing), else 0.
func elementHeadingLevel(n *html.Node) int {
	if n.Type != html.ElementNode {
		return 0
	}
	if len(n.Data) == 2 && n.Data[0] == 'h' && n.Data[1] >= '1' && n.Data[1] <= '6' {
		return int(n.Data[1] - '0')
	}
	if attrOf(n, "role") == "heading" {
		if l, err := strconv.Atoi(strings.TrimSpace(attrOf(n, "aria-level"))); err == nil && l >= 1 && l <= 6 {
			return l
		}
		return 2
	}
	return 0
}

func eachElement(n *html.Node, f func(*html.Node)) {
	if n.Type == html.ElementNode {
		f(n)
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		eachElement(c, f)
	}
}

func hasAttr(n *html.Node, key string) bool {
	for _, a := range n.Attr {
		if a.Key == key {
			return true
		}
	}
	return false
}

// isAncestor tells whether a is n or one of n's ancestors.
func isAncestor(a, n *html.Node) bool {
	for ; n != nil; n = n.Parent {
		if n == a {
			return true
		}
	}
	return false
}

// follows tells whether b comes after a in document order.
func follows(b, a *html.Node) bool {
	seenA := false
	root := a
	for root.Parent != nil {
		root = root.Parent
	}
	after := false
	var walk func(*html.Node) bool
	walk = func(n *html.Node) bool {
		if n == a {
			seenA = true
		}
		if n == b {
			after = seenA
			return true
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if walk(c) {
				return true
			}
		}
		return false
	}
	walk(root)
	return after
}
