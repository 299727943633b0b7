// Package console serves the staff's pages: the login, and (to come) the service desk and the
// editors' views. Server-rendered with html/template, embedded, no script needed to sign in.
package console

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/citybot-project/citybot/audit"
	"github.com/citybot-project/citybot/auth"
	"github.com/citybot-project/citybot/database"
	"github.com/citybot-project/citybot/desk"
	"github.com/citybot-project/citybot/i18n"
	"github.com/citybot-project/citybot/relay"
	"github.com/citybot-project/citybot/review"
)

//go:embed templates/*.html
var templates embed.FS

//go:embed assets
var assets embed.FS

// Cookie names. The session cookie holds the session's token; the login cookie a token the
// login form repeats (double submit), since there is no session to bind the form to yet.
const (
	sessionCookie = "citybot_session"
	loginCookie   = "citybot_login"
)

// Console serves /console/.
type Console struct {
	pool *pgxpool.Pool
	log  *slog.Logger
	now  func() time.Time
	page *template.Template
	mux  *http.ServeMux
	sso  *sso        // nil: no single sign-on
	mail desk.Sender // nil: e-mail requests are answered outside citybot
	hub  *relay.Hub  // nil: no live chat
	// translate gives agents a machine translation of what citizens write; nil: none.
	translate Translator
	// heartbeat is how often an agent's live chat socket keeps their presence alive and checks
	// their session.
	heartbeat time.Duration
	// texts are the console's words, language ("de", "en") to key to text: the i18n package's
	// console catalog.
	texts map[string]map[string]string
}

// Options are the console's optional parts.
type Options struct {
	// SSO lets staff sign in through the administration's identity provider.
	SSO *SSOConfig
	// Mail sends the answers to e-mail requests written in the console.
	Mail desk.Sender
	// Hub relays the live chats between the instances: agents take citizens over through it.
	Hub *relay.Hub
	// Translate translates citizens' messages for agents (a local model); nil: no translation.
	Translate Translator
}

// New returns the console over the database's pool.
func New(pool *pgxpool.Pool, log *slog.Logger, now func() time.Time, o Options) *Console {
	// The catalog is embedded and its test checks both languages: a failure is a broken
	// build, as a template that does not parse is.
	texts, err := i18n.Console()
	if err != nil {
		panic(err)
	}
	c := &Console{texts: texts, pool: pool, log: log, now: now, mail: o.Mail, hub: o.Hub, translate: o.Translate, heartbeat: 20 * time.Second,
		page: template.Must(template.New("").Funcs(template.FuncMap{"dict": dict}).ParseFS(templates, "templates/*.html")),
		mux:  http.NewServeMux()}
	if o.SSO != nil {
		c.sso = &sso{cfg: *o.SSO}
		c.mux.HandleFunc("GET /console/sso", c.ssoStart)
		c.mux.HandleFunc("GET /console/sso/callback", c.ssoCallback)
	}
	c.mux.HandleFunc("GET /console/login", c.loginForm)
	c.mux.HandleFunc("POST /console/login", c.login)
	c.mux.HandleFunc("POST /console/logout", c.session(c.logout))
	c.mux.HandleFunc("POST /console/logout-everywhere", c.session(c.logoutEverywhere))
	c.mux.HandleFunc("GET /console/{$}", c.session(c.home))
	c.mux.HandleFunc("GET /console/t/{town}/tickets", c.session(c.inTown(auth.RoleAgent, c.tickets)))
	c.mux.HandleFunc("POST /console/t/{town}/tickets/{number}", c.session(c.inTown(auth.RoleAgent, c.updateTicket)))
	c.mux.HandleFunc("GET /console/t/{town}/dashboard", c.session(c.inTown(auth.RoleReviewer, c.dashboard, auth.RoleAdmin)))
	c.mux.HandleFunc("GET /console/t/{town}/review", c.session(c.inTown(auth.RoleReviewer, c.review)))
	c.mux.HandleFunc("GET /console/t/{town}/review/export", c.session(c.inTown(auth.RoleReviewer, c.export)))
	c.mux.HandleFunc("GET /console/t/{town}/review/{conversation}", c.session(c.inTown(auth.RoleReviewer, c.transcript)))
	c.mux.HandleFunc("POST /console/t/{town}/review/verdict", c.session(c.inTown(auth.RoleReviewer, c.verdict)))
	c.mux.HandleFunc("GET /console/assets/{file}", c.asset)
	c.mux.HandleFunc("GET /console/t/{town}/live", c.session(c.inTown(auth.RoleAgent, c.live)))
	c.mux.HandleFunc("GET /console/t/{town}/live/ws", c.session(func(w http.ResponseWriter, r *http.Request, s auth.Session, token string) {
		c.inTown(auth.RoleAgent, func(w http.ResponseWriter, r *http.Request, s auth.Session, town int) {
			c.liveSocket(w, r, s, town, token)
		})(w, r, s, token)
	}))
	c.mux.HandleFunc("POST /console/t/{town}/quick-texts", c.session(c.inTown(auth.RoleAdmin, c.addQuickText)))
	c.mux.HandleFunc("POST /console/t/{town}/quick-texts/delete", c.session(c.inTown(auth.RoleAdmin, c.deleteQuickText)))
	if c.mail != nil {
		c.mux.HandleFunc("POST /console/t/{town}/tickets/{number}/reply", c.session(c.inTown(auth.RoleAgent, c.replyTicket)))
	}
	return c
}

