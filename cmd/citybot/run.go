package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"testing/fstest"
	"time"

	"github.com/citybot-project/citybot/bot"
	"github.com/citybot-project/citybot/console"
	"github.com/citybot-project/citybot/conversation"
	"github.com/citybot-project/citybot/database"
	"github.com/citybot-project/citybot/i18n"
	"github.com/citybot-project/citybot/knowledge"
	"github.com/citybot-project/citybot/privacy"
	"github.com/citybot-project/citybot/tenant"

	"github.com/citybot-project/citybot/internal/breaker"
)

// command is one subcommand of citybot.
type command struct {
	name, summary string
	run           func(ctx context.Context, e *env, args []string) error
}

// env is what a subcommand gets: its streams and the configuration, read once.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	cfg            config
	log            *slog.Logger
	// town is the town the command acts on, once openIndex resolved it.
	town tenant.Town
	// llm is the breaker of the generative model, one for every town's engine.
	llm *breaker.Breaker
}

func commands() []command {
	return []command{
		{"serve", "serve citizens: the chat protocol on /ws and a demo page", cmdServe},
		{"migrate", "apply pending database migrations", cmdMigrate},
		{"ingest", "read the city's pages into the knowledge base", cmdIngest},
		{"ask", "show the passages retrieval finds for a question", cmdAsk},
		{"eval", "measure retrieval on a question set", cmdEval},
		{"bench", "measure ingest and retrieval speed, on the sample site or a synthetic corpus", cmdBench},
		{"towns", "add, list, configure, link and remove the towns this deployment serves", cmdTowns},
		{"users", "add, list, disable the staff accounts of the consoles, reset their passwords", cmdUsers},
		{"config", "print the configuration, secrets redacted", cmdConfig},
	}
}

// errUsage marks a command line error whose usage text was already printed.
var errUsage = errors.New("usage")

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		fmt.Fprintln(stderr, "citybot: config:", err)
		return 2
	}
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, cfg: cfg, log: newLogger(stderr, cfg.LogLevel, cfg.LogFormat),
		llm: breaker.New(3, 30*time.Second, time.Now)}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, e, args[1:])
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			return 2
		}
		fmt.Fprintf(stderr, "citybot %s: %v\n", c.name, err)
		return 1
	}
	fmt.Fprintf(stderr, "citybot: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: citybot <command> [flags]  (citybot <command> --help for its flags)")
	fmt.Fprintln(w)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
}

// newLogger logs to w at level, as logfmt-style text or, with format "json", one JSON object a line.
func newLogger(w io.Writer, level, format string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: l}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// parse parses flags, turning a parse error into errUsage (the flag package printed it).
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	return nil
}

// openDB opens the configured database. migrate upgrades a DATABASE_URL database whose schema is
// older than the binary's; without it such a database is refused with what to run.
func openDB(ctx context.Context, e *env, migrate bool) (*database.DB, error) {
	db, err := database.Open(ctx, database.Options{URL: e.cfg.DatabaseURL, DataDir: e.cfg.DataDir, Log: e.log,
		MaxConn: int32(e.cfg.DBConns), Migrate: migrate})
	if se := (*database.SchemaError)(nil); errors.As(err, &se) {
		return nil, fmt.Errorf("%w; back up the database, then run: citybot migrate", err)
	}
	return db, err
}

// openIndex opens the database and the knowledge index over it as configured.
func openIndex(ctx context.Context, e *env) (*database.DB, *knowledge.Index, error) {
	db, err := openDB(ctx, e, false)
	if err != nil {
		return nil, nil, err
	}
	town, err := resolveTown(ctx, e, db)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	ix, err := newIndex(ctx, e, db, town)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	e.town = town
	return db, ix, nil
}

// newIndex builds the index of town: the shipped glossary with the town's own concepts, its
// pages and those of the collections it is linked to.
func newIndex(ctx context.Context, e *env, db *database.DB, town tenant.Town) (*knowledge.Index, error) {
	g, err := townGlossary(town)
	if err != nil {
		return nil, err
	}
	var emb knowledge.Embedder = knowledge.NewHashEmbedder(0)
	if e.cfg.EmbedURL != "" {
		if emb, err = knowledge.NewOpenAIEmbedder(ctx, e.cfg.EmbedURL, e.cfg.EmbedModel, e.cfg.EmbedKey); err != nil {
			return nil, err
		}
	}
	var meili *knowledge.Meili
	if e.cfg.MeiliURL != "" {
		if meili, err = knowledge.NewMeili(ctx, e.cfg.MeiliURL, e.cfg.MeiliKey, e.cfg.MeiliIndex, g); err != nil {
			return nil, err
		}
		if e.cfg.MeiliSearchKey != "" {
			if err := meili.UseTenantTokens(ctx, e.cfg.MeiliSearchKey); err != nil {
				return nil, err
			}
		}
	}
	scope, err := tenant.NewStore(db.Pool).Scope(ctx, town.ID)
	if err != nil {
		return nil, err
	}
	ix, err := knowledge.NewIndex(ctx, db.Pool, knowledge.Scope{Town: town.ID, Search: scope}, emb, g, meili, e.log)
	if err != nil {
		return nil, err
	}
	rr, err := newReranker(e)
	if err != nil {
		return nil, err
	}
	ix.SetReranker(rr)
	th, err := loadThesaurus(e)
	if err != nil {
		return nil, err
	}
	ix.SetThesaurus(th)
	return ix, nil
}

