package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/citybot-project/citybot/bot"
	"github.com/citybot-project/citybot/chat"
	"github.com/citybot-project/citybot/conversation"
	"github.com/citybot-project/citybot/database"
	"github.com/citybot-project/citybot/i18n"
	"github.com/citybot-project/citybot/knowledge"
	"github.com/citybot-project/citybot/privacy"
	"github.com/citybot-project/citybot/web"
	"github.com/citybot-project/citybot/widget"
)

const serveUsage = `serve [--addr HOST:PORT] [--metrics-addr HOST:PORT] [--migrate]

Serves citizens: the chat protocol on /ws, the embeddable widget on /widget.js, /healthz,
/readyz, and a demo city page that embeds the widget on /; Prometheus metrics on /metrics of
--metrics-addr, a listener of their own.

A DATABASE_URL database whose schema is older than this citybot's is refused: back it up and run
citybot migrate, or start with --migrate. The embedded cluster is migrated at start.`

func cmdServe(ctx context.Context, e *env, args []string) error {
	fs := newFlags("serve", serveUsage, e.stderr)
	addr := fs.String("addr", e.cfg.Addr, "address to listen on ("+envAddr+")")
	metricsAddr := fs.String("metrics-addr", e.cfg.MetricsAddr, "address for Prometheus metrics on /metrics, empty for none ("+envMetricsAddr+")")
	migrate := fs.Bool("migrate", false, "apply pending database migrations first, as citybot migrate does")
	if err := parse(fs, args); err != nil {
		return err
	}
	if e.cfg.City == "" || e.cfg.PrivacyURL == "" {
		return fmt.Errorf("%s and %s must be set: every welcome names the town and links its privacy notice "+
			"(make demo sets them for the sample city)", envCity, envPrivacyURL)
	}
	db, err := openDB(ctx, e, *migrate)
	if err != nil {
		return err
	}
	defer db.Close()
	ix, err := newIndex(ctx, e, db)
	if err != nil {
		return err
	}
	start := time.Now()
	if err := ix.Warm(ctx); err != nil {
		// Cold caches make the first answers slower, not wrong.
		e.log.Warn("warming the search caches", "err", err)
	} else {
		e.log.Info("search caches warm", "took", time.Since(start).Round(time.Millisecond))
	}
	var metrics *chat.Metrics
	var reg *prometheus.Registry
	if *metricsAddr != "" {
		reg = prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		metrics = chat.NewMetrics(reg)
	}
	srv, catalog, err := newChatServer(e, db, ix, metrics)
	if err != nil {
		return err
	}
	assets, err := widget.New(catalog)
	if err != nil {
		return err
	}
	raw, gz := assets.BundleSize()
	e.log.Info("widget", "bundle", assets.BundlePath(), "bytes", raw, "gzip_bytes", gz)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	e.log.Info("serving", "addr", ln.Addr().String())
	if reg != nil {
		mln, err := net.Listen("tcp", *metricsAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("listen for metrics: %w", err)
		}
		e.log.Info("serving metrics", "addr", mln.Addr().String())
		go serveMetrics(ctx, mln, reg, e.log)
	}
	return serveHTTP(ctx, ln, routes(srv, db, assets, e.log), srv, e.log)
}

// newChatServer returns the chat server and its catalog, which the widget's texts come from.
func newChatServer(e *env, db *database.DB, ix *knowledge.Index, metrics *chat.Metrics) (*chat.Server, *i18n.Catalog, error) {
	engine, catalog, err := newEngine(e, ix)
	if err != nil {
		return nil, nil, err
	}
	city := bot.City{Name: e.cfg.City, PrivacyURL: e.cfg.PrivacyURL}
	cfg := chat.ServerConfig{AllowedOrigins: e.cfg.Origins, Retention: e.cfg.Retention, ConnRate: e.cfg.ConnRate,
		ConnBurst: e.cfg.ConnBurst, AddrRate: e.cfg.AddrRate, AddrBurst: e.cfg.AddrBurst, AddrConns: e.cfg.AddrConns, TrustedProxies: e.cfg.Proxies, Metrics: metrics}
	// Redaction keeps the numbers the city's pages state: they are what questions are about.
	redactor := privacy.NewRedactor(time.Now).WithKnownNumbers(ix)
	st := conversation.NewStore(db.Pool, time.Now)
	turns := conversation.NewService(st, engine, redactor)
	return chat.NewServer(turns, st, catalog, city, cfg, e.log, time.Now), catalog, nil
}

// routes wires the chat, the database and the widget into the HTTP surface (web.Routes).
func routes(srv *chat.Server, db *database.DB, assets *widget.Assets, log *slog.Logger) http.Handler {
	return web.Routes(web.Surface{Chat: srv, DB: db, Widget: assets, Log: log})
}

// serveMetrics serves Prometheus metrics on their own listener until ctx ends: operations
// reach it, citizens (who reach the chat's port) do not.
func serveMetrics(ctx context.Context, ln net.Listener, reg *prometheus.Registry, log *slog.Logger) {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	hs := newHTTPServer(mux)
	go func() {
		<-ctx.Done()
		hs.Close()
	}()
	if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error("metrics server", "err", err)
	}
}

// HTTP limits of the listeners. A client gets readHeaderTimeout for its request's headers from
// the moment it connects, however slowly it sends them (slowloris), and readTimeout for the
// whole request; an idle keep-alive connection is closed after idleTimeout. A WebSocket is no
// longer the HTTP server's once upgraded: the upgrade clears these deadlines and the chat's own
// apply (pings, pongWait, WriteWait). Headers over maxHeaderBytes get 431.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 60 * time.Second
	idleTimeout       = 120 * time.Second
	maxHeaderBytes    = 64 << 10
)

// newHTTPServer is the HTTP server of every listener, with the limits above.
func newHTTPServer(h http.Handler) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: readHeaderTimeout, ReadTimeout: readTimeout,
		WriteTimeout: writeTimeout, IdleTimeout: idleTimeout, MaxHeaderBytes: maxHeaderBytes}
}

// serveHTTP serves until ctx ends, then closes the WebSockets with "going away" so clients
// resume elsewhere or after the restart, and lets running requests finish.
func serveHTTP(ctx context.Context, ln net.Listener, h http.Handler, srv *chat.Server, log *slog.Logger) error {
	hs := newHTTPServer(h)
	purgeCtx, stopPurge := context.WithCancel(ctx)
	defer stopPurge()
	go srv.RunPurge(purgeCtx)
	go srv.RunPings(purgeCtx)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	srv.Shutdown()
	shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutCtx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}