func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Staff pages are nobody's to cache or to frame.
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'")
	c.mux.ServeHTTP(w, r)
}

// lang is the console's language for a request: English when the browser prefers it over German.
func lang(r *http.Request) string {
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag := strings.ToLower(strings.TrimSpace(strings.SplitN(part, ";", 2)[0]))
		switch {
		case strings.HasPrefix(tag, "de"):
			return "de"
		case strings.HasPrefix(tag, "en"):
			return "en"
		}
	}
	return "de"
}

type view struct {
	Lang, Title, Error, Email, CSRF string
	T                               map[string]string
	User                            auth.User
	SSO                             bool
	// A town's pages.
	TownSlug, Status string
	States           []string
	Tickets          []desk.Ticket
	CanReply         bool
	Now              time.Time
	// Review pages.
	Filter          review.Filter
	From, To, Query string
	Items           []review.Item
	Verdicts        []string
	// The dashboard.
	Stats review.Dashboard
	Chart chart
	// A conversation's transcript.
	Entries []entry
	// The live chat.
	Online     bool
	AgentName  string
	QuickTexts []desk.QuickText
	CanEdit    bool
}

// chart is the dashboard's bar chart: a bar a day, answers below and handoffs above.
type chart struct {
	Width, Height int
	Bars          []bar
}

type bar struct{ X, W, YA, HA, YH, HH int }

func newChart(d review.Dashboard) chart {
	c := chart{Width: 600, Height: 150}
	if len(d.Days) == 0 {
		return c
	}
	w := c.Width / len(d.Days)
	scale := func(n int) int {
		if d.MostPerDay == 0 {
			return 0
		}
		return n * (c.Height - 10) / d.MostPerDay
	}
	for i, day := range d.Days {
		ha, hh := scale(day.Answers), scale(day.Handoffs)
		c.Bars = append(c.Bars, bar{X: i * w, W: max(w-2, 1), YA: c.Height - ha, HA: ha, YH: c.Height - ha - hh, HH: hh})
	}
	return c
}

// dict makes a map of its key and value pairs, for a template that takes several values.
func dict(kv ...any) map[string]any {
	m := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		if k, ok := kv[i].(string); ok {
			m[k] = kv[i+1]
		}
	}
	return m
}

func (c *Console) dashboard(w http.ResponseWriter, r *http.Request, s auth.Session, town int) {
	d, err := review.Stats(r.Context(), c.pool, town, c.now(), 30)
	if err != nil {
		c.log.Error("console dashboard", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	c.render(w, r, http.StatusOK, "dashboard.html", view{Title: c.texts[lang(r)]["dashboard"], User: s.User, CSRF: s.CSRF,
		TownSlug: r.PathValue("town"), Stats: d, Chart: newChart(d)})
}

func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name string, v view) {
	v.Lang = lang(r)
	v.T = c.texts[v.Lang]
	if v.Title == "" {
		v.Title = v.T["signin"]
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := c.page.ExecuteTemplate(w, name, v); err != nil {
		c.log.Error("console page", "page", name, "err", err)
	}
}

func (c *Console) loginForm(w http.ResponseWriter, r *http.Request) {
	c.renderLogin(w, r, http.StatusOK, "", "")
}

// renderLogin shows the login form with a fresh form token in its cookie and field.
func (c *Console) renderLogin(w http.ResponseWriter, r *http.Request, status int, msg, email string) {
	token := randToken()
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: token, Path: "/console/", HttpOnly: true, Secure: secure(r),
		SameSite: http.SameSiteStrictMode, MaxAge: 3600})
	c.render(w, r, status, "login.html", view{Error: msg, Email: email, CSRF: token, SSO: c.sso != nil})
}

