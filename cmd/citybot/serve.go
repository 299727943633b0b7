package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/citybot-project/citybot/audit"
	"github.com/citybot-project/citybot/chat"
	"github.com/citybot-project/citybot/console"
	"github.com/citybot-project/citybot/database"
	"github.com/citybot-project/citybot/desk"
	"github.com/citybot-project/citybot/mailer"
	"github.com/citybot-project/citybot/relay"
	"github.com/citybot-project/citybot/review"
	"github.com/citybot-project/citybot/tenant"
	"github.com/citybot-project/citybot/web"
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
	db, err := openDB(ctx, e, *migrate)
	if err != nil {
		return err
	}
	defer db.Close()
	// An installation from before towns becomes its first town (CITYBOT_CITY and its settings).
	settings, err := envSettings(e.cfg)
	if err != nil {
		return err
	}
	if slug, err := tenant.NewStore(db.Pool).Bootstrap(ctx, e.cfg.City, settings); err != nil {
		return fmt.Errorf("the first town from %s: %w", envCity, err)
	} else if slug != "" {
		e.log.Info("town set up from the environment", "town", slug)
	}
	if err := servable(ctx, e, tenant.NewStore(db.Pool)); err != nil {
		return err
	}
	var metrics *chat.Metrics
	var reg *prometheus.Registry
	if *metricsAddr != "" {
		reg = prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		metrics = chat.NewMetrics(reg)
	}
	// The embedded cluster is citybot's to keep running: killed or crashed, it is started again.
	restarts := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "citybot_database_restarts_total",
		Help: "Starts of the embedded PostgreSQL after it stopped answering, by outcome (ok, failed)."}, []string{"outcome"})
	if reg != nil {
		reg.MustRegister(restarts)
	}
	go db.Supervise(ctx, databaseCheck, func(err error) {
		if err != nil {
			restarts.WithLabelValues("failed").Inc()
			e.log.Error("the embedded database stopped; starting it again failed, trying again", "err", err)
			return
		}
		restarts.WithLabelValues("ok").Inc()
		e.log.Warn("the embedded database had stopped and was started again")
	})
	// The live chats between citizens and the service desk go through PostgreSQL, whichever
	// instance either side is connected to.
	hub := relay.NewHub(db.Pool, e.log.With("part", "relay"))
	if e.cfg.RelayURL != "" {
		if hub.ListenConfig, err = pgx.ParseConfig(e.cfg.RelayURL); err != nil {
			return fmt.Errorf("%s: %w", envRelayURL, err)
		}
	}
	go hub.Run(ctx)
	if reg != nil {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "citybot_live_relay_listening",
			Help: "1 while the live chat relay listens to PostgreSQL's notifications, 0 while it polls instead."},
			func() float64 {
				if hub.Listening() {
					return 1
				}
				return 0
			}))
	}
	go desk.RunSweep(ctx, db.Pool, time.Now, 30*time.Second, func(err error) { e.log.Warn("sweep the live chats", "err", err) })
	towns := newSites(ctx, e, db, metrics, hub)
	towns.warmDefault(ctx)
	go towns.runSweep(ctx)
	go runAuditPurge(ctx, db.Pool, time.Duration(e.cfg.AuditDays)*24*time.Hour, e.log)
	go review.RunRollUp(ctx, db.Pool, time.Now, func(err error) { e.log.Warn("daily roll-up for the dashboard", "err", err) })
	// With a mail server, new requests are reported to the towns' offices and e-mail requests
	// are answered from the console.
	var deskMail desk.Sender
	if e.cfg.SMTPURL != "" {
		m, err := mailer.New(e.cfg.SMTPURL, e.cfg.SMTPFrom)
		if err != nil {
			return err
		}
		deskMail = m
		go desk.RunNotifier(ctx, db.Pool, m, e.cfg.PublicURL, 30*time.Second, e.log)
	}
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
	return serveHTTP(ctx, ln, web.Routes(web.Surface{Towns: towns, DB: db, Log: e.log, Console: console.New(db.Pool, e.log, time.Now,
		console.Options{SSO: e.cfg.OIDC, Mail: deskMail, Hub: hub, Translate: e.translator()})}), towns, e.log)
}

// servable refuses a deployment with no town a citizen could be greeted by (every welcome names
// the town and links its privacy notice) rather than pose as some town; towns lacking their
// privacy notice are named, and serve nothing until it is set.
func servable(ctx context.Context, e *env, store *tenant.Store) error {
	towns, err := store.List(ctx)
	if err != nil {
		return err
	}
	var ready int
	var missing error
	for _, t := range towns {
		if t.Settings.PrivacyURL != "" {
			ready++
			continue
		}
		err := fmt.Errorf("town %s has no privacy notice, which every welcome links: citybot towns set %s privacy_url=URL", t.Slug, t.Slug)
		e.log.Warn("town not served", "town", t.Slug, "err", err)
		if missing == nil {
			missing = err
		}
	}
	switch {
	case ready > 0:
		return nil
	case missing != nil:
		return missing
	}
	return fmt.Errorf("no town to serve: add one with citybot towns add SLUG --name NAME --set privacy_url=URL (or set %s and %s)",
		envCity, envPrivacyURL)
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
func serveHTTP(ctx context.Context, ln net.Listener, h http.Handler, towns *sites, log *slog.Logger) error {
	hs := newHTTPServer(h)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	towns.shutdown()
	shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutCtx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// databaseCheck is how often serve checks that the embedded database answers.
const databaseCheck = 2 * time.Second

// runAuditPurge deletes the audit log's entries older than keep, at start and every six hours,
// until ctx ends. Several instances may do it at once: a delete of what is gone is nothing.
func runAuditPurge(ctx context.Context, q database.Querier, keep time.Duration, log *slog.Logger) {
	for {
		if n, err := audit.Purge(ctx, q, keep); err != nil {
			if ctx.Err() == nil {
				log.Warn("purging the audit log", "err", err)
			}
		} else if n > 0 {
			log.Info("audit log purged", "entries", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(6 * time.Hour):
		}
	}
}
