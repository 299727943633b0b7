package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/netip"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/citybot-project/citybot/chat"
	"github.com/citybot-project/citybot/console"
	"github.com/citybot-project/citybot/knowledge"
	"github.com/citybot-project/citybot/mailer"
	"github.com/citybot-project/citybot/tenant"
)

// Environment variables, each read once into config.
const (
	envDatabaseURL  = "DATABASE_URL"
	envData         = "CITYBOT_DATA"
	envMeiliURL     = "MEILI_URL"
	envMeiliKey     = "MEILI_API_KEY"
	envMeiliSearch  = "MEILI_SEARCH_KEY"
	envMeiliIndex   = "CITYBOT_MEILI_INDEX"
	envEmbedURL     = "CITYBOT_EMBED_URL"
	envEmbedModel   = "CITYBOT_EMBED_MODEL"
	envEmbedKey     = "CITYBOT_EMBED_API_KEY"
	envGlossaryDir  = "CITYBOT_GLOSSARY_DIR"
	envFetchTimeout = "CITYBOT_FETCH_TIMEOUT"
	envMaxPageBytes = "CITYBOT_MAX_PAGE_BYTES"
	envWorkers      = "CITYBOT_WORKERS"
	envIngestStore  = "CITYBOT_INGEST_WORKERS"
	envIngestNice   = "CITYBOT_INGEST_NICE"
	envLogLevel     = "CITYBOT_LOG_LEVEL"
	envLogFormat    = "CITYBOT_LOG_FORMAT"
	envCity         = "CITYBOT_CITY"
	envPrivacyURL   = "CITYBOT_PRIVACY_URL"
	envContactPhone = "CITYBOT_CONTACT_PHONE"
	envContactEmail = "CITYBOT_CONTACT_EMAIL"
	envContactHours = "CITYBOT_CONTACT_HOURS"
	envMinConf      = "CITYBOT_MIN_CONFIDENCE"
	envTextsDir     = "CITYBOT_TEXTS_DIR"
	envAddr         = "CITYBOT_ADDR"
	envMetricsAddr  = "CITYBOT_METRICS_ADDR"
	envOrigins      = "CITYBOT_ALLOWED_ORIGINS"
	envRetention    = "CITYBOT_RETENTION_DAYS"
	envAuditDays    = "CITYBOT_AUDIT_DAYS"
	envOIDCIssuer   = "CITYBOT_OIDC_ISSUER"
	envOIDCClient   = "CITYBOT_OIDC_CLIENT_ID"
	envOIDCSecret   = "CITYBOT_OIDC_CLIENT_SECRET"
	envOIDCRedirect = "CITYBOT_OIDC_REDIRECT_URL"
	envOIDCRoles    = "CITYBOT_OIDC_ROLES_CLAIM"
	envOIDCScopes   = "CITYBOT_OIDC_SCOPES"
	envSMTPURL      = "CITYBOT_SMTP_URL"
	envSMTPFrom     = "CITYBOT_SMTP_FROM"
	envPublicURL    = "CITYBOT_PUBLIC_URL"
	envRelayURL     = "CITYBOT_RELAY_URL"
	envConnLimits   = "CITYBOT_CONN_LIMITS"
	envAddrLimits   = "CITYBOT_ADDR_LIMITS"
	envAddrConns    = "CITYBOT_ADDR_CONNS"
	envProxies      = "CITYBOT_TRUSTED_PROXIES"
	envDBConns      = "CITYBOT_DB_CONNS"
	envLLMURL       = "LLM_URL"
	envLLMModel     = "LLM_MODEL"
	envLLMKey       = "LLM_API_KEY"
	envLLMTimeout   = "LLM_TIMEOUT"
	envRerankURL    = "CITYBOT_RERANK_URL"
	envRerankModel  = "CITYBOT_RERANK_MODEL"
	envRerankKey    = "CITYBOT_RERANK_API_KEY"
	envRerankTime   = "CITYBOT_RERANK_TIMEOUT"
	envThesaurus    = "CITYBOT_THESAURUS"
	envTown         = "CITYBOT_TOWN"
	envTownCheck    = "CITYBOT_TOWN_CHECK"
	envTownIdle     = "CITYBOT_TOWN_IDLE"
)

