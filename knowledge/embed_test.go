package knowledge

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func cosine(a, b []float32) float64 {
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	return dot / math.Sqrt(na*nb)
}

func TestHashEmbedderPutsSpellingsNearEachOther(t *testing.T) {
	e := NewHashEmbedder(0)
	vs, _ := e.Embed(context.Background(), []string{"Sperrmüll abholen", "Sperrmuellabholung", "Hundesteuer zahlen", ""})
	if len(vs[0]) != 512 || math.Abs(cosine(vs[0], vs[0])-1) > 1e-6 {
		t.Fatalf("vector of %d dims, not normalised", len(vs[0]))
	}
	near, far := cosine(vs[0], vs[1]), cosine(vs[0], vs[2])
	if near <= far+0.2 {
		t.Errorf("compound/umlaut variant similarity %.2f not well above unrelated %.2f", near, far)
	}
	for _, x := range vs[3] {
		if x != 0 {
			t.Fatal("empty text gives a non-zero vector")
		}
	}
}

// embeddingsDouble serves the OpenAI embeddings API as documented: POST {base}/embeddings with
// {"model","input":[...]}, answering {"object":"list","data":[{"object":"embedding","index":i,"embedding":[...]}],"model":...}.
type embeddingsDouble struct {
	mu       sync.Mutex
	requests int
	batches  []int
	failNext int32 // answer this many requests with 503 first
	status   int   // if set, always answer with this status
	delay    time.Duration
}

func (d *embeddingsDouble) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d.mu.Lock()
	d.requests++
	d.mu.Unlock()
	if r.Method != http.MethodPost || r.URL.Path != "/v1/embeddings" || r.Header.Get("Content-Type") != "application/json" ||
		r.Header.Get("Authorization") != "Bearer k" {
		http.Error(w, `{"error":{"message":"bad request shape"}}`, http.StatusBadRequest)
		return
	}
	if d.delay > 0 {
		time.Sleep(d.delay)
	}
	if d.status != 0 {
		http.Error(w, `{"error":{"message":"model not found"}}`, d.status)
		return
	}
	if atomic.AddInt32(&d.failNext, -1) >= 0 {
		http.Error(w, `{"error":{"message":"overloaded"}}`, http.StatusServiceUnavailable)
		return
	}
	var req struct {
		Model string   `json:"model"`
		Input []string `json:"input"`
	}
	body, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(body, &req); err != nil || req.Model != "multilingual-e5" {
		http.Error(w, `{"error":{"message":"bad body"}}`, http.StatusBadRequest)
		return
	}
	d.mu.Lock()
	d.batches = append(d.batches, len(req.Input))
	d.mu.Unlock()
	var data []string
	// Answer out of order, as the API allows: the client must use "index".
	for i := len(req.Input) - 1; i >= 0; i-- {
		v := []float32{float32(len(req.Input[i])), 1, 0.5}
		b, _ := json.Marshal(v)
		data = append(data, fmt.Sprintf(`{"object":"embedding","index":%d,"embedding":%s}`, i, b))
	}
	fmt.Fprintf(w, `{"object":"list","data":[%s],"model":%q,"usage":{"prompt_tokens":1,"total_tokens":1}}`, strings.Join(data, ","), req.Model)
}

func TestOpenAIEmbedderBatchesAndRetries(t *testing.T) {
	d := &embeddingsDouble{}
	srv := httptest.NewServer(d)
	defer srv.Close()
	ctx := context.Background()
	e, err := NewOpenAIEmbedder(ctx, srv.URL+"/v1/", "multilingual-e5", "k")
	if err != nil {
		t.Fatal(err)
	}
	if e.Dims() != 3 || e.Model() != "openai:multilingual-e5" {
		t.Fatalf("dims %d model %s", e.Dims(), e.Model())
	}
	e.Batch = 4
	texts := make([]string, 10)
	for i := range texts {
		texts[i] = strings.Repeat("x", i+1)
	}
	atomic.StoreInt32(&d.failNext, 1)
	vs, err := e.Embed(ctx, texts)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range vs {
		if v[0] != float32(i+1) {
			t.Fatalf("vector %d belongs to another text: %v", i, v)
		}
	}
	if got := fmt.Sprint(d.batches[1:]); got != "[4 4 2]" {
		t.Errorf("batches %s, want [4 4 2]", got)
	}
}

func TestOpenAIEmbedderErrors(t *testing.T) {
	ctx := context.Background()
	d := &embeddingsDouble{status: http.StatusNotFound}
	srv := httptest.NewServer(d)
	defer srv.Close()
	if _, err := NewOpenAIEmbedder(ctx, srv.URL+"/v1", "multilingual-e5", "k"); err == nil || !strings.Contains(err.Error(), "HTTP 404") {
		t.Errorf("404: %v", err)
	}
	if d.requests != 1 {
		t.Errorf("a 404 was retried %d times", d.requests-1)
	}
	slow := &embeddingsDouble{delay: 300 * time.Millisecond}
	srv2 := httptest.NewServer(slow)
	defer srv2.Close()
	e := &OpenAIEmbedder{BaseURL: srv2.URL + "/v1", ModelName: "multilingual-e5", APIKey: "k", Batch: 8,
		Timeout: 50 * time.Millisecond, Retries: 1, Client: srv2.Client()}
	if _, err := e.Embed(ctx, []string{"a"}); err == nil || !strings.Contains(err.Error(), "deadline") {
		t.Errorf("timeout: %v", err)
	}
	if _, err := NewOpenAIEmbedder(ctx, "http://127.0.0.1:1/v1", "m", ""); err == nil {
		t.Error("unreachable endpoint: no error")
	}
}

// TestChangeOfEmbedderReembeds: vectors of two models are never mixed.
func TestChangeOfEmbedderReembeds(t *testing.T) {
	ctx := context.Background()
	ix := newTestIndex(t, NewHashEmbedder(256))
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"hund.html": page("Hundesteuer", "<p>96 Euro im Jahr.</p>")})
	src := DirSource{Dir: dir, BaseURL: "https://stadt.example"}
	if _, err := ix.Ingest(ctx, src, 1, nil); err != nil {
		t.Fatal(err)
	}
	ix2, err := NewIndex(ctx, ix.pool, ix.scope, NewHashEmbedder(384), ix.glossary, nil, quiet)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := ix2.Ingest(ctx, src, 1, nil)
	if err != nil || sum.Changed != 1 {
		t.Fatalf("%+v %v, want the unchanged page re-embedded", sum, err)
	}
	var models, dims int
	ix.pool.QueryRow(ctx, "SELECT count(DISTINCT embedding_model), max(vector_dims(embedding)) FROM chunks").Scan(&models, &dims)
	if models != 1 || dims != 384 {
		t.Errorf("%d models, %d dims after the change, want only the new 384-dim model", models, dims)
	}
	hits, err := ix2.Search(ctx, Query{Text: "Hundesteuer", Limit: 1})
	if err != nil || len(hits) == 0 || hits[0].Vector == 0 {
		t.Errorf("vector search with the new model: %+v %v", hits, err)
	}
	if sum, _ := ix2.Ingest(ctx, src, 1, nil); sum.Unchanged != 1 {
		t.Errorf("third ingest %+v, want unchanged", sum)
	}
}
