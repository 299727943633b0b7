package tenant

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Registry builds what serving a town needs (its engine, catalog, widget bundle: a T) once per
// town, on first use, and again when the town's settings or links change; a town removed is
// forgotten. Many towns cost only what their citizens use.
type Registry[T any] struct {
	store *Store
	build func(ctx context.Context, t Town) (T, error)
	now   func() time.Time
	// check is how often a town's row is looked at for changes, so that `towns set` in another
	// process reaches a running server within that time.
	check time.Duration

	// retire, when set, is told of a T that a rebuild replaced or whose town is gone.
	retire func(v T, gone bool)

	mu    sync.Mutex
	sites map[string]*site[T]
}

// OnRetire sets what is done with a town's T when a rebuild replaces it or the town is gone (its
// connections closed, its background work stopped; gone: what is kept of the town elsewhere
// dropped too). Call it before the first Get.
func (r *Registry[T]) OnRetire(f func(v T, gone bool)) { r.retire = f }

type site[T any] struct {
	mu      sync.Mutex // one build at a time per town; other towns are not held up
	town    Town
	v       T
	built   bool
	checked time.Time
	used    time.Time // the last Get
}

// NewRegistry returns a registry that builds a town's T with build.
func NewRegistry[T any](store *Store, check time.Duration, build func(ctx context.Context, t Town) (T, error)) *Registry[T] {
	return &Registry[T]{store: store, build: build, now: time.Now, check: check, sites: map[string]*site[T]{}}
}

// Get returns the town of slug and its T. An unknown town is ErrNotFound, never another town's.
func (r *Registry[T]) Get(ctx context.Context, slug string) (Town, T, error) {
	var zero T
	if err := CheckSlug(slug); err != nil {
		return Town{}, zero, fmt.Errorf("town %q: %w", slug, ErrNotFound)
	}
	r.mu.Lock()
	s := r.sites[slug]
	if s == nil {
		s = &site[T]{}
		r.sites[slug] = s
	}
	r.mu.Unlock()

	s.mu.Lock()
	defer s.mu.Unlock()
	s.used = r.now()
	if s.built && r.now().Sub(s.checked) < r.check {
		return s.town, s.v, nil
	}
	t, err := r.store.Get(ctx, slug)
	if errors.Is(err, ErrNotFound) {
		r.mu.Lock()
		delete(r.sites, slug)
		r.mu.Unlock()
		if s.built && r.retire != nil {
			r.retire(s.v, true)
		}
		return Town{}, zero, err
	}
	if err != nil {
		if s.built {
			// The database is away: keep serving what was built.
			return s.town, s.v, nil
		}
		return Town{}, zero, err
	}
	s.checked = r.now()
	if s.built && t.Updated.Equal(s.town.Updated) {
		return s.town, s.v, nil
	}
	v, err := r.build(ctx, t)
	if err != nil {
		return Town{}, zero, fmt.Errorf("set up town %s: %w", slug, err)
	}
	if s.built && r.retire != nil {
		r.retire(s.v, false)
	}
	s.town, s.v, s.built = t, v, true
	return t, v, nil
}

// Built returns the towns built so far and their T, for work over all of them (retention).
func (r *Registry[T]) Built() map[string]T {
	r.mu.Lock()
	list := make(map[string]*site[T], len(r.sites))
	for k, s := range r.sites {
		list[k] = s
	}
	r.mu.Unlock()
	out := map[string]T{}
	for k, s := range list {
		s.mu.Lock()
		if s.built {
			out[k] = s.v
		}
		s.mu.Unlock()
	}
	return out
}

// Sweep retires the towns not asked for within idle whose T is not busy (citizens connected):
// what many towns cost is then what their citizens use now. A town retired is built again on
// its next Get. It returns how many it retired.
func (r *Registry[T]) Sweep(idle time.Duration, busy func(T) bool) int {
	r.mu.Lock()
	list := make(map[string]*site[T], len(r.sites))
	for k, s := range r.sites {
		list[k] = s
	}
	r.mu.Unlock()
	now := r.now()
	var zero T
	retired := 0
	for _, s := range list {
		// The entry stays in the map (a town's row, no more): a Get waiting for it builds anew.
		s.mu.Lock()
		if s.built && now.Sub(s.used) > idle && !busy(s.v) {
			v := s.v
			s.built, s.v = false, zero
			retired++
			if r.retire != nil {
				r.retire(v, false)
			}
		}
		s.mu.Unlock()
	}
	return retired
}
