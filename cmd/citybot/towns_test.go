package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/citybot-project/citybot/database/dbtest"
)

// Two towns and a Kreis, written for this test: both towns have a page on the dog tax, with
// different amounts; the Kreis has the vehicle registration, which one town is linked to.
var twoTowns = map[string]map[string]string{
	"lindenbrueck": {"hundesteuer.html": townPage("Hundesteuer", "Lindenbrück",
		"Die Hundesteuer beträgt in Lindenbrück 96 Euro im Jahr für den ersten Hund.")},
	"eichenfeld": {"hundesteuer.html": townPage("Hundesteuer", "Eichenfeld",
		"Die Hundesteuer beträgt in Eichenfeld 144 Euro im Jahr für den ersten Hund.")},
	"kreis-auental": {"zulassung.html": townPage("Fahrzeug zulassen", "Landkreis Auental",
		"Die Zulassungsstelle des Landkreises Auental lässt Ihr Auto zu. Eine Zulassung kostet 30 Euro.")},
}

func townPage(title, town, text string) string {
	return `<!DOCTYPE html><html lang="de"><head><title>` + title + ` – ` + town + `</title></head><body><main><h1>` +
		title + `</h1><p>` + text + `</p></main></body></html>`
}

// setupTwoTowns makes a database with the two towns and the Kreis, through the CLI, each
// ingested, and returns the environment that names it.
func setupTwoTowns(t *testing.T) map[string]string {
	t.Helper()
	env := map[string]string{"DATABASE_URL": dbtest.URL(t), "CITYBOT_LOG_LEVEL": "warn"}
	must := func(args ...string) { mustRun(t, env, args...) }
	must("towns", "add", "lindenbrueck", "--name", "Lindenbrück", "--set", "privacy_url=https://www.lindenbrueck.example/datenschutz",
		"--set", "texts.de.ui.title=Fragen an Lindenbrück")
	must("towns", "add", "eichenfeld", "--name", "Eichenfeld", "--set", "privacy_url=https://www.eichenfeld.example/datenschutz")
	must("towns", "add", "kreis-auental", "--name", "Landkreis Auental", "--set", "privacy_url=https://www.auental.example/datenschutz")
	must("towns", "link", "eichenfeld", "--to", "kreis-auental")
	for slug, files := range twoTowns {
		dir := t.TempDir()
		for name, html := range files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(html), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		must("ingest", "--town", slug, "--dir", dir, "--base-url", "https://www."+slug+".example")
	}
	return env
}

