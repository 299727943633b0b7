package chat

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/citybot-project/citybot/bot"
	"github.com/citybot-project/citybot/conversation"
	"github.com/citybot-project/citybot/i18n"
	"github.com/citybot-project/citybot/internal/breaker"
	"github.com/citybot-project/citybot/internal/testsite"
	"github.com/citybot-project/citybot/privacy"
)

// chatDouble serves the OpenAI chat-completions API as documented, streaming server-sent events:
// "data: {chunk}" lines with choices[0].delta.content, then "data: [DONE]".
type chatDouble struct {
	t      *testing.T
	mu     sync.Mutex
	answer func(passages string) string
	status int
	asked  []string
}

func (d *chatDouble) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Model    string `json:"model"`
		Stream   bool   `json:"stream"`
		Messages []struct {
			Role    string `json:"role"`
			Content string `json:"content"`
		} `json:"messages"`
	}
	body, _ := io.ReadAll(r.Body)
	if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" || json.Unmarshal(body, &req) != nil ||
		req.Model != "local-model" || !req.Stream || len(req.Messages) != 2 || req.Messages[0].Role != "system" || req.Messages[1].Role != "user" {
		d.t.Errorf("unexpected request %s %s: %s", r.Method, r.URL.Path, body)
		http.Error(w, `{"error":{"message":"bad request"}}`, http.StatusBadRequest)
		return
	}
	d.mu.Lock()
	d.asked = append(d.asked, req.Messages[1].Content)
	d.mu.Unlock()
	if d.status != 0 {
		http.Error(w, `{"error":{"message":"model overloaded"}}`, d.status)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	for _, word := range strings.SplitAfter(d.answer(req.Messages[1].Content), " ") {
		b, _ := json.Marshal(map[string]any{"id": "x", "object": "chat.completion.chunk",
			"choices": []map[string]any{{"index": 0, "delta": map[string]string{"content": word}}}})
		fmt.Fprintf(w, "data: %s\n\n", b)
		w.(http.Flusher).Flush()
	}
	io.WriteString(w, "data: [DONE]\n\n")
}

func llmHarness(t *testing.T, d *chatDouble) *harness {
	t.Helper()
	return llmHarnessWith(t, d, nil)
}

func llmHarnessWith(t *testing.T, d *chatDouble, b *breaker.Breaker) *harness {
	t.Helper()
	h := newHarness(t, ServerConfig{})
	srv := httptest.NewServer(d)
	t.Cleanup(srv.Close)
	_, ix := testsite.Index(t)
	cat, _ := i18n.Load(nil)
	eng := bot.NewEngine(ix, ix, cat, h.srv.city, bot.EngineConfig{MinConfidence: 0.3,
		LLM: &bot.LLM{BaseURL: srv.URL + "/v1", Model: "local-model", Client: srv.Client(), Timeout: 5 * time.Second, Breaker: b}}, quiet)
	h.srv.turns = conversation.NewService(h.srv.store, eng, privacy.NewRedactor(h.clock.now))
	return h
}

func TestGenerativeComposerStreamsCheckedAnswers(t *testing.T) {
	d := &chatDouble{t: t, answer: func(p string) string {
		// A faithful model: quotes the first amount of the passages.
		i := strings.Index(p, " Euro")
		j := strings.LastIndex(p[:i], " ")
		return "Ein Reisepass kostet " + p[j+1:i] + " Euro [1]."
	}}
	h := llmHarness(t, d)
	c := mustDial(t, h, "")
	read(t, c)
	send(t, c, map[string]any{"type": "ask", "id": "c1", "text": "Was kostet ein Reisepass? Schreiben Sie an max@example.org"})
	var deltas strings.Builder
	var final map[string]any
	for {
		m := read(t, c)
		if m["type"] == "answer_delta" {
			deltas.WriteString(m["text"].(string))
			continue
		}
		final = m
		break
	}
	if final["type"] != "answer" || final["composer"] != "llm" || final["ai_generated"] != true {
		t.Fatalf("final %v", final)
	}
	if deltas.String() != final["text"] || !strings.Contains(final["text"].(string), "Euro") {
		t.Errorf("streamed %q, final %q", deltas.String(), final["text"])
	}
	for _, q := range d.asked {
		if strings.Contains(q, "max@example.org") {
			t.Error("personal data was sent to the model")
		}
	}
}

func TestGenerativeComposerFallsBack(t *testing.T) {
	for name, d := range map[string]*chatDouble{
		"invented amount":  {answer: func(string) string { return "Ein Reisepass kostet 12,34 Euro [1]." }},
		"endpoint failing": {status: http.StatusServiceUnavailable},
	} {
		t.Run(name, func(t *testing.T) {
			d.t = t
			h := llmHarness(t, d)
			c := mustDial(t, h, "")
			read(t, c)
			send(t, c, map[string]any{"type": "ask", "id": "c1", "text": "Was kostet ein Reisepass?"})
			for {
				m := read(t, c)
				if m["type"] == "answer_delta" {
					continue
				}
				if m["type"] != "answer" || m["composer"] != "extractive" || strings.Contains(m["text"].(string), "12,34") {
					t.Fatalf("got %v, want the extractive answer", m)
				}
				return
			}
		})
	}
}

// TestDeadModelIsNotAskedEveryTime: after three failures in a row the model is left alone for
// the breaker's cooldown; citizens get the extractive answer at once.
func TestDeadModelIsNotAskedEveryTime(t *testing.T) {
	d := &chatDouble{t: t, status: http.StatusServiceUnavailable}
	h := llmHarnessWith(t, d, breaker.New(3, time.Hour, time.Now))
	c := mustDial(t, h, "")
	read(t, c)
	for i := range 6 {
		send(t, c, map[string]any{"type": "ask", "id": fmt.Sprint("c", i), "text": "Was kostet ein Reisepass?"})
		for {
			m := read(t, c)
			if m["type"] == "answer" {
				if m["composer"] != "extractive" {
					t.Fatalf("got %v", m)
				}
				break
			}
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.asked) != 3 {
		t.Errorf("the dead model was asked %d times for six questions, want 3", len(d.asked))
	}
}
