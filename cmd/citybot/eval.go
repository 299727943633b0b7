package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/citybot-project/citybot/eval"
	"github.com/citybot-project/citybot/knowledge"
	"github.com/citybot-project/citybot/privacy"
)

const evalUsage = `eval --questions FILE.jsonl [--questions ...] [--json] [--misses]

Runs every question through the same retrieval citizens get and reports hit@1, hit@3 and MRR
by language and kind, beside a naive baseline (BM25 over whole pages' main text, no stemming, no
glossary: base@1, base@3; "!" marks a row of at least 5 questions where citybot's hit@1 is below
the baseline's), and through the chat engine: fact recall, out-of-scope declines, false handoffs.
FILE may be a glob ('eval/dev.*.jsonl').`

func cmdEval(ctx context.Context, e *env, args []string) error {
	fs := newFlags("eval", evalUsage, e.stderr)
	townFlag(fs, e)
	var files stringList
	fs.Var(&files, "questions", "question file (JSONL), repeatable, globs allowed")
	asJSON := fs.Bool("json", false, "print exactly one JSON object")
	misses := fs.Bool("misses", false, "list the questions whose expected page is not among the first --miss-depth")
	missDepth := fs.Int("miss-depth", 3, "rank beyond which --misses lists a question")
	if err := parse(fs, args); err != nil {
		return err
	}
	if len(files) == 0 {
		fmt.Fprintln(e.stderr, "eval: --questions is required")
		fs.Usage()
		return errUsage
	}
	qs, err := eval.ReadQuestions(files)
	if err != nil {
		return err
	}
	db, ix, err := openIndex(ctx, e)
	if err != nil {
		return err
	}
	defer db.Close()
	engine, _, err := newEngine(e, ix, e.town, nil)
	if err != nil {
		return err
	}
	pages, err := ix.PageTexts(ctx)
	if err != nil {
		return err
	}
	res, err := eval.Run(ctx, eval.Setup{Engine: engine, Index: ix, Baseline: knowledge.NewBaseline(pages),
		Redact: privacy.NewRedactor(time.Now).WithKnownNumbers(ix).Redact, MissDepth: *missDepth}, qs)
	if err != nil {
		return err
	}
	if *asJSON {
		return res.WriteJSON(e.stdout)
	}
	res.WriteText(e.stdout, *misses)
	return nil
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }
