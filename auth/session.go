package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/citybot-project/citybot/database"
)

// Session limits: a console left alone signs out after IdleTimeout, any session after
// AbsoluteTimeout (a working day and a half), whatever its use.
const (
	IdleTimeout     = 30 * time.Minute
	AbsoluteTimeout = 12 * time.Hour
)

// Login throttling: after MaxFailures failed logins of an account within FailureWindow, the
// account's logins are refused until the window has passed, even with the right password, so
// that guessing costs hours, and the holder learns of it (the error says so).
const (
	MaxFailures   = 5
	FailureWindow = 15 * time.Minute
)

// Errors of logging in and of sessions.
var (
	// ErrLogin is a wrong address or password; which one is not said.
	ErrLogin = errors.New("wrong e-mail address or password")
	// ErrLocked: too many failed logins; try again later.
	ErrLocked = fmt.Errorf("too many failed logins: try again in %d minutes", int(FailureWindow.Minutes()))
	// ErrNoSession: the session is unknown, ended or timed out.
	ErrNoSession = errors.New("not signed in")
)

// Pool is what Login needs of the database: transactions and statements (a *pgxpool.Pool).
type Pool interface {
	database.Beginner
	database.Querier
}

// Session is a signed-in console.
type Session struct {
	User    User
	CSRF    string // the token every state-changing request carries
	Created time.Time
}

// Login checks an address and password and opens a session, whose token (for the cookie) it
// returns. A wrong password, an unknown or disabled account and an account without a password
// are the same ErrLogin; each failure counts against the address. then, when not nil, runs in
// the session's transaction (the audit entry of the login).
func Login(ctx context.Context, db Pool, email, password string, now time.Time, then func(ctx context.Context, tx pgx.Tx, u User) error) (token string, s Session, err error) {
	email, err = NormalizeEmail(email)
	if err != nil {
		return "", Session{}, ErrLogin
	}
	err = database.InTx(ctx, db, func(ctx context.Context, tx pgx.Tx) error {
		var failures int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM login_failures WHERE email = $1 AND at > $2`,
			email, now.Add(-FailureWindow)).Scan(&failures); err != nil {
			return fmt.Errorf("login: %w", err)
		}
		if failures >= MaxFailures {
			return ErrLocked
		}
		u, err := GetUser(ctx, tx, email)
		var hash *string
		if err == nil {
			err = tx.QueryRow(ctx, `SELECT password_hash FROM users WHERE id = $1`, u.ID).Scan(&hash)
		}
		ok := false
		if err == nil && hash != nil && !u.Disabled {
			ok, _ = VerifyPassword(*hash, password)
		} else {
			// The same work for an unknown address: the time taken does not tell it apart.
			VerifyPassword(dummyHash, password)
		}
		if !ok {
			return ErrLogin
		}
		if token, s, err = openSession(ctx, tx, u, now); err != nil {
			return err
		}
		if then != nil {
			return then(ctx, tx, u)
		}
		return nil
	})
	if errors.Is(err, ErrLogin) {
		// Counted outside the refused transaction, so that it stays.
		if _, ferr := db.Exec(ctx, `INSERT INTO login_failures (email, at) VALUES ($1, $2)`, email, now); ferr != nil {
			return "", Session{}, fmt.Errorf("login: %w", ferr)
		}
	}
	return token, s, err
}

// LoginSSO opens a session for the account of an address the town's identity provider vouched
// for; an unknown or disabled account is ErrLogin. then, when not nil, runs in the session's
// transaction (the roles from the provider, the audit entry).
func LoginSSO(ctx context.Context, db Pool, email string, now time.Time, then func(ctx context.Context, tx pgx.Tx, u User) error) (token string, s Session, err error) {
	err = database.InTx(ctx, db, func(ctx context.Context, tx pgx.Tx) error {
		u, err := GetUser(ctx, tx, email)
		if errors.Is(err, ErrNoUser) || errors.Is(err, ErrBadEmail) || err == nil && u.Disabled {
			return ErrLogin
		}
		if err != nil {
			return err
		}
		if then != nil {
			if err := then(ctx, tx, u); err != nil {
				return err
			}
			if u, err = GetUser(ctx, tx, email); err != nil {
				return err
			}
		}
		token, s, err = openSession(ctx, tx, u, now)
		return err
	})
	return token, s, err
}

// dummyHash is verified for an unknown account, so that it costs what a known one does (a hash
// of a password no account has, made once with HashPassword).
const dummyHash = "$argon2id$v=19$m=19456,t=2,p=1$QiY2DsANBpjrNgAs5LOGJA$YSX/FXQvgrIPtc9I8OsAsrRVYozKx+FQjMiui9RUSwo"

func openSession(ctx context.Context, q database.Querier, u User, now time.Time) (string, Session, error) {
	token := rand.Text() + rand.Text()
	csrf := rand.Text()
	sum := sha256.Sum256([]byte(token))
	if _, err := q.Exec(ctx, `INSERT INTO sessions (token_hash, user_id, csrf, created_at, seen_at) VALUES ($1, $2, $3, $4, $4)`,
		sum[:], u.ID, csrf, now); err != nil {
		return "", Session{}, fmt.Errorf("open session: %w", err)
	}
	if _, err := q.Exec(ctx, `DELETE FROM login_failures WHERE email = $1`, u.Email); err != nil {
		return "", Session{}, fmt.Errorf("open session: %w", err)
	}
	return token, Session{User: u, CSRF: csrf, Created: now}, nil
}

// Lookup returns the session of a token and marks it used; a session idle or older than the
// limits, or of a disabled account, is ended and ErrNoSession.
func Lookup(ctx context.Context, q database.Querier, token string, now time.Time) (Session, error) {
	sum := sha256.Sum256([]byte(token))
	var s Session
	var email string
	var seen time.Time
	err := q.QueryRow(ctx, `SELECT u.email, s.csrf, s.created_at, s.seen_at FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.token_hash = $1`, sum[:]).Scan(&email, &s.CSRF, &s.Created, &seen)
	if errors.Is(err, pgx.ErrNoRows) {
		return Session{}, ErrNoSession
	}
	if err != nil {
		return Session{}, fmt.Errorf("session: %w", err)
	}
	if s.User, err = GetUser(ctx, q, email); err != nil {
		return Session{}, err
	}
	if s.User.Disabled || now.Sub(seen) >= IdleTimeout || now.Sub(s.Created) >= AbsoluteTimeout {
		if _, err := q.Exec(ctx, `DELETE FROM sessions WHERE token_hash = $1`, sum[:]); err != nil {
			return Session{}, fmt.Errorf("session: %w", err)
		}
		return Session{}, ErrNoSession
	}
	if _, err := q.Exec(ctx, `UPDATE sessions SET seen_at = $2 WHERE token_hash = $1`, sum[:], now); err != nil {
		return Session{}, fmt.Errorf("session: %w", err)
	}
	return s, nil
}

// Logout ends the session of a token.
func Logout(ctx context.Context, q database.Querier, token string) error {
	sum := sha256.Sum256([]byte(token))
	if _, err := q.Exec(ctx, `DELETE FROM sessions WHERE token_hash = $1`, sum[:]); err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	return nil
}
