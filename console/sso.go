package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/jackc/pgx/v5"
	"golang.org/x/oauth2"

	"github.com/citybot-project/citybot/audit"
	"github.com/citybot-project/citybot/auth"
	"github.com/citybot-project/citybot/database"
)

// SSOConfig is the town's (or its IT provider's) OpenID Connect identity provider: Keycloak,
// ADFS, anything that speaks the authorization code flow.
type SSOConfig struct {
	Issuer       string
	ClientID     string
	ClientSecret string
	// RedirectURL is the public address of /console/sso/callback, as the provider knows it.
	RedirectURL string
	// RolesClaim, when set, names the ID token's claim that lists the person's roles as
	// "SLUG:ROLE" (e.g. "musterstadt:agent"): an account is made on first login and its roles
	// follow the claim at every login. Unset: the account and its roles are made with
	// `citybot users`, and the provider only vouches for the address.
	RolesClaim string
	// Scopes are asked for besides openid, email and profile: the one that puts the roles
	// claim into the token where the provider wants one asked for (often "groups").
	Scopes []string
}

// sso signs staff in through the identity provider. The provider's discovery document is
// fetched on first use, so that a provider down at start does not keep the chat from serving.
type sso struct {
	cfg SSOConfig

	mu       sync.Mutex
	provider *oidc.Provider
}

// ssoCookie holds the login's state, nonce and PKCE verifier between the redirect to the
// provider and its way back.
const ssoCookie = "citybot_sso"

func (s *sso) oauth(ctx context.Context) (*oauth2.Config, *oidc.IDTokenVerifier, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.provider == nil {
		p, err := oidc.NewProvider(ctx, s.cfg.Issuer)
		if err != nil {
			return nil, nil, fmt.Errorf("identity provider %s: %w", s.cfg.Issuer, err)
		}
		s.provider = p
	}
	cfg := &oauth2.Config{ClientID: s.cfg.ClientID, ClientSecret: s.cfg.ClientSecret, RedirectURL: s.cfg.RedirectURL,
		Endpoint: s.provider.Endpoint(), Scopes: append([]string{oidc.ScopeOpenID, "email", "profile"}, s.cfg.Scopes...)}
	return cfg, s.provider.Verifier(&oidc.Config{ClientID: s.cfg.ClientID}), nil
}

// ssoStart sends the browser to the provider.
func (c *Console) ssoStart(w http.ResponseWriter, r *http.Request) {
	cfg, _, err := c.sso.oauth(r.Context())
	if err != nil {
		c.log.Error("console sso", "err", err)
		c.renderLogin(w, r, http.StatusBadGateway, c.texts[lang(r)]["ssodown"], "")
		return
	}
	state, nonce, verifier := randToken(), randToken(), oauth2.GenerateVerifier()
	http.SetCookie(w, &http.Cookie{Name: ssoCookie, Value: state + "." + nonce + "." + verifier, Path: "/console/",
		HttpOnly: true, Secure: secure(r), SameSite: http.SameSiteLaxMode, MaxAge: 600})
	http.Redirect(w, r, cfg.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), http.StatusFound)
}

