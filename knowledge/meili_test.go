package knowledge

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/citybot-project/citybot/database/dbtest"
)

// meiliDouble is a Meilisearch server double: it accepts exactly the requests citybot is meant to
// send (checked field by field), keeps documents in memory, and answers with the response shapes
// documented for Meilisearch 1.x (202 + task summary for writes, GET /tasks/{uid}, POST search).
type meiliDouble struct {
	t   *testing.T
	key string
	// With a search key, searches must carry a tenant token signed with it (HS256, its uid,
	// not expired); the token's filter is applied besides the request's, as Meilisearch does.
	searchKey, searchKeyUID string
	tokenFilters            []string // of the searches made, in order
	mu                      sync.Mutex
	docs                    map[int64]map[string]any
	calls                   []string
	task                    int64
	failAdd                 bool
	failSearch              bool // searches answer 503, as a Meilisearch that is down behind its proxy
}

func newMeiliDouble(t *testing.T, key string) (*meiliDouble, *httptest.Server) {
	d := &meiliDouble{t: t, key: key, docs: map[int64]map[string]any{}}
	srv := httptest.NewServer(d)
	t.Cleanup(srv.Close)
	return d, srv
}

func (d *meiliDouble) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d.mu.Lock()
	defer d.mu.Unlock()
	tokenFilter := ""
	if d.searchKey != "" && r.URL.Path == "/indexes/chunks/search" {
		var err error
		if tokenFilter, err = d.tenantFilter(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")); err != nil {
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprintf(w, `{"message":"The provided tenant token is invalid: %s","code":"invalid_api_key","type":"auth","link":""}`, err)
			return
		}
		d.tokenFilters = append(d.tokenFilters, tokenFilter)
	} else if r.Header.Get("Authorization") != "Bearer "+d.key {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"message":"The provided API key is invalid.","code":"invalid_api_key","type":"auth","link":""}`)
		return
	}
	body, _ := io.ReadAll(r.Body)
	call := r.Method + " " + r.URL.Path
	if r.URL.RawQuery != "" {
		call += "?" + r.URL.RawQuery
	}
	d.calls = append(d.calls, call)
	accepted := func(kind string) {
		d.task++
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprintf(w, `{"taskUid":%d,"indexUid":"chunks","status":"enqueued","type":%q,"enqueuedAt":"2026-11-23T10:00:00Z"}`, d.task, kind)
	}
	switch {
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/keys/"):
		if d.searchKey == "" || strings.TrimPrefix(r.URL.Path, "/keys/") != d.searchKey {
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"message":"API key not found.","code":"api_key_not_found","type":"invalid_request","link":""}`)
			return
		}
		fmt.Fprintf(w, `{"name":"Default Search API Key","description":"Use it to search from the frontend","key":%q,"uid":%q,
			"actions":["search"],"indexes":["*"],"expiresAt":null,"createdAt":"2026-11-23T10:00:00Z","updatedAt":"2026-11-23T10:00:00Z"}`,
			d.searchKey, d.searchKeyUID)
	case r.Method == http.MethodPatch && r.URL.Path == "/indexes/chunks/settings":
		var s struct {
			Searchable []string            `json:"searchableAttributes"`
			Filterable []string            `json:"filterableAttributes"`
			Synonyms   map[string][]string `json:"synonyms"`
		}
		if err := json.Unmarshal(body, &s); err != nil {
			d.t.Errorf("settings body: %v", err)
		}
		if strings.Join(s.Searchable, ",") != "lex,title,headings,body" || !contains(s.Filterable, "page_id") || !contains(s.Filterable, "town_id") {
			d.t.Errorf("settings: searchable %v filterable %v", s.Searchable, s.Filterable)
		}
		if len(s.Synonyms) == 0 {
			d.t.Errorf("settings carry no synonyms")
		}
		accepted("settingsUpdate")
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/tasks/"):
		uid, _ := strconv.ParseInt(strings.TrimPrefix(r.URL.Path, "/tasks/"), 10, 64)
		status, errJSON := "succeeded", "null"
		if d.failAdd {
			status, errJSON = "failed", `{"message":"disk full","code":"internal","type":"internal","link":""}`
		}
		fmt.Fprintf(w, `{"uid":%d,"indexUid":"chunks","status":%q,"type":"documentAdditionOrUpdate","error":%s,
			"enqueuedAt":"2026-11-23T10:00:00Z","startedAt":"2026-11-23T10:00:00Z","finishedAt":"2026-11-23T10:00:01Z"}`, uid, status, errJSON)
	case r.Method == http.MethodPost && r.URL.Path == "/indexes/chunks/documents/delete":
		var req struct {
			Filter string `json:"filter"`
		}
		json.Unmarshal(body, &req)
		// "town_id = T AND page_id IN [...]": a town deletes only its own documents.
		townPart, pagePart, ok := strings.Cut(req.Filter, " AND ")
		town, err := strconv.ParseInt(strings.TrimPrefix(townPart, "town_id = "), 10, 64)
		if !ok || err != nil || !strings.HasPrefix(pagePart, "page_id IN [") {
			d.t.Errorf("delete filter %q", req.Filter)
		}
		ids := inList(strings.TrimPrefix(pagePart, "page_id IN "))
		for id, doc := range d.docs {
			if ids[int64(doc["page_id"].(float64))] && int64(doc["town_id"].(float64)) == town {
				delete(d.docs, id)
			}
		}
		accepted("documentDeletion")
	case r.Method == http.MethodPost && r.URL.Path == "/indexes/chunks/documents":
		if r.URL.Query().Get("primaryKey") != "id" {
			d.t.Errorf("documents without primaryKey=id: %s", r.URL.RawQuery)
		}
		var docs []map[string]any
		if err := json.Unmarshal(body, &docs); err != nil {
			d.t.Errorf("documents body: %v", err)
		}
		for _, doc := range docs {
			for _, f := range []string{"id", "town_id", "page_id", "url", "title", "lang", "headings", "body", "lex"} {
				if _, ok := doc[f]; !ok {
					d.t.Errorf("document lacks %s: %v", f, doc)
				}
			}
			d.docs[int64(doc["id"].(float64))] = doc
		}
		accepted("documentAdditionOrUpdate")
	case r.Method == http.MethodPost && r.URL.Path == "/indexes/chunks/search" && d.failSearch:
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, `{"message":"Service unavailable","code":"internal","type":"internal","link":""}`)
	case r.Method == http.MethodPost && r.URL.Path == "/indexes/chunks/search":
		var req struct {
			Q                string   `json:"q"`
			Limit            int      `json:"limit"`
			Attributes       []string `json:"attributesToRetrieve"`
			ShowRankingScore bool     `json:"showRankingScore"`
			MatchingStrategy string   `json:"matchingStrategy"`
			Filter           string   `json:"filter"`
		}
		json.Unmarshal(body, &req)
		if req.Limit != candidates || !req.ShowRankingScore || req.MatchingStrategy != "frequency" ||
			strings.Join(req.Attributes, ",") != "id" || len(strings.Fields(req.Q)) > maxMeiliWords ||
			!strings.HasPrefix(req.Filter, "town_id IN [") {
			d.t.Errorf("search request %s", body)
		}
		towns := inList(strings.TrimPrefix(req.Filter, "town_id IN "))
		if tokenFilter != "" {
			// The token's rules and the request's filter both hold.
			allowed := inList(strings.TrimPrefix(tokenFilter, "town_id IN "))
			for id := range towns {
				towns[id] = allowed[id]
			}
		}
		// Rank by the number of query words in lex: enough to check the round trip.
		type hit struct {
			id    int64
			score float64
		}
		var hits []hit
		for id, doc := range d.docs {
			if !towns[int64(doc["town_id"].(float64))] {
				continue
			}
			n := 0
			for _, w := range strings.Fields(req.Q) {
				if contains(strings.Fields(doc["lex"].(string)), w) {
					n++
				}
			}
			if n > 0 {
				hits = append(hits, hit{id, float64(n) / float64(len(strings.Fields(req.Q)))})
			}
		}
		sort.Slice(hits, func(i, j int) bool {
			return hits[i].score > hits[j].score || hits[i].score == hits[j].score && hits[i].id < hits[j].id
		})
		var out []string
		for _, h := range hits {
			out = append(out, fmt.Sprintf(`{"id":%d,"_rankingScore":%g}`, h.id, h.score))
		}
		fmt.Fprintf(w, `{"hits":[%s],"query":%q,"processingTimeMs":1,"limit":%d,"offset":0,"estimatedTotalHits":%d}`,
			strings.Join(out, ","), req.Q, req.Limit, len(out))
	default:
		d.t.Errorf("unexpected request %s %s", r.Method, r.URL)
		w.WriteHeader(http.StatusNotFound)
	}
}

