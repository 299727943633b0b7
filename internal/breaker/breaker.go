// Package breaker keeps citybot from waiting on a dependency that keeps failing (an embeddings
// or generative model, a reranker, Meilisearch): after Threshold failures in a row it opens for
// Cooldown and calls are refused at once, so a dead endpoint does not add its timeout to every
// question; then one call is let through, and its success closes it again.
package breaker

import (
	"sync"
	"time"
)

// Breaker is a circuit breaker, safe for concurrent use.
type Breaker struct {
	threshold int
	cooldown  time.Duration
	now       func() time.Time

	mu        sync.Mutex
	fails     int
	openUntil time.Time
	trial     bool // a call is out after the cooldown; others wait for its outcome
}

// New returns a closed breaker.
func New(threshold int, cooldown time.Duration, now func() time.Time) *Breaker {
	return &Breaker{threshold: max(threshold, 1), cooldown: cooldown, now: now}
}

// Allow tells whether a call may go out now. Every allowed call must be followed by Done.
func (b *Breaker) Allow() bool {
	if b == nil {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.fails < b.threshold {
		return true
	}
	if b.trial || b.now().Before(b.openUntil) {
		return false
	}
	b.trial = true
	return true
}

// Done records the outcome of an allowed call.
func (b *Breaker) Done(err error) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.trial = false
	if err == nil {
		b.fails = 0
		return
	}
	b.fails++
	if b.fails >= b.threshold {
		b.openUntil = b.now().Add(b.cooldown)
	}
}

// Open tells whether calls are refused now.
func (b *Breaker) Open() bool {
	if b == nil {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.fails >= b.threshold && (b.trial || b.now().Before(b.openUntil))
}
