package auth

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/citybot-project/citybot/database"
)

// Roles a person may hold in a town.
const (
	RoleAdmin    = "admin"    // the town's settings and users
	RoleEditor   = "editor"   // sources and curated answers
	RoleAgent    = "agent"    // live chat and tickets
	RoleReviewer = "reviewer" // review of rated conversations, export
)

// Roles lists the roles in a town, for messages that name the valid ones.
var Roles = []string{RoleAdmin, RoleEditor, RoleAgent, RoleReviewer}

// User is a staff account.
type User struct {
	ID       int64
	Email    string
	Name     string
	Operator bool // manages the deployment's towns
	Disabled bool
	Created  time.Time
	Roles    []Role
	// HasPassword: false for an account that signs in only through the identity provider.
	HasPassword bool
}

// Role is what a user may do in one town.
type Role struct {
	Town     int    `json:"town"`
	TownSlug string `json:"town_slug"`
	Role     string `json:"role"`
}

// Can tells whether u holds role in town (an operator holds none: towns are not theirs to
// work in, only to set up).
func (u User) Can(town int, role string) bool {
	return !u.Disabled && slices.ContainsFunc(u.Roles, func(r Role) bool { return r.Town == town && r.Role == role })
}

// Errors of the user store, to test for with errors.Is.
var (
	ErrNoUser   = errors.New("no such user")
	ErrBadEmail = errors.New("not an e-mail address")
	ErrBadRole  = fmt.Errorf("not a role: want one of %s", strings.Join(Roles, ", "))
)

// NormalizeEmail checks an address and returns it lower-cased, the form accounts are kept in.
func NormalizeEmail(s string) (string, error) {
	a, err := mail.ParseAddress(strings.TrimSpace(s))
	if err != nil || a.Name != "" || !strings.Contains(a.Address, "@") {
		return "", fmt.Errorf("%q: %w", s, ErrBadEmail)
	}
	return strings.ToLower(a.Address), nil
}

// CheckRole tells whether role is one of Roles.
func CheckRole(role string) error {
	if !slices.Contains(Roles, role) {
		return fmt.Errorf("%q: %w", role, ErrBadRole)
	}
	return nil
}

// AddUser creates an account, or returns the existing one of that address (a person who works
// for several towns is one account). passwordHash may be empty: no password.
func AddUser(ctx context.Context, q database.Querier, email, name, passwordHash string, operator bool) (User, error) {
	email, err := NormalizeEmail(email)
	if err != nil {
		return User{}, err
	}
	if name = strings.TrimSpace(name); name == "" {
		return User{}, errors.New("a user needs a name")
	}
	var hash *string
	if passwordHash != "" {
		hash = &passwordHash
	}
	_, err = q.Exec(ctx, `INSERT INTO users (email, name, password_hash, operator) VALUES ($1, $2, $3, $4)
		ON CONFLICT (email) DO NOTHING`, email, name, hash, operator)
	if err != nil {
		return User{}, fmt.Errorf("add user %s: %w", email, err)
	}
	return GetUser(ctx, q, email)
}