// tenantFilter checks a tenant token as Meilisearch documents it (a JWT signed HS256 with the
// search key, naming the key's uid in apiKeyUid, searchRules per index, exp in the future) and
// returns its filter for the chunks index.
func (d *meiliDouble) tenantFilter(token string) (string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", fmt.Errorf("not a JWT")
	}
	mac := hmac.New(sha256.New, []byte(d.searchKey))
	mac.Write([]byte(parts[0] + "." + parts[1]))
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || !hmac.Equal(sig, mac.Sum(nil)) {
		return "", fmt.Errorf("bad signature")
	}
	var header struct {
		Alg string `json:"alg"`
	}
	var claims struct {
		UID   string                     `json:"apiKeyUid"`
		Exp   int64                      `json:"exp"`
		Rules map[string]json.RawMessage `json:"searchRules"`
	}
	h, _ := base64.RawURLEncoding.DecodeString(parts[0])
	c, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if json.Unmarshal(h, &header) != nil || header.Alg != "HS256" || json.Unmarshal(c, &claims) != nil {
		return "", fmt.Errorf("bad header or claims")
	}
	if claims.UID != d.searchKeyUID || claims.Exp <= time.Now().Unix() {
		return "", fmt.Errorf("uid %q, exp %d", claims.UID, claims.Exp)
	}
	var rule struct {
		Filter string `json:"filter"`
	}
	if err := json.Unmarshal(claims.Rules["chunks"], &rule); err != nil || !strings.HasPrefix(rule.Filter, "town_id IN [") {
		return "", fmt.Errorf("search rules %s", c)
	}
	return rule.Filter, nil
}

