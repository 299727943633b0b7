package breaker

import (
	"errors"
	"testing"
	"time"
)

func TestBreaker(t *testing.T) {
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	b := New(3, 30*time.Second, func() time.Time { return now })
	fail := errors.New("down")
	for i := range 3 {
		if !b.Allow() {
			t.Fatalf("refused after %d failures", i)
		}
		b.Done(fail)
	}
	if b.Allow() || !b.Open() {
		t.Fatal("not open after three failures in a row")
	}
	now = now.Add(31 * time.Second)
	if !b.Allow() {
		t.Fatal("no trial after the cooldown")
	}
	if b.Allow() {
		t.Error("a second call while the trial is out")
	}
	b.Done(fail)
	if b.Allow() {
		t.Error("a failed trial did not open it again")
	}
	now = now.Add(31 * time.Second)
	if !b.Allow() {
		t.Fatal("no second trial")
	}
	b.Done(nil)
	if !b.Allow() || b.Open() {
		t.Error("a good trial did not close it")
	}
	b.Done(nil)
	// A success between failures starts the count again.
	b.Done(fail)
	b.Done(fail)
	b.Done(nil)
	b.Done(fail)
	if !b.Allow() {
		t.Error("opened without three failures in a row")
	}
	var none *Breaker
	if !none.Allow() || none.Open() {
		t.Error("a nil breaker refuses")
	}
	none.Done(fail)
}
