package main

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/citybot-project/citybot/bot"
	"github.com/citybot-project/citybot/chat"
	"github.com/citybot-project/citybot/conversation"
	"github.com/citybot-project/citybot/database"
	"github.com/citybot-project/citybot/errs"
	"github.com/citybot-project/citybot/i18n"
	"github.com/citybot-project/citybot/knowledge"
	"github.com/citybot-project/citybot/privacy"
	"github.com/citybot-project/citybot/relay"
	"github.com/citybot-project/citybot/tenant"
	"github.com/citybot-project/citybot/web"
	"github.com/citybot-project/citybot/widget"
)

// site is what serving one town takes: its index, its chat server (engine, store, texts) and its
// widget bundle, and the background work of its chat (pings, retention).
type site struct {
	town   tenant.Town
	ix     *knowledge.Index
	chat   *chat.Server
	widget *widget.Assets
	stop   context.CancelFunc
}

// sites builds each town's site on its first request and keeps it until the town's settings
// change (tenant.Registry). The towns' indexes share one embedder, thesaurus, reranker and
// Meilisearch connection: the first town's index is the template of the others'.
type sites struct {
	e       *env
	db      *database.DB
	store   *tenant.Store
	metrics *chat.Metrics
	// addrs are the limits per client address, one for all towns.
	addrs *chat.AddrLimits
	life  context.Context // the server's: the sites' background work ends with it
	hub   *relay.Hub      // the live chats' relay
	reg   *tenant.Registry[*site]

	mu   sync.Mutex
	base *knowledge.Index
	// shipped is the shipped glossary, shared by the towns that add nothing to it, and texts
	// the shipped catalog, shared by the towns that word nothing their own way.
	shipped *knowledge.Glossary
	texts   *i18n.Catalog
	// defaultSlug is the town of the paths without /t/SLUG: CITYBOT_TOWN, else the only town.
	defaultSlug    string
	defaultChecked time.Time
}

func newSites(life context.Context, e *env, db *database.DB, metrics *chat.Metrics, hub *relay.Hub) *sites {
	s := &sites{e: e, db: db, store: tenant.NewStore(db.Pool), metrics: metrics, life: life, hub: hub,
		addrs: chat.NewAddrLimits(e.cfg.AddrRate, e.cfg.AddrBurst, e.cfg.AddrConns)}
	s.reg = tenant.NewRegistry(s.store, e.cfg.TownCheck, s.build)
	s.reg.OnRetire(func(old *site, gone bool) {
		old.stop()
		if gone {
			metrics.Forget(old.town.Slug)
		}
		// Its citizens reconnect and resume with the new settings.
		go old.chat.Shutdown()
	})
	return s
}

// Site serves web.Towns: the site of slug, "" for the default town.
func (s *sites) Site(ctx context.Context, slug string) (web.Site, error) {
	if slug == "" {
		var err error
		if slug, err = s.defaultTown(ctx); err != nil {
			return web.Site{}, err
		}
	}
	_, st, err := s.reg.Get(ctx, slug)
	if err != nil {
		return web.Site{}, siteError(slug, err)
	}
	return web.Site{Chat: st.chat, Widget: st.widget}, nil
}

// siteError: an unknown town is a 404; a town that cannot be set up (no privacy notice, the
// database away) is unavailable, with the reason in the log.
func siteError(slug string, err error) error {
	switch {
	case errors.Is(err, tenant.ErrNotFound):
		return errs.Wrap(errs.NotFound, err, "no such town")
	case errs.KindOf(err) != errs.Internal:
		return err
	}
	return errs.Wrap(errs.Unavailable, fmt.Errorf("town %s: %w", slug, err), "this town's chat is not available")
}

