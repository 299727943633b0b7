package chat

import (
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/citybot-project/citybot/bot"
)

func TestMetricsCountWhatHappens(t *testing.T) {
	reg := prometheus.NewRegistry()
	all := NewMetrics(reg)
	m := all.ForTown("lindenbrueck")
	h := newHarness(t, ServerConfig{Metrics: m})
	c := mustDial(t, h, "")
	read(t, c)
	if got := testutil.ToFloat64(m.connections.WithLabelValues("lindenbrueck")); got != 1 {
		t.Errorf("connections %v, want 1", got)
	}
	send(t, c, map[string]any{"type": "ask", "id": "c1", "text": "Was kostet ein Reisepass?"})
	a := read(t, c)
	send(t, c, map[string]any{"type": "ask", "id": "c2", "text": "Wie wird das Wetter morgen?"})
	read(t, c)
	send(t, c, map[string]any{"type": "rate", "answer_id": a["id"], "value": "down"})
	read(t, c)
	c.WriteMessage(websocket.TextMessage, []byte("not json"))
	read(t, c)

	if got := testutil.ToFloat64(m.replies.WithLabelValues("lindenbrueck", "answer", "", "de")); got != 1 {
		t.Errorf("answers in German %v, want 1", got)
	}
	if got := testutil.ToFloat64(m.replies.WithLabelValues("lindenbrueck", "handoff", bot.ReasonOutOfScope, "de")); got != 1 {
		t.Errorf("out-of-scope handoffs %v, want 1", got)
	}
	var hist dto.Metric
	if err := m.replySeconds.WithLabelValues("lindenbrueck").(prometheus.Metric).Write(&hist); err != nil || hist.GetHistogram().GetSampleCount() != 2 {
		t.Errorf("reply times observed: %d (%v), want 2", hist.GetHistogram().GetSampleCount(), err)
	}
	if got := testutil.ToFloat64(m.ratings.WithLabelValues("lindenbrueck", "down")); got != 1 {
		t.Errorf("down ratings %v, want 1", got)
	}
	if got := testutil.ToFloat64(m.errors.WithLabelValues("lindenbrueck", CodeBadJSON)); got != 1 {
		t.Errorf("bad_json errors %v, want 1", got)
	}
	c.Close()
	deadline := time.Now().Add(5 * time.Second)
	for testutil.ToFloat64(m.connections.WithLabelValues("lindenbrueck")) != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := testutil.ToFloat64(m.connections.WithLabelValues("lindenbrueck")); got != 0 {
		t.Errorf("connections after the citizen left %v, want 0", got)
	}
	// Every series is the town's own; a town removed takes its series along.
	series := func() (n int) {
		families, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range families {
			for _, s := range f.GetMetric() {
				n++
				for _, l := range s.GetLabel() {
					if l.GetName() == "town" && l.GetValue() != "lindenbrueck" {
						t.Errorf("%s counted for town %q", f.GetName(), l.GetValue())
					}
				}
			}
		}
		return n
	}
	if series() == 0 {
		t.Fatal("no series")
	}
	all.Forget("lindenbrueck")
	if n := series(); n != 0 {
		t.Errorf("%d series left of a removed town", n)
	}
}