// inList reads a filter's list of numbers, "[1, 2]".
func inList(s string) map[int64]bool {
	ids := map[int64]bool{}
	for _, f := range strings.Split(strings.Trim(s, "[]"), ",") {
		n, _ := strconv.ParseInt(strings.TrimSpace(f), 10, 64)
		ids[n] = true
	}
	return ids
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func (d *meiliDouble) callsMatching(prefix string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, c := range d.calls {
		if strings.HasPrefix(c, prefix) {
			n++
		}
	}
	return n
}

func newMeiliIndex(t *testing.T, url, key, name string) *Index {
	t.Helper()
	ctx := context.Background()
	g, _ := LoadGlossary(nil)
	m, err := NewMeili(ctx, url, key, name, g)
	if err != nil {
		t.Fatal(err)
	}
	pool := dbtest.Pool(t)
	ix, err := NewIndex(ctx, pool, Scope{Town: dbtest.Town(t, pool, "lindenbrueck")}, NewHashEmbedder(0), g, m, quiet)
	if err != nil {
		t.Fatal(err)
	}
	return ix
}

func TestMeiliKeptInStepWithDatabase(t *testing.T) {
	ctx := context.Background()
	double, srv := newMeiliDouble(t, "secret")
	ix := newMeiliIndex(t, srv.URL, "secret", "chunks")
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"hund.html": page("Hundesteuer", "<h2>Kosten</h2><p>Der erste Hund kostet 96 Euro im Jahr.</p>"),
		"baum.html": page("Baumfällung", "<p>Für große Bäume brauchen Sie eine Genehmigung.</p>"),
	})
	src := DirSource{Dir: dir, BaseURL: "https://stadt.example"}
	if sum, err := ix.Ingest(ctx, src, 2, nil); err != nil || sum.New != 2 || sum.Failed != 0 {
		t.Fatalf("%+v %v", sum, err)
	}
	if len(double.docs) != 2 {
		t.Fatalf("meilisearch holds %d chunks, want 2", len(double.docs))
	}
	hits, err := ix.Search(ctx, Query{Text: "Was kostet die Hundesteuer", Limit: 3})
	if err != nil || len(hits) == 0 || hits[0].URL != "https://stadt.example/hund" || hits[0].Lexical == 0 {
		t.Fatalf("search through meilisearch: %+v %v", hits, err)
	}

	adds := double.callsMatching("POST /indexes/chunks/documents?")
	if _, err := ix.Ingest(ctx, src, 2, nil); err != nil {
		t.Fatal(err)
	}
	if double.callsMatching("POST /indexes/chunks/documents?") != adds {
		t.Error("an unchanged ingest pushed documents again")
	}

	os.Remove(dir + "/baum.html")
	if sum, err := ix.Ingest(ctx, src, 2, nil); err != nil || sum.Retired != 1 {
		t.Fatalf("%+v %v", sum, err)
	}
	for _, doc := range double.docs {
		if strings.Contains(doc["url"].(string), "baum") {
			t.Error("retired page still in meilisearch")
		}
	}
	if len(double.docs) != 1 {
		t.Errorf("meilisearch holds %d chunks after retirement, want 1", len(double.docs))
	}
}

