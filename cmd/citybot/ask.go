package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/citybot-project/citybot/knowledge"
)

const askUsage = `ask [--k N] [--json] ["question"]

Prints the pages and passages retrieval finds, with their scores. Without a question it reads
one question per line from standard input.`

func cmdAsk(ctx context.Context, e *env, args []string) error {
	fs := newFlags("ask", askUsage, e.stderr)
	townFlag(fs, e)
	k := fs.Int("k", 5, "pages to show")
	asJSON := fs.Bool("json", false, "print hits as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	db, ix, err := openIndex(ctx, e)
	if err != nil {
		return err
	}
	defer db.Close()
	ask := func(q string) error {
		hits, err := ix.Search(ctx, knowledge.Query{Text: q, Limit: *k})
		if err != nil {
			return err
		}
		if *asJSON {
			return json.NewEncoder(e.stdout).Encode(hits)
		}
		printHits(e.stdout, hits)
		return nil
	}
	if fs.NArg() > 0 {
		return ask(strings.Join(fs.Args(), " "))
	}
	fmt.Fprintln(e.stderr, "Ask a question (Ctrl-D to end):")
	sc := bufio.NewScanner(e.stdin)
	for fmt.Fprint(e.stderr, "> "); sc.Scan(); fmt.Fprint(e.stderr, "> ") {
		if q := strings.TrimSpace(sc.Text()); q != "" {
			if err := ask(q); err != nil {
				return err
			}
		}
	}
	return sc.Err()
}

func printHits(w io.Writer, hits []knowledge.Hit) {
	if len(hits) == 0 {
		fmt.Fprintln(w, "no page found")
		return
	}
	for i, h := range hits {
		fmt.Fprintf(w, "%d. %s  <%s>\n   score %.4f (lexical %.3f, vector %.3f)  %s\n", i+1, h.Title, h.URL,
			h.Score, h.Lexical, h.Vector, strings.Join(h.Headings, " › "))
		text := h.Text
		if r := []rune(text); len(r) > 300 {
			text = string(r[:300]) + "…"
		}
		fmt.Fprintf(w, "   %s\n", strings.ReplaceAll(text, "\n", "\n   "))
	}
}