// config is everything citybot reads from its environment and common flags.
type config struct {
	DatabaseURL string
	DataDir     string
	MeiliURL    string
	MeiliKey    string
	// MeiliSearchKey, when set, signs the tenant tokens every town's searches carry.
	MeiliSearchKey string
	MeiliIndex     string
	EmbedURL       string
	EmbedModel     string
	EmbedKey       string
	GlossaryDir    string
	FetchTimeout   time.Duration
	MaxPageBytes   int64
	Workers        int
	// IngestWorkers are the pages an ingest stores at once, IngestNice its CPU priority (0-19):
	// an ingest is background work beside the answers of a server on the same database.
	IngestWorkers int
	IngestNice    int
	LogLevel      string
	LogFormat     string // "text" or "json"
	City          string
	PrivacyURL    string
	ContactPhone  string
	ContactEmail  string
	ContactHours  string
	MinConf       float64
	TextsDir      string
	Addr          string
	MetricsAddr   string
	Proxies       []netip.Prefix
	Origins       []string
	Retention     time.Duration
	// AuditDays is how long the audit log keeps an entry: longer than conversations, so that
	// what staff did stays answerable after the conversation is gone.
	AuditDays int
	// OIDC is the staff's identity provider for single sign-on (nil: none).
	OIDC *console.SSOConfig
	// SMTPURL and SMTPFrom send the desk's mail ("": none); PublicURL is citybot's address as
	// staff reach it, for links in that mail.
	SMTPURL, SMTPFrom, PublicURL string
	// RelayURL is where the live chat's relay LISTENs ("": where DATABASE_URL connects), for a
	// DATABASE_URL that goes through a pooler in transaction mode.
	RelayURL   string
	ConnRate   float64
	ConnBurst  int
	AddrRate   float64 // 0: no per-address limit
	AddrBurst  int
	AddrConns  int // 0: no bound on connections per address
	DBConns    int
	LLMURL     string
	LLMModel   string
	LLMKey     string
	LLMTimeout time.Duration
	// The optional cross-encoder reranker (off when RerankURL is empty).
	RerankURL     string
	RerankModel   string
	RerankKey     string
	RerankTimeout time.Duration
	// Thesaurus is a German thesaurus in MyThes' format ("" when switched off).
	Thesaurus string
	// Town is the town commands act on when there are several (its slug).
	Town string
	// TownCheck is how often serve looks at a town's settings for a change made elsewhere
	// (`towns set` or another instance): the longest a change takes to reach citizens.
	TownCheck time.Duration
	// TownIdle is how long a town nobody uses keeps what serving it built (its caches).
	TownIdle time.Duration
}

