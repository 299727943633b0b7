package console

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"

	"github.com/citybot-project/citybot/auth"
	"github.com/citybot-project/citybot/database/dbtest"
)

// TestSingleSignOn signs staff in through a mock OpenID Connect provider (the authorization code
// flow with PKCE and a nonce, as Keycloak or ADFS run it): an existing account by its verified
// address; no account, or an unverified address, refused; with a roles claim an account made on
// first login with the roles the claim names for towns that exist, and changed with the claim;
// a callback without the login's state refused.
func TestSingleSignOn(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.Pool(t)
	town := dbtest.Town(t, pool, "lindenbrueck")
	u, _ := auth.AddUser(ctx, pool, "erika@lindenbrueck.example", "Erika Muster", "", false)
	if err := auth.Grant(ctx, pool, u.ID, town, auth.RoleAgent); err != nil {
		t.Fatal(err)
	}
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Shutdown() })
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	console := func(rolesClaim string, scopes ...string) {
		cfg := m.Config()
		h = New(pool, slog.New(slog.DiscardHandler), time.Now, Options{SSO: &SSOConfig{Issuer: m.Issuer(), ClientID: cfg.ClientID,
			ClientSecret: cfg.ClientSecret, RedirectURL: srv.URL + "/console/sso/callback", RolesClaim: rolesClaim, Scopes: scopes}})
	}
	// signIn follows the redirects through the provider and back; it returns where it ended.
	signIn := func(user *mockoidc.MockUser) (int, string) {
		t.Helper()
		m.QueueUser(user)
		jar, _ := cookiejar.New(nil)
		return get(t, &http.Client{Jar: jar}, srv.URL+"/console/sso")
	}

	console("")
	if _, page := get(t, http.DefaultClient, srv.URL+"/console/login"); !strings.Contains(page, `href="/console/sso"`) {
		t.Errorf("the login page offers no single sign-on: %s", page)
	}
	code, page := signIn(&mockoidc.MockUser{Subject: "e1", Email: "Erika@Lindenbrueck.example", EmailVerified: true})
	if code != 200 || !strings.Contains(page, "Erika Muster") || !strings.Contains(page, "<td>lindenbrueck</td><td><a href=\"/console/t/lindenbrueck/tickets\">agent</a> · <a href=\"/console/t/lindenbrueck/live\">Live-Chat</a></td>") {
		t.Fatalf("an existing account: %d %s", code, page)
	}
	var via string
	pool.QueryRow(ctx, `SELECT details->>'via' FROM audit_log WHERE actor = 'erika@lindenbrueck.example' AND action = 'login'`).Scan(&via)
	if via != m.Issuer() {
		t.Errorf("the login's audit entry names %q", via)
	}
	if code, page := signIn(&mockoidc.MockUser{Subject: "x", Email: "niemand@lindenbrueck.example", EmailVerified: true}); code != http.StatusForbidden ||
		!strings.Contains(page, "kein Konto") {
		t.Errorf("no account: %d %s", code, page)
	}
	if code, page := signIn(&mockoidc.MockUser{Subject: "e1", Email: "erika@lindenbrueck.example", EmailVerified: false}); code != http.StatusUnauthorized ||
		!strings.Contains(page, "keine bestätigte E-Mail-Adresse") {
		t.Errorf("an unverified address: %d %s", code, page)
	}
	// Roles from the provider's groups claim.
	console("groups", "groups")
	code, page = signIn(&mockoidc.MockUser{Subject: "m1", Email: "max@lindenbrueck.example", EmailVerified: true, PreferredUsername: "max.m",
		Groups: []string{"lindenbrueck:reviewer", "alle-mitarbeitenden", "nirgendwo:agent", "lindenbrueck:chef"}})
	if code != 200 || !strings.Contains(page, "max.m") || !strings.Contains(page, "<td>lindenbrueck</td><td><a href=\"/console/t/lindenbrueck/review\">reviewer</a>") ||
		strings.Contains(page, "nirgendwo") || strings.Contains(page, "chef") {
		t.Fatalf("an account from the claim: %d %s", code, page)
	}
	signIn(&mockoidc.MockUser{Subject: "m1", Email: "max@lindenbrueck.example", EmailVerified: true, Groups: []string{"lindenbrueck:agent"}})
	if got, _ := auth.GetUser(ctx, pool, "max@lindenbrueck.example"); len(got.Roles) != 1 || !got.Can(town, auth.RoleAgent) {
		t.Errorf("roles after the claim changed: %+v", got.Roles)
	}
	var changes int
	pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'user.roles' AND target = 'max@lindenbrueck.example'`).Scan(&changes)
	if changes != 2 {
		t.Errorf("%d audited role changes, want 2", changes)
	}
	// A callback that is not the answer to this browser's login.
	if code, _ := get(t, http.DefaultClient, srv.URL+"/console/sso/callback?state=fremd&code=abc"); code != http.StatusForbidden {
		t.Errorf("a callback without the login's state: %d", code)
	}
}

func get(t *testing.T, c *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