func TestMeiliFailureIsReportedAndRetried(t *testing.T) {
	ctx := context.Background()
	double, srv := newMeiliDouble(t, "k")
	ix := newMeiliIndex(t, srv.URL, "k", "chunks")
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"hund.html": page("Hundesteuer", "<p>96 Euro.</p>")})
	src := DirSource{Dir: dir, BaseURL: "https://stadt.example"}
	double.failAdd = true
	sum, err := ix.Ingest(ctx, src, 1, nil)
	if err != nil || sum.Failed != 1 || !strings.Contains(problemFor(sum.Failures, "meilisearch"), "disk full") {
		t.Fatalf("%+v %v", sum, err)
	}
	double.failAdd = false
	if _, err := ix.Ingest(ctx, src, 1, nil); err != nil {
		t.Fatal(err)
	}
	if len(double.docs) != 1 {
		t.Fatalf("the failed push was not retried: %d docs", len(double.docs))
	}
}

func TestMeiliBadKey(t *testing.T) {
	_, srv := newMeiliDouble(t, "right")
	g, _ := LoadGlossary(nil)
	if _, err := NewMeili(context.Background(), srv.URL, "wrong", "chunks", g); err == nil || !strings.Contains(err.Error(), "invalid") {
		t.Fatalf("err %v, want the server's invalid key message", err)
	}
}

