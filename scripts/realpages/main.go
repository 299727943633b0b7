// Command realpages rebuilds and checks the real-pages benchmark: German municipal service
// pages as stored by the `search` tool (corpus `pages`), rendered as a small local website
// that citybot can ingest.
//
// The towns' text is theirs, so it is never committed. The repository holds only the recipe
// (eval/realpages/recipe.jsonl: address, query and SHA-256 of each page's text), the questions
// and this program. A session with the search tool fetches the pages into a raw directory
// outside the repository; this program verifies them against the recipe and renders them.
//
//	realpages recipe     --raw DIR [--out eval/realpages/recipe.jsonl]
//	realpages build      --raw DIR --out SITEDIR [--recipe eval/realpages/recipe.jsonl]
//	realpages check      --site SITEDIR --questions 'eval/realpages/*.jsonl'
//	realpages fetch-list [--recipe eval/realpages/recipe.jsonl]
package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"html"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

const defaultRecipe = "eval/realpages/recipe.jsonl"

// rawPage is one saved search result: the result's url and excerpt exactly as received,
// plus the query that found it and the town it belongs to.
type rawPage struct {
	Query   string `json:"query"`
	URL     string `json:"url"`
	Town    string `json:"town"`
	Excerpt string `json:"excerpt"`
}

// recipeLine is one committed line of the recipe; it carries no page text.
type recipeLine struct {
	ID     string `json:"id"`
	Town   string `json:"town"`
	URL    string `json:"url"`
	Query  string `json:"query"`
	SHA256 string `json:"sha256"`
	Chars  int    `json:"chars"`
}

// question mirrors the question files' lines (the same shape as sample/eval/dev.*.jsonl).
type question struct {
	ID       string   `json:"id"`
	Lang     string   `json:"lang"`
	Question string   `json:"question"`
	Expect   []string `json:"expect"`
	Facts    []string `json:"facts"`
	Kind     string   `json:"kind"`
}

// errFailed marks a run that printed its own failures; main only sets the exit code.
var errFailed = errors.New("failed")

