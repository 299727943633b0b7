package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/citybot-project/citybot/database/dbtest"
	"github.com/citybot-project/citybot/errs"
	"github.com/citybot-project/citybot/i18n"
	"github.com/citybot-project/citybot/web"
	"github.com/citybot-project/citybot/widget"
)

// TestRoutesServeWidget follows a city page's requests through the real routes: the page, the
// loader its script tag names, the bundle the loader names.
func TestRoutesServeWidget(t *testing.T) {
	cat, err := i18n.Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	assets, err := widget.New(cat, "/t/musterstadt", widget.Look{})
	if err != nil {
		t.Fatal(err)
	}
	// The chat server and database are not asked for here.
	h := web.Routes(web.Surface{Towns: oneTown{web.Site{Widget: assets}}, Log: slog.New(slog.DiscardHandler)})
	get := func(path string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		if w.Code != 200 {
			t.Fatalf("%s: %d", path, w.Code)
		}
		return w
	}
	page := get("/")
	if !strings.Contains(page.Header().Get("Content-Security-Policy"), "script-src 'self';") {
		t.Errorf("demo page policy: %q", page.Header().Get("Content-Security-Policy"))
	}
	for _, ref := range regexp.MustCompile(`(?:src|href)="(/[^"]*)"`).FindAllStringSubmatch(page.Body.String(), -1) {
		get(ref[1])
	}
	bundle := regexp.MustCompile(`/t/musterstadt/widget/app\.[0-9a-f]{16}\.js`).FindString(get("/widget.js").Body.String())
	if bundle != assets.BundlePath() {
		t.Fatalf("loader names %q, want %q", bundle, assets.BundlePath())
	}
	if w := get(bundle); !strings.Contains(w.Header().Get("Cache-Control"), "immutable") {
		t.Errorf("bundle cache: %q", w.Header().Get("Cache-Control"))
	}
	if !strings.Contains(get("/widget/test?lang=ar").Body.String(), `data-lang="ar"`) {
		t.Error("test page without data-lang")
	}
}

// oneTown is a deployment of one town, the default.
type oneTown struct{ site web.Site }

func (o oneTown) Site(_ context.Context, slug string) (web.Site, error) {
	if slug != "" && slug != "musterstadt" {
		return web.Site{}, errs.New(errs.NotFound, "no such town")
	}
	return o.site, nil
}

// freeAddr is a loopback address with a port nobody listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startServe runs `citybot serve` with env and args (which name --addr) until the test ends,
// when it must exit 0, and returns once /readyz answers. Its log is read once it has exited.
func startServe(t *testing.T, env map[string]string, args ...string) {
	t.Helper()
	addr := args[slices.Index(args, "--addr")+1]
	ctx, cancel := context.WithCancel(context.Background())
	var stderr bytes.Buffer
	code, exited := 0, make(chan struct{})
	go func() {
		code = run(ctx, append([]string{"serve"}, args...), strings.NewReader(""), io.Discard, &stderr, func(k string) string { return env[k] })
		close(exited)
	}()
	stop := func() int { cancel(); <-exited; return code }
	t.Cleanup(func() {
		if code := stop(); code != 0 {
			t.Errorf("serve exited %d: %s", code, stderr.String())
		}
	})
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not come up: %v; exit %d: %s", err, stop(), stderr.String())
		}
	}
}

