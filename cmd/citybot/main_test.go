package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/citybot-project/citybot/database/dbtest"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

// citybot runs the command line with env as the whole environment.
func citybot(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(""), &out, &errb, func(k string) string { return env[k] })
	return code, out.String(), errb.String()
}

func TestUsageAndBadCommandLines(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "usage: citybot <command>"},
		{[]string{"--help"}, 0, "ingest"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"ingest", "--help"}, 0, "--sitemap"},
		{[]string{"ingest"}, 2, "give exactly one of --dir, --sitemap, --url"},
		{[]string{"ingest", "--dir", "x"}, 2, "--dir needs --base-url"},
		{[]string{"ingest", "--dir", "x", "--sitemap", "y"}, 2, "exactly one"},
		{[]string{"ingest", "--nope"}, 2, "flag provided but not defined"},
		{[]string{"eval"}, 2, "--questions is required"},
		{[]string{"ask", "--k", "many"}, 2, "invalid value"},
	} {
		code, stdout, stderr := citybot(t, nil, tc.args...)
		if code != tc.code || !strings.Contains(stdout+stderr, tc.want) {
			t.Errorf("citybot %v: exit %d, output %q; want exit %d and %q", tc.args, code, stdout+stderr, tc.code, tc.want)
		}
	}
}

func TestBadConfig(t *testing.T) {
	for env, want := range map[string]string{
		"CITYBOT_FETCH_TIMEOUT=soon":          "CITYBOT_FETCH_TIMEOUT",
		"CITYBOT_WORKERS=-1":                  "CITYBOT_WORKERS",
		"CITYBOT_EMBED_URL=http://x":          "CITYBOT_EMBED_MODEL",
		"CITYBOT_TRUSTED_PROXIES=10.0.0.0/33": "CITYBOT_TRUSTED_PROXIES",
	} {
		k, v, _ := strings.Cut(env, "=")
		code, _, stderr := citybot(t, map[string]string{k: v}, "config")
		if code != 2 || !strings.Contains(stderr, want) {
			t.Errorf("%s: exit %d, %q", env, code, stderr)
		}
	}
}

func TestConfigRedactsSecrets(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "key")
	os.WriteFile(keyFile, []byte("s3cret\n"), 0o600)
	code, stdout, _ := citybot(t, map[string]string{"DATABASE_URL": "postgres://bot:hunter2@db/citybot",
		"MEILI_API_KEY_FILE": keyFile}, "config")
	if code != 0 || strings.Contains(stdout, "hunter2") || strings.Contains(stdout, "s3cret") {
		t.Fatalf("exit %d, secrets shown: %s", code, stdout)
	}
	if !strings.Contains(stdout, "DATABASE_URL=postgres://bot:xxxxx@db/citybot") || !strings.Contains(stdout, "MEILI_API_KEY=(set)") {
		t.Errorf("config output: %s", stdout)
	}
}

// TestIngestAskEvalOnSampleSite runs the commands an editor runs, end to end, against a real
// database, and holds retrieval on the dev questions to a floor below the README's numbers, so a
// regression fails the build.
func TestIngestAskEvalOnSampleSite(t *testing.T) {
	env := map[string]string{"DATABASE_URL": dbtest.URL(t), "CITYBOT_LOG_LEVEL": "warn"}
	sample := filepath.Join("..", "..", "sample")
	code, stdout, stderr := citybot(t, env, "ingest", "--dir", filepath.Join(sample, "musterstadt"),
		"--base-url", "https://www.musterstadt.example", "--json")
	if code != 0 {
		t.Fatalf("ingest: exit %d: %s %s", code, stdout, stderr)
	}
	var sum struct{ New, Failed int }
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil || sum.New < 100 || sum.Failed != 0 {
		t.Fatalf("ingest summary %s: %v", stdout, err)
	}

	code, stdout, _ = citybot(t, env, "ask", "Was kostet ein Reisepass?")
	if code != 0 || !strings.Contains(stdout, "https://www.musterstadt.example/buergerservice/reisepass-beantragen") ||
		!strings.Contains(stdout, "score") {
		t.Errorf("ask: exit %d: %s", code, stdout)
	}

	code, stdout, stderr = citybot(t, env, "eval", "--json", "--questions", filepath.Join(sample, "eval", "dev.*.jsonl"))
	if code != 0 {
		t.Fatalf("eval: exit %d: %s", code, stderr)
	}
	if strings.Count(strings.TrimSpace(stdout), "\n") != 0 {
		t.Fatalf("eval --json printed more than one line: %s", stdout)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(stdout), &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"questions", "hit_at_1", "hit_at_3", "mrr", "fact_recall", "oos_declined", "false_handoff", "by_lang"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("eval JSON lacks %q", k)
		}
	}
	var rep evalReport
	json.Unmarshal([]byte(stdout), &rep)
	if rep.Questions < 200 || rep.FactRecall == nil || rep.OOSDeclined == nil || rep.FalseHandoff == nil {
		t.Fatalf("questions %d, answering metrics %v %v %v", rep.Questions, rep.FactRecall, rep.OOSDeclined, rep.FalseHandoff)
	}
	// Floors below the README's numbers: the chat engine must not regress.
	if *rep.FactRecall < 0.7 || *rep.OOSDeclined < 0.9 || *rep.FalseHandoff > 0.08 {
		t.Errorf("answering regressed: fact recall %.2f, out of scope declined %.2f, false handoffs %.2f",
			*rep.FactRecall, *rep.OOSDeclined, *rep.FalseHandoff)
	}
	if rep.HitAt3 < 0.85 || rep.HitAt1 < 0.65 || rep.ByLang["de"].HitAt3 < 0.85 || rep.ByLang["en"].HitAt3 < 0.8 {
		t.Errorf("retrieval regressed: hit@1 %.2f hit@3 %.2f, de %.2f, en %.2f", rep.HitAt1, rep.HitAt3,
			rep.ByLang["de"].HitAt3, rep.ByLang["en"].HitAt3)
	}
	t.Logf("dev questions: hit@1 %.2f hit@3 %.2f mrr %.2f fact recall %.2f declined %.2f false handoffs %.2f",
		rep.HitAt1, rep.HitAt3, rep.MRR, *rep.FactRecall, *rep.OOSDeclined, *rep.FalseHandoff)
}

func TestEvalBadQuestionFiles(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"notjson.jsonl":  "{nope\n",
		"nokind.jsonl":   `{"id":"1","lang":"de","question":"Hallo?","expect":["https://x"],"kind":"maybe"}` + "\n",
		"noexpect.jsonl": `{"id":"1","lang":"de","question":"Hallo?","expect":[],"kind":"answerable"}` + "\n",
	} {
		os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644)
		if _, err := readQuestionFile(filepath.Join(dir, name)); err == nil || !strings.Contains(err.Error(), name+":1") {
			t.Errorf("%s: err %v, want it to name file and line", name, err)
		}
	}
	if _, err := readQuestions([]string{filepath.Join(dir, "missing.jsonl")}); err == nil {
		t.Error("missing file: no error")
	}
}
