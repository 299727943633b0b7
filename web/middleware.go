package web

import (
	"bufio"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"time"
)

// secureHeaders sets the headers every response gets. nosniff: a browser takes a response for
// what its Content-Type says and nothing else. No response of citybot's needs to send a
// referrer onwards (the chat checks Origin), and the address of a page a citizen came from is
// nobody else's business.
func secureHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setSecureHeaders(w.Header())
		next.ServeHTTP(w, r)
	})
}

func setSecureHeaders(h http.Header) {
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
}

// recoverPanics turns a handler's panic into a logged internal error and a 500, when nothing
// was sent yet, instead of a connection dropped without an answer.
func recoverPanics(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw, ok := w.(*statusWriter)
		if !ok {
			sw = &statusWriter{ResponseWriter: w}
		}
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler { // the handler's way to abort quietly: net/http's business
				panic(v)
			}
			err := fmt.Errorf("panic: %v\n%s", v, debug.Stack())
			if sw.status != 0 { // the answer has begun: nothing to do but log
				log.Error("internal error", "method", r.Method, "path", r.URL.Path, "err", err)
				return
			}
			// Whatever the handler set (an ETag, a Content-Encoding) was for another answer.
			clear(sw.Header())
			setSecureHeaders(sw.Header())
			Error(sw, r, log, err)
		}()
		next.ServeHTTP(sw, r)
	})
}

// logRequests logs every request once it is answered: method, path, status, bytes, duration.
// Never the query string or the client's address: they may be a citizen's personal data. An
// answered request is a debug line (every page view of every town loads the widget); a refused
// or failed one is at info.
func logRequests(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		status := sw.status
		if status == 0 { // a handler that wrote nothing answered 200
			status = http.StatusOK
		}
		level := slog.LevelDebug
		if status >= 400 {
			level = slog.LevelInfo
		}
		log.Log(r.Context(), level, "http request", "method", r.Method, "path", r.URL.Path, "status", status, "bytes", sw.bytes,
			"took", time.Since(start).Round(time.Microsecond))
	})
}

// statusWriter remembers the status and size of a response for logRequests and recoverPanics.
type statusWriter struct {
	http.ResponseWriter
	status int // 0 until the header is written
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 || w.status < 200 { // 1xx informational answers may precede the final one
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

// Hijack hands the connection to the WebSocket upgrade (gorilla/websocket asks for an
// http.Hijacker directly, not through http.ResponseController).
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("hijack: the response writer cannot be hijacked")
	}
	c, rw, err := h.Hijack()
	if err == nil {
		w.status = http.StatusSwitchingProtocols
	}
	return c, rw, err
}

// Flush sends what was written so far.
func (w *statusWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
