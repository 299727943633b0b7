package knowledge

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// extractBounded extracts raw and fails the test when it takes longer than limit or allocates
// more than maxAlloc bytes. It returns the page (nil when the page was refused).
func extractBounded(t *testing.T, raw string, maxAlloc uint64) *Page {
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
	// Time is logged, not asserted (a loaded machine under -race makes any limit flaky): the
	// allocation bound is what catches work that grows with depth times breadth, since that
	// work builds text.
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
			p := extractBounded(t, limitsPage(tc.html), 256<<20)
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
			p := extractBounded(t, limitsPage(tc.html), 256<<20)
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

// millionSitemap serves a sitemap of a million pages, written as it is read (plain on
// /sitemap.xml, compressed on /sitemap.xml.gz), and a small page on every /p/N. written counts
// the sitemap's bytes the server got to write.
func millionSitemap(t *testing.T, written *atomic.Int64) *httptest.Server {
	const pages = 1_000_000
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/sitemap.xml"):
			var out io.Writer = countingWriter{w, written}
			if strings.HasSuffix(r.URL.Path, ".gz") {
				zw := gzip.NewWriter(out)
				defer zw.Close()
				out = zw
			}
			bw := bufio.NewWriter(out)
			defer bw.Flush()
			bw.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">` + "\n")
			for i := range pages {
				if _, err := fmt.Fprintf(bw, "<url><loc>%s/p/%d</loc><lastmod>2024-01-01</lastmod></url>\n", srv.URL, i); err != nil {
					return // the client has gone
				}
			}
			bw.WriteString("</urlset>\n")
		case strings.HasPrefix(r.URL.Path, "/p/"):
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, "<html><body><main><h1>Seite %s</h1><p>Inhalt der Seite.</p></main></body></html>", r.URL.Path)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

type countingWriter struct {
	w io.Writer
	n *atomic.Int64
}

func (c countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n.Add(int64(n))
	return n, err
}

// A sitemap of a million URLs is read as a stream to the source's limit (50,000 by default),
// not whole, and Walk says that it stopped there.
func TestSitemapOfAMillionURLs(t *testing.T) {
	for _, path := range []string{"/sitemap.xml", "/sitemap.xml.gz"} {
		t.Run(path, func(t *testing.T) {
			var written atomic.Int64
			srv := millionSitemap(t, &written)
			// The fetcher's default cap; the limit on URLs comes first.
			s := SitemapSource{URL: srv.URL + path, Fetcher: NewFetcher(20*time.Second, 5<<20)}
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			start := time.Now()
			var urls []string
			err := s.collect(context.Background(), s.URL, 0, map[string]bool{}, &urls)
			took := time.Since(start)
			runtime.ReadMemStats(&after)
			alloc := after.TotalAlloc - before.TotalAlloc
			t.Logf("%d URLs in %v, %d MB allocated, %d MB written by the server: %v", len(urls), took, alloc>>20, written.Load()>>20, err)
			if !errors.Is(err, ErrTooManyURLs) || !strings.Contains(err.Error(), "more than 50000 pages") {
				t.Errorf("err %v, want ErrTooManyURLs", err)
			}
			if len(urls) != DefaultMaxSitemapURLs {
				t.Errorf("%d URLs, want %d", len(urls), DefaultMaxSitemapURLs)
			}
			if took > 10*time.Second {
				t.Errorf("took %v", took)
			}
			if alloc > 256<<20 {
				t.Errorf("%d MB allocated", alloc>>20)
			}
		})
	}
	// Walk reads the pages to the limit and fails, so that the ingest retires nothing.
	var written atomic.Int64
	srv := millionSitemap(t, &written)
	s := SitemapSource{URL: srv.URL + "/sitemap.xml", Fetcher: NewFetcher(20*time.Second, 1<<30), Workers: 4, MaxURLs: 500}
	var visited atomic.Int64
	err := s.Walk(context.Background(), func(it Item) {
		if it.Page == nil {
			t.Errorf("%s: %v", it.URL, it.Err)
		}
		visited.Add(1)
	})
	if !errors.Is(err, ErrTooManyURLs) || visited.Load() != 500 {
		t.Errorf("visited %d, err %v; want 500 and ErrTooManyURLs", visited.Load(), err)
	}
	// With no size cap to speak of, the stream still stops at the limit: the server wrote
	// little of its 70 MB.
	if w := written.Load(); w > 16<<20 {
		t.Errorf("the server wrote %d MB of the sitemap", w>>20)
	}
}

func TestReadSitemapIndexBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("<sitemapindex>")
	for i := range 5000 {
		fmt.Fprintf(&b, "<sitemap><loc>https://x.example/s%d.xml</loc></sitemap>", i)
	}
	b.WriteString("</sitemapindex>")
	n := 0
	root, err := readSitemap(strings.NewReader(b.String()), func(kind, loc string) bool {
		n++
		return n < maxSitemapFiles
	})
	if root != "sitemapindex" || err != nil || n != maxSitemapFiles {
		t.Errorf("root %q, %d sitemaps, err %v", root, n, err)
	}
}