// ssoCallback takes the provider's code, checks the ID token (signature, audience, expiry,
// nonce) and the verified address, and opens a session.
func (c *Console) ssoCallback(w http.ResponseWriter, r *http.Request) {
	t := c.texts[lang(r)]
	ctx := r.Context()
	cookie, err := r.Cookie(ssoCookie)
	parts := strings.Split(func() string {
		if err != nil {
			return ""
		}
		return cookie.Value
	}(), ".")
	http.SetCookie(w, &http.Cookie{Name: ssoCookie, Path: "/console/", MaxAge: -1})
	if len(parts) != 3 || !sameToken(parts[0], r.URL.Query().Get("state")) {
		c.renderLogin(w, r, http.StatusForbidden, t["expired"], "")
		return
	}
	if e := r.URL.Query().Get("error"); e != "" {
		c.renderLogin(w, r, http.StatusUnauthorized, t["ssorefused"], "")
		return
	}
	cfg, verifier, err := c.sso.oauth(ctx)
	if err != nil {
		c.log.Error("console sso", "err", err)
		c.renderLogin(w, r, http.StatusBadGateway, t["ssodown"], "")
		return
	}
	tok, err := cfg.Exchange(ctx, r.URL.Query().Get("code"), oauth2.VerifierOption(parts[2]))
	if err != nil {
		c.log.Warn("console sso: code exchange", "err", err)
		c.renderLogin(w, r, http.StatusUnauthorized, t["ssorefused"], "")
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	id, err := verifier.Verify(ctx, raw)
	if err != nil || id.Nonce != parts[1] {
		c.log.Warn("console sso: ID token refused", "err", err)
		c.renderLogin(w, r, http.StatusUnauthorized, t["ssorefused"], "")
		return
	}
	var claims map[string]any
	if err := id.Claims(&claims); err != nil {
		c.renderLogin(w, r, http.StatusUnauthorized, t["ssorefused"], "")
		return
	}
	email, _ := claims["email"].(string)
	if verified, _ := claims["email_verified"].(bool); !verified || email == "" {
		c.renderLogin(w, r, http.StatusUnauthorized, t["ssonoemail"], "")
		return
	}
	if c.sso.cfg.RolesClaim != "" {
		if err := c.provision(ctx, email, claims); err != nil {
			c.log.Error("console sso: roles from the claim", "err", err)
			c.renderLogin(w, r, http.StatusInternalServerError, t["ssorefused"], "")
			return
		}
	}
	token, _, err := auth.LoginSSO(ctx, c.pool, email, c.now(), func(ctx context.Context, tx pgx.Tx, u auth.User) error {
		return audit.Record(ctx, tx, audit.Entry{Actor: u.Email, Action: "login", Details: map[string]any{"via": c.sso.cfg.Issuer}})
	})
	if errors.Is(err, auth.ErrLogin) {
		c.renderLogin(w, r, http.StatusForbidden, t["ssonoaccount"], "")
		return
	}
	if err != nil {
		c.log.Error("console sso", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: "/console/", HttpOnly: true, Secure: secure(r),
		SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/console/", http.StatusSeeOther)
}

// provision makes the account of a provider's user on first login and sets its roles to those
// the roles claim names ("SLUG:ROLE"; other values, and towns that do not exist, are ignored).
func (c *Console) provision(ctx context.Context, email string, claims map[string]any) error {
	name, _ := claims["name"].(string)
	if name == "" {
		name, _ = claims["preferred_username"].(string)
	}
	if name == "" {
		name = email
	}
	var values []string
	switch v := claims[c.sso.cfg.RolesClaim].(type) {
	case []any:
		for _, x := range v {
			if s, ok := x.(string); ok {
				values = append(values, s)
			}
		}
	case string:
		values = strings.Fields(v)
	}
	return database.InTx(ctx, c.pool, func(ctx context.Context, tx pgx.Tx) error {
		u, err := auth.AddUser(ctx, tx, email, name, "", false)
		if err != nil {
			return err
		}
		var roles []auth.Role
		for _, v := range values {
			slug, role, ok := strings.Cut(strings.TrimPrefix(v, "/"), ":")
			if !ok || auth.CheckRole(role) != nil {
				continue
			}
			var town int
			if err := tx.QueryRow(ctx, `SELECT id FROM towns WHERE slug = $1`, slug).Scan(&town); err != nil {
				continue // a town this deployment does not serve
			}
			roles = append(roles, auth.Role{Town: town, Role: role})
		}
		changed, err := auth.SetRoles(ctx, tx, u.ID, roles)
		if err != nil || !changed {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: "sso", Action: "user.roles", Target: u.Email,
			Details: map[string]any{"claim": values}})
	})
}
