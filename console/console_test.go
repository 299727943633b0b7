package console

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/citybot-project/citybot/auth"
	"github.com/citybot-project/citybot/database/dbtest"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

type browser struct {
	t    *testing.T
	c    *http.Client
	base string
}

func (b browser) do(method, path string, form url.Values, header map[string]string) (*http.Response, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, b.base+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	text, _ := io.ReadAll(resp.Body)
	return resp, string(text)
}

func cookie(resp *http.Response, name string) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// newBrowser is a client of the console at base with its own cookies, that does not follow
// redirects (tests look at them).
func newBrowser(t *testing.T, base string) browser {
	jar, _ := cookiejar.New(nil)
	return browser{t: t, base: base, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// password is the tests' staff password.
const password = "richtig-langes-Passwort"

// staff adds an account with the tests' password and roles in town.
func staff(t *testing.T, pool *pgxpool.Pool, email, name string, town int, roles ...string) auth.User {
	t.Helper()
	hash, err := auth.HashPassword(password)
	if err != nil {
		t.Fatal(err)
	}
	u, err := auth.AddUser(context.Background(), pool, email, name, hash, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, role := range roles {
		if err := auth.Grant(context.Background(), pool, u.ID, town, role); err != nil {
			t.Fatal(err)
		}
	}
	return u
}

// signIn signs email in at base with the tests' password.
func signIn(t *testing.T, base, email string) browser {
	t.Helper()
	b := newBrowser(t, base)
	_, page := b.do("GET", "/console/login", nil, nil)
	resp, _ := b.do("POST", "/console/login", url.Values{"email": {email}, "password": {password},
		"csrf": {csrfField.FindStringSubmatch(page)[1]}}, nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in %s: %d", email, resp.StatusCode)
	}
	return b
}

// TestLoginLogoutAndSessions plays a member of staff's sign-in: the form with its labelled
// fields, a wrong password, the right one (a session cookie as the ASVS wants it), the console
// page with the account's roles in German or English, a logout that needs the form's token, the
// audit entries, a disabled account's session dying, and the lockout after five failures.
func TestLoginLogoutAndSessions(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.Pool(t)
	town := dbtest.Town(t, pool, "lindenbrueck")
	hash, _ := auth.HashPassword("richtig-langes-Passwort")
	u, err := auth.AddUser(ctx, pool, "erika@lindenbrueck.example", "Erika Muster", hash, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := auth.Grant(ctx, pool, u.ID, town, auth.RoleAgent); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	srv := httptest.NewServer(New(pool, slog.New(slog.DiscardHandler), func() time.Time { return now }, Options{}))
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	b := browser{t: t, base: srv.URL, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}

	if resp, _ := b.do("GET", "/console/", nil, nil); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/login" {
		t.Fatalf("the console without a session: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, page := b.do("GET", "/console/login", nil, nil)
	for _, want := range []string{`<label for="email">E-Mail</label>`, `<label for="password">Passwort</label>`, `lang="de"`, `autocomplete="current-password"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the login form lacks %s", want)
		}
	}
	if c := cookie(resp, loginCookie); c == nil || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode {
		t.Errorf("the login form's cookie: %+v", c)
	}
	if resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("headers %v", resp.Header)
	}
	login := func(pw string, withToken bool) (*http.Response, string) {
		_, page := b.do("GET", "/console/login", nil, nil)
		form := url.Values{"email": {"erika@lindenbrueck.example"}, "password": {pw}}
		if withToken {
			form.Set("csrf", csrfField.FindStringSubmatch(page)[1])
		}
		return b.do("POST", "/console/login", form, nil)
	}
	if resp, page := login("richtig-langes-Passwort", false); resp.StatusCode != http.StatusForbidden || !strings.Contains(page, "abgelaufen") {
		t.Errorf("a login without the form's token: %d", resp.StatusCode)
	}
	if resp, page := login("falsches-Passwort!", true); resp.StatusCode != http.StatusUnauthorized ||
		!strings.Contains(page, `role="alert"`) || !strings.Contains(page, "E-Mail-Adresse oder Passwort ist falsch.") ||
		!strings.Contains(page, `value="erika@lindenbrueck.example"`) {
		t.Errorf("a wrong password: %d %s", resp.StatusCode, page)
	}
	resp, _ = login("richtig-langes-Passwort", true)
	session := cookie(resp, sessionCookie)
	if resp.StatusCode != http.StatusSeeOther || session == nil || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Secure {
		t.Fatalf("login: %d, session cookie %+v", resp.StatusCode, session)
	}
	resp, page = b.do("GET", "/console/", nil, nil)
	if resp.StatusCode != 200 || !strings.Contains(page, "Erika Muster") || !strings.Contains(page, "<td>lindenbrueck</td><td><a href=\"/console/t/lindenbrueck/tickets\">agent</a> · <a href=\"/console/t/lindenbrueck/live\">Live-Chat</a></td>") ||
		!strings.Contains(page, "Abmelden") {
		t.Errorf("the console: %d %s", resp.StatusCode, page)
	}
	if _, page := b.do("GET", "/console/", nil, map[string]string{"Accept-Language": "en-GB,en;q=0.9,de;q=0.5"}); !strings.Contains(page, "Sign out") || !strings.Contains(page, `lang="en"`) {
		t.Errorf("the console in English: %s", page)
	}
	// Logout needs the session's form token.
	if resp, _ := b.do("POST", "/console/logout", url.Values{}, nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("logout without the token: %d", resp.StatusCode)
	}
	csrf := csrfField.FindStringSubmatch(page)[1]
	if resp, _ := b.do("POST", "/console/logout", url.Values{"csrf": {csrf}}, nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("logout: %d", resp.StatusCode)
	}
	if resp, _ := b.do("GET", "/console/", nil, nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the console after logout: %d", resp.StatusCode)
	}
	var actions string
	pool.QueryRow(ctx, `SELECT string_agg(action, ' ' ORDER BY id) FROM audit_log WHERE actor = 'erika@lindenbrueck.example'`).Scan(&actions)
	if actions != "login logout" {
		t.Errorf("audit log: %q", actions)
	}
	// Behind a proxy that terminated TLS, the cookie is sent over TLS only.
	_, page = b.do("GET", "/console/login", nil, nil)
	resp, _ = b.do("POST", "/console/login", url.Values{"email": {"erika@lindenbrueck.example"}, "password": {"richtig-langes-Passwort"},
		"csrf": {csrfField.FindStringSubmatch(page)[1]}}, map[string]string{"X-Forwarded-Proto": "https"})
	if c := cookie(resp, sessionCookie); c == nil || !c.Secure {
		t.Errorf("the session cookie behind TLS: %+v", c)
	}
	jar.SetCookies(resp.Request.URL, []*http.Cookie{{Name: sessionCookie, Value: cookie(resp, sessionCookie).Value, Path: "/console/"}})
	if resp, _ := b.do("GET", "/console/", nil, nil); resp.StatusCode != 200 {
		t.Fatalf("signed in again: %d", resp.StatusCode)
	}
	// Disabled: the open session dies with the account.
	if _, err := auth.Disable(ctx, pool, "erika@lindenbrueck.example"); err != nil {
		t.Fatal(err)
	}
	if resp, _ := b.do("GET", "/console/", nil, nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("a disabled account's session: %d", resp.StatusCode)
	}
	// Five failures, then even the right password waits.
	if _, err := auth.AddUser(ctx, pool, "max@lindenbrueck.example", "Max", hash, false); err != nil {
		t.Fatal(err)
	}
	try := func(pw string) (*http.Response, string) {
		_, page := b.do("GET", "/console/login", nil, nil)
		return b.do("POST", "/console/login", url.Values{"email": {"max@lindenbrueck.example"}, "password": {pw},
			"csrf": {csrfField.FindStringSubmatch(page)[1]}}, nil)
	}
	for range auth.MaxFailures {
		try("falsches-Passwort!")
	}
	if resp, page := try("richtig-langes-Passwort"); resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(page, "15 Minuten") {
		t.Errorf("after five failures: %d", resp.StatusCode)
	}
}

// TestLogoutEverywhere: "Überall abmelden" in one browser ends the account's sessions in every
// other, needs the form's token, and is audited.
func TestLogoutEverywhere(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.Pool(t)
	town := dbtest.Town(t, pool, "lindenbrueck")
	u := staff(t, pool, "erika@lindenbrueck.example", "Erika Muster", town, auth.RoleAgent)
	srv := httptest.NewServer(New(pool, slog.New(slog.DiscardHandler), time.Now, Options{}))
	t.Cleanup(srv.Close)
	office, home := signIn(t, srv.URL, u.Email), signIn(t, srv.URL, u.Email)
	_, page := office.do("GET", "/console/", nil, nil)
	if !strings.Contains(page, "Überall abmelden") {
		t.Fatal("the console home offers no sign-out everywhere")
	}
	if resp, _ := office.do("POST", "/console/logout-everywhere", url.Values{"csrf": {"falsch"}}, nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("without the form's token: %d", resp.StatusCode)
	}
	resp, _ := office.do("POST", "/console/logout-everywhere", url.Values{"csrf": {csrfField.FindStringSubmatch(page)[1]}}, nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/login" {
		t.Fatalf("sign out everywhere: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	for name, b := range map[string]browser{"this browser": office, "the other browser": home} {
		if resp, _ := b.do("GET", "/console/", nil, nil); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("%s still signed in: %d", name, resp.StatusCode)
		}
	}
	var n int
	pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE actor = $1 AND action = 'logout.everywhere'`, u.Email).Scan(&n)
	if n != 1 {
		t.Errorf("%d audit entries, want 1", n)
	}
}
