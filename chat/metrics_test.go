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
	m := NewMetrics(reg)
	h := newHarness(t, ServerConfig{Metrics: m})
	c := mustDial(t, h, "")
	read(t, c)
	if got := testutil.ToFloat64(m.connections); got != 1 {
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

	if got := testutil.ToFloat64(m.replies.WithLabelValues("answer", "", "de")); got != 1 {
		t.Errorf("answers in German %v, want 1", got)
	}
	if got := testutil.ToFloat64(m.replies.WithLabelValues("handoff", bot.ReasonOutOfScope, "de")); got != 1 {
		t.Errorf("out-of-scope handoffs %v, want 1", got)
	}
	var hist dto.Metric
	if err := m.replySeconds.Write(&hist); err != nil || hist.GetHistogram().GetSampleCount() != 2 {
		t.Errorf("reply times observed: %d (%v), want 2", hist.GetHistogram().GetSampleCount(), err)
	}
	if got := testutil.ToFloat64(m.ratings.WithLabelValues("down")); got != 1 {
		t.Errorf("down ratings %v, want 1", got)
	}
	if got := testutil.ToFloat64(m.errors.WithLabelValues(CodeBadJSON)); got != 1 {
		t.Errorf("bad_json errors %v, want 1", got)
	}
	c.Close()
	deadline := time.Now().Add(5 * time.Second)
	for testutil.ToFloat64(m.connections) != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := testutil.ToFloat64(m.connections); got != 0 {
		t.Errorf("connections after the citizen left %v, want 0", got)
	}
}
