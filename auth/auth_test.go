package auth

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/citybot-project/citybot/database"
	"github.com/citybot-project/citybot/database/dbtest"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

func TestPasswordHashes(t *testing.T) {
	h, err := HashPassword("richtig-langes-Passwort")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash %q is not argon2id in the PHC format with OWASP's parameters", h)
	}
	if h2, _ := HashPassword("richtig-langes-Passwort"); h2 == h {
		t.Error("two hashes of one password are the same: no salt")
	}
	for pw, want := range map[string]bool{"richtig-langes-Passwort": true, "richtig-langes-passwort": false, "": false,
		strings.Repeat("x", MaxPasswordLen+1): false} {
		if ok, err := VerifyPassword(h, pw); err != nil || ok != want {
			t.Errorf("verify %.20q: %v %v, want %v", pw, ok, err, want)
		}
	}
	for _, bad := range []string{"", "plain", "$argon2i$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", "$argon2id$v=19$m=0,t=2,p=1$c2FsdA$aGFzaA",
		"$argon2id$v=19$m=19456,t=2,p=1$!!$aGFzaA", "$argon2id$v=18$m=19456,t=2,p=1$c2FsdA$aGFzaA"} {
		if ok, err := VerifyPassword(bad, "richtig-langes-Passwort"); ok || err == nil {
			t.Errorf("a bad hash %q: %v %v", bad, ok, err)
		}
	}
	for _, weak := range []string{"", "kurz", "elf Zeichen", strings.Repeat("ä", MaxPasswordLen+1)} {
		if _, err := HashPassword(weak); !errors.Is(err, ErrWeakPassword) {
			t.Errorf("%.20q: %v, want ErrWeakPassword", weak, err)
		}
	}
	if _, err := HashPassword("zwölf Zeichn"); err != nil { // 12 runes, 13 bytes
		t.Errorf("twelve characters: %v", err)
	}
	if a, b := RandomPassword(), RandomPassword(); a == b || CheckPassword(a) != nil {
		t.Errorf("random passwords %q %q", a, b)
	}
}

func TestUsersAcrossTowns(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.Pool(t)
	lb, ef := dbtest.Town(t, pool, "lindenbrueck"), dbtest.Town(t, pool, "eichenfeld")
	hash, _ := HashPassword("richtig-langes-Passwort")
	u, err := AddUser(ctx, pool, " Erika.Muster@Lindenbrueck.example ", "Erika Muster", hash, false)
	if err != nil || u.Email != "erika.muster@lindenbrueck.example" || !u.HasPassword {
		t.Fatalf("add: %+v %v", u, err)
	}
	if err := Grant(ctx, pool, u.ID, lb, RoleAgent); err != nil {
		t.Fatal(err)
	}
	// The same person for another town: one account, a role in each.
	again, err := AddUser(ctx, pool, "erika.muster@lindenbrueck.example", "E. Muster", "", false)
	if err != nil || again.ID != u.ID || again.Name != "Erika Muster" || !again.HasPassword {
		t.Fatalf("added again: %+v %v", again, err)
	}
	if err := Grant(ctx, pool, u.ID, ef, RoleReviewer); err != nil {
		t.Fatal(err)
	}
	u, _ = GetUser(ctx, pool, "ERIKA.MUSTER@lindenbrueck.example")
	if !u.Can(lb, RoleAgent) || u.Can(lb, RoleReviewer) || !u.Can(ef, RoleReviewer) || u.Can(ef, RoleAgent) {
		t.Errorf("roles %+v", u.Roles)
	}
	if users, _ := ListUsers(ctx, pool, ef); len(users) != 1 || users[0].ID != u.ID {
		t.Errorf("eichenfeld's users %+v", users)
	}
	other := dbtest.Town(t, pool, "ahornfeld")
	if users, _ := ListUsers(ctx, pool, other); len(users) != 0 {
		t.Errorf("a town nobody works for lists %+v", users)
	}
	// Bad input, each with its error.
	if _, err := AddUser(ctx, pool, "keine-adresse", "X", "", false); !errors.Is(err, ErrBadEmail) {
		t.Errorf("bad address: %v", err)
	}
	if _, err := AddUser(ctx, pool, "Erika <erika@x.example>", "X", "", false); !errors.Is(err, ErrBadEmail) {
		t.Errorf("an address with a display name: %v", err)
	}
	if _, err := AddUser(ctx, pool, "x@y.example", " ", "", false); err == nil {
		t.Error("a user without a name was added")
	}
	if err := Grant(ctx, pool, u.ID, lb, "chef"); !errors.Is(err, ErrBadRole) {
		t.Errorf("bad role: %v", err)
	}
	if err := Grant(ctx, pool, u.ID, 99999, RoleAgent); err == nil || !strings.Contains(err.Error(), "no such town") {
		t.Errorf("a town that does not exist: %v", err)
	}
	if _, err := GetUser(ctx, pool, "niemand@x.example"); !errors.Is(err, ErrNoUser) {
		t.Errorf("unknown user: %v", err)
	}

	// Disabling ends the sessions and every role's use.
	session := func() {
		if _, err := pool.Exec(ctx, `INSERT INTO sessions (token_hash, user_id, csrf, created_at, seen_at) VALUES ($1, $2, 'c', now(), now())`,
			[]byte(time.Now().String()), u.ID); err != nil {
			t.Fatal(err)
		}
	}
	sessions := func() (n int) {
		pool.QueryRow(ctx, `SELECT count(*) FROM sessions WHERE user_id = $1`, u.ID).Scan(&n)
		return n
	}
	session()
	if _, err := SetPassword(ctx, pool, u.Email, hash); err != nil || sessions() != 0 {
		t.Errorf("a new password left %d sessions: %v", sessions(), err)
	}
	session()
	err = database.InTx(ctx, pool, func(ctx context.Context, tx pgx.Tx) error {
		u, err = Disable(ctx, tx, u.Email)
		return err
	})
	if err != nil || !u.Disabled || sessions() != 0 || u.Can(lb, RoleAgent) {
		t.Errorf("disabled %+v, %d sessions left: %v", u, sessions(), err)
	}
}

