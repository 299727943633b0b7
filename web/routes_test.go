package web

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/citybot-project/citybot/errs"
)

// fakes: each part of the surface answers with what the test needs.
type (
	fakeChat   struct{}
	fakeDB     struct{ err error }
	fakeWidget struct {
		panicWith any
		town      string
	}
	fakeTowns map[string]Site
)

func (f fakeTowns) Site(_ context.Context, slug string) (Site, error) {
	st, ok := f[slug]
	if !ok {
		return Site{}, errs.New(errs.NotFound, "no such town")
	}
	return st, nil
}

func (fakeChat) ServeWS(w http.ResponseWriter, r *http.Request) {
	c, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer c.Close()
	c.WriteMessage(websocket.TextMessage, []byte("hello"))
}

func (d fakeDB) Ping(context.Context) error { return d.err }

func (f fakeWidget) ServeLoader(w http.ResponseWriter, r *http.Request) {
	w.Write([]byte("loader" + f.town))
}
func (fakeWidget) ServeBundle(w http.ResponseWriter, r *http.Request) error {
	if r.PathValue("file") != "app.0123456789abcdef.js" {
		return errs.New(errs.NotFound, "no such bundle")
	}
	w.Write([]byte("bundle"))
	return nil
}
func (fakeWidget) ServeTest(w http.ResponseWriter, r *http.Request) error {
	return errors.New("template: secret detail")
}
func (f fakeWidget) ServeDemo(w http.ResponseWriter, r *http.Request) {
	if f.panicWith != nil {
		w.Header().Set("Content-Encoding", "gzip") // set, then the handler fails before writing
		panic(f.panicWith)
	}
	SetPagePolicy(w, r)
	w.Write([]byte("<!doctype html>"))
}
func (fakeWidget) ServeDemoFile(w http.ResponseWriter, r *http.Request) error { return nil }

// surface serves the fakes, logging into the returned buffer at debug level.
func surface(db fakeDB, wd fakeWidget) (http.Handler, *bytes.Buffer) {
	var log bytes.Buffer
	l := slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	eichenfeld := fakeWidget{town: " of eichenfeld"}
	towns := fakeTowns{"": {Chat: fakeChat{}, Widget: wd}, "eichenfeld": {Chat: fakeChat{}, Widget: eichenfeld}}
	return Routes(Surface{Towns: towns, DB: db, Log: l}), &log
}

func serve(h http.Handler, method, target string) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(method, target, nil))
	return w
}

func TestRoutesStatusesAndHeaders(t *testing.T) {
	h, log := surface(fakeDB{}, fakeWidget{})
	for _, tc := range []struct {
		method, target string
		code           int
		body           string
	}{
		{"GET", "/healthz", 200, "ok\n"},
		{"GET", "/readyz", 200, "ready\n"},
		{"GET", "/widget.js", 200, "loader"},
		{"GET", "/widget/app.0123456789abcdef.js", 200, "bundle"},
		{"GET", "/widget/app.js", 404, "no such bundle\n"},
		{"GET", "/", 200, "<!doctype html>"},
		{"GET", "/no/such/page", 404, "404 page not found\n"},
		{"GET", "/healthz/", 404, "404 page not found\n"},
		{"POST", "/healthz", 405, ""},
		{"GET", "/widget/test", 500, "internal error\n"},
		// A town's own paths; an unknown town is never another town's.
		{"GET", "/t/eichenfeld/widget.js", 200, "loader of eichenfeld"},
		{"GET", "/t/eichenfeld/widget/app.0123456789abcdef.js", 200, "bundle"},
		{"GET", "/t/eichenfeld/", 200, "<!doctype html>"},
		{"GET", "/t/nowhere/widget.js", 404, "no such town\n"},
		{"GET", "/t/nowhere/ws", 404, "no such town\n"},
		{"GET", "/t/eichenfeld", 307, ""}, // to its page, /t/eichenfeld/
		{"GET", "/t/", 404, "404 page not found\n"},
	} {
		w := serve(h, tc.method, tc.target)
		if w.Code != tc.code || tc.body != "" && w.Body.String() != tc.body {
			t.Errorf("%s %s: %d %q, want %d %q", tc.method, tc.target, w.Code, w.Body, tc.code, tc.body)
		}
		if w.Header().Get("X-Content-Type-Options") != "nosniff" || w.Header().Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("%s %s: headers %v", tc.method, tc.target, w.Header())
		}
	}
	if csp := serve(h, "GET", "/").Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self';") {
		t.Errorf("demo page policy %q", csp)
	}
	// The internal error is logged with its detail, which the client did not get.
	if !strings.Contains(log.String(), "level=ERROR") || !strings.Contains(log.String(), "secret detail") {
		t.Errorf("internal error not logged:\n%s", log)
	}
}

