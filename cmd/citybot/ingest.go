package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/term"

	"github.com/citybot-project/citybot/knowledge"
)

const ingestUsage = `ingest (--dir DIR --base-url URL | --sitemap URL | --url URL [--depth N]) [--json]

Reads the city's pages into the knowledge base. Unchanged pages cost nothing, changed pages are
replaced, pages gone from the source are retired. Prints a summary; exits 1 if any page failed.`

func cmdIngest(ctx context.Context, e *env, args []string) error {
	fs := newFlags("ingest", ingestUsage, e.stderr)
	townFlag(fs, e)
	dir := fs.String("dir", "", "local mirror of a website")
	baseURL := fs.String("base-url", "", "the website's address, for pages of --dir without a canonical link")
	sitemap := fs.String("sitemap", "", "sitemap or sitemap index URL")
	crawl := fs.String("url", "", "start URL to crawl within its host")
	depth := fs.Int("depth", 3, "link depth of --url")
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	fetcher := knowledge.NewFetcher(e.cfg.FetchTimeout, e.cfg.MaxPageBytes)
	var src knowledge.Source
	switch {
	case *dir != "" && *sitemap == "" && *crawl == "":
		if *baseURL == "" {
			fmt.Fprintln(e.stderr, "ingest: --dir needs --base-url")
			return errUsage
		}
		src = knowledge.DirSource{Dir: *dir, BaseURL: *baseURL, MaxBytes: e.cfg.MaxPageBytes}
	case *sitemap != "" && *dir == "" && *crawl == "":
		src = knowledge.SitemapSource{URL: *sitemap, Fetcher: fetcher, Workers: e.cfg.Workers}
	case *crawl != "" && *dir == "" && *sitemap == "":
		src = knowledge.CrawlSource{URL: *crawl, Depth: *depth, Fetcher: fetcher, Workers: e.cfg.Workers}
	default:
		fmt.Fprintln(e.stderr, "ingest: give exactly one of --dir, --sitemap, --url")
		fs.Usage()
		return errUsage
	}
	// The thesaurus is for questions: an ingest does without loading it (a second, 17 MiB).
	e.cfg.Thesaurus = ""
	db, ix, err := openIndex(ctx, e)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := yieldCPU(e.cfg.IngestNice); err != nil {
		e.log.Warn("could not lower the ingest's CPU priority", "err", err)
	}
	sum, err := ix.Ingest(ctx, src, e.cfg.IngestWorkers, newProgress(e.stderr))
	if sum != nil {
		if *asJSON {
			enc := json.NewEncoder(e.stdout)
			enc.SetIndent("", "  ")
			_ = enc.Encode(sum)
		} else {
			printSummary(e.stdout, sum)
		}
	}
	if err != nil {
		return err
	}
	if sum.Failed > 0 {
		return errors.New("some pages failed, see the summary")
	}
	return nil
}

func printSummary(w io.Writer, s *knowledge.Summary) {
	fmt.Fprintf(w, "ingest %s: %d new, %d changed, %d unchanged, %d retired, %d failed in %s\n",
		s.Source, s.New, s.Changed, s.Unchanged, s.Retired, s.Failed, s.Duration.Round(1e6))
	for _, f := range s.Failures {
		fmt.Fprintf(w, "  failed  %s: %s\n", f.URL, f.Reason)
	}
	for _, f := range s.Skipped {
		fmt.Fprintf(w, "  skipped %s: %s\n", f.URL, f.Reason)
	}
	if s.RetireSkipped != "" {
		fmt.Fprintf(w, "  no page retired: %s\n", s.RetireSkipped)
	}
}

// newProgress draws a one-line counter on a terminal and prints plain lines otherwise
// (logs, CI), one per page that is not unchanged.
func newProgress(w io.Writer) knowledge.Progress {
	f, ok := w.(*os.File)
	tty := ok && term.IsTerminal(int(f.Fd()))
	var mu sync.Mutex
	return func(done int, url, outcome string) {
		mu.Lock()
		defer mu.Unlock()
		if tty {
			line := fmt.Sprintf("\r\033[K%5d pages  %-9s %s", done, outcome, url)
			if width, _, err := term.GetSize(int(f.Fd())); err == nil && len(line) > width+4 {
				line = line[:width+4]
			}
			fmt.Fprint(w, line)
			if outcome == "retired" || strings.HasSuffix(url, "\n") {
				fmt.Fprintln(w)
			}
			return
		}
		if outcome != "unchanged" {
			fmt.Fprintf(w, "%5d %-9s %s\n", done, outcome, url)
		}
	}
}

// yieldCPU lowers the process's CPU priority to nice, so that the answers of a server on the
// same machine come first. Linux keeps a niceness per thread: every thread of the process is
// reniced, and those the Go runtime starts later inherit it from the thread that starts them.
func yieldCPU(nice int) error {
	if nice <= 0 {
		return nil
	}
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return err
	}
	for _, t := range tasks {
		tid, err := strconv.Atoi(t.Name())
		if err != nil {
			continue
		}
		if err := syscall.Setpriority(syscall.PRIO_PROCESS, tid, nice); err != nil {
			return fmt.Errorf("renice thread %d: %w", tid, err)
		}
	}
	return nil
}
