package tenant

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Town is one town (or a Kreis whose pages its member towns share).
type Town struct {
	ID       int
	Slug     string
	Name     string
	Settings Settings
	// Links are the collections (other towns' pages) the town's bot searches besides its own.
	Links   []Link
	Updated time.Time
}

// Link is a collection a town is linked to.
type Link struct {
	ID   int    `json:"id"`
	Slug string `json:"slug"`
	Name string `json:"name"`
}

// LinkSlugs are the slugs of the town's links.
func (t Town) LinkSlugs() []string {
	var s []string
	for _, l := range t.Links {
		s = append(s, l.Slug)
	}
	return s
}

// Errors of the store, to test for with errors.Is.
var (
	ErrNotFound = errors.New("no such town")
	ErrExists   = errors.New("a town with this slug exists")
)

// Store keeps the towns in PostgreSQL.
type Store struct {
	pool *pgxpool.Pool
}

// NewStore returns a Store over pool.
func NewStore(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// Add creates a town.
func (s *Store) Add(ctx context.Context, slug, name string, settings Settings) (Town, error) {
	if err := CheckSlug(slug); err != nil {
		return Town{}, err
	}
	raw, err := json.Marshal(settings)
	if err != nil {
		return Town{}, fmt.Errorf("add town %s: %w", slug, err)
	}
	t := Town{Slug: slug, Name: name, Settings: settings}
	err = s.pool.QueryRow(ctx, `INSERT INTO towns (slug, name, settings) VALUES ($1, $2, $3) RETURNING id, updated_at`,
		slug, name, raw).Scan(&t.ID, &t.Updated)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return Town{}, fmt.Errorf("add town %s: %w", slug, ErrExists)
	}
	if err != nil {
		return Town{}, fmt.Errorf("add town %s: %w", slug, err)
	}
	return t, nil
}

const selectTown = `SELECT t.id, t.slug, t.name, t.settings, t.updated_at,
       coalesce((SELECT json_agg(json_build_object('id', c.id, 'slug', c.slug, 'name', c.name) ORDER BY c.slug)
                 FROM town_links l JOIN towns c ON c.id = l.collection_id WHERE l.town_id = t.id), '[]')
FROM towns t`

func scanTown(row pgx.Row) (Town, error) {
	var t Town
	var raw, links []byte
	if err := row.Scan(&t.ID, &t.Slug, &t.Name, &raw, &t.Updated, &links); err != nil {
		return t, err
	}
	if err := json.Unmarshal(links, &t.Links); err != nil {
		return t, fmt.Errorf("links of town %s: %w", t.Slug, err)
	}
	if err := json.Unmarshal(raw, &t.Settings); err != nil {
		return t, fmt.Errorf("settings of town %s: %w", t.Slug, err)
	}
	return t, nil
}

// Get returns the town of slug.
func (s *Store) Get(ctx context.Context, slug string) (Town, error) {
	t, err := scanTown(s.pool.QueryRow(ctx, selectTown+" WHERE t.slug = $1", slug))
	if errors.Is(err, pgx.ErrNoRows) {
		return t, fmt.Errorf("town %q: %w", slug, ErrNotFound)
	}
	if err != nil {
		return t, fmt.Errorf("town %s: %w", slug, err)
	}
	return t, nil
}

