package chat

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/citybot-project/citybot/bot"
)

// Metrics are what a city's operations team watches: answers and handoffs by kind, reason and
// language, how long they take, connected citizens, ratings, tickets, erased conversations and
// protocol errors. A nil *Metrics measures nothing.
type Metrics struct {
	replies      *prometheus.CounterVec
	replySeconds prometheus.Histogram
	connections  prometheus.Gauge
	ratings      *prometheus.CounterVec
	tickets      prometheus.Counter
	forgets      prometheus.Counter
	errors       *prometheus.CounterVec
}

// NewMetrics registers the chat's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		replies: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "citybot_replies_total",
			Help: "Answers and handoffs sent, by kind (answer, handoff), handoff reason and language."},
			[]string{"kind", "reason", "lang"}),
		replySeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "citybot_reply_seconds",
			Help:    "Time from a citizen's question to the stored reply.",
			Buckets: []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}}),
		connections: prometheus.NewGauge(prometheus.GaugeOpts{Name: "citybot_connections",
			Help: "Citizens connected over WebSocket."}),
		ratings: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "citybot_ratings_total",
			Help: "Ratings of answers and handoffs, by value (up, down)."}, []string{"value"}),
		tickets: prometheus.NewCounter(prometheus.CounterOpts{Name: "citybot_tickets_total",
			Help: "Callback and e-mail requests stored."}),
		forgets: prometheus.NewCounter(prometheus.CounterOpts{Name: "citybot_forgets_total",
			Help: "Conversations erased at the citizen's request."}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "citybot_protocol_errors_total",
			Help: "Error messages sent to clients, by code."}, []string{"code"}),
	}
	reg.MustRegister(m.replies, m.replySeconds, m.connections, m.ratings, m.tickets, m.forgets, m.errors)
	return m
}

func (m *Metrics) replied(r bot.Reply, took time.Duration) {
	if m == nil {
		return
	}
	m.replies.WithLabelValues(r.Kind, r.Reason, r.Lang).Inc()
	m.replySeconds.Observe(took.Seconds())
}

func (m *Metrics) connected(delta float64) {
	if m != nil {
		m.connections.Add(delta)
	}
}

func (m *Metrics) rated(value string) {
	if m != nil {
		m.ratings.WithLabelValues(value).Inc()
	}
}

func (m *Metrics) ticket() {
	if m != nil {
		m.tickets.Inc()
	}
}

func (m *Metrics) forgot() {
	if m != nil {
		m.forgets.Inc()
	}
}

func (m *Metrics) error(code string) {
	if m != nil {
		m.errors.WithLabelValues(code).Inc()
	}
}
