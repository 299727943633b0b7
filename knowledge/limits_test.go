package knowledge

import (
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"
)

// extractBounded extracts raw and fails the test when it takes longer than limit or allocates
// more than maxAlloc bytes. It returns the page (nil when the page was refused).
func extractBounded(t *testing.T, raw string, limit time.Duration, maxAlloc uint64) *Page {
	t.Helper()
	u, _ := url.Parse("https://www.musterstadt.example/grenzen")
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	p, err := Extract([]byte(raw), u, "text/html")
	took := time.Since(start)
	runtime.ReadMemStats(&after)
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("%d bytes of HTML: %v, %d MB allocated, err %v", len(raw), took, alloc>>20, err)
	if took > limit {
		t.Errorf("Extract took %v, want at most %v", took, limit)
	}
	if alloc > maxAlloc {
		t.Errorf("Extract allocated %d MB, want at most %d MB", alloc>>20, maxAlloc>>20)
	}
	if p == nil {
		return nil
	}
	for _, c := range p.Chunks {
		if len(c.Text) > maxLineChars {
			t.Errorf("a chunk of %d bytes, want at most %d", len(c.Text), maxLineChars)
		}
	}
	return p
}

func limitsPage(body string) string {
	return "<html lang=de><body><main><h1>Grenzen</h1><p>Vorne steht ein Satz.</p>" + body + "</main></body></html>"
}

// The HTML parser refuses a page nested deeper than 512 elements at once; one nested less deep
// than that is read to maxDepth, deeper content as text.
func TestExtractDeepNesting(t *testing.T) {
	for _, tc := range []struct {
		name string
		html string
	}{
		{"100,000 divs", strings.Repeat("<div>", 100_000) + "Ganz innen." + strings.Repeat("</div>", 100_000)},
		{"10,000 tables in cells", strings.Repeat("<table><tr><td>", 10_000) + "Ganz innen." + strings.Repeat("</td></tr></table>", 10_000)},
		{"500 divs with text", strings.Repeat("<div><p>Ein Satz auf jeder Ebene.</p>", 500) + strings.Repeat("</div>", 500)},
		{"120 tables in cells", strings.Repeat("<table><tr><th>Kopf</th><td>Zelle", 120) + "Ganz innen." + strings.Repeat("</td></tr></table>", 120)},
		{"250 lists in items", strings.Repeat("<ul><li>Punkt", 250) + strings.Repeat("</li></ul>", 250)},
		{"250 definition lists", strings.Repeat("<dl><dt>Begriff</dt><dd>Wert", 250) + strings.Repeat("</dd></dl>", 250)},
		// Depth times breadth: each element around the table once read all of its text.
		{"500 divs around 100,000 cells", strings.Repeat("<div>", 500) + cellsTable(10_000, 10) + strings.Repeat("</div>", 500)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := extractBounded(t, limitsPage(tc.html), 2*time.Second, 256<<20)
			if p != nil && !strings.Contains(p.Chunks[0].Text, "Vorne steht ein Satz.") {
				t.Errorf("the text before the nesting is lost: %q", p.Chunks[0].Text)
			}
		})
	}
}

func cellsTable(rows, cols int) string {
	var b strings.Builder
	b.WriteString("<table><tr>")
	for j := range cols {
		b.WriteString("<th>Spalte " + string(rune('A'+j%26)) + "</th>")
	}
	b.WriteString("</tr>")
	for range rows {
		b.WriteString("<tr>")
		for range cols {
			b.WriteString("<td>12,50 Euro</td>")
		}
		b.WriteString("</tr>")
	}
	b.WriteString("</table>")
	return b.String()
}

// A page of 100,000 table cells, however they are laid out, is read in bounded time and memory
// into chunks of bounded size, and its text is bounded.
func TestExtractHugeTables(t *testing.T) {
	for _, tc := range []struct {
		name string
		html string
	}{
		{"10,000 rows of 10", cellsTable(10_000, 10)},
		{"100 rows of 1,000", cellsTable(100, 1_000)},
		{"1 row of 100,000", cellsTable(1, 100_000)},
		// 10,000 cells each spanning 64 by 64 slots: 40 million slots unbounded.
		{"spans", "<table>" + strings.Repeat("<tr>"+strings.Repeat(`<td rowspan="64" colspan="64">Gebühr</td>`, 100)+"</tr>", 100) + "</table>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := extractBounded(t, limitsPage(tc.html), 10*time.Second, 256<<20)
			if p == nil {
				t.Fatal("no page")
			}
			total := 0
			for _, c := range p.Chunks {
				total += len(c.Text)
				for _, l := range strings.Split(c.Text, "\n") {
					if len(l) > maxLineChars {
						t.Errorf("a line of %d bytes", len(l))
					}
				}
			}
			t.Logf("%d chunks, %d bytes of text", len(p.Chunks), total)
			if total > maxPageChars+maxLineChars {
				t.Errorf("%d bytes of text, want at most about %d", total, maxPageChars)
			}
		})
	}
}

func TestSplitLine(t *testing.T) {
	for _, tc := range []struct {
		in   string
		max  int
		want []string
	}{
		{"kurz", 10, []string{"kurz"}},
		{"eins zwei drei vier", 10, []string{"eins zwei", "drei vier"}},
		{"Donaudampfschifffahrt", 10, []string{"Donaudampf", "schifffahr", "t"}},
		{"ääääää", 5, []string{"ää", "ää", "ää"}},
	} {
		got := splitLine(tc.in, tc.max)
		if strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("splitLine(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
	}
}