func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	t := c.texts[lang(r)]
	cookie, err := r.Cookie(loginCookie)
	if err != nil || !sameToken(cookie.Value, r.PostFormValue("csrf")) {
		c.renderLogin(w, r, http.StatusForbidden, t["expired"], "")
		return
	}
	email := r.PostFormValue("email")
	token, _, err := auth.Login(r.Context(), c.pool, email, r.PostFormValue("password"), c.now(),
		func(ctx context.Context, tx pgx.Tx, u auth.User) error {
			return audit.Record(ctx, tx, audit.Entry{Actor: u.Email, Action: "login"})
		})
	switch {
	case errors.Is(err, auth.ErrLocked):
		c.renderLogin(w, r, http.StatusTooManyRequests, t["locked"], email)
		return
	case errors.Is(err, auth.ErrLogin):
		c.renderLogin(w, r, http.StatusUnauthorized, t["wrong"], email)
		return
	case err != nil:
		c.log.Error("console login", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: "/console/", HttpOnly: true, Secure: secure(r),
		SameSite: http.SameSiteLaxMode})
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Path: "/console/", MaxAge: -1})
	http.Redirect(w, r, "/console/", http.StatusSeeOther)
}

// session hands h the request's session; without one, a page goes to the login and any other
// request is refused. A state-changing request must carry the session's CSRF token.
func (c *Console) session(h func(w http.ResponseWriter, r *http.Request, s auth.Session, token string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		cookie, err := r.Cookie(sessionCookie)
		var s auth.Session
		if err == nil {
			s, err = auth.Lookup(r.Context(), c.pool, cookie.Value, c.now())
		}
		if err != nil && !errors.Is(err, auth.ErrNoSession) && !errors.Is(err, http.ErrNoCookie) {
			c.log.Error("console session", "err", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		if err != nil {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/console/login", http.StatusSeeOther)
				return
			}
			http.Error(w, "not signed in", http.StatusUnauthorized)
			return
		}
		if r.Method != http.MethodGet && !sameToken(s.CSRF, r.PostFormValue("csrf")) {
			http.Error(w, "the form's token is missing or wrong", http.StatusForbidden)
			return
		}
		h(w, r, s, cookie.Value)
	}
}

func (c *Console) home(w http.ResponseWriter, r *http.Request, s auth.Session, _ string) {
	c.render(w, r, http.StatusOK, "home.html", view{Title: c.texts[lang(r)]["console"], User: s.User, CSRF: s.CSRF})
}

func (c *Console) logout(w http.ResponseWriter, r *http.Request, s auth.Session, token string) {
	c.endSessions(w, r, s, "logout", func(ctx context.Context, tx pgx.Tx) error { return auth.Logout(ctx, tx, token) })
}

// logoutEverywhere ends every session of the user: the other browsers' too, and their live
// chat sockets at their next heartbeat.
func (c *Console) logoutEverywhere(w http.ResponseWriter, r *http.Request, s auth.Session, _ string) {
	c.endSessions(w, r, s, "logout.everywhere", func(ctx context.Context, tx pgx.Tx) error { return auth.EndSessions(ctx, tx, s.User.ID) })
}

// endSessions ends sessions with end and audits it as action in the same transaction, then
// sends the browser to the login without its cookie.
func (c *Console) endSessions(w http.ResponseWriter, r *http.Request, s auth.Session, action string, end func(context.Context, pgx.Tx) error) {
	err := database.InTx(r.Context(), c.pool, func(ctx context.Context, tx pgx.Tx) error {
		if err := end(ctx, tx); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: s.User.Email, Action: action})
	})
	if err != nil {
		c.log.Error("console "+action, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Path: "/console/", MaxAge: -1})
	http.Redirect(w, r, "/console/login", http.StatusSeeOther)
}

