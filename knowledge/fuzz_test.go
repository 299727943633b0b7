package knowledge

import (
	"bytes"
	"compress/gzip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// maxChunkGrowth bounds the text Extract makes of a page: chunks' text is at most this many
// times the page's bytes, plus extractGrowthSlack. Growth comes from a cell spanning rows or
// columns (said in each of up to maxSpan slots), column headers named at every cell below them,
// a lead repeated in every part of a long block, and one byte decoded to three (a legacy charset,
// an entity). See TestExtractBounded for the worst cases known.
const (
	maxChunkGrowth     = 64
	extractGrowthSlack = 4096
)

// FuzzExtract: any bytes with any content type become a page or an error, never a panic; the
// chunks' text and headings are valid UTF-8, and their size grows at most linearly with the page.
func FuzzExtract(f *testing.F) {
	for _, name := range []string{"aktuelles/sperrmuell-online-anmelden.html", "leichte-sprache.html"} {
		raw, err := os.ReadFile(filepath.Join("..", "sample", "musterstadt", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw, "text/html; charset=utf-8")
	}
	for _, s := range []struct{ html, ct string }{
		{`<html lang="de"><title>Hund</title><main><h1>Hundesteuer</h1><p>Die Steuer beträgt 96 € im Jahr.</p></main>`, ""},
		{`<table><tr><th>Leistung<th>Gebühr<th>Frist<tr><td>Reisepass<td>70 €<td>4 Wochen<tr><td rowspan=64 colspan=64>x</table>`, ""},
		{`<details><summary>Unterlagen</summary><ul><li>Ausweis<li>Foto<ul><li>biometrisch</ul></ul></details>`, ""},
		{"<meta charset=\"iso-8859-1\"><p>Gr\xfc\xdfe aus M\xfcnchen</p>", ""},
		{"<p>\xff\xfe\x00<\x00p\x00>\x00", "text/html; charset=utf-16"},
		{"<p>\x82\xa0\x82\xa2\x82\xa4</p>", "text/html; charset=shift_jis"},
		{"<p>\xcf\xf0\xe8\xe2\xe5\xf2</p>", "text/html; charset=windows-1251"},
		{"<p>\x1b$B$3$s$K$A$O\x1b(B</p>", "text/html; charset=iso-2022-jp"},
		{strings.Repeat("<div>", 2000) + "tief" + strings.Repeat("</div>", 10), ""},
		{`<p title="` + strings.Repeat("a", 5000) + `">Attribut</p><a href="` + strings.Repeat("/x", 1000) + `">Link</a>`, ""},
		{`<h2>A</h2><h4>B</h4><h3>C</h3><p>Text &amp; &nbsp; &#x1F600; &#0; &#xD800;</p>`, ""},
		{`<link rel="canonical" href="http://[::1]:namedport"><p>Kanonisch</p>`, ""},
		{"<pre>" + strings.Repeat("Zeile\n", 500) + "</pre>", "text/plain"},
		{"", ""},
	} {
		f.Add([]byte(s.html), s.ct)
	}
	u, _ := url.Parse("https://www.musterstadt.example/buergerservice/seite")
	f.Fuzz(func(t *testing.T, raw []byte, contentType string) {
		if len(raw) > 64<<10 {
			return
		}
		p, err := Extract(raw, u, contentType)
		if err != nil {
			if p != nil {
				t.Fatal("a page and an error")
			}
			return
		}
		if len(p.Chunks) == 0 {
			t.Fatal("a page without chunks")
		}
		total := 0
		for _, c := range p.Chunks {
			if !utf8.ValidString(c.Text) {
				t.Fatalf("chunk text not UTF-8: %q", c.Text)
			}
			for _, h := range c.Headings {
				if !utf8.ValidString(h) {
					t.Fatalf("heading not UTF-8: %q", h)
				}
			}
			total += len(c.Text)
		}
		if !utf8.ValidString(p.Title) || !utf8.ValidString(p.DocTitle) || !utf8.ValidString(p.Description) {
			t.Fatalf("metadata not UTF-8: %q %q %q", p.Title, p.DocTitle, p.Description)
		}
		if limit := maxChunkGrowth*len(raw) + extractGrowthSlack; total > limit {
			t.Fatalf("%d bytes of chunks from a page of %d bytes (limit %d)", total, len(raw), limit)
		}
		if len(p.Chunks) > len(raw)+1 {
			t.Fatalf("%d chunks from a page of %d bytes", len(p.Chunks), len(raw))
		}
	})
}

// FuzzParseSitemap: any body (gzipped or not) is a list of URLs or an error, never a panic; the
// list holds no empty page URL and no more entries than the body has bytes.
func FuzzParseSitemap(f *testing.F) {
	for _, s := range []string{
		`<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>https://www.musterstadt.example/</loc><lastmod>2026-01-02</lastmod></url><url><loc> https://www.musterstadt.example/buergerservice </loc></url></urlset>`,
		`<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><sitemap><loc>https://www.musterstadt.example/sitemap-1.xml</loc></sitemap><sitemap><loc></loc></sitemap></sitemapindex>`,
		`<html><body>kein Sitemap</body></html>`,
		`<urlset><url><loc><![CDATA[https://x.example/a?b=1&c=2]]></loc></url><url><loc/></url></urlset>`,
		`<?xml version="1.0" encoding="ISO-8859-1"?><urlset><url><loc>https://x.example/m` + "\xfc" + `nchen</loc></url></urlset>`,
		`<!DOCTYPE urlset [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><urlset><url><loc>&b;</loc></url></urlset>`,
		`<urlset><url><loc>https://x.example/` + strings.Repeat("<url>", 100),
		"",
	} {
		f.Add([]byte(s))
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(`<urlset><url><loc>https://x.example/gz</loc></url></urlset>`))
	zw.Close()
	f.Add(gz.Bytes())
	f.Add(gz.Bytes()[:gz.Len()/2])
	f.Fuzz(func(t *testing.T, body []byte) {
		var pages, sitemaps []string
		root, err := readSitemap(bytes.NewReader(body), func(kind, loc string) bool {
			if kind == "sitemap" {
				sitemaps = append(sitemaps, loc)
			} else {
				pages = append(pages, loc)
			}
			return true
		})
		if err != nil {
			return // any error is fine: never a panic
		}
		if root != "urlset" && root != "sitemapindex" {
			t.Fatalf("root %q without an error", root)
		}
		if len(pages) > 0 && len(sitemaps) > 0 {
			t.Fatal("both pages and sitemaps")
		}
		size := len(body)
		if bytes.HasPrefix(body, []byte{0x1f, 0x8b}) {
			size = maxSitemapBytes
		}
		if len(pages)+len(sitemaps) > size {
			t.Fatalf("%d URLs from %d bytes", len(pages)+len(sitemaps), size)
		}
		for _, p := range append(pages, sitemaps...) {
			if p == "" || p != strings.TrimSpace(p) {
				t.Fatalf("URL %q", p)
			}
		}
	})
}

// FuzzRobots: any robots.txt (with any status) yields rules or none, and any URL path is either
// allowed or not; never a panic. The path tested is always absolute.
func FuzzRobots(f *testing.F) {
	for _, s := range []struct {
		status int
		body   string
		path   string
	}{
		{200, "User-agent: *\nDisallow: /intern/\n", "/intern/geheim"},
		{200, "User-agent: citybot\nDisallow: /\nAllow: /buergerservice$\n\nUser-agent: *\nDisallow:\n", "/buergerservice?x=1"},
		{200, "User-agent: *\nDisallow: /*.pdf$\nCrawl-delay: 10\nSitemap: https://x.example/sitemap.xml\n", "/formular.pdf"},
		{200, "\xef\xbb\xbfUser-agent: *\r\nDisallow: /%E4%F6\r\n", "/%C3%A4"},
		{200, "User-agent: *\nDisallow: /*/*/*/*/*/*/*/*/*/*/*/*/*/*/*/*/*/*/*/*/*/*/*/*/*/*/*/*/*/*/*/*b\n", "/" + strings.Repeat("a/", 200)},
		{404, "", "/"},
		{500, "", "/"},
		{200, "<html>not robots</html>", "/"},
	} {
		f.Add(s.status, []byte(s.body), s.path)
	}
	f.Fuzz(func(t *testing.T, status int, body []byte, rawURL string) {
		if len(body) > maxRobotsBytes || len(rawURL) > 8<<10 {
			return
		}
		g := robotsGroup(status, body, "citybot/1.0 (+https://github.com/citybot-project/citybot)")
		u, err := url.Parse("https://www.musterstadt.example" + rawURL)
		if err != nil || u.Host != "www.musterstadt.example" {
			return
		}
		p := robotsPath(u)
		if !strings.HasPrefix(p, "/") {
			t.Fatalf("robots path %q of %q", p, rawURL)
		}
		if g == nil {
			return
		}
		g.Test(p)
	})
}

// TestExtractBounded: tables that repeat text (headers named at every cell, cells spanning rows
// and columns) stay within maxChunkGrowth. Before the bound on a table's growth, the first made
// 3.2 MB of chunks from a page of 15 KB (205 times; it grew with the header's length times the
// rows), the third 2,000 times its size and 12 s.
func TestExtractBounded(t *testing.T) {
	u, _ := url.Parse("https://www.musterstadt.example/gebuehren")
	heads := ""
	for i := range 64 {
		heads += "<th>" + strings.Repeat(string(rune('A'+i%26)), 120)
	}
	for name, page := range map[string]string{
		"long headers over many rows": "<table><tr><th>" + strings.Repeat("K", 4000) + "<th>" + strings.Repeat("L", 4000) + "<th>M" +
			strings.Repeat("<tr><td>a<td>b<td>c", 400) + "</table>",
		"a cell spanning 64 rows and columns": "<table><tr><td rowspan=64 colspan=64>" + strings.Repeat("Text ", 200) + "<td>x" +
			strings.Repeat("<tr><td>y", 63) + "</table>",
		"spanning cells under 64 long headers": "<table><tr>" + heads + strings.Repeat("<tr><td rowspan=64 colspan=64>a", 64) +
			strings.Repeat("<tr>", 200) + "</table>",
		"many small spanning tables": strings.Repeat("<table><tr><th>Gebühr<th>Frist<tr><td rowspan=64 colspan=2>a</table>", 200),
	} {
		start := time.Now()
		p, err := Extract([]byte(page), u, "")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s: %v to extract %d bytes", name, d, len(page))
		}
		total := 0
		for _, c := range p.Chunks {
			total += len(c.Text)
		}
		if limit := maxChunkGrowth*len(page) + extractGrowthSlack; total > limit {
			t.Errorf("%s: %d bytes of chunks from %d (limit %d)", name, total, len(page), limit)
		}
	}
	// An ordinary fee table keeps its headers at every value.
	p, err := Extract([]byte(`<main><h1>Gebühren</h1><table><tr><th>Leistung<th>Gebühr<th>Frist<tr><td>Reisepass<td>70 €<td>4 Wochen</table></main>`), u, "")
	if err != nil || !strings.Contains(p.Chunks[0].Text, "Leistung: Reisepass; Gebühr: 70 €; Frist: 4 Wochen") {
		t.Fatalf("%+v %v", p, err)
	}
}
