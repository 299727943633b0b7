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

// Site is one town's chat and widget.
type Site struct {
	Chat   Chat
	Widget Widget
}

// Towns finds a town's site by its slug; "" is the default town, which the paths without
// /t/SLUG serve (the only town, or the one configured). An unknown town, or no default, is an
// errs.NotFound error, never another town's site.
type Towns interface {
	Site(ctx context.Context, slug string) (Site, error)
}

// Surface is what the routes serve.
type Surface struct {
	Towns Towns
	DB    Pinger
	Log   *slog.Logger
	// Console serves the staff's pages under /console/ (nil: none).
	Console http.Handler
}

// readyTimeout bounds /readyz's database ping: a probe wants an answer, not a hanging request.
const readyTimeout = 2 * time.Second
