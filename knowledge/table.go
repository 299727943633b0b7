package knowledge

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// A table becomes one line per data row, and every line carries what the reader of the table
// sees around the cell: the group the row belongs to, the row's label and the column's header.
//
//	label: value                                   two columns (label and value)
//	group – label: value                           after a group row ("10er-Karte")
//	label – header: value; header: value           row labels and column headers
//	header: value; header: value                   column headers, no row labels
//	a | b | c                                      no headers at all
//
// Merged cells (rowspan, colspan) are repeated in every row and column they span, so a line never
// depends on the one above it. A caption is the table's first line.

// maxSpan bounds rowspan and colspan: a broken page must not make a table of millions of cells.
const maxSpan = 64

// A table is read to maxTableCols columns (cells further right are dropped) and maxTableSlots
// slots of its grid (later rows are dropped): spans repeat a cell in every slot they cover, and a
// page of a few megabytes must not make a grid, or lines, of gigabytes. A city's widest tables
// (fees by year and zone) have some twenty columns.
const (
	maxTableCols  = 100
	maxTableSlots = 200_000
)

// tableCell is one slot of a table's grid.
type tableCell struct {
	text string
	th   bool
	src  int  // the source cell covering this slot: one cell spanning slots has one src
	own  bool // the slot belongs to a cell that starts in this row (not spanned from above)
	bold bool // all of its text is bold
}

type tableRow struct {
	cells []tableCell
	head  bool // in <thead>
}

// maxGridSlots bounds a table's grid: cells spanning 64 rows and columns, row after row, pushed
// each other rightwards into thousands of columns, and a page of 10 KB took 12 s to lay out.
const maxGridSlots = 20000

// tableGrid lays out the rows of table n (not of tables nested in it), with spanned cells copied
// into every slot they cover; false when the grid has more than maxGridSlots slots.
func tableGrid(n *html.Node) ([]tableRow, bool) {
	var rows []tableRow
	type carry struct {
		cell tableCell
		left int
	}
	pending := map[int]*carry{} // column -> a cell spanning down into later rows
	src, slots := 0, 0
	var walk func(n *html.Node, head bool)
	walk = func(n *html.Node, head bool) {
		for c := n.FirstChild; c != nil && slots <= maxGridSlots; c = c.NextSibling {
			if slots >= maxTableSlots {
				return
			}
			if c.Type != html.ElementNode || c.Data == "table" {
				continue
			}
			if c.Data != "tr" {
				walk(c, head || c.Data == "thead")
				continue
			}
			var row tableRow
			row.head = head
			col := 0
			place := func(cell tableCell) {
				row.cells = append(row.cells, cell)
				col++
				slots++
			}
			fromAbove := func() bool {
				p := pending[col]
				if p == nil {
					return false
				}
				cell := p.cell
				cell.own = false
				if p.left--; p.left <= 0 {
					delete(pending, col)
				}
				place(cell)
				return true
			}
			for td := c.FirstChild; td != nil && slots <= maxGridSlots; td = td.NextSibling {
				if td.Type != html.ElementNode || (td.Data != "td" && td.Data != "th") {
					continue
				}
				for fromAbove() {
				}
				if col >= maxTableCols {
					break
				}
				src++
				cell := tableCell{text: cellText(td), th: td.Data == "th", src: src, own: true, bold: boldOnly(td)}
				rs, cs := span(td, "rowspan"), span(td, "colspan")
				for i := 0; i < min(cs, maxTableCols-col); i++ {
					if rs > 1 {
						pending[col] = &carry{cell: cell, left: rs - 1}
					}
					place(cell)
				}
			}
			// cells spanning down from above at the end of the row
			last := -1
			for k := range pending {
				last = max(last, k)
			}
			for col <= last && slots <= maxGridSlots {
				if !fromAbove() {
					place(tableCell{src: -col - 1})
				}
			}
			if len(row.cells) > 0 {
				rows = append(rows, row)
				slots += len(row.cells)
			}
		}
	}
	walk(n, false)
	if slots > maxGridSlots {
		return nil, false
	}
	width := 0
	for _, r := range rows {
		width = max(width, len(r.cells))
	}
	for i := range rows {
		for len(rows[i].cells) < width {
			rows[i].cells = append(rows[i].cells, tableCell{src: -len(rows[i].cells) - 1})
		}
	}
	return rows, true
}

