package knowledge

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// Source lists the pages of one origin: a sitemap, a crawl, or a local mirror.
type Source interface {
	// Key identifies the source; a page that leaves its source is retired.
	Key() string
	// Walk calls visit once for every page or failure, possibly from several goroutines. It
	// returns an error when the listing itself failed: then nothing may be retired.
	Walk(ctx context.Context, visit func(Item)) error
}

// Item is one page of a source, or why it could not be read.
type Item struct {
	URL  string // where it came from (file path for a mirror)
	Page *Page  // nil when Err or Skip is set
	Err  error  // the page failed
	Skip string // not a page at all (a stray file): why it was passed over
}

// DirSource reads a local mirror of a website. A page's URL is its canonical link, else BaseURL
// plus its path without ".html" ("index.html" stands for its folder).
type DirSource struct {
	Dir      string
	BaseURL  string
	MaxBytes int64
}

// Key implements Source.
func (s DirSource) Key() string {
	abs, err := filepath.Abs(s.Dir)
	if err != nil {
		abs = s.Dir
	}
	return "dir:" + abs + "|" + s.BaseURL
}

// Walk implements Source.
func (s DirSource) Walk(ctx context.Context, visit func(Item)) error {
	base, err := url.Parse(s.BaseURL)
	if err != nil || base.Scheme == "" || base.Host == "" {
		return fmt.Errorf("--base-url %q is not an absolute URL", s.BaseURL)
	}
	info, err := os.Stat(s.Dir)
	if err != nil {
		return fmt.Errorf("mirror directory: %w", err)
	}
	if !info.IsDir() {
		return fmt.Errorf("mirror directory %s is not a directory", s.Dir)
	}
	var files []string
	err = filepath.WalkDir(s.Dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), ".") && p != s.Dir {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("walk %s: %w", s.Dir, err)
	}
	sort.Strings(files)
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, _ := filepath.Rel(s.Dir, f)
		ext := strings.ToLower(filepath.Ext(f))
		if ext != ".html" && ext != ".htm" {
			visit(Item{URL: rel, Skip: "not an HTML file"})
			continue
		}
		u := *base
		p := strings.TrimSuffix(filepath.ToSlash(rel), ext)
		if p == "index" {
			p = ""
		}
		p = strings.TrimSuffix(p, "/index")
		u.Path = path.Join("/", base.Path, p)
		visit(s.read(f, &u))
	}
	return nil
}

func (s DirSource) read(file string, u *url.URL) Item {
	it := Item{URL: u.String()}
	fi, err := os.Stat(file)
	if err != nil {
		it.Err = err
		return it
	}
	if s.MaxBytes > 0 && fi.Size() > s.MaxBytes {
		it.Err = fmt.Errorf("%w: %d bytes, cap %d", ErrTooLarge, fi.Size(), s.MaxBytes)
		return it
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		it.Err = err
		return it
	}
	it.Page, it.Err = Extract(raw, u, "")
	if it.Page != nil && it.Page.Modified.IsZero() {
		it.Page.Modified = fi.ModTime().UTC().Truncate(24 * 60 * 60 * 1e9)
		it.Page.Hash = it.Page.hash()
	}
	return it
}

// SitemapSource reads the pages a sitemap (or sitemap index) lists, to MaxURLs of them.
type SitemapSource struct {
	URL     string
	Fetcher *Fetcher
	Workers int
	MaxURLs int // 0: DefaultMaxSitemapURLs
}

// DefaultMaxSitemapURLs bounds the pages a sitemap source lists: as many as one sitemap file
// may hold (sitemaps.org), ten times a big city's site. A longer listing is read to the bound,
// the rest passed over, and Walk fails with ErrTooManyURLs, so that no page is retired.
const DefaultMaxSitemapURLs = 50_000

// Further bounds of a sitemap: the sitemaps an index may name, and the bytes a compressed
// sitemap may unpack to (sitemaps.org's 50 MB); the fetcher's size cap bounds what is
// downloaded.
const (
	maxSitemapFiles = 1000
	maxSitemapBytes = 50 << 20
)

// ErrTooManyURLs marks a sitemap listing more pages than the source reads.
var ErrTooManyURLs = errors.New("too many pages")

// Key implements Source.
func (s SitemapSource) Key() string { return "sitemap:" + s.URL }

// maxSitemapDepth bounds nested sitemap indexes.
const maxSitemapDepth = 3

// Walk implements Source.
func (s SitemapSource) Walk(ctx context.Context, visit func(Item)) error {
	var urls []string
	seen := map[string]bool{}
	err := s.collect(ctx, s.URL, 0, seen, &urls)
	if err != nil && !errors.Is(err, ErrTooManyURLs) {
		return err
	}
	if len(urls) == 0 {
		return fmt.Errorf("sitemap %s lists no pages", s.URL)
	}
	fetchAll(ctx, s.Fetcher, urls, s.Workers, visit, nil)
	return err
}

func (s SitemapSource) maxURLs() int {
	if s.MaxURLs > 0 {
		return s.MaxURLs
	}
	return DefaultMaxSitemapURLs
}