// secure tells whether the browser reached us over TLS, directly or through the proxy that
// terminates it: then cookies are sent over TLS only.
func secure(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

func randToken() string { return rand.Text() }

func sameToken(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// inTown hands h the town of the request's {town} when the session's user holds role (or one of
// the others) there; an unknown town is a 404, a town where the user lacks the role a 403.
func (c *Console) inTown(role string, h func(w http.ResponseWriter, r *http.Request, s auth.Session, town int), others ...string) func(http.ResponseWriter, *http.Request, auth.Session, string) {
	return func(w http.ResponseWriter, r *http.Request, s auth.Session, _ string) {
		var town int
		err := c.pool.QueryRow(r.Context(), `SELECT id FROM towns WHERE slug = $1`, r.PathValue("town")).Scan(&town)
		if errors.Is(err, pgx.ErrNoRows) {
			http.NotFound(w, r)
			return
		}
		if err != nil {
			c.log.Error("console town", "err", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		if !slices.ContainsFunc(append(others, role), func(role string) bool { return s.User.Can(town, role) }) {
			http.Error(w, c.texts[lang(r)]["forbidden"], http.StatusForbidden)
			return
		}
		h(w, r, s, town)
	}
}

func (c *Console) tickets(w http.ResponseWriter, r *http.Request, s auth.Session, town int) {
	status := r.URL.Query().Get("status")
	if !slices.Contains(desk.States, status) {
		status = desk.Open
	}
	list, err := desk.Tickets(r.Context(), c.pool, town, status)
	if err != nil {
		c.log.Error("console tickets", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	c.render(w, r, http.StatusOK, "tickets.html", view{Title: c.texts[lang(r)]["inbox"], User: s.User, CSRF: s.CSRF,
		TownSlug: r.PathValue("town"), Status: status, States: desk.States, Tickets: list, CanReply: c.mail != nil, Now: c.now()})
}

func (c *Console) updateTicket(w http.ResponseWriter, r *http.Request, s auth.Session, town int) {
	change := desk.Change{Status: r.PostFormValue("status"), AssignToMe: r.PostFormValue("take") == "1"}
	err := desk.UpdateTicket(r.Context(), c.pool, town, s.User.ID, s.User.Email, r.PathValue("number"), change)
	switch {
	case errors.Is(err, desk.ErrNoTicket):
		http.NotFound(w, r)
		return
	case err != nil && change.Status != "" && !slices.Contains(desk.States, change.Status):
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	case err != nil:
		c.log.Error("console ticket", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	http.Redirect(w, r, "/console/t/"+r.PathValue("town")+"/tickets?status="+change.Status, http.StatusSeeOther)
}

func (c *Console) replyTicket(w http.ResponseWriter, r *http.Request, s auth.Session, town int) {
	err := desk.Reply(r.Context(), c.pool, c.mail, town, s.User.ID, s.User.Email, r.PathValue("number"), r.PostFormValue("text"))
	switch {
	case errors.Is(err, desk.ErrNoTicket):
		http.NotFound(w, r)
		return
	case errors.Is(err, desk.ErrNotEmail), errors.Is(err, desk.ErrEmptyReply):
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	case err != nil:
		c.log.Error("console reply", "err", err)
		http.Error(w, c.texts[lang(r)]["notsent"], http.StatusBadGateway)
		return
	}
	http.Redirect(w, r, "/console/t/"+r.PathValue("town")+"/tickets?status="+desk.Done, http.StatusSeeOther)
}

// reviewFilter reads the review's filter from the query; a date that does not parse is left out.
func reviewFilter(r *http.Request) (review.Filter, string, string) {
	q := r.URL.Query()
	f := review.Filter{Rating: q.Get("rating"), WithComment: q.Get("comment") == "1", Lang: q.Get("lang"),
		Reason: q.Get("reason"), Composer: q.Get("composer"), Page: q.Get("page")}
	from, to := q.Get("from"), q.Get("to")
	if t, err := time.Parse("2006-01-02", from); err == nil {
		f.From = t
	} else {
		from = ""
	}
	if t, err := time.Parse("2006-01-02", to); err == nil {
		f.To = t.AddDate(0, 0, 1) // the whole day
	} else {
		to = ""
	}
	return f, from, to
}

func (c *Console) review(w http.ResponseWriter, r *http.Request, s auth.Session, town int) {
	f, from, to := reviewFilter(r)
	items, err := review.List(r.Context(), c.pool, town, f, 200)
	if err != nil {
		c.log.Error("console review", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	q := r.URL.Query()
	q.Del("format")
	c.render(w, r, http.StatusOK, "review.html", view{Title: c.texts[lang(r)]["review"], User: s.User, CSRF: s.CSRF,
		TownSlug: r.PathValue("town"), Filter: f, From: from, To: to, Query: q.Encode(), Items: items, Verdicts: review.Verdicts})
}

func (c *Console) transcript(w http.ResponseWriter, r *http.Request, s auth.Session, town int) {
	items, err := review.Transcript(r.Context(), c.pool, town, r.PathValue("conversation"))
	if err != nil {
		c.log.Error("console transcript", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if len(items) == 0 {
		http.NotFound(w, r)
		return
	}
	lines, _, err := desk.Transcript(r.Context(), c.pool, town, items[0].ConversationID)
	if err != nil {
		c.log.Error("console transcript", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	c.render(w, r, http.StatusOK, "transcript.html", view{Title: c.texts[lang(r)]["conversation"], User: s.User, CSRF: s.CSRF,
		TownSlug: r.PathValue("town"), Entries: transcriptEntries(items, lines)})
}

// entry is a step of a conversation as a reviewer reads it: an answer or handoff with what it
// was judged by, or a message of a live chat with a person.
type entry struct {
	Item *review.Item
	// A live chat's step: Kind is citizen (a message to the person), agent_message,
	// agent_joined, agent_left or live_ended; Name the agent's; Reason why it ended.
	Kind, Name, Text, Reason string
}

// transcriptEntries puts the answers in the order the conversation's messages had, with the
// live chat's messages between them: a conversation that went to a person reads whole.
func transcriptEntries(items []review.Item, lines []desk.Line) []entry {
	byID := map[string]*review.Item{}
	for i := range items {
		byID[items[i].AnswerID] = &items[i]
	}
	var out []entry
	for _, l := range lines {
		var m struct{ Type, ID, Text, Name, To, Reason string }
		if json.Unmarshal(l.Body, &m) != nil {
			continue
		}
		switch {
		case l.Role == "bot" && byID[m.ID] != nil:
			out = append(out, entry{Item: byID[m.ID]})
			delete(byID, m.ID)
		case l.Role == "citizen" && m.To == "agent":
			out = append(out, entry{Kind: "citizen", Text: m.Text})
		case l.Role == "agent":
			out = append(out, entry{Kind: m.Type, Name: m.Name, Text: m.Text, Reason: m.Reason})
		}
	}
	for i := range items { // an answer without its message (none should be): still shown
		if byID[items[i].AnswerID] != nil {
			out = append(out, entry{Item: &items[i]})
		}
	}
	return out
}

func (c *Console) verdict(w http.ResponseWriter, r *http.Request, s auth.Session, town int) {
	err := review.SetVerdict(r.Context(), c.pool, town, s.User.Email, r.PostFormValue("conversation"), r.PostFormValue("answer"),
		r.PostFormValue("verdict"), r.PostFormValue("note"))
	switch {
	case errors.Is(err, review.ErrNoAnswer):
		http.NotFound(w, r)
		return
	case errors.Is(err, review.ErrBadVerdict):
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	case err != nil:
		c.log.Error("console verdict", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	// The same filter again: the form carries it (browsers send no Referer: every response
	// says Referrer-Policy: no-referrer). Parsed and encoded again, it stays a query.
	back := "/console/t/" + r.PathValue("town") + "/review"
	if f, err := url.ParseQuery(r.PostFormValue("filter")); err == nil && len(f) > 0 {
		back += "?" + f.Encode()
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

func (c *Console) export(w http.ResponseWriter, r *http.Request, s auth.Session, town int) {
	format := r.URL.Query().Get("format")
	if format != "csv" && format != "json" {
		http.Error(w, "export as format=csv or format=json", http.StatusBadRequest)
		return
	}
	f, _, _ := reviewFilter(r)
	var buf bytes.Buffer
	if err := review.Export(r.Context(), c.pool, town, s.User.Email, f, format, &buf); err != nil {
		c.log.Error("console export", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	ctype := map[string]string{"csv": "text/csv; charset=utf-8", "json": "application/json"}[format]
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=\"citybot-review-%s-%s.%s\"", r.PathValue("town"), c.now().Format("2006-01-02"), format))
	w.Write(buf.Bytes())
}