// loadConfig reads the environment; a secret may also come from a file named by NAME_FILE.
func loadConfig(getenv func(string) string) (config, error) {
	get := func(key, def string) string {
		if v := getenv(key); v != "" {
			return v
		}
		if f := getenv(key + "_FILE"); f != "" {
			if b, err := os.ReadFile(f); err == nil {
				return strings.TrimSpace(string(b))
			}
		}
		return def
	}
	c := config{
		DatabaseURL:    get(envDatabaseURL, ""),
		DataDir:        get(envData, "./var"),
		MeiliURL:       get(envMeiliURL, ""),
		MeiliKey:       get(envMeiliKey, ""),
		MeiliSearchKey: get(envMeiliSearch, ""),
		MeiliIndex:     get(envMeiliIndex, "citybot_chunks"),
		EmbedURL:       get(envEmbedURL, ""),
		EmbedModel:     get(envEmbedModel, ""),
		EmbedKey:       get(envEmbedKey, ""),
		GlossaryDir:    get(envGlossaryDir, ""),
		LogLevel:       get(envLogLevel, "info"),
		LogFormat:      strings.ToLower(strings.TrimSpace(get(envLogFormat, "text"))),
		// No defaults: a deployment that configured nothing must not pose as the sample city.
		// serve refuses to start without them.
		City:         get(envCity, ""),
		PrivacyURL:   get(envPrivacyURL, ""),
		ContactPhone: get(envContactPhone, "115"),
		ContactEmail: get(envContactEmail, ""),
		ContactHours: get(envContactHours, ""),
		TextsDir:     get(envTextsDir, ""),
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return c, fmt.Errorf("%s: want text or json", envLogFormat)
	}
	var err error
	if c.FetchTimeout, err = time.ParseDuration(get(envFetchTimeout, "20s")); err != nil || c.FetchTimeout <= 0 {
		return c, fmt.Errorf("%s: want a duration such as 20s", envFetchTimeout)
	}
	if c.MaxPageBytes, err = strconv.ParseInt(get(envMaxPageBytes, "5242880"), 10, 64); err != nil || c.MaxPageBytes <= 0 {
		return c, fmt.Errorf("%s: want a positive number of bytes", envMaxPageBytes)
	}
	if c.Workers, err = strconv.Atoi(get(envWorkers, "4")); err != nil || c.Workers <= 0 {
		return c, fmt.Errorf("%s: want a positive number", envWorkers)
	}
	if c.IngestWorkers, err = strconv.Atoi(get(envIngestStore, "1")); err != nil || c.IngestWorkers <= 0 {
		return c, fmt.Errorf("%s: want a positive number", envIngestStore)
	}
	if c.IngestNice, err = strconv.Atoi(get(envIngestNice, "19")); err != nil || c.IngestNice < 0 || c.IngestNice > 19 {
		return c, fmt.Errorf("%s: want a niceness from 0 (none) to 19", envIngestNice)
	}
	if c.MinConf, err = strconv.ParseFloat(get(envMinConf, "0.25"), 64); err != nil || !(c.MinConf >= 0 && c.MinConf <= 1) { // NaN too
		return c, fmt.Errorf("%s: want a number from 0 to 1", envMinConf)
	}
	c.Addr = get(envAddr, ":8080")
	c.MetricsAddr = get(envMetricsAddr, "")
	for _, o := range strings.Split(get(envOrigins, ""), ",") {
		if o = strings.TrimSpace(o); o != "" {
			c.Origins = append(c.Origins, o)
		}
	}
	days, err := strconv.Atoi(get(envRetention, "90"))
	if err != nil || days < 1 || days > maxRetentionDays {
		return c, fmt.Errorf("%s: want a whole number of days up to %d", envRetention, maxRetentionDays)
	}
	c.Retention = time.Duration(days) * 24 * time.Hour
	if issuer := get(envOIDCIssuer, ""); issuer != "" {
		c.OIDC = &console.SSOConfig{Issuer: issuer, ClientID: get(envOIDCClient, ""), ClientSecret: get(envOIDCSecret, ""),
			RedirectURL: get(envOIDCRedirect, ""), RolesClaim: get(envOIDCRoles, ""), Scopes: strings.Fields(get(envOIDCScopes, ""))}
		if c.OIDC.ClientID == "" || c.OIDC.RedirectURL == "" {
			return c, fmt.Errorf("%s is set: %s and %s (the public address of /console/sso/callback) are needed too",
				envOIDCIssuer, envOIDCClient, envOIDCRedirect)
		}
		if u, err := url.Parse(c.OIDC.RedirectURL); err != nil || u.Scheme == "" || !strings.HasSuffix(u.Path, "/console/sso/callback") {
			return c, fmt.Errorf("%s: want the public address of /console/sso/callback, e.g. https://chat.example.de/console/sso/callback", envOIDCRedirect)
		}
	}
	c.SMTPURL, c.SMTPFrom, c.PublicURL = get(envSMTPURL, ""), get(envSMTPFrom, ""), get(envPublicURL, "")
	if c.SMTPURL != "" {
		if c.SMTPFrom == "" {
			return c, fmt.Errorf("%s is set: %s must name the sender, e.g. \"Stadt Musterstadt <service@musterstadt.de>\"", envSMTPURL, envSMTPFrom)
		}
		if _, err := mailer.New(c.SMTPURL, c.SMTPFrom); err != nil {
			return c, fmt.Errorf("%s or %s: %w", envSMTPURL, envSMTPFrom, err)
		}
	}
	if c.RelayURL = get(envRelayURL, ""); c.RelayURL != "" {
		if _, err := pgx.ParseConfig(c.RelayURL); err != nil {
			return c, fmt.Errorf("%s: want a PostgreSQL connection URL (postgres://…) that reaches PostgreSQL itself: %w", envRelayURL, err)
		}
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return c, fmt.Errorf("%s: want citybot's public address, e.g. https://chat.musterstadt.de", envPublicURL)
		}
	}
	if c.AuditDays, err = strconv.Atoi(get(envAuditDays, "730")); err != nil || c.AuditDays < 1 || c.AuditDays > maxRetentionDays {
		return c, fmt.Errorf("%s: want a whole number of days up to %d", envAuditDays, maxRetentionDays)
	}
	if c.ConnRate, c.ConnBurst, err = parseLimit(get(envConnLimits, "2,5")); err != nil || c.ConnRate == 0 {
		return c, fmt.Errorf("%s: want RATE,BURST (messages per second, burst), e.g. 2,5", envConnLimits)
	}
	if c.AddrRate, c.AddrBurst, err = parseLimit(get(envAddrLimits, "10,60")); err != nil {
		return c, fmt.Errorf("%s: want RATE,BURST (per second, burst), e.g. 10,60, or off", envAddrLimits)
	}
	if v := get(envAddrConns, "50"); strings.EqualFold(strings.TrimSpace(v), "off") {
		c.AddrConns = 0
	} else if c.AddrConns, err = strconv.Atoi(strings.TrimSpace(v)); err != nil || c.AddrConns < 1 {
		return c, fmt.Errorf("%s: want a positive number of connections, e.g. 50, or off", envAddrConns)
	}
	if c.Proxies, err = chat.ParseTrustedProxies(get(envProxies, "")); err != nil {
		return c, fmt.Errorf("%s: want addresses or CIDR prefixes separated by commas, e.g. 127.0.0.1,10.0.0.0/8: %w", envProxies, err)
	}
	// Twice the cores: more connections only make PostgreSQL's backends fight over the same
	// cores (measured on 2 cores: p95 answer latency 68 ms with 4, 151 ms with 16).
	if c.DBConns, err = strconv.Atoi(get(envDBConns, strconv.Itoa(max(4, 2*runtime.NumCPU())))); err != nil || c.DBConns < 1 {
		return c, fmt.Errorf("%s: want a positive number", envDBConns)
	}
	c.LLMURL, c.LLMModel, c.LLMKey = get(envLLMURL, ""), get(envLLMModel, ""), get(envLLMKey, "")
	if c.LLMTimeout, err = time.ParseDuration(get(envLLMTimeout, "30s")); err != nil || c.LLMTimeout <= 0 {
		return c, fmt.Errorf("%s: want a duration such as 30s", envLLMTimeout)
	}
	if c.LLMURL != "" && c.LLMModel == "" {
		return c, fmt.Errorf("%s is set: %s must name the model", envLLMURL, envLLMModel)
	}
	if c.EmbedURL != "" && c.EmbedModel == "" {
		return c, fmt.Errorf("%s is set: %s must name the model", envEmbedURL, envEmbedModel)
	}
	if c.Town = get(envTown, ""); c.Town != "" {
		if err := tenant.CheckSlug(c.Town); err != nil {
			return c, fmt.Errorf("%s: %w", envTown, err)
		}
	}
	if c.TownCheck, err = time.ParseDuration(get(envTownCheck, "10s")); err != nil || c.TownCheck <= 0 {
		return c, fmt.Errorf("%s: want a duration such as 10s", envTownCheck)
	}
	if c.TownIdle, err = time.ParseDuration(get(envTownIdle, "30m")); err != nil || c.TownIdle <= 0 {
		return c, fmt.Errorf("%s: want a duration such as 30m", envTownIdle)
	}
	if c.Thesaurus = get(envThesaurus, knowledge.DefaultThesaurus); strings.EqualFold(c.Thesaurus, "off") {
		c.Thesaurus = ""
	}
	if c.Thesaurus != "" && c.Thesaurus != knowledge.DefaultThesaurus {
		if _, err := os.Stat(c.Thesaurus); err != nil {
			return c, fmt.Errorf("%s: %w (or off)", envThesaurus, err)
		}
	}
	c.RerankURL, c.RerankModel, c.RerankKey = get(envRerankURL, ""), get(envRerankModel, ""), get(envRerankKey, "")
	if c.RerankTimeout, err = time.ParseDuration(get(envRerankTime, "5s")); err != nil || c.RerankTimeout <= 0 {
		return c, fmt.Errorf("%s: want a duration such as 5s", envRerankTime)
	}
	if c.RerankURL != "" {
		_, err := knowledge.NewHTTPReranker(c.RerankURL, c.RerankModel, c.RerankKey, c.RerankTimeout)
		if errors.Is(err, knowledge.ErrRerankModel) {
			return c, fmt.Errorf("%s is a /v1 URL (the Cohere/Jina shape): %s must name the model", envRerankURL, envRerankModel)
		}
		if err != nil {
			return c, fmt.Errorf("%s: %w", envRerankURL, err)
		}
	}
	return c, nil
}

