package knowledge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/citybot-project/citybot/database/dbtest"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func newTestIndex(t *testing.T, emb Embedder) *Index {
	t.Helper()
	if emb == nil {
		emb = NewHashEmbedder(0)
	}
	g, err := LoadGlossary(nil)
	if err != nil {
		t.Fatal(err)
	}
	pool := dbtest.Pool(t)
	ix, err := NewIndex(context.Background(), pool, Scope{Town: dbtest.Town(t, pool, "lindenbrueck")}, emb, g, nil, quiet)
	if err != nil {
		t.Fatal(err)
	}
	return ix
}

func page(title, body string) string {
	return fmt.Sprintf(`<!DOCTYPE html><html lang="de"><head><title>%s | Stadt</title></head><body>
<nav><a href="/">Start</a></nav><main><h1>%s</h1>%s</main><footer>Impressum</footer></body></html>`, title, title, body)
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func problemFor(ps []Problem, url string) string {
	for _, p := range ps {
		if strings.Contains(p.URL, url) {
			return p.Reason
		}
	}
	return ""
}

func TestIngestDirIsIncremental(t *testing.T) {
	ctx := context.Background()
	ix := newTestIndex(t, nil)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"index.html":        page("Startseite", "<p>Willkommen in der Stadt.</p>"),
		"dienste/hund.html": page("Hundesteuer", "<h2>Kosten</h2><p>Der erste Hund kostet 96 Euro im Jahr.</p>"),
		"dienste/baum.html": page("Baumfällung", "<p>Für große Bäume brauchen Sie eine Genehmigung.</p>"),
		"assets/site.css":   "body{}",
		"dienste/notes.txt": "stray",
		".git/HEAD":         "ref: x",
	})
	src := DirSource{Dir: dir, BaseURL: "https://stadt.example"}
	sum, err := ix.Ingest(ctx, src, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.New != 3 || sum.Failed != 0 || len(sum.Skipped) != 2 {
		t.Fatalf("first ingest %+v, want 3 new and the 2 stray files skipped", sum)
	}
	if problemFor(sum.Skipped, "notes.txt") != "not an HTML file" {
		t.Errorf("stray file reason: %+v", sum.Skipped)
	}
	hits, err := ix.Search(ctx, Query{Text: "Was kostet die Hundesteuer?", Limit: 3})
	if err != nil || len(hits) == 0 || hits[0].URL != "https://stadt.example/dienste/hund" {
		t.Fatalf("search after ingest: %+v %v", hits, err)
	}
	if got := strings.Join(hits[0].Headings, " › "); got != "Hundesteuer › Kosten" {
		t.Errorf("heading path %q", got)
	}
	// Searches keep what they showed in memory: the page to be retired is shown once before.
	if hits, _ := ix.Search(ctx, Query{Text: "Baumfällung Genehmigung", Limit: 1}); len(hits) == 0 || !strings.Contains(hits[0].URL, "baum") {
		t.Fatalf("search for the tree page: %+v", hits)
	}

	// Unchanged pages cost nothing.
	sum, err = ix.Ingest(ctx, src, 2, nil)
	if err != nil || sum.Unchanged != 3 || sum.New+sum.Changed+sum.Retired != 0 {
		t.Fatalf("second ingest %+v %v, want 3 unchanged", sum, err)
	}
	var chunkID int64
	ix.pool.QueryRow(ctx, "SELECT min(id) FROM chunks").Scan(&chunkID)

	// A changed page is replaced, a removed one retired.
	writeFiles(t, dir, map[string]string{"dienste/hund.html": page("Hundesteuer", "<h2>Kosten</h2><p>Der erste Hund kostet 120 Euro im Jahr.</p>")})
	os.Remove(filepath.Join(dir, "dienste/baum.html"))
	sum, err = ix.Ingest(ctx, src, 2, nil)
	if err != nil || sum.Changed != 1 || sum.Unchanged != 1 || sum.Retired != 1 {
		t.Fatalf("third ingest %+v %v, want 1 changed, 1 unchanged, 1 retired", sum, err)
	}
	var active bool
	var chunks int
	ix.pool.QueryRow(ctx, `SELECT active, (SELECT count(*) FROM chunks WHERE page_id = pages.id) FROM pages
		WHERE url = 'https://stadt.example/dienste/baum'`).Scan(&active, &chunks)
	if active || chunks != 0 {
		t.Errorf("removed page: active %v with %d chunks, want retired without chunks", active, chunks)
	}
	hits, _ = ix.Search(ctx, Query{Text: "Baumfällung Genehmigung", Limit: 3})
	for _, h := range hits {
		if strings.Contains(h.URL, "baum") {
			t.Errorf("retired page still found: %s", h.URL)
		}
	}
	hits, _ = ix.Search(ctx, Query{Text: "Hundesteuer Kosten", Limit: 1})
	if len(hits) == 0 || !strings.Contains(hits[0].Text, "120 Euro") {
		t.Errorf("changed page not replaced: %+v", hits)
	}
	var runs int
	ix.pool.QueryRow(ctx, "SELECT count(*) FROM ingest_runs WHERE finished_at IS NOT NULL").Scan(&runs)
	if runs != 3 {
		t.Errorf("%d ingest runs recorded, want 3", runs)
	}
}