// List returns all towns by slug.
func (s *Store) List(ctx context.Context) ([]Town, error) {
	rows, err := s.pool.Query(ctx, selectTown+" ORDER BY t.slug")
	if err != nil {
		return nil, fmt.Errorf("list towns: %w", err)
	}
	defer rows.Close()
	var out []Town
	for rows.Next() {
		t, err := scanTown(rows)
		if err != nil {
			return nil, fmt.Errorf("list towns: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// Update stores the town's name and settings.
func (s *Store) Update(ctx context.Context, t Town) error {
	raw, err := json.Marshal(t.Settings)
	if err != nil {
		return fmt.Errorf("update town %s: %w", t.Slug, err)
	}
	tag, err := s.pool.Exec(ctx, `UPDATE towns SET name = $2, settings = $3, updated_at = now() WHERE slug = $1`, t.Slug, t.Name, raw)
	if err != nil {
		return fmt.Errorf("update town %s: %w", t.Slug, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("town %q: %w", t.Slug, ErrNotFound)
	}
	return nil
}

// Rename gives a town another slug (an adopted installation's town, named from the environment).
func (s *Store) Rename(ctx context.Context, from, to string) error {
	if err := CheckSlug(to); err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx, `UPDATE towns SET slug = $2, updated_at = now() WHERE slug = $1`, from, to)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return fmt.Errorf("rename town %s to %s: %w", from, to, ErrExists)
	}
	if err != nil {
		return fmt.Errorf("rename town %s: %w", from, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("town %q: %w", from, ErrNotFound)
	}
	return nil
}

// Remove deletes a town and, by the schema's cascades, all its data: pages, index,
// conversations, answers, ratings, tickets.
func (s *Store) Remove(ctx context.Context, slug string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM towns WHERE slug = $1`, slug)
	if err != nil {
		return fmt.Errorf("remove town %s: %w", slug, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("town %q: %w", slug, ErrNotFound)
	}
	return nil
}

// Link makes the town's bot search the pages of collection too.
func (s *Store) Link(ctx context.Context, slug, collection string) error {
	if slug == collection {
		return fmt.Errorf("%w: a town searches its own pages already", ErrInvalid)
	}
	tag, err := s.pool.Exec(ctx, `INSERT INTO town_links (town_id, collection_id)
		SELECT t.id, c.id FROM towns t, towns c WHERE t.slug = $1 AND c.slug = $2
		ON CONFLICT DO NOTHING`, slug, collection)
	if err != nil {
		return fmt.Errorf("link %s to %s: %w", slug, collection, err)
	}
	if tag.RowsAffected() == 0 {
		for _, sl := range []string{slug, collection} {
			if _, err := s.Get(ctx, sl); err != nil {
				return err
			}
		}
	}
	return s.touch(ctx, slug)
}

// Unlink stops the town's bot searching collection's pages.
func (s *Store) Unlink(ctx context.Context, slug, collection string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM town_links l USING towns t, towns c
		WHERE l.town_id = t.id AND l.collection_id = c.id AND t.slug = $1 AND c.slug = $2`, slug, collection)
	if err != nil {
		return fmt.Errorf("unlink %s from %s: %w", slug, collection, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%w: %s is not linked to %s", ErrNotFound, slug, collection)
	}
	return s.touch(ctx, slug)
}

// touch marks a town changed, so that registries rebuild what they built from it.
func (s *Store) touch(ctx context.Context, slug string) error {
	_, err := s.pool.Exec(ctx, `UPDATE towns SET updated_at = now() WHERE slug = $1`, slug)
	return err
}

// Scope returns the ids of the towns whose pages the town of id searches: its own, then its
// collections'.
func (s *Store) Scope(ctx context.Context, id int) ([]int, error) {
	ids := []int{id}
	rows, err := s.pool.Query(ctx, `SELECT collection_id FROM town_links WHERE town_id = $1 ORDER BY collection_id`, id)
	if err != nil {
		return nil, fmt.Errorf("scope of town %d: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var c int
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		ids = append(ids, c)
	}
	return ids, rows.Err()
}

// Bootstrap makes an installation's first town from its environment (name and settings), as
// citybot was configured before towns: a town the migration adopted from an older installation
// is named and given the settings; an installation without any town gets one. With a town
// already there, it does nothing. It reports the town it named or made, if any.
func (s *Store) Bootstrap(ctx context.Context, name string, settings Settings) (string, error) {
	if name == "" {
		return "", nil
	}
	towns, err := s.List(ctx)
	if err != nil {
		return "", err
	}
	slug := Slugify(name)
	if err := CheckSlug(slug); err != nil {
		return "", fmt.Errorf("the town's name %q makes no slug: %w", name, err)
	}
	switch {
	case len(towns) == 0:
		if _, err := s.Add(ctx, slug, name, settings); err != nil && !errors.Is(err, ErrExists) {
			return "", err
		}
		return slug, nil
	case len(towns) == 1 && towns[0].Settings.Adopt:
		t := towns[0]
		if err := s.Rename(ctx, t.Slug, slug); err != nil {
			return "", err
		}
		t.Slug, t.Name, t.Settings = slug, name, settings
		return slug, s.Update(ctx, t)
	}
	return "", nil
}
