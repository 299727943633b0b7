package knowledge

import (
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

// SitemapSource reads the pages a sitemap (or sitemap index) lists.
type SitemapSource struct {
	URL     string
	Fetcher *Fetcher
	Workers int
}

// Key implements Source.
func (s SitemapSource) Key() string { return "sitemap:" + s.URL }

// maxSitemapDepth bounds nested sitemap indexes.
const maxSitemapDepth = 3

// Walk implements Source.
func (s SitemapSource) Walk(ctx context.Context, visit func(Item)) error {
	var urls []string
	seen := map[string]bool{}
	if err := s.collect(ctx, s.URL, 0, seen, &urls); err != nil {
		return err
	}
	if len(urls) == 0 {
		return fmt.Errorf("sitemap %s lists no pages", s.URL)
	}
	fetchAll(ctx, s.Fetcher, urls, s.Workers, visit, nil)
	return nil
}

type sitemapXML struct {
	XMLName xml.Name
	URLs    []struct {
		Loc string `xml:"loc"`
	} `xml:"url"`
	Sitemaps []struct {
		Loc string `xml:"loc"`
	} `xml:"sitemap"`
}

func (s SitemapSource) collect(ctx context.Context, u string, depth int, seen map[string]bool, urls *[]string) error {
	if seen[u] {
		return nil
	}
	seen[u] = true
	if depth > maxSitemapDepth {
		return fmt.Errorf("sitemap %s: nested deeper than %d levels", u, maxSitemapDepth)
	}
	doc, err := s.Fetcher.Get(ctx, u, false)
	if err != nil {
		return fmt.Errorf("sitemap %s: %w", u, err)
	}
	pages, sitemaps, err := parseSitemap(doc.Body, s.Fetcher.MaxBytes)
	if err != nil {
		return fmt.Errorf("sitemap %s%w", u, err)
	}
	for _, loc := range pages {
		if !seen[loc] {
			seen[loc] = true
			*urls = append(*urls, loc)
		}
	}
	for _, loc := range sitemaps {
		if err := s.collect(ctx, loc, depth+1, seen, urls); err != nil {
			return err
		}
	}
	return nil
}

// parseSitemap reads a fetched sitemap, gzipped or not (at most maxBytes unzipped): the page
// URLs of a <urlset>, or the sitemap URLs of a <sitemapindex>, trimmed and without empty ones.
// Its errors read after the sitemap's URL.
func parseSitemap(body []byte, maxBytes int64) (pages, sitemaps []string, err error) {
	if bytes.HasPrefix(body, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, nil, fmt.Errorf(": %w", err)
		}
		if body, err = io.ReadAll(io.LimitReader(zr, maxBytes)); err != nil {
			return nil, nil, fmt.Errorf(": %w", err)
		}
	}
	var sm sitemapXML
	if err := xml.Unmarshal(body, &sm); err != nil {
		return nil, nil, fmt.Errorf(" is not a sitemap: %w", err)
	}
	switch sm.XMLName.Local {
	case "urlset":
		for _, x := range sm.URLs {
			if loc := strings.TrimSpace(x.Loc); loc != "" {
				pages = append(pages, loc)
			}
		}
	case "sitemapindex":
		for _, x := range sm.Sitemaps {
			sitemaps = append(sitemaps, strings.TrimSpace(x.Loc))
		}
	default:
		return nil, nil, fmt.Errorf(": root element <%s>, want <urlset> or <sitemapindex>", sm.XMLName.Local)
	}
	return pages, sitemaps, nil
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