// Grant gives a user a role in a town; granting one held already changes nothing.
func Grant(ctx context.Context, q database.Querier, userID int64, town int, role string) error {
	if err := CheckRole(role); err != nil {
		return err
	}
	_, err := q.Exec(ctx, `INSERT INTO user_roles (town_id, user_id, role) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
		town, userID, role)
	var pg *pgconn.PgError
	if errors.As(err, &pg) && pg.Code == "23503" {
		return fmt.Errorf("grant %s: no such town or user", role)
	}
	if err != nil {
		return fmt.Errorf("grant %s: %w", role, err)
	}
	return nil
}

// GetUser returns the account of an address with its roles.
func GetUser(ctx context.Context, q database.Querier, email string) (User, error) {
	email, err := NormalizeEmail(email)
	if err != nil {
		return User{}, err
	}
	users, err := listUsers(ctx, q, "WHERE u.email = $1", email)
	if err != nil {
		return User{}, err
	}
	if len(users) == 0 {
		return User{}, fmt.Errorf("%s: %w", email, ErrNoUser)
	}
	return users[0], nil
}

// ListUsers returns the accounts with a role in town, or every account for town 0, by address.
func ListUsers(ctx context.Context, q database.Querier, town int) ([]User, error) {
	if town == 0 {
		return listUsers(ctx, q, "")
	}
	return listUsers(ctx, q, "WHERE EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = u.id AND r.town_id = $1)", town)
}

func listUsers(ctx context.Context, q database.Querier, where string, args ...any) ([]User, error) {
	rows, err := q.Query(ctx, `SELECT u.id, u.email, u.name, u.operator, u.disabled_at IS NOT NULL, u.created_at,
		u.password_hash IS NOT NULL,
		coalesce((SELECT jsonb_agg(jsonb_build_object('town', r.town_id, 'town_slug', t.slug, 'role', r.role) ORDER BY t.slug, r.role)
			FROM user_roles r JOIN towns t ON t.id = r.town_id WHERE r.user_id = u.id), '[]')
		FROM users u `+where+` ORDER BY u.email`, args...)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	users, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (User, error) {
		var u User
		err := row.Scan(&u.ID, &u.Email, &u.Name, &u.Operator, &u.Disabled, &u.Created, &u.HasPassword, &u.Roles)
		return u, err
	})
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return users, nil
}

// Disable locks an account out: it can no longer sign in, and its sessions end at once.
func Disable(ctx context.Context, q database.Querier, email string) (User, error) {
	u, err := GetUser(ctx, q, email)
	if err != nil {
		return User{}, err
	}
	if _, err := q.Exec(ctx, `UPDATE users SET disabled_at = coalesce(disabled_at, now()) WHERE id = $1`, u.ID); err != nil {
		return User{}, fmt.Errorf("disable %s: %w", u.Email, err)
	}
	if err := EndSessions(ctx, q, u.ID); err != nil {
		return User{}, err
	}
	u.Disabled = true
	return u, nil
}

// SetPassword gives an account a new password hash and ends its sessions (log out everywhere).
func SetPassword(ctx context.Context, q database.Querier, email, hash string) (User, error) {
	u, err := GetUser(ctx, q, email)
	if err != nil {
		return User{}, err
	}
	if _, err := q.Exec(ctx, `UPDATE users SET password_hash = $2 WHERE id = $1`, u.ID, hash); err != nil {
		return User{}, fmt.Errorf("set the password of %s: %w", u.Email, err)
	}
	if err := EndSessions(ctx, q, u.ID); err != nil {
		return User{}, err
	}
	u.HasPassword = true
	return u, nil
}

// EndSessions ends every console session of a user.
func EndSessions(ctx context.Context, q database.Querier, userID int64) error {
	if _, err := q.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("end sessions: %w", err)
	}
	return nil
}

// SetRoles makes a user's roles exactly roles (those an identity provider's claim names), and
// tells whether they changed.
func SetRoles(ctx context.Context, q database.Querier, userID int64, roles []Role) (bool, error) {
	for _, r := range roles {
		if err := CheckRole(r.Role); err != nil {
			return false, err
		}
	}
	var before []Role
	if err := q.QueryRow(ctx, `SELECT coalesce(jsonb_agg(jsonb_build_object('town', town_id, 'role', role) ORDER BY town_id, role), '[]')
		FROM user_roles WHERE user_id = $1`, userID).Scan(&before); err != nil {
		return false, fmt.Errorf("roles: %w", err)
	}
	if _, err := q.Exec(ctx, `DELETE FROM user_roles WHERE user_id = $1`, userID); err != nil {
		return false, fmt.Errorf("roles: %w", err)
	}
	for _, r := range roles {
		if err := Grant(ctx, q, userID, r.Town, r.Role); err != nil {
			return false, err
		}
	}
	var after []Role
	if err := q.QueryRow(ctx, `SELECT coalesce(jsonb_agg(jsonb_build_object('town', town_id, 'role', role) ORDER BY town_id, role), '[]')
		FROM user_roles WHERE user_id = $1`, userID).Scan(&after); err != nil {
		return false, fmt.Errorf("roles: %w", err)
	}
	return !slices.Equal(before, after), nil
}