func main() {
	if len(os.Args) < 2 {
		usage(os.Stderr)
		os.Exit(2)
	}
	var err error
	args := os.Args[2:]
	switch os.Args[1] {
	case "recipe":
		err = cmdRecipe(args, os.Stdout)
	case "build":
		err = cmdBuild(args, os.Stdout)
	case "check":
		err = cmdCheck(args, os.Stdout)
	case "fetch-list":
		err = cmdFetchList(args, os.Stdout)
	case "-h", "--help", "help":
		usage(os.Stdout)
		return
	default:
		usage(os.Stderr)
		os.Exit(2)
	}
	if err != nil {
		if !errors.Is(err, errFailed) {
			fmt.Fprintln(os.Stderr, "realpages:", err)
		}
		os.Exit(1)
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage:
  realpages recipe     --raw DIR [--out eval/realpages/recipe.jsonl]
  realpages build      --raw DIR --out SITEDIR [--recipe eval/realpages/recipe.jsonl]
  realpages check      --site SITEDIR --questions 'eval/realpages/*.jsonl'
  realpages fetch-list [--recipe eval/realpages/recipe.jsonl]
`)
}

// sum is the recipe's hash: SHA-256 over the excerpt's UTF-8 bytes, nothing normalised, so
// that a page that changed in the store by a single character is noticed.
func sum(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// readRaw reads DIR/NNN.json; the file name (without .json) is the page's id.
func readRaw(dir string) (map[string]rawPage, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	pages := map[string]rawPage{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var p rawPage
		if err := json.Unmarshal(b, &p); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		pages[strings.TrimSuffix(filepath.Base(f), ".json")] = p
	}
	return pages, nil
}

func readRecipe(path string) ([]recipeLine, error) { return readJSONLines[recipeLine](path, false) }

// cmdRecipe writes the recipe from a raw directory; it is how the committed recipe was made.
func cmdRecipe(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("recipe", flag.ContinueOnError)
	raw := fs.String("raw", "", "directory of NNN.json search results")
	out := fs.String("out", defaultRecipe, "recipe file to write")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *raw == "" {
		return errors.New("recipe: --raw is required")
	}
	pages, err := readRaw(*raw)
	if err != nil {
		return err
	}
	ids := make([]string, 0, len(pages))
	for id := range pages {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var buf bytes.Buffer
	for _, id := range ids {
		p := pages[id]
		line, err := json.Marshal(recipeLine{ID: id, Town: p.Town, URL: p.URL, Query: p.Query,
			SHA256: sum(p.Excerpt), Chars: utf8.RuneCountInString(p.Excerpt)})
		if err != nil {
			return err
		}
		buf.Write(line)
		buf.WriteByte('\n')
	}
	if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %d pages to %s\n", len(ids), *out)
	return nil
}

// cmdBuild verifies every recipe page against its hash and renders the good ones, so that
// one changed page does not cost the whole set; any problem still fails the run.
func cmdBuild(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("build", flag.ContinueOnError)
	raw := fs.String("raw", "", "directory of NNN.json search results")
	out := fs.String("out", "", "directory to write NNN.html into")
	recipePath := fs.String("recipe", defaultRecipe, "recipe file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *raw == "" || *out == "" {
		return errors.New("build: --raw and --out are required")
	}
	recipe, err := readRecipe(*recipePath)
	if err != nil {
		return err
	}
	pages, err := readRaw(*raw)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	built, bad := 0, 0
	for _, r := range recipe {
		p, ok := pages[r.ID]
		switch {
		case !ok:
			fmt.Fprintf(stdout, "MISSING %s (%s): no %s.json in %s\n", r.ID, r.URL, r.ID, *raw)
			bad++
			continue
		case p.URL != r.URL:
			fmt.Fprintf(stdout, "URL MISMATCH %s: recipe %s, raw %s\n", r.ID, r.URL, p.URL)
			bad++
			continue
		case sum(p.Excerpt) != r.SHA256:
			fmt.Fprintf(stdout, "HASH MISMATCH %s (%s): the stored text differs from the recipe (%d chars, recipe %d)\n",
				r.ID, r.URL, utf8.RuneCountInString(p.Excerpt), r.Chars)
			bad++
			continue
		}
		// The recipe's town wins: it is the committed, reviewed value.
		if err := os.WriteFile(filepath.Join(*out, r.ID+".html"), []byte(render(p.Excerpt, r.Town, r.URL)), 0o644); err != nil {
			return err
		}
		built++
	}
	fmt.Fprintf(stdout, "built %d of %d pages into %s\n", built, len(recipe), *out)
	if bad > 0 {
		fmt.Fprintf(stdout, "%d pages failed\n", bad)
		return errFailed
	}
	return nil
}

// line kinds of the renderer
const (
	kindPara = iota
	kindHead
	kindItem
)

// bulletMarkers start list items; the excerpts use all three.
var bulletMarkers = []string{"-", "•", "*"}

// itemText returns the item's text and true if l is a list item: a marker alone, or a marker
// followed by a space (so "***NEU***" or "---|---" stay ordinary text).
func itemText(l string) (string, bool) {
	for _, m := range bulletMarkers {
		if l == m {
			return "", true
		}
		if strings.HasPrefix(l, m+" ") {
			return strings.TrimSpace(l[len(m):]), true
		}
	}
	return "", false
}

// hasWord: lines without a letter or digit ("^", "|", "---|---|") are layout debris of
// the stored copy and carry nothing a citizen could ask about.
func hasWord(l string) bool {
	for _, r := range l {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return true
		}
	}
	return false
}

// render turns an excerpt into one deterministic HTML page. The excerpt has no markup, only
// lines, so structure is guessed from the lines: the first is the title, bullets become a
// list, a short line introducing a longer one becomes a heading.
func render(excerpt, town, url string) string {
	var lines []string
	for _, l := range strings.Split(excerpt, "\n") {
		l = strings.TrimSpace(l)
		if l != "" && hasWord(l) {
			lines = append(lines, l)
		}
	}
	title := ""
	if len(lines) > 0 {
		title = lines[0]
	}
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html lang=\"de\"><head><meta charset=\"utf-8\">")
	fmt.Fprintf(&b, "<title>%s – %s</title>", html.EscapeString(title), html.EscapeString(town))
	fmt.Fprintf(&b, "<link rel=\"canonical\" href=\"%s\"></head>\n<body><main>\n", html.EscapeString(url))
	start := 1
	if len(lines) > 0 {
		fmt.Fprintf(&b, "<h1>%s</h1>\n", html.EscapeString(title))
		// Many stored copies begin mid-text, so their first line is a sentence rather than a
		// title. Extractors take the h1 as the title and may leave it out of the body, which
		// would drop that sentence's facts (or, for a one-line page, all content): such a
		// line is rendered once more as the first paragraph.
		if !titleLike(title) {
			start = 0
		}
	}
	inList := false
	for i := start; i < len(lines); i++ {
		l := lines[i]
		if text, ok := itemText(l); ok {
			if !inList {
				b.WriteString("<ul>\n")
				inList = true
			}
			if text != "" {
				fmt.Fprintf(&b, "<li>%s</li>\n", html.EscapeString(text))
			}
			continue
		}
		if inList {
			b.WriteString("</ul>\n")
			inList = false
		}
		next := ""
		if i+1 < len(lines) {
			next = lines[i+1]
		}
		if isHeading(l, next) {
			fmt.Fprintf(&b, "<h2>%s</h2>\n", html.EscapeString(l))
		} else {
			fmt.Fprintf(&b, "<p>%s</p>\n", html.EscapeString(l))
		}
	}
	if inList {
		b.WriteString("</ul>\n")
	}
	b.WriteString("</main></body></html>\n")
	return b.String()
}

// titleLike: short and not ending like a sentence.
func titleLike(l string) bool {
	return utf8.RuneCountInString(l) <= 60 && !strings.HasSuffix(l, ".") && !strings.HasSuffix(l, "!")
}

// isHeading: at most 60 characters, not ending like a sentence, and followed by a longer line
// (or a list), which it then introduces.
func isHeading(l, next string) bool {
	n := utf8.RuneCountInString(l)
	if n > 60 || next == "" {
		return false
	}
	if strings.HasSuffix(l, ".") || strings.HasSuffix(l, "!") || strings.HasSuffix(l, "?") {
		return false
	}
	if _, ok := itemText(next); ok {
		return true
	}
	return utf8.RuneCountInString(next) > n
}

var (
	canonicalRe = regexp.MustCompile(`<link rel="canonical" href="([^"]*)">`)
	tagRe       = regexp.MustCompile(`<[^>]*>`)
)

