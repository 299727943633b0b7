package main

import (
	"testing"
	"time"
)

// TestSummarizeLive counts a probe in each way it can end: all the way back, answered but lost
// on the way back, never at the agent, and acknowledged or not.
func TestSummarizeLive(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	s := summarize([]liveProbe{
		{sent: at(0), acked: at(5), atAgent: at(20), answered: at(20), back: at(50)},
		{sent: at(100), acked: at(110), atAgent: at(130), answered: at(130)}, // the answer lost
		{sent: at(200)}, // lost on the way to the agent, not even acknowledged
		{},              // never sent: not counted
	})
	if s.sent != 3 || s.acked != 2 || s.atAgent != 2 || s.answered != 2 || s.back != 1 {
		t.Errorf("counts: %+v", s)
	}
	if len(s.round) != 1 || s.round[0] != 50*time.Millisecond || s.toCitizen[0] != 30*time.Millisecond {
		t.Errorf("round trip %v, back %v; want 50ms, 30ms", s.round, s.toCitizen)
	}
	if len(s.afterCommit) != 2 || s.afterCommit[0] != 15*time.Millisecond {
		t.Errorf("at the agent after `sent`: %v, want 15ms first", s.afterCommit)
	}
	if got := percentile(s.toAgent, 0.95); got != 20*time.Millisecond {
		t.Errorf("p95 to the agent of 20ms and 30ms: %v", got)
	}
	if w := byWindow([]liveProbe{{sent: at(0), back: at(50)}, {sent: at(100), back: at(300)}, {sent: at(250)}}, t0, 100*time.Millisecond); len(w) != 2 ||
		len(w[0]) != 1 || len(w[1]) != 1 || w[1][0] != 200*time.Millisecond {
		t.Errorf("round trips by window: %v", w)
	}
	if met(s.round) != "met" || met([]time.Duration{200 * time.Millisecond}) != "NOT met" || met(nil) != "no data" {
		t.Error("the verdict against 150 ms")
	}
}