func span(n *html.Node, attr string) int {
	v, err := strconv.Atoi(strings.TrimSpace(attrOf(n, attr)))
	if err != nil || v < 1 {
		return 1
	}
	return min(v, maxSpan)
}

// cellText is a cell's text on one line; the lines of a cell (<br>, paragraphs) are joined with
// commas unless they end in punctuation already.
func cellText(n *html.Node) string {
	lines := strings.Split(cleanLines(inlineText(n)), "\n")
	var b strings.Builder
	for i, l := range lines {
		if i > 0 {
			if prev := lines[i-1]; strings.ContainsAny(prev[len(prev)-1:], ",;:.!?") {
				b.WriteString(" ")
			} else {
				b.WriteString(", ")
			}
		}
		b.WriteString(l)
	}
	return b.String()
}

// tableText writes a data table as lines as described above; the caption, when there is one, is
// returned separately too, as the table's lead.
func tableText(n *html.Node) (text, caption string) {
	if layoutTable(n) {
		return layoutText(n), ""
	}
	text, caption = gridText(n)
	if len(text) > tableGrowthSlack {
		// Only a long text can be over the bound: the cells' text is taken again only then.
		if plain := layoutText(n); len(text) > maxTableGrowth*len(plain)+tableGrowthSlack {
			return joinNonEmpty("\n", caption, plain), caption
		}
	}
	return text, caption
}

// maxTableGrowth bounds a table's text against its cells' text said once (plus
// tableGrowthSlack). Column headers named at every cell below them and cells spanning rows and
// columns repeat text, so that a broken or hostile table (a header of kilobytes over thousands of
// rows, cells spanning 64 rows and columns under long headers) made megabytes of a page of a few
// kilobytes. A table past the bound is read as a layout table is, each cell once.
const (
	maxTableGrowth   = 16
	tableGrowthSlack = 512
)

// gridText is tableText for a data table: rows with their labels and column headers.
func gridText(n *html.Node) (text, caption string) {
	var lines []string
	caption = captionOf(n)
	if caption != "" {
		lines = append(lines, caption)
	}
	rows, ok := tableGrid(n)
	if !ok {
		return joinNonEmpty("\n", caption, layoutText(n)), caption
	}
	if len(rows) == 0 {
		return strings.Join(lines, "\n"), caption
	}
	width := len(rows[0].cells)
	if width == 1 {
		for _, r := range rows {
			if t := r.cells[0].text; t != "" {
				lines = append(lines, t)
			}
		}
		return strings.Join(lines, "\n"), caption
	}

	// Header rows: <thead>, else the leading rows of header cells (or of bold cells, the way
	// editors mark a header in tables without <th>). A header row that is one cell across the
	// table is a title, not a column's header.
	nHead := 0
	bodyBold := len(rows) > 1 && boldRow(rows[1])
	for nHead < len(rows) && (rows[nHead].head || (!anyHead(rows) && headerRow(rows[nHead], nHead, bodyBold))) {
		nHead++
	}
	if nHead == len(rows) {
		nHead = 0 // a table of header cells only: its rows are its data
	}
	colHead := make([]string, width)
	setHeader := func(hr []tableRow) {
		colHead = make([]string, width)
		for _, r := range hr {
			if singleCell(r) {
				continue
			}
			for j, c := range r.cells {
				if c.text != "" && !strings.HasSuffix(colHead[j], c.text) {
					colHead[j] = joinNonEmpty(" – ", colHead[j], c.text)
				}
			}
		}
	}
	setHeader(rows[:nHead])
	for _, r := range rows[:nHead] {
		if singleCell(r) && r.cells[0].text != "" {
			lines = append(lines, r.cells[0].text)
		}
	}

	var group []string
	grouped := false // whether a data row carried the current group
	afterGroup := false
	size := 0
	for i, r := range rows[nHead:] {
		if size > maxPageChars {
			break // what a page may hold; spans can make a grid's text many times the page's
		}
		if len(lines) > 0 {
			size += len(lines[len(lines)-1]) + 1
		}
		switch {
		case singleCell(r) && r.cells[0].own && groupLabel(r.cells[0].text):
			if group != nil && !grouped {
				lines = append(lines, strings.Join(group, " – "))
			}
			if afterGroup {
				group = append(group, r.cells[0].text)
			} else {
				group = []string{r.cells[0].text}
			}
			grouped, afterGroup = false, true
			continue
		case singleCell(r):
			if t := r.cells[0].text; t != "" {
				lines = append(lines, t)
			}
			continue
		case allHeader(r) && i > 0:
			// a header row repeated within the table starts a new part of it
			setHeader([]tableRow{r})
			afterGroup = false
			continue
		}
		afterGroup = false
		if l := rowLine(r, colHead, group); l != "" {
			lines = append(lines, l)
			grouped = true
		}
	}
	if group != nil && !grouped {
		lines = append(lines, strings.Join(group, " – "))
	}
	return strings.Join(lines, "\n"), caption
}