func TestReadyzUnavailable(t *testing.T) {
	h, log := surface(fakeDB{errors.New("dial tcp: connection refused")}, fakeWidget{})
	w := serve(h, "GET", "/readyz")
	if w.Code != http.StatusServiceUnavailable || w.Body.String() != "database unavailable\n" {
		t.Errorf("readyz without database: %d %q", w.Code, w.Body)
	}
	if strings.Contains(log.String(), "level=ERROR") {
		t.Errorf("an unavailable database is not an internal error:\n%s", log)
	}
}

func TestRecoveryAnswers500AndLogs(t *testing.T) {
	h, log := surface(fakeDB{}, fakeWidget{panicWith: "nil map"})
	w := serve(h, "GET", "/")
	if w.Code != http.StatusInternalServerError || w.Body.String() != "internal error\n" {
		t.Fatalf("panic: %d %q", w.Code, w.Body)
	}
	if w.Header().Get("Content-Encoding") != "" || w.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("headers after the panic: %v", w.Header())
	}
	for _, want := range []string{"level=ERROR", "panic: nil map", "routes_test.go", "status=500"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	// http.ErrAbortHandler is net/http's own way to abort: passed on.
	h, _ = surface(fakeDB{}, fakeWidget{panicWith: http.ErrAbortHandler})
	defer func() {
		if v := recover(); v != http.ErrAbortHandler {
			t.Errorf("recovered %v, want http.ErrAbortHandler passed on", v)
		}
	}()
	serve(h, "GET", "/")
}

func TestRequestLogLeavesOutQueryAndAddress(t *testing.T) {
	h, log := surface(fakeDB{}, fakeWidget{})
	r := httptest.NewRequest("GET", "/widget.js?name=Erika+Mustermann&phone=0170123456", nil)
	r.RemoteAddr = "203.0.113.7:51234"
	h.ServeHTTP(httptest.NewRecorder(), r)
	line := log.String()
	for _, want := range []string{"level=DEBUG", `msg="http request"`, "method=GET", "path=/widget.js", "status=200", "bytes=6", "took="} {
		if !strings.Contains(line, want) {
			t.Errorf("log lacks %q: %s", want, line)
		}
	}
	for _, private := range []string{"Erika", "0170123456", "203.0.113.7", "name="} {
		if strings.Contains(line, private) {
			t.Errorf("log holds %q: %s", private, line)
		}
	}
	// A request refused is worth an info line.
	log.Reset()
	serve(h, "GET", "/t/nowhere/widget.js")
	if line := log.String(); !strings.Contains(line, "level=INFO") || !strings.Contains(line, "status=404") {
		t.Errorf("a refused request's log: %s", line)
	}
}

// The WebSocket upgrade reaches the connection through the middleware's writer.
func TestWebSocketThroughMiddleware(t *testing.T) {
	h, log := surface(fakeDB{}, fakeWidget{})
	served := make(chan struct{}) // closed once the request is answered and logged
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
		close(served)
	}))
	defer srv.Close()
	c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, msg, err := c.ReadMessage(); err != nil || string(msg) != "hello" {
		t.Fatalf("read %q, %v", msg, err)
	}
	select {
	case <-served:
	case <-time.After(5 * time.Second):
		t.Fatal("the handler did not return")
	}
	if !strings.Contains(log.String(), "path=/ws status=101") {
		t.Errorf("upgrade not logged as 101:\n%s", log)
	}
}
