package knowledge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Reranker scores texts against a query, as a cross-encoder does: one score per text, in the
// order of texts, higher meaning more relevant. Optional: the offline default has none.
type Reranker interface {
	Rerank(ctx context.Context, query string, texts []string) ([]float64, error)
}

// RerankAPI is the request shape a reranking service speaks.
type RerankAPI int

// The reranking APIs HTTPReranker speaks.
const (
	// RerankTEI is Hugging Face Text Embeddings Inference's POST /rerank:
	// {"query", "texts", "raw_scores", "return_text", "truncate"} -> [{"index", "score"}, ...].
	RerankTEI RerankAPI = iota
	// RerankCohere is the Cohere/Jina-compatible POST /v1/rerank that vLLM, Infinity and
	// LocalAI serve: {"model", "query", "documents", "top_n"} -> {"results": [{"index",
	// "relevance_score"}, ...]}.
	RerankCohere
)

func (a RerankAPI) String() string {
	if a == RerankCohere {
		return "cohere"
	}
	return "tei"
}

// ErrRerankModel: the Cohere/Jina shape needs a model name.
var ErrRerankModel = errors.New("the Cohere/Jina /v1/rerank API needs a model name")

// HTTPReranker calls a reranking service over HTTP. It does not retry: it sits in a citizen's
// wait for an answer, and its caller should go on without it when it fails.
type HTTPReranker struct {
	Endpoint string // the full URL requests go to
	API      RerankAPI
	Model    string // sent in the Cohere/Jina shape; TEI serves one model and ignores it
	APIKey   string // sent as a bearer token when set
	Timeout  time.Duration
	Client   *http.Client
}

// NewHTTPReranker reads the service's URL: one whose path ends in /v1 or /v1/rerank speaks the
// Cohere/Jina shape (POST {base}/v1/rerank), which needs a model name; any other speaks TEI's
// (POST {base}/rerank, or the URL itself when its path already ends in /rerank). timeout <= 0
// means 5 seconds.
func NewHTTPReranker(rawURL, model, apiKey string, timeout time.Duration) (*HTTPReranker, error) {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("reranker URL %q: want http(s)://host[:port][/path]", rawURL)
	}
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	r := &HTTPReranker{Model: model, APIKey: apiKey, Timeout: timeout, Client: &http.Client{}}
	path := strings.TrimRight(u.Path, "/")
	switch {
	case strings.HasSuffix(path, "/v1/rerank"):
		r.API = RerankCohere
	case strings.HasSuffix(path, "/v1"):
		r.API, path = RerankCohere, path+"/rerank"
	case strings.HasSuffix(path, "/rerank"):
		r.API = RerankTEI
	default:
		r.API, path = RerankTEI, path+"/rerank"
	}
	if r.API == RerankCohere && model == "" {
		return nil, fmt.Errorf("reranker URL %q: %w", rawURL, ErrRerankModel)
	}
	u.Path, u.RawPath = path, ""
	r.Endpoint = u.String()
	return r, nil
}

type teiRerankRequest struct {
	Query      string   `json:"query"`
	Texts      []string `json:"texts"`
	RawScores  bool     `json:"raw_scores"`
	ReturnText bool     `json:"return_text"`
	Truncate   bool     `json:"truncate"`
}

type cohereRerankRequest struct {
	Model     string   `json:"model"`
	Query     string   `json:"query"`
	Documents []string `json:"documents"`
	TopN      int      `json:"top_n"`
}

// rank is one result of either API; pointers tell a missing field from a zero.
type rank struct {
	Index          *int     `json:"index"`
	Score          *float64 `json:"score"`           // TEI
	RelevanceScore *float64 `json:"relevance_score"` // Cohere/Jina
}

// Rerank implements Reranker: the scores come back in the order of texts. TEI's scores are
// probabilities (raw_scores false); long texts are truncated to the model's window by the service.
func (r *HTTPReranker) Rerank(ctx context.Context, query string, texts []string) ([]float64, error) {
	if len(texts) == 0 {
		return nil, nil
	}
	var body []byte
	if r.API == RerankCohere {
		body, _ = json.Marshal(cohereRerankRequest{Model: r.Model, Query: query, Documents: texts, TopN: len(texts)})
	} else {
		body, _ = json.Marshal(teiRerankRequest{Query: query, Texts: texts, Truncate: true})
	}
	raw, err := r.post(ctx, body)
	if err != nil {
		return nil, err
	}
	ranks, err := r.decode(raw)
	if err != nil {
		return nil, fmt.Errorf("rerank at %s: %w: %s", r.Endpoint, err, excerpt(raw))
	}
	return scoresInOrder(ranks, len(texts), r.API)
}

func (r *HTTPReranker) post(ctx context.Context, body []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, r.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.Endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("rerank: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if r.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+r.APIKey)
	}
	client := r.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
			return nil, fmt.Errorf("rerank at %s: no answer within %s: %w", r.Endpoint, r.Timeout, err)
		}
		return nil, fmt.Errorf("rerank at %s: %w", r.Endpoint, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("rerank at %s: read response: %w", r.Endpoint, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("rerank at %s: HTTP %d: %s", r.Endpoint, resp.StatusCode, excerpt(raw))
	}
	return raw, nil
}

func (r *HTTPReranker) decode(raw []byte) ([]rank, error) {
	if r.API == RerankTEI {
		var ranks []rank
		if err := json.Unmarshal(raw, &ranks); err != nil {
			return nil, fmt.Errorf("decode TEI response (want [{\"index\", \"score\"}, ...]): %v", err)
		}
		return ranks, nil
	}
	var resp struct {
		Results *[]rank `json:"results"`
	}
	if err := json.Unmarshal(raw, &resp); err != nil {
		return nil, fmt.Errorf("decode response (want {\"results\": [{\"index\", \"relevance_score\"}, ...]}): %v", err)
	}
	if resp.Results == nil {
		return nil, errors.New("response has no \"results\"")
	}
	return *resp.Results, nil
}

// scoresInOrder maps the service's ranks (sorted by score) back to the texts' order: every text
// must have exactly one score.
func scoresInOrder(ranks []rank, n int, api RerankAPI) ([]float64, error) {
	if len(ranks) != n {
		return nil, fmt.Errorf("rerank: sent %d texts, got %d scores", n, len(ranks))
	}
	out := make([]float64, n)
	seen := make([]bool, n)
	for _, rk := range ranks {
		score := rk.Score
		if api == RerankCohere {
			score = rk.RelevanceScore
		}
		switch {
		case rk.Index == nil:
			return nil, errors.New("rerank: a result has no index")
		case *rk.Index < 0 || *rk.Index >= n:
			return nil, fmt.Errorf("rerank: index %d out of range for %d texts", *rk.Index, n)
		case seen[*rk.Index]:
			return nil, fmt.Errorf("rerank: index %d scored twice", *rk.Index)
		case score == nil:
			return nil, fmt.Errorf("rerank: result %d has no score", *rk.Index)
		}
		seen[*rk.Index] = true
		out[*rk.Index] = *score
	}
	return out, nil
}

// excerpt is the start of a response body for an error message.
func excerpt(raw []byte) string {
	s := strings.TrimSpace(string(raw))
	if s == "" {
		return "(empty body)"
	}
	if r := []rune(s); len(r) > 200 {
		return string(r[:200]) + "…"
	}
	return s
}