// defaultTown is CITYBOT_TOWN, else the only town; with several and none named, the paths
// without /t/SLUG serve nothing.
func (s *sites) defaultTown(ctx context.Context) (string, error) {
	if s.e.cfg.Town != "" {
		return s.e.cfg.Town, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.defaultSlug != "" && time.Since(s.defaultChecked) < s.e.cfg.TownCheck {
		return s.defaultSlug, nil
	}
	towns, err := s.store.List(ctx)
	if err != nil {
		if s.defaultSlug != "" {
			return s.defaultSlug, nil
		}
		return "", errs.Wrap(errs.Unavailable, err, "the towns are not available")
	}
	if len(towns) != 1 {
		s.defaultSlug = ""
		return "", errs.New(errs.NotFound, "no default town: use /t/SLUG/")
	}
	s.defaultSlug, s.defaultChecked = towns[0].Slug, time.Now()
	return s.defaultSlug, nil
}

// build makes a town's site.
func (s *sites) build(ctx context.Context, town tenant.Town) (*site, error) {
	if town.Settings.PrivacyURL == "" {
		return nil, fmt.Errorf("town %s has no privacy notice, which every welcome links: citybot towns set %s privacy_url=URL",
			town.Slug, town.Slug)
	}
	ix, err := s.index(ctx, town)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	if err := ix.Warm(ctx); err != nil {
		// Cold caches make the first answers slower, not wrong.
		s.e.log.Warn("warming the search caches", "town", town.Slug, "err", err)
	} else {
		s.e.log.Info("search caches warm", "town", town.Slug, "took", time.Since(start).Round(time.Millisecond))
	}
	engine, catalog, err := newEngine(s.e, ix, town, s.catalog(town))
	if err != nil {
		return nil, err
	}
	c := s.e.cfg
	cfg := chat.ServerConfig{AllowedOrigins: town.Settings.AllowedOrigins, Retention: time.Duration(town.Settings.Retention()) * 24 * time.Hour,
		ConnRate: c.ConnRate, ConnBurst: c.ConnBurst, Addrs: s.addrs,
		TrustedProxies: c.Proxies, Metrics: s.metrics.ForTown(town.Slug)}
	// Redaction keeps the numbers the town's pages state: they are what questions are about.
	redactor := privacy.NewRedactor(time.Now).WithKnownNumbers(ix)
	st := conversation.NewStore(s.db.Pool, town.ID, time.Now)
	turns := conversation.NewService(st, engine, redactor)
	city := bot.City{Name: town.Name, PrivacyURL: town.Settings.PrivacyURL, Contact: bot.Contact{Phone: town.Settings.ContactPhone}}
	srv := chat.NewServer(turns, st, catalog, city, cfg, s.e.log.With("town", town.Slug), time.Now)
	if s.hub != nil {
		srv.SetLive(&chat.Live{Pool: s.db.Pool, Town: town.ID, Hub: s.hub})
	}
	look := widget.Look{Color: town.Settings.WidgetColor, Title: town.Settings.WidgetTitle, Logo: town.Settings.WidgetLogo}
	assets, err := widget.New(catalog, "/t/"+town.Slug, look)
	if err != nil {
		return nil, err
	}
	raw, gz := assets.BundleSize()
	s.e.log.Info("town ready", "town", town.Slug, "bundle", assets.BundlePath(), "bytes", raw, "gzip_bytes", gz)
	work, stop := context.WithCancel(s.life)
	go srv.RunPurge(work)
	go srv.RunPings(work)
	return &site{town: town, ix: ix, chat: srv, widget: assets, stop: stop}, nil
}

// index is the town's knowledge index: the first built from the configuration, the others
// sharing its embedder, thesaurus, reranker and Meilisearch, and the shipped glossary unless the
// town adds to it.
func (s *sites) index(ctx context.Context, town tenant.Town) (*knowledge.Index, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.base == nil {
		ix, err := newIndex(ctx, s.e, s.db, town)
		if err != nil {
			return nil, err
		}
		// Every town's index shares the base's dependencies, and so this.
		ix.OnFallback(s.metrics.Fallback)
		s.base = ix
		return ix, nil
	}
	scope, err := s.store.Scope(ctx, town.ID)
	if err != nil {
		return nil, err
	}
	g := s.shipped
	if len(town.Settings.Glossary) > 0 || g == nil {
		if g, err = townGlossary(town); err != nil {
			return nil, err
		}
		if len(town.Settings.Glossary) == 0 {
			s.shipped = g
		}
	}
	return s.base.ForTown(ctx, knowledge.Scope{Town: town.ID, Search: scope}, g)
}

// catalog is the shipped catalog for a town without texts of its own, else nil (the town's
// catalog is loaded for it).
func (s *sites) catalog(town tenant.Town) *i18n.Catalog {
	if len(town.Settings.Texts) > 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.texts == nil {
		cat, err := loadCatalog(town)
		if err != nil {
			return nil // loaded and its error reported by newEngine
		}
		s.texts = cat
	}
	return s.texts
}

// runSweep retires, every minute, the towns whose widget and chat nobody used for
// CITYBOT_TOWN_IDLE and that have no citizen connected: their caches go, and their next
// request builds them again (a fifth of a second). Until ctx ends.
func (s *sites) runSweep(ctx context.Context) {
	t := time.NewTicker(min(time.Minute, s.e.cfg.TownIdle/2))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if s.reg.Sweep(s.e.cfg.TownIdle, func(st *site) bool { return st.chat.Connections() > 0 }) > 0 {
				// An idle server allocates little, so its collector would be slow to notice
				// the towns' caches are garbage: collect and give the memory back now.
				debug.FreeOSMemory()
			}
		}
	}
}

// warmDefault builds the default town's site before the first citizen comes.
func (s *sites) warmDefault(ctx context.Context) {
	if _, err := s.Site(ctx, ""); err != nil {
		s.e.log.Info("no default town built at start", "err", err)
	}
}

// shutdown closes every town's sockets with "going away".
func (s *sites) shutdown() {
	var wg sync.WaitGroup
	for _, st := range s.reg.Built() {
		st.stop()
		wg.Go(st.chat.Shutdown)
	}
	wg.Wait()
}

var _ web.Towns = (*sites)(nil)

// loadCatalog is the catalog with the town's own texts.
func loadCatalog(town tenant.Town) (*i18n.Catalog, error) { return i18n.Load(town.Settings.Texts) }