func TestIngestDirDuplicateCanonicals(t *testing.T) {
	ix := newTestIndex(t, nil)
	dir := t.TempDir()
	dup := `<html lang="de"><head><link rel="canonical" href="https://stadt.example/hund"></head><body><main><h1>Hund</h1><p>%s</p></main></body></html>`
	writeFiles(t, dir, map[string]string{
		"a.html": fmt.Sprintf(dup, "Erste Fassung"),
		"b.html": fmt.Sprintf(dup, "Zweite Fassung"),
	})
	sum, err := ix.Ingest(context.Background(), DirSource{Dir: dir, BaseURL: "https://stadt.example"}, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.New != 1 || sum.Failed != 1 {
		t.Fatalf("%+v, want the first page stored and the second failed", sum)
	}
	if r := problemFor(sum.Failures, "/b"); !strings.Contains(r, "duplicate canonical URL https://stadt.example/hund") {
		t.Errorf("failure reason %q", r)
	}
}

func TestIngestDirBadInput(t *testing.T) {
	ix := newTestIndex(t, nil)
	if _, err := ix.Ingest(context.Background(), DirSource{Dir: "/no/such/dir", BaseURL: "https://x.example"}, 1, nil); err == nil ||
		!strings.Contains(err.Error(), "mirror directory") {
		t.Errorf("missing dir: %v", err)
	}
	if _, err := ix.Ingest(context.Background(), DirSource{Dir: t.TempDir(), BaseURL: "stadt.example"}, 1, nil); err == nil ||
		!strings.Contains(err.Error(), "not an absolute URL") {
		t.Errorf("relative base URL: %v", err)
	}
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"big.html": page("Groß", "<p>"+strings.Repeat("x", 4000)+"</p>")})
	sum, err := ix.Ingest(context.Background(), DirSource{Dir: dir, BaseURL: "https://x.example", MaxBytes: 1000}, 1, nil)
	if err != nil || sum.Failed != 1 || !strings.Contains(problemFor(sum.Failures, "big"), "larger than the size cap") {
		t.Errorf("page over the cap: %+v %v", sum, err)
	}
}

// failingEmbedder fails for texts containing "FAIL", as a model endpoint might mid-ingest.
type failingEmbedder struct{ *HashEmbedder }

func (f failingEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	for _, t := range texts {
		if strings.Contains(t, "FAIL") {
			return nil, errors.New("model endpoint down")
		}
	}
	return f.HashEmbedder.Embed(ctx, texts)
}