func (s SitemapSource) collect(ctx context.Context, u string, depth int, seen map[string]bool, urls *[]string) error {
	if seen[u] {
		return nil
	}
	seen[u] = true
	if depth > maxSitemapDepth {
		return fmt.Errorf("sitemap %s: nested deeper than %d levels", u, maxSitemapDepth)
	}
	_, body, err := s.Fetcher.open(ctx, u, false)
	if err != nil {
		return fmt.Errorf("sitemap %s: %w", u, err)
	}
	// Read as it comes: a sitemap of a million URLs is read to the limit, not whole.
	var children []string
	full := false
	root, err := readSitemap(body, func(kind, loc string) bool {
		switch {
		case kind == "sitemap":
			children = append(children, loc)
			return len(children) < maxSitemapFiles
		case seen[loc]:
		case len(*urls) >= s.maxURLs():
			full = true
			return false
		default:
			seen[loc] = true
			*urls = append(*urls, loc)
		}
		return true
	})
	body.Close()
	if err != nil {
		return fmt.Errorf("sitemap %s: %w", u, err)
	}
	if full {
		return fmt.Errorf("%w: %s lists more than %d pages; the first %d are read, the rest passed over, and no page is retired",
			ErrTooManyURLs, s.URL, s.maxURLs(), s.maxURLs())
	}
	if root == "sitemapindex" {
		for _, c := range children {
			if err := s.collect(ctx, c, depth+1, seen, urls); err != nil {
				return err
			}
		}
	}
	return nil
}

// readSitemap reads a sitemap (gzip-compressed or not) as a stream, calling found with each
// page's ("url") or sitemap's ("sitemap") location until it returns false. It returns the root
// element's name: urlset or sitemapindex.
func readSitemap(r io.Reader, found func(kind, loc string) bool) (root string, err error) {
	br := bufio.NewReader(r)
	if magic, _ := br.Peek(2); bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return "", err
		}
		r = &limitedReader{r: zr, left: maxSitemapBytes}
	} else {
		r = br
	}
	dec := xml.NewDecoder(r)
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			if root == "" {
				return "", errors.New("not a sitemap: no root element")
			}
			return root, nil
		}
		if err != nil {
			if errors.Is(err, ErrTooLarge) {
				return root, err
			}
			return root, fmt.Errorf("not a sitemap: %w", err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		if root == "" {
			root = se.Name.Local
			if root != "urlset" && root != "sitemapindex" {
				return root, fmt.Errorf("root element <%s>, want <urlset> or <sitemapindex>", root)
			}
			continue
		}
		kind := se.Name.Local
		if (root == "urlset" && kind != "url") || (root == "sitemapindex" && kind != "sitemap") {
			if err := dec.Skip(); err != nil {
				return root, fmt.Errorf("not a sitemap: %w", err)
			}
			continue
		}
		var entry struct {
			Loc string `xml:"loc"`
		}
		if err := dec.DecodeElement(&entry, &se); err != nil {
			return root, fmt.Errorf("not a sitemap: %w", err)
		}
		if loc := strings.TrimSpace(entry.Loc); loc != "" && !found(kind, loc) {
			return root, nil
		}
	}
}

// limitedReader fails with ErrTooLarge past its bound.
type limitedReader struct {
	r    io.Reader
	left int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		return 0, fmt.Errorf("%w: unpacks to over %d bytes", ErrTooLarge, maxSitemapBytes)
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}

// CrawlSource follows links within the start URL's host, breadth first, to Depth.
type CrawlSource struct {
	URL     string
	Depth   int
	Fetcher *Fetcher
	Workers int
}

// Key implements Source.
func (s CrawlSource) Key() string { return "crawl:" + s.URL }

// Walk implements Source.
func (s CrawlSource) Walk(ctx context.Context, visit func(Item)) error {
	start, err := url.Parse(s.URL)
	if err != nil || start.Host == "" {
		return fmt.Errorf("--url %q is not an absolute URL", s.URL)
	}
	seen := map[string]bool{s.URL: true}
	level := []string{s.URL}
	ok := 0
	var mu sync.Mutex
	for depth := 0; len(level) > 0 && depth <= s.Depth; depth++ {
		var next []string
		fetchAll(ctx, s.Fetcher, level, s.Workers, func(it Item) {
			visit(it)
		}, func(p *Page) {
			mu.Lock()
			defer mu.Unlock()
			ok++
			for _, l := range p.Links {
				lu, err := url.Parse(l)
				if err != nil || lu.Host != start.Host || lu.RawQuery != "" || seen[l] || !crawlable(lu.Path) {
					continue
				}
				seen[l] = true
				next = append(next, l)
			}
		})
		sort.Strings(next)
		level = next
	}
	if ok == 0 {
		return errors.New("crawl found no readable page at " + s.URL)
	}
	return ctx.Err()
}

// crawlable skips links to files that are not pages.
func crawlable(p string) bool {
	switch strings.ToLower(path.Ext(p)) {
	case "", ".html", ".htm", ".php", ".aspx", ".jsp":
		return true
	}
	return false
}

// fetchAll fetches and extracts urls with a few workers; found, when set, sees every page.
func fetchAll(ctx context.Context, f *Fetcher, urls []string, workers int, visit func(Item), found func(*Page)) {
	jobs := make(chan string)
	var wg sync.WaitGroup
	for range max(workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for u := range jobs {
				it := Item{URL: u}
				doc, err := f.Get(ctx, u, true)
				if err != nil {
					it.Err = err
				} else if it.Page, it.Err = Extract(doc.Body, doc.URL, doc.ContentType); it.Page != nil {
					if it.Page.Modified.IsZero() && !doc.LastModified.IsZero() {
						it.Page.Modified = doc.LastModified
						it.Page.Hash = it.Page.hash()
					}
					if found != nil {
						found(it.Page)
					}
				}
				visit(it)
			}
		}()
	}
	for _, u := range urls {
		if ctx.Err() != nil {
			break
		}
		jobs <- u
	}
	close(jobs)
	wg.Wait()
}