// loadThesaurus reads the configured thesaurus. The default path is Debian's mythes-de, which
// `make setup` installs; without it retrieval works, knowing fewer of the citizens' words, and
// says so once. A path the operator named must be there.
func loadThesaurus(e *env) (*knowledge.Thesaurus, error) {
	if e.cfg.Thesaurus == "" {
		return nil, nil
	}
	th, err := knowledge.LoadThesaurus(e.cfg.Thesaurus)
	if errors.Is(err, fs.ErrNotExist) && e.cfg.Thesaurus == knowledge.DefaultThesaurus {
		e.log.Warn("no thesaurus: install Debian's mythes-de, or set "+envThesaurus+"=off", "path", e.cfg.Thesaurus)
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", envThesaurus, err)
	}
	return th, nil
}

// newReranker is the configured cross-encoder reranker, nil when CITYBOT_RERANK_URL is unset
// (the offline default).
func newReranker(e *env) (knowledge.Reranker, error) {
	if e.cfg.RerankURL == "" {
		return nil, nil
	}
	r, err := knowledge.NewHTTPReranker(e.cfg.RerankURL, e.cfg.RerankModel, e.cfg.RerankKey, e.cfg.RerankTimeout)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", envRerankURL, err)
	}
	return r, nil
}

// newEngine builds the chat engine over ix as configured, speaking cat (nil: the town's texts
// loaded here).
func newEngine(e *env, ix *knowledge.Index, town tenant.Town, cat *i18n.Catalog) (*bot.Engine, *i18n.Catalog, error) {
	if cat == nil {
		var err error
		if cat, err = loadCatalog(town); err != nil {
			return nil, nil, fmt.Errorf("the texts of town %s: %w", town.Slug, err)
		}
	}
	st := town.Settings
	city := bot.City{Name: town.Name, PrivacyURL: st.PrivacyURL,
		Contact: bot.Contact{Office: town.Name, Phone: st.ContactPhone, Email: st.ContactEmail, Hours: st.ContactHours},
		Town:    town.ID, Collections: map[int]string{}}
	for _, l := range town.Links {
		city.Collections[l.ID] = l.Name
	}
	cfg := bot.EngineConfig{MinConfidence: st.MinConf()}
	if e.cfg.LLMURL != "" {
		cfg.LLM = &bot.LLM{BaseURL: e.cfg.LLMURL, Model: e.cfg.LLMModel, APIKey: e.cfg.LLMKey, Client: &http.Client{},
			Timeout: e.cfg.LLMTimeout, Breaker: e.llm}
	}
	return bot.NewEngine(ix, ix, cat, city, cfg, e.log), cat, nil
}

// translator translates citizens' messages for the service desk's agents with the generative
// model, where one is configured; nil: none.
func (e *env) translator() console.Translator {
	if e.cfg.LLMURL == "" {
		return nil
	}
	l := &bot.LLM{BaseURL: e.cfg.LLMURL, Model: e.cfg.LLMModel, APIKey: e.cfg.LLMKey, Client: &http.Client{},
		Timeout: e.cfg.LLMTimeout, Breaker: e.llm}
	return l.Translate
}

// The knowledge index is what the chat engine retrieves from, detects languages with and asks
// which numbers the city states; the engine is what a conversation's turns ask.
var (
	_ bot.Retriever         = (*knowledge.Index)(nil)
	_ bot.Detector          = (*knowledge.Index)(nil)
	_ privacy.KnownNumbers  = (*knowledge.Index)(nil)
	_ conversation.Answerer = (*bot.Engine)(nil)
)

func cmdMigrate(ctx context.Context, e *env, args []string) error {
	fs := newFlags("migrate", "migrate", e.stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	db, err := openDB(ctx, e, true)
	if err != nil {
		return err
	}
	defer db.Close()
	var names []string
	rows, err := db.Pool.Query(ctx, "SELECT name FROM schema_migrations ORDER BY name")
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return err
		}
		names = append(names, n)
	}
	fmt.Fprintf(e.stdout, "schema up to date: %s\n", strings.Join(names, ", "))
	return rows.Err()
}

func cmdConfig(_ context.Context, e *env, args []string) error {
	fs := newFlags("config", "config", e.stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	e.cfg.print(e.stdout)
	return nil
}

// townGlossary is the shipped glossary with the town's own concepts.
func townGlossary(town tenant.Town) (*knowledge.Glossary, error) {
	if len(town.Settings.Glossary) == 0 {
		return knowledge.LoadGlossary(nil)
	}
	g, err := knowledge.LoadGlossary(fstest.MapFS{"town.json": {Data: town.Settings.Glossary}})
	if err != nil {
		return nil, fmt.Errorf("the glossary of town %s: %w", town.Slug, err)
	}
	return g, nil
}