// rowLine writes one data row. Row labels are its leading header cells, or its first cell when
// the table has two columns or its first column has no header (the corner of a table whose rows
// and columns are both labelled). Column headers name the values only when there are several
// values: a two-column table's header ("Leistung | Gebühr") says nothing its rows don't.
func rowLine(r tableRow, colHead []string, group []string) string {
	width := len(r.cells)
	nLabel := 0
	for nLabel < width-1 && r.cells[nLabel].th {
		nLabel++
	}
	if nLabel == 0 && (width == 2 || (colHead[0] == "" && anyNonEmpty(colHead[1:]))) {
		nLabel = 1
	}
	labels := append([]string(nil), group...)
	for _, c := range r.cells[:nLabel] {
		if c.text != "" && (len(labels) == 0 || labels[len(labels)-1] != c.text) {
			labels = append(labels, c.text)
		}
	}
	useHeads := width-nLabel > 1
	var parts []string
	lastSrc := 0
	for j := nLabel; j < width; j++ {
		c := r.cells[j]
		if c.text == "" {
			continue
		}
		h := ""
		if useHeads {
			h = colHead[j]
		}
		if h == "" && c.src == lastSrc {
			continue // one cell spanning columns without headers: said once
		}
		lastSrc = c.src
		if h != "" && h != c.text {
			parts = append(parts, h+": "+c.text)
		} else {
			parts = append(parts, c.text)
		}
	}
	named := useHeads && anyNonEmpty(colHead[nLabel:])
	prefix := strings.Join(labels, " – ")
	switch {
	case len(parts) == 0:
		if nLabel == 0 {
			return ""
		}
		return prefix
	case prefix == "" && named:
		return strings.Join(parts, "; ")
	case prefix == "":
		return strings.Join(parts, " | ")
	case named:
		return prefix + " – " + strings.Join(parts, "; ")
	default:
		return prefix + ": " + strings.Join(parts, " | ")
	}
}

// headerRow tells a leading row that heads the columns: all its cells are <th>, or (in the first
// row, when the second is not bold too) all are bold.
func headerRow(r tableRow, i int, nextBold bool) bool {
	return allHeader(r) || (i == 0 && !nextBold && boldRow(r))
}

func boldRow(r tableRow) bool {
	n := 0
	for _, c := range r.cells {
		if c.text == "" || !c.own {
			continue
		}
		if !c.bold {
			return false
		}
		n++
	}
	return n > 1
}