// maxRetentionDays keeps the retention well inside a time.Duration (which ends after 106,751 days).
const maxRetentionDays = 36500

// parseLimit reads "RATE,BURST" or "off" (0, 0).
func parseLimit(s string) (float64, int, error) {
	if strings.EqualFold(strings.TrimSpace(s), "off") {
		return 0, 0, nil
	}
	r, b, ok := strings.Cut(s, ",")
	rate, err1 := strconv.ParseFloat(strings.TrimSpace(r), 64)
	burst, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil || !(rate > 0) || math.IsInf(rate, 0) || burst < 1 { // NaN and Inf too
		return 0, 0, fmt.Errorf("bad limit %q", s)
	}
	return rate, burst, nil
}

// print writes the configuration with secrets redacted.
func (c config) print(w io.Writer) {
	redact := func(s string) string {
		if s == "" {
			return ""
		}
		return "(set)"
	}
	fmt.Fprintf(w, "%s=%s\n", envDatabaseURL, redactURL(c.DatabaseURL))
	fmt.Fprintf(w, "%s=%s\n", envData, c.DataDir)
	fmt.Fprintf(w, "%s=%s\n", envMeiliURL, c.MeiliURL)
	fmt.Fprintf(w, "%s=%s\n", envMeiliKey, redact(c.MeiliKey))
	fmt.Fprintf(w, "%s=%s\n", envMeiliSearch, redact(c.MeiliSearchKey))
	fmt.Fprintf(w, "%s=%s\n", envMeiliIndex, c.MeiliIndex)
	fmt.Fprintf(w, "%s=%s\n", envEmbedURL, c.EmbedURL)
	fmt.Fprintf(w, "%s=%s\n", envEmbedModel, c.EmbedModel)
	fmt.Fprintf(w, "%s=%s\n", envEmbedKey, redact(c.EmbedKey))
	fmt.Fprintf(w, "%s=%s\n", envGlossaryDir, c.GlossaryDir)
	fmt.Fprintf(w, "%s=%s\n", envFetchTimeout, c.FetchTimeout)
	fmt.Fprintf(w, "%s=%d\n", envMaxPageBytes, c.MaxPageBytes)
	fmt.Fprintf(w, "%s=%d\n", envWorkers, c.Workers)
	fmt.Fprintf(w, "%s=%d\n", envIngestStore, c.IngestWorkers)
	fmt.Fprintf(w, "%s=%d\n", envIngestNice, c.IngestNice)
	fmt.Fprintf(w, "%s=%s\n", envLogLevel, c.LogLevel)
	fmt.Fprintf(w, "%s=%s\n", envLogFormat, c.LogFormat)
	fmt.Fprintf(w, "%s=%s\n", envCity, c.City)
	fmt.Fprintf(w, "%s=%s\n", envPrivacyURL, c.PrivacyURL)
	fmt.Fprintf(w, "%s=%s\n", envContactPhone, c.ContactPhone)
	fmt.Fprintf(w, "%s=%s\n", envContactEmail, c.ContactEmail)
	fmt.Fprintf(w, "%s=%s\n", envContactHours, c.ContactHours)
	fmt.Fprintf(w, "%s=%g\n", envMinConf, c.MinConf)
	fmt.Fprintf(w, "%s=%s\n", envTextsDir, c.TextsDir)
	fmt.Fprintf(w, "%s=%d\n", envDBConns, c.DBConns)
	fmt.Fprintf(w, "%s=%s\n", envLLMURL, c.LLMURL)
	fmt.Fprintf(w, "%s=%s\n", envLLMModel, c.LLMModel)
	fmt.Fprintf(w, "%s=%s\n", envLLMKey, redact(c.LLMKey))
	fmt.Fprintf(w, "%s=%s\n", envLLMTimeout, c.LLMTimeout)
	fmt.Fprintf(w, "%s=%s\n", envRerankURL, c.RerankURL)
	fmt.Fprintf(w, "%s=%s\n", envRerankModel, c.RerankModel)
	fmt.Fprintf(w, "%s=%s\n", envRerankKey, redact(c.RerankKey))
	fmt.Fprintf(w, "%s=%s\n", envRerankTime, c.RerankTimeout)
	fmt.Fprintf(w, "%s=%s\n", envThesaurus, c.Thesaurus)
	fmt.Fprintf(w, "%s=%s\n", envTown, c.Town)
	fmt.Fprintf(w, "%s=%s\n", envTownCheck, c.TownCheck)
	fmt.Fprintf(w, "%s=%s\n", envTownIdle, c.TownIdle)
	fmt.Fprintf(w, "%s=%s\n", envAddr, c.Addr)
	fmt.Fprintf(w, "%s=%s\n", envMetricsAddr, c.MetricsAddr)
	fmt.Fprintf(w, "%s=%s\n", envOrigins, strings.Join(c.Origins, ","))
	fmt.Fprintf(w, "%s=%d\n", envRetention, int(c.Retention.Hours()/24))
	fmt.Fprintf(w, "%s=%d\n", envAuditDays, c.AuditDays)
	oidc := console.SSOConfig{}
	if c.OIDC != nil {
		oidc = *c.OIDC
	}
	fmt.Fprintf(w, "%s=%s\n", envOIDCIssuer, oidc.Issuer)
	fmt.Fprintf(w, "%s=%s\n", envOIDCClient, oidc.ClientID)
	fmt.Fprintf(w, "%s=%s\n", envOIDCSecret, redact(oidc.ClientSecret))
	fmt.Fprintf(w, "%s=%s\n", envOIDCRedirect, oidc.RedirectURL)
	fmt.Fprintf(w, "%s=%s\n", envOIDCRoles, oidc.RolesClaim)
	fmt.Fprintf(w, "%s=%s\n", envOIDCScopes, strings.Join(oidc.Scopes, " "))
	fmt.Fprintf(w, "%s=%s\n", envSMTPURL, redactURL(c.SMTPURL))
	fmt.Fprintf(w, "%s=%s\n", envSMTPFrom, c.SMTPFrom)
	fmt.Fprintf(w, "%s=%s\n", envPublicURL, c.PublicURL)
	fmt.Fprintf(w, "%s=%s\n", envRelayURL, redactURL(c.RelayURL))
	fmt.Fprintf(w, "%s=%g,%d\n", envConnLimits, c.ConnRate, c.ConnBurst)
	if c.AddrRate == 0 {
		fmt.Fprintf(w, "%s=off\n", envAddrLimits)
	} else {
		fmt.Fprintf(w, "%s=%g,%d\n", envAddrLimits, c.AddrRate, c.AddrBurst)
	}
	if c.AddrConns == 0 {
		fmt.Fprintf(w, "%s=off\n", envAddrConns)
	} else {
		fmt.Fprintf(w, "%s=%d\n", envAddrConns, c.AddrConns)
	}
	var proxies []string
	for _, p := range c.Proxies {
		proxies = append(proxies, p.String())
	}
	fmt.Fprintf(w, "%s=%s\n", envProxies, strings.Join(proxies, ","))
}

// redactURL hides the password of a database URL.
func redactURL(u string) string {
	at := strings.LastIndex(u, "@")
	scheme := strings.Index(u, "://")
	if at < 0 || scheme < 0 || at < scheme {
		return u
	}
	cred := u[scheme+3 : at]
	if i := strings.Index(cred, ":"); i >= 0 {
		return u[:scheme+3] + cred[:i] + ":xxxxx" + u[at:]
	}
	return u
}

// newFlags returns a flag set that prints its usage to stderr and does not exit.
func newFlags(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: citybot %s\n\n", usage)
		fs.PrintDefaults()
	}
	return fs
}