// TestTwoTownsEndToEnd: towns set up with the CLI, each ingested, served by one process; each
// town's widget carries its own texts, each town's chat answers from its own pages only, a
// conversation of one town cannot be resumed at another, an unknown town is a 404, and an answer
// from the Kreis's page names the Kreis as responsible.
func TestTwoTownsEndToEnd(t *testing.T) {
	env := setupTwoTowns(t)
	if code, _, stderr := citybot(t, env, "ingest", "--dir", t.TempDir(), "--base-url", "https://x.example"); code == 0 ||
		!strings.Contains(stderr, "3 towns (eichenfeld, kreis-auental, lindenbrueck): name one with --town SLUG or CITYBOT_TOWN") {
		t.Errorf("ingest without a town among three: exit %d, %q", code, stderr)
	}

	addr := freeAddr(t)
	startServe(t, env, "--addr", addr)
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	// The widgets: each town's bundle with its own texts, under its own path.
	bundle := map[string]string{}
	for _, slug := range []string{"lindenbrueck", "eichenfeld"} {
		code, loader := get("/t/" + slug + "/widget.js")
		path := regexp.MustCompile(`/t/` + slug + `/widget/app\.[0-9a-f]{16}\.js`).FindString(loader)
		if code != 200 || path == "" {
			t.Fatalf("%s's loader: %d %q", slug, code, loader)
		}
		_, bundle[slug] = get(path)
	}
	if !strings.Contains(bundle["lindenbrueck"], "Fragen an Lindenbrück") || strings.Contains(bundle["eichenfeld"], "Fragen an Lindenbrück") {
		t.Errorf("a town's texts are not its own bundle's alone")
	}
	for _, path := range []string{"/t/nowhere/widget.js", "/t/nowhere/ws", "/widget.js", "/ws"} {
		// Three towns and none named the default: the paths without /t/SLUG serve none of them.
		if code, _ := get(path); code != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", path, code)
		}
	}

	dial := func(slug, query string) townConv { return dialTown(t, addr, slug, query) }
	ask := func(cv townConv, q string) map[string]any { return cv.ask(t, q) }
	text := func(m map[string]any) string { s, _ := m["text"].(string); return s }
	lb, ef := dial("lindenbrueck", "?lang=de"), dial("eichenfeld", "?lang=de")
	for name, c := range map[string]struct {
		cv         townConv
		own, other string
	}{"lindenbrueck": {lb, "96 Euro", "144 Euro"}, "eichenfeld": {ef, "144 Euro", "96 Euro"}} {
		if w, _ := c.cv.welcome["privacy_url"].(string); !strings.Contains(w, name) {
			t.Errorf("%s's welcome links another town's privacy notice: %q", name, w)
		}
		a := ask(c.cv, "Was kostet die Hundesteuer?")
		if !strings.Contains(text(a), c.own) || strings.Contains(text(a), c.other) {
			t.Errorf("%s answers %q, want its own %s and not %s", name, text(a), c.own, c.other)
		}
	}
	// The Kreis's page, for the town linked to it, says whose page it is; the other town has none.
	if a := ask(ef, "Wo kann ich mein Auto zulassen?"); !strings.Contains(text(a), "Zuständig ist Landkreis Auental") {
		t.Errorf("an answer from the Kreis's page: %q", text(a))
	}
	if a := ask(lb, "Wo kann ich mein Auto zulassen?"); strings.Contains(text(a), "Auental") {
		t.Errorf("an unlinked town answers from the Kreis's page: %q", text(a))
	}
	// Lindenbrück's resume token, presented at Eichenfeld, resumes nothing there.
	token, _ := lb.welcome["token"].(string)
	if token == "" {
		t.Fatalf("no resume token in %v", lb.welcome)
	}
	if w := dial("eichenfeld", "?resume="+token).welcome; w["refused"] != true || w["resumed"] == true || w["token"] == token {
		t.Errorf("a Lindenbrück conversation resumed at Eichenfeld: %v", w)
	}
	if w := dial("lindenbrueck", "?resume="+token).welcome; w["resumed"] != true {
		t.Errorf("the conversation did not resume at its own town: %v", w)
	}
}

// townConv is a citizen's WebSocket at one town and the welcome it began with.
type townConv struct {
	c       *websocket.Conn
	welcome map[string]any
}

// dialTown opens the chat of slug at addr and reads its welcome; a refused resume token is
// marked "refused" in the welcome of the new conversation that follows it.
func dialTown(t *testing.T, addr, slug, query string) townConv {
	t.Helper()
	c, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/t/"+slug+"/ws"+query, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", slug, err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	var w map[string]any
	err = c.ReadJSON(&w)
	if err == nil && w["type"] == "error" && w["code"] == "invalid_token" {
		// A token the town does not know: said so, and a new conversation begins.
		err = c.ReadJSON(&w)
		w["refused"] = true
	}
	if err != nil || w["type"] != "welcome" {
		t.Fatalf("%s: welcome %v %v", slug, w, err)
	}
	return townConv{c, w}
}

// ask sends a question and returns its answer or handoff.
func (cv townConv) ask(t *testing.T, q string) map[string]any {
	t.Helper()
	if err := cv.c.WriteJSON(map[string]any{"type": "ask", "id": "q1", "text": q}); err != nil {
		t.Fatal(err)
	}
	return cv.next(t, "answer", "handoff")
}

// next reads until a message of one of the types comes, and returns it.
func (cv townConv) next(t *testing.T, types ...string) map[string]any {
	t.Helper()
	for {
		var m map[string]any
		if err := cv.c.ReadJSON(&m); err != nil {
			t.Fatal(err)
		}
		if typ, _ := m["type"].(string); slices.Contains(types, typ) {
			return m
		}
	}
}