func TestIngestFailureKeepsPreviousVersion(t *testing.T) {
	ctx := context.Background()
	ix := newTestIndex(t, failingEmbedder{NewHashEmbedder(0)})
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"hund.html": page("Hundesteuer", "<p>96 Euro im Jahr.</p>"),
		"katze.html": page("Katzen", "<p>Katzen sind steuerfrei.</p>")})
	src := DirSource{Dir: dir, BaseURL: "https://stadt.example"}
	if _, err := ix.Ingest(ctx, src, 1, nil); err != nil {
		t.Fatal(err)
	}
	writeFiles(t, dir, map[string]string{"hund.html": page("Hundesteuer", "<p>FAIL 120 Euro im Jahr.</p>")})
	os.Remove(filepath.Join(dir, "katze.html"))
	sum, err := ix.Ingest(ctx, src, 1, nil)
	if err != nil || sum.Failed != 1 || !strings.Contains(problemFor(sum.Failures, "hund"), "model endpoint down") {
		t.Fatalf("%+v %v", sum, err)
	}
	var body string
	ix.pool.QueryRow(ctx, `SELECT string_agg(body, ' ') FROM chunks c JOIN pages p ON p.id = c.page_id
		WHERE p.url = 'https://stadt.example/hund' AND p.active`).Scan(&body)
	if !strings.Contains(body, "96 Euro") {
		t.Fatalf("failed update lost the stored page: %q", body)
	}
	if sum.Retired != 1 {
		t.Errorf("retired %d, want the removed page retired and the failed one kept", sum.Retired)
	}
}

// site serves a small website for the HTTP sources, with every kind of bad page.
func site(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	html := func(body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			io.WriteString(w, body)
		}
	}
	mux.HandleFunc("/robots.txt", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "User-agent: *\nDisallow: /intern/\n")
	})
	mux.HandleFunc("/{$}", html(page("Start", `<p>Willkommen.</p><p><a href="/hund">Hundesteuer</a> <a href="/intern/geheim">Intern</a>
		<a href="/kaputt">404</a> <a href="/plakat.pdf">PDF</a> <a href="/schleife">Schleife</a></p>`)))
	mux.HandleFunc("/hund", html(page("Hundesteuer", `<p>96 Euro im Jahr. <a href="/hund/zweiter">Zweiter Hund</a></p>`)))
	mux.HandleFunc("/hund/zweiter", html(page("Zweiter Hund", `<p>120 Euro im Jahr.</p>`)))
	mux.HandleFunc("/intern/geheim", html(page("Geheim", `<p>Nicht öffentlich.</p>`)))
	mux.HandleFunc("/fehler", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", 500) })
	mux.HandleFunc("/plakat.pdf", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/pdf")
		io.WriteString(w, "%PDF-1.4")
	})
	mux.HandleFunc("/riesig", html(page("Riesig", "<p>"+strings.Repeat("Wort ", 5000)+"</p>")))
	mux.HandleFunc("/schleife", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/schleife2", http.StatusFound) })
	mux.HandleFunc("/schleife2", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/schleife", http.StatusFound) })
	mux.HandleFunc("/langsam", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(3 * time.Second):
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("/sitemap.xml", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
			<sitemap><loc>%[1]s/sitemap-1.xml</loc></sitemap><sitemap><loc>%[1]s/sitemap.xml</loc></sitemap></sitemapindex>`, srv.URL)
	})
	mux.HandleFunc("/sitemap-1.xml", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">`)
		for _, p := range []string{"/hund", "/kaputt", "/fehler", "/plakat.pdf", "/riesig", "/schleife", "/langsam", "/intern/geheim"} {
			fmt.Fprintf(w, "<url><loc>%s%s</loc></url>", srv.URL, p)
		}
		fmt.Fprintf(w, "<url><loc>http://127.0.0.1:%d/weg</loc></url></urlset>", closedPort(t))
	})
	mux.HandleFunc("/leer.xml", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"></urlset>`)
	})
	mux.HandleFunc("/kein-sitemap.xml", html("<html>nope</html>"))
	return srv
}

// closedPort is a loopback port nothing listens on: an unreachable host.
func closedPort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