// TestServeWithMetrics runs `citybot serve` with a metrics listener: a citizen's question shows
// in the metrics, which are served on their own address and not on the citizens'.
func TestServeWithMetrics(t *testing.T) {
	addr, metricsAddr := freeAddr(t), freeAddr(t)
	env := map[string]string{"DATABASE_URL": dbtest.URL(t), "CITYBOT_LOG_LEVEL": "warn", "CITYBOT_METRICS_ADDR": metricsAddr,
		"CITYBOT_CITY": "Musterstadt", "CITYBOT_PRIVACY_URL": "https://www.musterstadt.example/datenschutz"}
	startServe(t, env, "--addr", addr)
	c, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/ws", nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	var m map[string]any
	c.ReadJSON(&m)
	c.WriteJSON(map[string]any{"type": "handoff", "reason": "user_request"})
	if err := c.ReadJSON(&m); err != nil || m["type"] != "handoff" {
		t.Fatalf("handoff: %v %v", m, err)
	}
	body := func(url string) (int, string) { return httpGet(t, url) }
	code, text := body("http://" + metricsAddr + "/metrics")
	for _, want := range []string{`citybot_replies_total{kind="handoff",lang="de",reason="user_request",town="musterstadt"} 1`,
		`citybot_connections{town="musterstadt"} 1`, "go_goroutines"} {
		if code != 200 || !strings.Contains(text, want) {
			t.Errorf("metrics (%d) lack %q", code, want)
		}
	}
	if code, _ := body("http://" + addr + "/metrics"); code != http.StatusNotFound {
		t.Errorf("metrics on the citizens' address: %d, want 404", code)
	}
}

// TestServeNeedsItsTown: a deployment that configured no town refuses to serve rather than
// greeting citizens as the sample city; each missing setting is named.
func TestServeNeedsItsTown(t *testing.T) {
	for _, env := range []map[string]string{
		{},
		{"CITYBOT_CITY": "Lindenbrück"},
		{"CITYBOT_PRIVACY_URL": "https://www.lindenbrueck.example/datenschutz"},
	} {
		env["DATABASE_URL"] = dbtest.URL(t)
		code, _, stderr := citybot(t, env, "serve", "--addr", freeAddr(t))
		want := "no town to serve: add one with citybot towns add SLUG --name NAME --set privacy_url=URL"
		if env["CITYBOT_CITY"] != "" {
			want = "town lindenbrueck has no privacy notice, which every welcome links: citybot towns set lindenbrueck privacy_url=URL"
		}
		if code == 0 || !strings.Contains(stderr, want) {
			t.Errorf("serve with %v: exit %d, %q; want %q", env, code, stderr, want)
		}
		if strings.Contains(stderr, "Musterstadt") {
			t.Errorf("serve with %v poses as the sample city: %q", env, stderr)
		}
	}
}

// TestServeRefusesOutdatedSchema: a database an older citybot migrated is not served until it is
// migrated on purpose, and the refusal says what to run; nor does another command upgrade it
// quietly. After `citybot migrate`, or with `serve --migrate`, serve starts.
func TestServeRefusesOutdatedSchema(t *testing.T) {
	url, newest := dbtest.OutdatedURL(t)
	env := map[string]string{"DATABASE_URL": url, "CITYBOT_LOG_LEVEL": "warn",
		"CITYBOT_CITY": "Musterstadt", "CITYBOT_PRIVACY_URL": "https://www.musterstadt.example/datenschutz"}
	want := "citybot serve: the database schema is older than this citybot's: 1 migration pending (" + newest +
		"); back up the database, then run: citybot migrate\n"
	if code, _, stderr := citybot(t, env, "serve", "--addr", freeAddr(t)); code != 1 || !strings.HasSuffix(stderr, want) {
		t.Errorf("serve on an outdated schema: exit %d, %q; want %q", code, stderr, want)
	}
	if code, _, stderr := citybot(t, env, "ask", "Reisepass"); code != 1 || !strings.Contains(stderr, "run: citybot migrate") {
		t.Errorf("ask on an outdated schema: exit %d, %q", code, stderr)
	}
	code, stdout, stderr := citybot(t, env, "migrate")
	if code != 0 || !strings.Contains(stdout, "schema up to date") || !strings.Contains(stdout, newest) {
		t.Fatalf("migrate: exit %d, %s %s", code, stdout, stderr)
	}
	startServe(t, env, "--addr", freeAddr(t))

	url, _ = dbtest.OutdatedURL(t)
	env["DATABASE_URL"] = url
	startServe(t, env, "--addr", freeAddr(t), "--migrate")
}
