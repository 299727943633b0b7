package bot

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/citybot-project/citybot/database/dbtest"
	"github.com/citybot-project/citybot/i18n"
	"github.com/citybot-project/citybot/internal/testsite"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// TestDemoQuestionsAnswerFromTheirService: the widget's demo questions on the sample site are
// answered from the page of the service they name, not from a page that shares the question's
// frame ("Was kostet er, und wie lange dauert es?" on the international driving licence page).
func TestDemoQuestionsAnswerFromTheirService(t *testing.T) {
	_, ix := testsite.Index(t)
	cat, err := i18n.Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	eng := NewEngine(ix, ix, cat, City{Name: "Musterstadt"}, EngineConfig{MinConfidence: 0.25}, quiet)
	for q, want := range map[string][]string{
		"Was kostet eine Geburtsurkunde?": {"/buergerservice/urkunden-bestellen", "/buergerservice/geburt-beurkunden"},
		"Hundesteuer":                     {"/buergerservice/hundesteuer"},
	} {
		r, err := eng.Reply(context.Background(), q, "de", "de")
		if err != nil {
			t.Fatal(err)
		}
		if r.Kind != "answer" || len(r.Sources) == 0 {
			t.Fatalf("%q: %s (%s), want an answer", q, r.Kind, r.Reason)
		}
		ok := false
		for _, w := range want {
			ok = ok || strings.HasSuffix(r.Sources[0].URL, w)
		}
		if !ok {
			t.Errorf("%q answered from %s, want one of %v", q, r.Sources[0].URL, want)
		}
	}
}
