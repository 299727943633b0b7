package knowledge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/citybot-project/citybot/analysis"
)

// Embedder turns texts into vectors for the semantic index.
type Embedder interface {
	// Model names the model and its version; vectors of different models are never mixed.
	Model() string
	// Dims is the vector length.
	Dims() int
	Embed(ctx context.Context, texts []string) ([][]float32, error)
}

// HashEmbedder is the offline default: it needs no model files. A text's vector is the signed
// feature hashing of its stemmed words and of their character 3- to 5-grams, so that typos,
// inflections and compound parts ("Sperrmüllabholung" ~ "Sperrmüll") land near each other.
type HashEmbedder struct {
	dims int
}

// NewHashEmbedder returns a HashEmbedder with dims dimensions (512 when dims is 0).
func NewHashEmbedder(dims int) *HashEmbedder {
	if dims <= 0 {
		dims = 512
	}
	return &HashEmbedder{dims: dims}
}

// Model implements Embedder.
func (h *HashEmbedder) Model() string { return fmt.Sprintf("citybot-hash-v1-%d", h.dims) }

// Dims implements Embedder.
func (h *HashEmbedder) Dims() int { return h.dims }

// Embed implements Embedder.
func (h *HashEmbedder) Embed(_ context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		out[i] = h.vector(t)
	}
	return out, nil
}

func (h *HashEmbedder) vector(text string) []float32 {
	v := make([]float64, h.dims)
	counts := map[string]float64{}
	for _, w := range analysis.Words(analysis.Fold(text)) {
		if analysis.Stopword(w) || analysis.IsNumber(w) {
			continue
		}
		counts["w:"+analysis.Stem(w, "")] += 1
		g := "<" + w + ">"
		r := []rune(g)
		for n := 3; n <= 5; n++ {
			for i := 0; i+n <= len(r); i++ {
				counts[string(r[i:i+n])] += 0.25
			}
		}
	}
	for f, c := range counts {
		hs := fnv.New64a()
		hs.Write([]byte(f))
		x := hs.Sum64()
		sign := 1.0
		if x>>63 == 1 {
			sign = -1
		}
		v[x%uint64(h.dims)] += sign * (1 + math.Log1p(c)) * weightOf(f) // sublinear in the count
	}
	return normalize(v)
}

// weightOf gives whole words more weight than the n-grams they consist of.
func weightOf(feature string) float64 {
	if strings.HasPrefix(feature, "w:") {
		return 2
	}
	return 1 / math.Sqrt(float64(utf8.RuneCountInString(feature)))
}

func normalize(v []float64) []float32 {
	var sum float64
	for _, x := range v {
		sum += x * x
	}
	out := make([]float32, len(v))
	if sum == 0 {
		return out
	}
	n := math.Sqrt(sum)
	for i, x := range v {
		out[i] = float32(x / n)
	}
	return out
}

// OpenAIEmbedder calls an OpenAI-compatible /v1/embeddings endpoint (Ollama, vLLM, TEI, LocalAI).
type OpenAIEmbedder struct {
	BaseURL   string // e.g. http://localhost:11434/v1
	ModelName string
	APIKey    string
	Batch     int           // texts per request
	Timeout   time.Duration // per request
	Retries   int
	Client    *http.Client
	dims      int
}

// NewOpenAIEmbedder asks the endpoint once, to learn the model's dimension.
func NewOpenAIEmbedder(ctx context.Context, baseURL, model, apiKey string) (*OpenAIEmbedder, error) {
	e := &OpenAIEmbedder{BaseURL: strings.TrimRight(baseURL, "/"), ModelName: model, APIKey: apiKey,
		Batch: 32, Timeout: 60 * time.Second, Retries: 3, Client: &http.Client{}}
	v, err := e.Embed(ctx, []string{"Personalausweis"})
	if err != nil {
		return nil, fmt.Errorf("probe embedding model %s at %s: %w", model, baseURL, err)
	}
	e.dims = len(v[0])
	return e, nil
}

// Model implements Embedder.
func (e *OpenAIEmbedder) Model() string { return "openai:" + e.ModelName }

// Dims implements Embedder.
func (e *OpenAIEmbedder) Dims() int { return e.dims }

// Embed implements Embedder, in batches.
func (e *OpenAIEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, 0, len(texts))
	for start := 0; start < len(texts); start += e.Batch {
		end := min(start+e.Batch, len(texts))
		vs, err := e.embedBatch(ctx, texts[start:end])
		if err != nil {
			return nil, err
		}
		out = append(out, vs...)
	}
	return out, nil
}

type embeddingRequest struct {
	Model string   `json:"model"`
	Input []string `json:"input"`
}

type embeddingResponse struct {
	Data []struct {
		Index     int       `json:"index"`
		Embedding []float32 `json:"embedding"`
	} `json:"data"`
}

// errPermanent marks an answer that a retry would not change (a 4xx other than 429).
var errPermanent = errors.New("permanent")

func (e *OpenAIEmbedder) embedBatch(ctx context.Context, texts []string) ([][]float32, error) {
	body, _ := json.Marshal(embeddingRequest{Model: e.ModelName, Input: texts})
	var last error
	for attempt := 0; attempt <= e.Retries; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(time.Duration(1<<(attempt-1)) * 250 * time.Millisecond):
			}
		}
		vs, err := e.post(ctx, body, len(texts))
		if err == nil {
			return vs, nil
		}
		last = err
		if errors.Is(err, errPermanent) || ctx.Err() != nil {
			break
		}
	}
	return nil, fmt.Errorf("embeddings: %w", last)
}

func (e *OpenAIEmbedder) post(ctx context.Context, body []byte, n int) ([][]float32, error) {
	ctx, cancel := context.WithTimeout(ctx, e.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.BaseURL+"/embeddings", bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errPermanent, err)
	}
	req.Header.Set("Content-Type", "application/json")
	if e.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+e.APIKey)
	}
	resp, err := e.Client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		err := fmt.Errorf("HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(raw[:min(len(raw), 200)])))
		if resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests {
			err = fmt.Errorf("%w: %v", errPermanent, err)
		}
		return nil, err
	}
	var er embeddingResponse
	if err := json.Unmarshal(raw, &er); err != nil {
		return nil, fmt.Errorf("%w: decode response: %v", errPermanent, err)
	}
	if len(er.Data) != n {
		return nil, fmt.Errorf("%w: asked for %d embeddings, got %d", errPermanent, n, len(er.Data))
	}
	out := make([][]float32, n)
	for _, d := range er.Data {
		if d.Index < 0 || d.Index >= n || len(d.Embedding) == 0 {
			return nil, fmt.Errorf("%w: bad embedding index %d", errPermanent, d.Index)
		}
		out[d.Index] = d.Embedding
	}
	for i, v := range out {
		if v == nil {
			return nil, fmt.Errorf("%w: embedding %d missing", errPermanent, i)
		}
	}
	return out, nil
}
