package knowledge

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"
)

var rerankTexts = []string{
	"Der Hund kostet 96 Euro Steuer im Jahr.",
	"Die Biotonne wird alle zwei Wochen geleert.",
	"Hundesteuer: Anmeldung innerhalb von zwei Wochen.",
}

// rerankDouble serves one reranking API: it fails the test unless the request is exactly
// method, path, headers and JSON body as documented, then answers with response.
func rerankDouble(t *testing.T, path, key string, wantBody map[string]any, response string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != path {
			t.Errorf("request %s %s, want POST %s", r.Method, r.URL.Path, path)
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type %q", ct)
		}
		wantAuth := ""
		if key != "" {
			wantAuth = "Bearer " + key
		}
		if got := r.Header.Get("Authorization"); got != wantAuth {
			t.Errorf("Authorization %q, want %q", got, wantAuth)
		}
		raw, _ := io.ReadAll(r.Body)
		var body map[string]any
		if err := json.Unmarshal(raw, &body); err != nil {
			t.Errorf("body %s: %v", raw, err)
		}
		if !reflect.DeepEqual(body, wantBody) {
			t.Errorf("body %s, want %v", raw, wantBody)
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, response)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func texts() []any {
	out := make([]any, len(rerankTexts))
	for i, s := range rerankTexts {
		out[i] = s
	}
	return out
}

func TestRerankTEI(t *testing.T) {
	// TEI answers sorted by score, each with the index of its text.
	srv := rerankDouble(t, "/rerank", "s3cret", map[string]any{
		"query": "Was kostet die Hundesteuer?", "texts": texts(),
		"raw_scores": false, "return_text": false, "truncate": true,
	}, `[{"index":2,"score":0.98},{"index":0,"score":0.61},{"index":1,"score":0.0012}]`)
	r, err := NewHTTPReranker(srv.URL, "", "s3cret", 0)
	if err != nil {
		t.Fatal(err)
	}
	if r.API != RerankTEI || r.Timeout != 5*time.Second {
		t.Errorf("reranker %+v", r)
	}
	got, err := r.Rerank(context.Background(), "Was kostet die Hundesteuer?", rerankTexts)
	if err != nil {
		t.Fatal(err)
	}
	if want := []float64{0.61, 0.0012, 0.98}; !reflect.DeepEqual(got, want) {
		t.Errorf("scores %v, want %v in the texts' order", got, want)
	}
}

func TestRerankCohereJina(t *testing.T) {
	// The Cohere/Jina shape, with the extra fields such services add.
	srv := rerankDouble(t, "/v1/rerank", "", map[string]any{
		"model": "bge-reranker-v2-m3", "query": "Biotonne leeren", "documents": texts(), "top_n": float64(3),
	}, `{"id":"r-1","model":"bge-reranker-v2-m3","usage":{"total_tokens":42},"results":[
		{"index":1,"relevance_score":0.93,"document":{"text":"Die Biotonne wird alle zwei Wochen geleert."}},
		{"index":2,"relevance_score":0.05},{"index":0,"relevance_score":-1.5}]}`)
	for _, u := range []string{srv.URL + "/v1", srv.URL + "/v1/", srv.URL + "/v1/rerank"} {
		r, err := NewHTTPReranker(u, "bge-reranker-v2-m3", "", time.Second)
		if err != nil {
			t.Fatal(err)
		}
		got, err := r.Rerank(context.Background(), "Biotonne leeren", rerankTexts)
		if err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		if want := []float64{-1.5, 0.93, 0.05}; !reflect.DeepEqual(got, want) {
			t.Errorf("%s: scores %v, want %v", u, got, want)
		}
	}
}

func TestRerankEndpoints(t *testing.T) {
	for raw, want := range map[string]string{
		"http://tei:8080":                "tei http://tei:8080/rerank",
		"http://tei:8080/":               "tei http://tei:8080/rerank",
		"https://x.example/models/bge":   "tei https://x.example/models/bge/rerank",
		"http://tei:8080/rerank":         "tei http://tei:8080/rerank",
		"http://vllm:8000/v1":            "cohere http://vllm:8000/v1/rerank",
		"http://infinity:7997/api/v1/":   "cohere http://infinity:7997/api/v1/rerank",
		"http://localai:8080/v1/rerank/": "cohere http://localai:8080/v1/rerank",
	} {
		r, err := NewHTTPReranker(raw, "m", "", 0)
		if err != nil {
			t.Errorf("%s: %v", raw, err)
			continue
		}
		if got := r.API.String() + " " + r.Endpoint; got != want {
			t.Errorf("%s: %s, want %s", raw, got, want)
		}
	}
	for _, bad := range []string{"", "tei:8080", "ftp://x/rerank", "http://", "http://h:port"} {
		if _, err := NewHTTPReranker(bad, "m", "", 0); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if _, err := NewHTTPReranker("http://vllm:8000/v1", "", "", 0); !errors.Is(err, ErrRerankModel) {
		t.Errorf("Cohere shape without a model: %v", err)
	}
}

func TestRerankErrors(t *testing.T) {
	serve := func(status int, body string, delay time.Duration) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body) // then the server notices a client that gave up
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
			w.WriteHeader(status)
			io.WriteString(w, body)
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	long := `{"error":"` + strings.Repeat("x", 500) + `","error_type":"backend"}`
	for _, tc := range []struct {
		name, url, model string
		want             []string
	}{
		{"server error", serve(500, `{"error":"Inference failed","error_type":"backend"}`, 0), "",
			[]string{"HTTP 500", "Inference failed", "/rerank"}},
		{"not a reranker", serve(424, long, 0), "", []string{"HTTP 424", "xxxx…"}},
		{"unauthorised", serve(401, "", 0) + "/v1", "m", []string{"HTTP 401", "(empty body)"}},
		{"malformed JSON", serve(200, `[{"index":0,"score":`, 0), "", []string{"decode TEI response"}},
		{"object for TEI", serve(200, `{"results":[]}`, 0), "", []string{"decode TEI response"}},
		{"array for Cohere", serve(200, `[{"index":0,"score":1}]`, 0) + "/v1", "m", []string{"decode response"}},
		{"no results", serve(200, `{"data":[]}`, 0) + "/v1", "m", []string{`no "results"`}},
		{"too few scores", serve(200, `[{"index":0,"score":0.9},{"index":1,"score":0.1}]`, 0), "", []string{"sent 3 texts, got 2 scores"}},
		{"too many scores", serve(200, `{"results":[{"index":0,"relevance_score":0.9},{"index":1,"relevance_score":0.1},{"index":2,"relevance_score":0.1},{"index":2,"relevance_score":0.1}]}`, 0) + "/v1", "m",
			[]string{"sent 3 texts, got 4 scores"}},
		{"index twice", serve(200, `[{"index":0,"score":0.9},{"index":0,"score":0.1},{"index":1,"score":0.1}]`, 0), "", []string{"index 0 scored twice"}},
		{"index out of range", serve(200, `[{"index":0,"score":0.9},{"index":3,"score":0.1},{"index":1,"score":0.1}]`, 0), "", []string{"index 3 out of range"}},
		{"no index", serve(200, `[{"score":0.9},{"index":2,"score":0.1},{"index":1,"score":0.1}]`, 0), "", []string{"no index"}},
		{"TEI field in Cohere shape", serve(200, `{"results":[{"index":0,"score":0.9},{"index":1,"score":0.1},{"index":2,"score":0.1}]}`, 0) + "/v1", "m",
			[]string{"result 0 has no score"}},
	} {
		r, err := NewHTTPReranker(tc.url, tc.model, "", time.Second)
		if err != nil {
			t.Fatal(err)
		}
		scores, err := r.Rerank(context.Background(), "Hundesteuer", rerankTexts)
		if err == nil {
			t.Errorf("%s: no error, scores %v", tc.name, scores)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q lacks %q", tc.name, err, w)
			}
		}
		if strings.Count(err.Error(), "x") > 210 {
			t.Errorf("%s: error carries the whole body: %d characters", tc.name, len(err.Error()))
		}
	}

	// A service that does not answer in time.
	r, _ := NewHTTPReranker(serve(200, `[]`, 5*time.Second), "", "", 50*time.Millisecond)
	start := time.Now()
	_, err := r.Rerank(context.Background(), "Hundesteuer", rerankTexts)
	if err == nil || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "no answer within 50ms") {
		t.Errorf("timeout: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("timeout took %s", d)
	}
	// The caller's cancellation is not reported as the reranker's timeout.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.Rerank(ctx, "Hundesteuer", rerankTexts); err == nil || !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	// Nothing to rerank: no request.
	if got, err := r.Rerank(context.Background(), "Hundesteuer", nil); err != nil || len(got) != 0 {
		t.Errorf("no texts: %v %v", got, err)
	}
}

var _ Reranker = (*HTTPReranker)(nil)