// boldOnly tells an element all of whose text is in <strong> or <b>.
func boldOnly(n *html.Node) bool {
	some, plain := false, false
	var walk func(*html.Node, bool)
	walk = func(n *html.Node, bold bool) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			switch {
			case c.Type == html.TextNode && strings.TrimSpace(c.Data) != "":
				if bold {
					some = true
				} else {
					plain = true
				}
			case c.Type == html.ElementNode:
				walk(c, bold || c.Data == "strong" || c.Data == "b")
			}
		}
	}
	walk(n, false)
	return some && !plain
}

func allHeader(r tableRow) bool {
	some := false
	for _, c := range r.cells {
		if c.text == "" {
			continue
		}
		if !c.th {
			return false
		}
		some = true
	}
	return some
}

func anyHead(rows []tableRow) bool {
	for _, r := range rows {
		if r.head {
			return true
		}
	}
	return false
}

// singleCell tells a row that is one cell across the table (or one cell and nothing else): a
// group's name, a title or a note.
func singleCell(r tableRow) bool {
	first := r.cells[0]
	if first.text == "" {
		return false
	}
	for _, c := range r.cells[1:] {
		if c.src != first.src && (c.text != "" || !c.own && c.src > 0) {
			return false
		}
	}
	return true
}

// groupLabel tells a group's name from a note spanning the table ("Alle Preise inkl. MwSt."): it
// is short and not a sentence.
func groupLabel(t string) bool {
	return utf8.RuneCountInString(t) <= 80 && !strings.HasSuffix(t, ".")
}

func anyNonEmpty(ss []string) bool {
	for _, s := range ss {
		if s != "" {
			return true
		}
	}
	return false
}

func joinNonEmpty(sep string, parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, sep)
}

func captionOf(n *html.Node) string {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && c.Data == "caption" {
			return clean(inlineText(c))
		}
	}
	return ""
}

// layoutTable tells a table used to lay out a page (a contact box in two columns) from a table of
// data: it has no header cells or caption, and some cell holds blocks of its own (headings,
// lists, paragraphs, a table) or many lines. Its cells are read as sections of the page.
func layoutTable(n *html.Node) bool {
	if r := attrOf(n, "role"); r == "presentation" || r == "none" {
		return true
	}
	layout := false
	var walk func(*html.Node) bool
	walk = func(n *html.Node) bool {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type != html.ElementNode {
				continue
			}
			switch c.Data {
			case "th", "caption", "thead":
				return false
			case "td":
				layout = layout || blockyCell(c)
				continue
			case "table":
				continue
			}
			if !walk(c) {
				return false
			}
		}
		return true
	}
	return walk(n) && layout
}

// blockyCell: a cell holding more than a line or two of text.
func blockyCell(td *html.Node) bool {
	blocks, brs := 0, 0
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type != html.ElementNode {
				continue
			}
			switch c.Data {
			case "table", "ul", "ol", "dl", "h1", "h2", "h3", "h4", "h5", "h6", "address", "blockquote":
				blocks += 2
			case "p":
				blocks++
			case "div":
				if ownText(c) { // not a wrapper around the cell's paragraphs
					blocks++
				}
			case "br":
				brs++
			}
			walk(c)
		}
	}
	walk(td)
	return blocks >= 2 || brs >= 2
}

// ownText tells an element with text of its own, not only in child elements.
func ownText(n *html.Node) bool {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.TextNode && strings.TrimSpace(c.Data) != "" {
			return true
		}
	}
	return false
}

// layoutText is the text of a layout table's cells, a cell's lines one by one.
func layoutText(n *html.Node) string {
	var lines []string
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type != html.ElementNode {
				continue
			}
			if c.Data == "td" || c.Data == "th" {
				if t := cleanLines(inlineText(c)); t != "" {
					lines = append(lines, t)
				}
				continue
			}
			walk(c)
		}
	}
	walk(n)
	return strings.Join(lines, "\n")
}

func attrOf(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}