// TestMeiliReal runs against a real Meilisearch when MEILI_URL is set.
func TestMeiliReal(t *testing.T) {
	url := os.Getenv("MEILI_URL")
	if url == "" {
		t.Skip("MEILI_URL not set")
	}
	ctx := context.Background()
	ix := newMeiliIndex(t, url, os.Getenv("MEILI_API_KEY"), fmt.Sprintf("citybot_test_%d", time.Now().UnixNano()))
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"hund.html": page("Hundesteuer", "<h2>Kosten</h2><p>Der erste Hund kostet 96 Euro im Jahr.</p>"),
		"baum.html": page("Baumfällung", "<p>Für große Bäume brauchen Sie eine Genehmigung.</p>")})
	if _, err := ix.Ingest(ctx, DirSource{Dir: dir, BaseURL: "https://stadt.example"}, 2, nil); err != nil {
		t.Fatal(err)
	}
	hits, err := ix.Search(ctx, Query{Text: "Hundesteuer Kosten", Limit: 3})
	if err != nil || len(hits) == 0 || hits[0].URL != "https://stadt.example/hund" {
		t.Fatalf("%+v %v", hits, err)
	}
}

// TestMeiliTenantTokens: with a search key, each town's searches carry a tenant token whose
// search rules hold that town's scope (so Meilisearch itself keeps the towns apart), the token
// is renewed before it expires, and a key Meilisearch does not know is refused at start.
func TestMeiliTenantTokens(t *testing.T) {
	ctx := context.Background()
	double, srv := newMeiliDouble(t, "admin")
	double.searchKey, double.searchKeyUID = "search-key", "74c9c733-3368-4738-bbe5-1d18a5fecb37"
	g, _ := LoadGlossary(nil)
	m, err := NewMeili(ctx, srv.URL, "admin", "chunks", g)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.UseTenantTokens(ctx, "no-such-key"); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("an unknown search key: %v", err)
	}
	if err := m.UseTenantTokens(ctx, "search-key"); err != nil {
		t.Fatal(err)
	}
	pool := dbtest.Pool(t)
	ids := map[string]int{"lindenbrueck": dbtest.Town(t, pool, "lindenbrueck"), "eichenfeld": dbtest.Town(t, pool, "eichenfeld")}
	base, err := NewIndex(ctx, pool, Scope{Town: ids["lindenbrueck"]}, NewHashEmbedder(0), g, m, quiet)
	if err != nil {
		t.Fatal(err)
	}
	ix := map[string]*Index{"lindenbrueck": base}
	if ix["eichenfeld"], err = base.ForTown(ctx, Scope{Town: ids["eichenfeld"]}, nil); err != nil {
		t.Fatal(err)
	}
	for slug, amount := range map[string]string{"lindenbrueck": "96", "eichenfeld": "144"} {
		dir := t.TempDir()
		writeFiles(t, dir, map[string]string{"hund.html": page("Hundesteuer", "<p>Der erste Hund kostet "+amount+" Euro im Jahr.</p>")})
		if _, err := ix[slug].Ingest(ctx, DirSource{Dir: dir, BaseURL: "https://www." + slug + ".example"}, 1, nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, slug := range []string{"lindenbrueck", "eichenfeld"} {
		before := len(double.tokenFilters)
		hits, err := ix[slug].Search(ctx, Query{Text: "Hundesteuer", Limit: 3})
		if err != nil || len(hits) == 0 || !strings.Contains(hits[0].URL, slug) || hits[0].Lexical == 0 {
			t.Fatalf("%s: %+v %v", slug, hits, err)
		}
		want := fmt.Sprintf("town_id IN [%d]", ids[slug])
		if len(double.tokenFilters) != before+1 || double.tokenFilters[before] != want {
			t.Errorf("%s searched with tokens holding %v, want %q", slug, double.tokenFilters[before:], want)
		}
	}
	// Near its end a token is renewed; the searches go on.
	filter := fmt.Sprintf("town_id IN [%d]", ids["lindenbrueck"])
	old := m.tokens[filter].expires
	m.now = func() time.Time { return time.Now().Add(tenantTokenLife - time.Minute) }
	if _, err := ix["lindenbrueck"].Search(ctx, Query{Text: "Hundesteuer", Limit: 3}); err != nil {
		t.Fatal(err)
	}
	if !m.tokens[filter].expires.After(old) {
		t.Error("the token was not renewed before it expired")
	}
}
