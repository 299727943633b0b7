// Package web is citybot's HTTP edge: the routes of everything citizens reach, the middleware
// every request passes (request log, recovery from panics, security headers), the one mapping
// of errors to HTTP statuses, and the static asset type of the widget and future consoles.
//
// It knows no domain: the chat, the widget and the database come in as the small interfaces
// below, wired by cmd/citybot.
package web

import (
	"context"
	"log/slog"
	"net/http"
	"time"
)

// Chat is the citizens' chat protocol over a WebSocket.
type Chat interface {
	ServeWS(w http.ResponseWriter, r *http.Request)
}

// Pinger tells whether a dependency answers; /readyz asks the database.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Widget serves the embeddable widget and the demo pages around it.
type Widget interface {
	ServeLoader(w http.ResponseWriter, r *http.Request)       // the stable loader a city's script tag names
	ServeBundle(w http.ResponseWriter, r *http.Request) error // the content-hashed bundle, {file}
	ServeTest(w http.ResponseWriter, r *http.Request) error   // a bare page with only the widget
	ServeDemo(w http.ResponseWriter, r *http.Request)         // the mock city page
	ServeDemoFile(w http.ResponseWriter, r *http.Request) error
}

// Surface is what the routes serve.
type Surface struct {
	Chat   Chat
	DB     Pinger
	Widget Widget
	Log    *slog.Logger
}

// readyTimeout bounds /readyz's database ping: a probe wants an answer, not a hanging request.
const readyTimeout = 2 * time.Second