func TestIngestSitemapReportsEveryBadPage(t *testing.T) {
	srv := site(t)
	ix := newTestIndex(t, nil)
	f := NewFetcher(time.Second, 10_000)
	sum, err := ix.Ingest(context.Background(), SitemapSource{URL: srv.URL + "/sitemap.xml", Fetcher: f, Workers: 3}, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.New != 1 {
		t.Errorf("%d new, want only /hund", sum.New)
	}
	for path, want := range map[string]string{
		"/kaputt":        "HTTP 404",
		"/fehler":        "HTTP 500",
		"/plakat.pdf":    "not HTML (application/pdf)",
		"/riesig":        "larger than the size cap",
		"/schleife":      "redirect loop",
		"/langsam":       "timed out",
		"/intern/geheim": "disallowed by robots.txt",
		"/weg":           "connection refused",
	} {
		if r := problemFor(sum.Failures, path); !strings.Contains(r, want) {
			t.Errorf("%s: reason %q, want it to say %q", path, r, want)
		}
	}
	if sum.Failed != 8 {
		t.Errorf("%d failed, want 8: %+v", sum.Failed, sum.Failures)
	}
}

func TestIngestBadSitemaps(t *testing.T) {
	srv := site(t)
	ctx := context.Background()
	ix := newTestIndex(t, nil)
	f := NewFetcher(time.Second, 1<<20)
	// A good ingest first, so we can see that bad sitemaps retire nothing.
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"a.html": page("A", "<p>Inhalt</p>")})
	for _, tc := range []struct{ path, want string }{
		{"/leer.xml", "lists no pages"},
		{"/kein-sitemap.xml", "root element <html>, want <urlset> or <sitemapindex>"},
		{"/fehlt.xml", "HTTP 404"},
	} {
		sum, err := ix.Ingest(ctx, SitemapSource{URL: srv.URL + tc.path, Fetcher: f, Workers: 1}, 1, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want %q", tc.path, err, tc.want)
		}
		if sum == nil || sum.RetireSkipped == "" || sum.Retired != 0 {
			t.Errorf("%s: summary %+v, want retirement skipped", tc.path, sum)
		}
	}
}

func TestIngestCrawlHonoursRobotsAndDepth(t *testing.T) {
	srv := site(t)
	ix := newTestIndex(t, nil)
	f := NewFetcher(time.Second, 1<<20)
	var seen atomic.Int32
	sum, err := ix.Ingest(context.Background(), CrawlSource{URL: srv.URL + "/", Depth: 1, Fetcher: f, Workers: 2}, 2,
		func(int, string, string) { seen.Add(1) })
	if err != nil {
		t.Fatal(err)
	}
	if sum.New != 2 {
		t.Errorf("%d new, want start page and /hund (depth 1 stops before /hund/zweiter): %+v", sum.New, sum)
	}
	if !strings.Contains(problemFor(sum.Failures, "/intern/geheim"), "robots.txt") {
		t.Errorf("robots.txt not honoured: %+v", sum.Failures)
	}
	if problemFor(sum.Failures, "plakat.pdf") != "" {
		t.Errorf("crawl followed a link to a PDF")
	}
	if int(seen.Load()) != sum.New+sum.Failed+len(sum.Skipped) {
		t.Errorf("progress saw %d items", seen.Load())
	}
	if _, err := ix.Ingest(context.Background(), CrawlSource{URL: fmt.Sprintf("http://127.0.0.1:%d/", closedPort(t)), Fetcher: f}, 1, nil); err == nil {
		t.Error("crawl of an unreachable host reported no error")
	}
}

func TestWarmFillsSearchCaches(t *testing.T) {
	ix := newTestIndex(t, nil)
	ctx := context.Background()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"hund.html": page("Hundesteuer", "<h2>Kosten</h2><p>Der erste Hund kostet 96 Euro im Jahr.</p><h2>Anmeldung</h2><p>Melden Sie den Hund an.</p>"),
		"baum.html": page("Baumfällung", "<p>Für große Bäume brauchen Sie eine Genehmigung.</p>"),
	})
	if _, err := ix.Ingest(ctx, DirSource{Dir: dir, BaseURL: "https://stadt.example"}, 2, nil); err != nil {
		t.Fatal(err)
	}
	if err := ix.Warm(ctx); err != nil {
		t.Fatal(err)
	}
	var ids []int64
	rows, _ := ix.pool.Query(ctx, "SELECT id FROM chunks")
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		ids = append(ids, id)
	}
	if len(ids) < 3 {
		t.Fatalf("%d chunks ingested", len(ids))
	}
	if found, missing := ix.chunkInfos.meta.get(ids); len(missing) != 0 || found[ids[0]].url == "" {
		t.Errorf("after Warm, %d of %d chunks not cached", len(missing), len(ids))
	}
	for _, url := range []string{"https://stadt.example/hund", "https://stadt.example/baum"} {
		if cs, ok := ix.pageChunks.get(url); !ok || len(cs) == 0 || cs[0].Text == "" {
			t.Errorf("after Warm, page %s not cached: %v", url, cs)
		}
	}
}
