package eval

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/citybot-project/citybot/bot"
)

func TestFactCheck(t *testing.T) {
	answer := func(text string) bot.Reply { return bot.Reply{Kind: "answer", Text: text} }
	handoff := func(text string) bot.Reply { return bot.Reply{Kind: "handoff", Text: text} }
	q := func(kind string, facts ...string) Question { return Question{Kind: kind, Facts: facts} }
	for i, tc := range []struct {
		q             Question
		reply         bot.Reply
		counts, right bool
	}{
		{q("answerable", "37,00 Euro"), answer("Er kostet 37,00 Euro."), true, true},
		{q("answerable", "37,00 Euro", "sofort"), answer("Er kostet 37,00 Euro."), true, false},
		{q("answerable", "37,00 Euro"), handoff("Er kostet 37,00 Euro, fragen Sie uns."), true, false},
		{q("answerable"), answer("Irgendetwas."), false, false},
		{q("answerable"), handoff("Fragen Sie uns."), false, false},
		{q("redirect", "Amtsgericht"), handoff("Dafür ist das Amtsgericht zuständig."), true, true},
		{q("redirect", "Amtsgericht"), answer("Das Amtsgericht stellt ihn aus."), true, true},
		{q("redirect", "Amtsgericht"), handoff("Wenden Sie sich an das Bürgerbüro."), true, false},
		{q("redirect"), handoff("Wenden Sie sich an das Bürgerbüro."), false, false},
		{q("out_of_scope"), handoff("Dazu weiß ich nichts."), false, false},
	} {
		if counts, right := factCheck(tc.q, tc.reply); counts != tc.counts || right != tc.right {
			t.Errorf("%d: %+v / %+v: counts %v right %v, want %v %v", i, tc.q, tc.reply, counts, right, tc.counts, tc.right)
		}
	}
}

func TestTableMarksRowsBelowTheBaseline(t *testing.T) {
	ours, base := newTallies(), newTallies()
	add := func(ts *tallies, lang string, ranks ...int) {
		for _, r := range ranks {
			ts.add(Question{Lang: lang, Kind: "answerable"}, r)
		}
	}
	add(ours, "de", 1, 1, 1, 1, 2) // hit@1 0.80
	add(base, "de", 1, 1, 1, 2, 2) // 0.60
	add(ours, "en", 2, 2, 1, 1, 0) // 0.40
	add(base, "en", 1, 1, 1, 0, 0) // 0.60: marked
	add(ours, "fa", 0, 0)          // 0.00
	add(base, "fa", 1, 1)          // 1.00, but only 2 questions
	var out bytes.Buffer
	printTable(&out, ours, base)
	rows := map[string]string{}
	for _, line := range strings.Split(out.String(), "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			rows[f[0]] = line
		}
	}
	if h := strings.Fields(strings.Split(out.String(), "\n")[0]); strings.Join(h, " ") != "n hit@1 hit@3 mrr | base@1 base@3" {
		t.Errorf("header %q", h)
	}
	for name, want := range map[string]string{
		"all": "all 12 0.50 0.75 0.62 | 0.67 0.83 !",
		"de":  "de 5 0.80 1.00 0.90 | 0.60 1.00",
		"en":  "en 5 0.40 0.80 0.60 | 0.60 0.60 !",
		"fa":  "fa 2 0.00 0.00 0.00 | 1.00 1.00",
	} {
		if got := strings.Join(strings.Fields(rows[name]), " "); got != want {
			t.Errorf("row %s: %q, want %q\n%s", name, got, want, out.String())
		}
	}
}

func TestEvalBadQuestionFiles(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"notjson.jsonl":  "{nope\n",
		"nokind.jsonl":   `{"id":"1","lang":"de","question":"Hallo?","expect":["https://x"],"kind":"maybe"}` + "\n",
		"noexpect.jsonl": `{"id":"1","lang":"de","question":"Hallo?","expect":[],"kind":"answerable"}` + "\n",
	} {
		os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644)
		if _, err := ReadQuestionFile(filepath.Join(dir, name)); err == nil || !strings.Contains(err.Error(), name+":1") {
			t.Errorf("%s: err %v, want it to name file and line", name, err)
		}
	}
	if _, err := ReadQuestions([]string{filepath.Join(dir, "missing.jsonl")}); err == nil {
		t.Error("missing file: no error")
	}
}