// TestLoginSessionsAndLockout: a login opens a session that lives while used and ends when idle,
// too old, logged out, or its account disabled; wrong passwords and unknown addresses are the
// same error; five failures lock the account's logins for the window, even the right password.
func TestLoginSessionsAndLockout(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.Pool(t)
	hash, _ := HashPassword("richtig-langes-Passwort")
	if _, err := AddUser(ctx, pool, "erika@x.example", "Erika", hash, false); err != nil {
		t.Fatal(err)
	}
	if _, err := AddUser(ctx, pool, "sso@x.example", "Nur SSO", "", false); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	for _, c := range [][2]string{{"erika@x.example", "falsch-falsch-falsch"}, {"niemand@x.example", "richtig-langes-Passwort"},
		{"sso@x.example", ""}, {"keine adresse", "x"}} {
		if _, _, err := Login(ctx, pool, c[0], c[1], now, nil); !errors.Is(err, ErrLogin) {
			t.Errorf("login %v: %v, want ErrLogin", c, err)
		}
	}
	token, s, err := Login(ctx, pool, "Erika@x.example", "richtig-langes-Passwort", now, nil)
	if err != nil || token == "" || s.CSRF == "" || s.User.Email != "erika@x.example" {
		t.Fatalf("login: %q %+v %v", token, s, err)
	}
	var stored int
	pool.QueryRow(ctx, `SELECT count(*) FROM sessions WHERE token_hash = $1`, []byte(token)).Scan(&stored)
	if stored != 0 {
		t.Error("the session's token is stored as it is")
	}
	// Used every 20 minutes it lives; after 12 hours it ends whatever its use.
	at := now
	for ; at.Sub(now) < AbsoluteTimeout; at = at.Add(20 * time.Minute) {
		if got, err := Lookup(ctx, pool, token, at); err != nil || got.CSRF != s.CSRF {
			t.Fatalf("at %s: %+v %v", at.Sub(now), got, err)
		}
	}
	if _, err := Lookup(ctx, pool, token, at); !errors.Is(err, ErrNoSession) {
		t.Errorf("after %s: %v, want ErrNoSession", at.Sub(now), err)
	}
	// Idle for longer than the idle timeout: ended.
	token, _, _ = Login(ctx, pool, "erika@x.example", "richtig-langes-Passwort", now, nil)
	if _, err := Lookup(ctx, pool, token, now.Add(IdleTimeout+time.Minute)); !errors.Is(err, ErrNoSession) {
		t.Errorf("idle: %v", err)
	}
	if _, err := Lookup(ctx, pool, token, now); !errors.Is(err, ErrNoSession) {
		t.Errorf("an ended session came back: %v", err)
	}
	// Logout.
	token, _, _ = Login(ctx, pool, "erika@x.example", "richtig-langes-Passwort", now, nil)
	if err := Logout(ctx, pool, token); err != nil {
		t.Fatal(err)
	}
	if _, err := Lookup(ctx, pool, token, now); !errors.Is(err, ErrNoSession) {
		t.Errorf("after logout: %v", err)
	}
	// Five failures lock the logins for the window; then the right password works again.
	for i := range MaxFailures {
		if _, _, err := Login(ctx, pool, "erika@x.example", "falsch-falsch-falsch", now.Add(time.Duration(i)*time.Second), nil); !errors.Is(err, ErrLogin) {
			t.Fatalf("failure %d: %v", i, err)
		}
	}
	if _, _, err := Login(ctx, pool, "erika@x.example", "richtig-langes-Passwort", now.Add(time.Minute), nil); !errors.Is(err, ErrLocked) {
		t.Errorf("the right password during the lockout: %v, want ErrLocked", err)
	}
	token, _, err = Login(ctx, pool, "erika@x.example", "richtig-langes-Passwort", now.Add(FailureWindow+time.Minute), nil)
	if err != nil {
		t.Fatalf("after the window: %v", err)
	}
	// A disabled account's session dies at once and it cannot sign in.
	if _, err := Disable(ctx, pool, "erika@x.example"); err != nil {
		t.Fatal(err)
	}
	if _, err := Lookup(ctx, pool, token, now.Add(FailureWindow+2*time.Minute)); !errors.Is(err, ErrNoSession) {
		t.Errorf("a disabled account's session: %v", err)
	}
	if _, _, err := Login(ctx, pool, "erika@x.example", "richtig-langes-Passwort", now.Add(2*FailureWindow), nil); !errors.Is(err, ErrLogin) {
		t.Errorf("a disabled account logs in: %v", err)
	}
}
