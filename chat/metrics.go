package chat

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/citybot-project/citybot/bot"
)

// Metrics are what a city's operations team watches: answers and handoffs by kind, reason and
// language, how long they take, connected citizens, ratings, tickets, erased conversations and
// protocol errors, each by town. A nil *Metrics measures nothing.
type Metrics struct {
	replies      *prometheus.CounterVec
	replySeconds *prometheus.HistogramVec
	connections  *prometheus.GaugeVec
	ratings      *prometheus.CounterVec
	tickets      *prometheus.CounterVec
	forgets      *prometheus.CounterVec
	errors       *prometheus.CounterVec
	fallbacks    *prometheus.CounterVec
	live         *prometheus.CounterVec
	town         string // the town label of what this view counts
}

// NewMetrics registers the chat's metrics with reg. Each town's chat counts with ForTown's view.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		replies: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "citybot_replies_total",
			Help: "Answers and handoffs sent, by town, kind (answer, handoff), handoff reason and language."},
			[]string{"town", "kind", "reason", "lang"}),
		replySeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "citybot_reply_seconds",
			Help:    "Time from a citizen's question to the stored reply, by town.",
			Buckets: []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}}, []string{"town"}),
		connections: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "citybot_connections",
			Help: "Citizens connected over WebSocket, by town."}, []string{"town"}),
		ratings: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "citybot_ratings_total",
			Help: "Ratings of answers and handoffs, by town and value (up, down)."}, []string{"town", "value"}),
		tickets: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "citybot_tickets_total",
			Help: "Callback and e-mail requests stored, by town."}, []string{"town"}),
		forgets: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "citybot_forgets_total",
			Help: "Conversations erased at the citizen's request, by town."}, []string{"town"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "citybot_protocol_errors_total",
			Help: "Error messages sent to clients, by town and code."}, []string{"town", "code"}),
		fallbacks: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "citybot_dependency_fallbacks_total",
			Help: "Searches that went on without a dependency (embeddings, meilisearch, reranker): it failed or its breaker was open."},
			[]string{"dependency"}),
		live: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "citybot_live_chats_total",
			Help: "Citizens' live chats with a person, by town and what became of them: queued, unavailable (nobody there to ask), accepted, timeout (nobody took it in time), left (the citizen left the queue or the chat)."},
			[]string{"town", "outcome"}),
	}
	reg.MustRegister(m.replies, m.replySeconds, m.connections, m.ratings, m.tickets, m.forgets, m.errors, m.fallbacks, m.live)
	return m
}

// ForTown is the view that counts under the town's label (its slug).
func (m *Metrics) ForTown(slug string) *Metrics {
	if m == nil {
		return nil
	}
	t := *m
	t.town = slug
	return &t
}

// Forget removes a town's series, for a town that is gone.
func (m *Metrics) Forget(slug string) {
	if m == nil {
		return
	}
	town := prometheus.Labels{"town": slug}
	m.replies.DeletePartialMatch(town)
	m.replySeconds.DeletePartialMatch(town)
	m.connections.DeletePartialMatch(town)
	m.ratings.DeletePartialMatch(town)
	m.tickets.DeletePartialMatch(town)
	m.forgets.DeletePartialMatch(town)
	m.errors.DeletePartialMatch(town)
	m.live.DeletePartialMatch(town)
}

func (m *Metrics) replied(r bot.Reply, took time.Duration) {
	if m == nil {
		return
	}
	m.replies.WithLabelValues(m.town, r.Kind, r.Reason, r.Lang).Inc()
	m.replySeconds.WithLabelValues(m.town).Observe(took.Seconds())
}

func (m *Metrics) connected(delta float64) {
	if m != nil {
		m.connections.WithLabelValues(m.town).Add(delta)
	}
}

func (m *Metrics) rated(value string) {
	if m != nil {
		m.ratings.WithLabelValues(m.town, value).Inc()
	}
}

func (m *Metrics) ticket() {
	if m != nil {
		m.tickets.WithLabelValues(m.town).Inc()
	}
}

func (m *Metrics) forgot() {
	if m != nil {
		m.forgets.WithLabelValues(m.town).Inc()
	}
}

func (m *Metrics) error(code string) {
	if m != nil {
		m.errors.WithLabelValues(m.town, code).Inc()
	}
}

// lived counts what became of a live chat (see the metric's help).
func (m *Metrics) lived(outcome string) {
	if m != nil {
		m.live.WithLabelValues(m.town, outcome).Inc()
	}
}

// Fallback counts a search that went on without dependency.
func (m *Metrics) Fallback(dependency string) {
	if m != nil {
		m.fallbacks.WithLabelValues(dependency).Inc()
	}
}