// pageText is the rendered page's visible text (title excluded, as a citizen sees it),
// with whitespace collapsed, which is what facts are matched against.
func pageText(doc string) string {
	if i := strings.Index(doc, "<body>"); i >= 0 {
		doc = doc[i:]
	}
	return collapse(html.UnescapeString(tagRe.ReplaceAllString(doc, " ")))
}

func collapse(s string) string { return strings.Join(strings.Fields(s), " ") }

func sameURL(a, b string) bool { return strings.TrimSuffix(a, "/") == strings.TrimSuffix(b, "/") }

// cmdCheck proves that every question can be answered from the built site: each fact stands
// verbatim on one of the expected pages. It reports every failure, not just the first.
func cmdCheck(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	site := fs.String("site", "", "directory of rendered NNN.html pages")
	var globs multi
	fs.Var(&globs, "questions", "question files (JSONL), glob allowed, repeatable")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *site == "" || len(globs) == 0 {
		return errors.New("check: --site and --questions are required")
	}
	htmls, err := filepath.Glob(filepath.Join(*site, "*.html"))
	if err != nil {
		return err
	}
	texts := map[string]string{} // canonical URL -> text
	for _, f := range htmls {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		m := canonicalRe.FindSubmatch(b)
		if m == nil {
			fmt.Fprintf(stdout, "PAGE %s: no canonical link\n", f)
			continue
		}
		texts[html.UnescapeString(string(m[1]))] = pageText(string(b))
	}
	var files []string
	for _, g := range globs {
		m, err := filepath.Glob(g)
		if err != nil {
			return err
		}
		for _, f := range m {
			// The recipe lives next to the questions, so the documented glob
			// 'eval/realpages/*.jsonl' matches it too; it holds pages, not questions.
			if filepath.Base(f) == filepath.Base(defaultRecipe) {
				continue
			}
			files = append(files, f)
		}
	}
	sort.Strings(files)
	if len(files) == 0 {
		return fmt.Errorf("check: no question files match %v", []string(globs))
	}
	seen := map[string]string{}
	total, failures := 0, 0
	byKind := map[string]int{}
	fail := func(format string, a ...any) {
		failures++
		fmt.Fprintf(stdout, "FAIL "+format+"\n", a...)
	}
	for _, f := range files {
		qs, err := readQuestions(f)
		if err != nil {
			return err
		}
		for _, q := range qs {
			total++
			byKind[q.Kind]++
			if prev, ok := seen[q.ID]; ok {
				fail("%s: id also used in %s", q.ID, prev)
			}
			seen[q.ID] = f
			if q.Question == "" || q.Lang == "" {
				fail("%s: empty question or lang", q.ID)
			}
			switch q.Kind {
			case "out_of_scope":
				if len(q.Expect) != 0 || len(q.Facts) != 0 {
					fail("%s: out_of_scope must have no expect and no facts", q.ID)
				}
				continue
			case "answerable", "redirect":
			default:
				fail("%s: unknown kind %q", q.ID, q.Kind)
				continue
			}
			if len(q.Expect) == 0 || len(q.Facts) == 0 {
				fail("%s: %s needs expect and facts", q.ID, q.Kind)
				continue
			}
			for _, fact := range q.Facts {
				want := collapse(fact)
				found, known := false, false
				for _, u := range q.Expect {
					for cu, text := range texts {
						if sameURL(cu, u) {
							known = true
							if strings.Contains(text, want) {
								found = true
							}
						}
					}
				}
				switch {
				case !known:
					fail("%s: no page in the site for %v", q.ID, q.Expect)
				case !found:
					fail("%s: fact %q is on none of %v", q.ID, fact, q.Expect)
				}
			}
		}
	}
	kinds := make([]string, 0, len(byKind))
	for k := range byKind {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	var parts []string
	for _, k := range kinds {
		parts = append(parts, fmt.Sprintf("%s %d", k, byKind[k]))
	}
	fmt.Fprintf(stdout, "%d questions in %d files against %d pages (%s): %d failures\n",
		total, len(files), len(texts), strings.Join(parts, ", "), failures)
	if failures > 0 {
		return errFailed
	}
	return nil
}

// readQuestions reads a question file strictly: a misspelt field is an error, not a lost fact.
func readQuestions(path string) ([]question, error) { return readJSONLines[question](path, true) }

// readJSONLines reads one JSON value a line, skipping blank lines; strict refuses unknown fields.
func readJSONLines[T any](path string, strict bool) ([]T, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []T
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		dec := json.NewDecoder(strings.NewReader(line))
		if strict {
			dec.DisallowUnknownFields()
		}
		var v T
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		out = append(out, v)
	}
	return out, sc.Err()
}

// cmdFetchList prints what a session with the search tool must look up to rebuild raw/:
// run the query in corpus "pages", keep the result whose url is exactly this one, and save
// it as NNN.json with the query and town from the recipe.
func cmdFetchList(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("fetch-list", flag.ContinueOnError)
	recipePath := fs.String("recipe", defaultRecipe, "recipe file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	recipe, err := readRecipe(*recipePath)
	if err != nil {
		return err
	}
	// Grouped by query: one look-up serves every page it found.
	var order []string
	byQuery := map[string][]recipeLine{}
	for _, r := range recipe {
		if _, ok := byQuery[r.Query]; !ok {
			order = append(order, r.Query)
		}
		byQuery[r.Query] = append(byQuery[r.Query], r)
	}
	fmt.Fprintf(stdout, "# %d pages from %d queries (corpus \"pages\")\n", len(recipe), len(order))
	for _, q := range order {
		fmt.Fprintf(stdout, "query: %s\n", q)
		for _, r := range byQuery[q] {
			fmt.Fprintf(stdout, "  %s  %s  (%s)\n", r.ID, r.URL, r.Town)
		}
	}
	return nil
}

// multi is a repeatable string flag.
type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(s string) error { *m = append(*m, s); return nil }
