package knowledge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/jackc/pgx/v5"
	"sort"
	"sync"
	"time"
)

// Summary tells an editor what an ingest did.
type Summary struct {
	Source    string    `json:"source"`
	New       int       `json:"new"`
	Changed   int       `json:"changed"`
	Unchanged int       `json:"unchanged"`
	Retired   int       `json:"retired"`
	Failed    int       `json:"failed"`
	Failures  []Problem `json:"failures"`
	Skipped   []Problem `json:"skipped"` // not pages at all, e.g. stray files in a mirror
	// RetireSkipped says why no page was retired, when the listing did not complete.
	RetireSkipped string        `json:"retire_skipped,omitempty"`
	Duration      time.Duration `json:"duration_ns"`
}

// Problem is one page that failed, or one item passed over, and why.
type Problem struct {
	URL    string `json:"url"`
	Reason string `json:"reason"`
}

// Progress is told of every item as it is done; total is 0 while unknown (a crawl).
type Progress func(done int, url, outcome string)

// Ingest reads every page of src into the index: new and changed pages are stored (one
// transaction per page), unchanged ones cost a lookup, pages gone from the source are retired,
// and the lexical statistics and any Meilisearch index are brought up to date.
func (ix *Index) Ingest(ctx context.Context, src Source, workers int, progress Progress) (*Summary, error) {
	start := time.Now()
	sum := &Summary{Source: src.Key()}
	var runID int64
	if err := ix.write(ctx, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, "INSERT INTO ingest_runs (town_id, source, started_at) VALUES ($3, $1, $2) RETURNING id",
			src.Key(), start, ix.scope.Town).Scan(&runID)
	}); err != nil {
		return nil, fmt.Errorf("record ingest run: %w", err)
	}

	var (
		mu    sync.Mutex
		keep  []string              // URLs of the source that must not be retired
		owner = map[string]string{} // canonical URL -> where it was first found
		done  int
	)
	items := make(chan Item)
	var wg sync.WaitGroup
	for range max(workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range items {
				outcome := ix.ingestItem(ctx, src.Key(), it, &mu, sum)
				mu.Lock()
				if it.Page != nil {
					keep = append(keep, it.Page.URL)
				} else if it.Skip == "" {
					keep = append(keep, it.URL) // a page that failed keeps what it had
				}
				done++
				n := done
				mu.Unlock()
				if progress != nil {
					progress(n, it.URL, outcome)
				}
			}
		}()
	}
	walkErr := src.Walk(ctx, func(it Item) {
		// Claimed here, in the source's order, so that the first of two pages with one canonical
		// URL wins on every run.
		if it.Page != nil {
			mu.Lock()
			first, dup := owner[it.Page.URL]
			if !dup {
				owner[it.Page.URL] = it.URL
			}
			mu.Unlock()
			if dup {
				it.Err = fmt.Errorf("duplicate canonical URL %s, already taken by %s", it.Page.URL, first)
				it.Page = nil
			}
		}
		items <- it
	})
	close(items)
	wg.Wait()

	switch {
	case walkErr != nil:
		sum.RetireSkipped = "the source could not be listed completely: " + walkErr.Error()
	case ctx.Err() != nil:
		sum.RetireSkipped = "interrupted"
	default:
		retired, err := ix.retire(ctx, src.Key(), keep)
		if err != nil {
			return sum, err
		}
		sum.Retired = len(retired)
		for _, u := range retired {
			if progress != nil {
				progress(done, u, "retired")
			}
		}
	}
	ix.pageChunks.clear()
	ix.forgetVocabulary()
	if err := ix.refreshStats(context.WithoutCancel(ctx)); err != nil {
		return sum, fmt.Errorf("refresh statistics: %w", err)
	}
	if ix.meili != nil {
		if err := ix.meili.sync(ctx, ix); err != nil {
			sum.Failures = append(sum.Failures, Problem{URL: "meilisearch", Reason: err.Error()})
			sum.Failed++
		}
	}
	sort.Slice(sum.Failures, func(i, j int) bool { return sum.Failures[i].URL < sum.Failures[j].URL })
	sort.Slice(sum.Skipped, func(i, j int) bool { return sum.Skipped[i].URL < sum.Skipped[j].URL })
	sum.Duration = time.Since(start)
	failures, _ := json.Marshal(sum.Failures)
	if err := ix.write(context.WithoutCancel(ctx), func(tx pgx.Tx) error {
		_, err := tx.Exec(context.WithoutCancel(ctx), `UPDATE ingest_runs SET finished_at = now(), new = $2,
			changed = $3, unchanged = $4, retired = $5, failed = $6, failures = $7 WHERE town_id = $8 AND id = $1`,
			runID, sum.New, sum.Changed, sum.Unchanged, sum.Retired, sum.Failed, failures, ix.scope.Town)
		return err
	}); err != nil {
		return sum, fmt.Errorf("record ingest run: %w", err)
	}
	if walkErr != nil {
		return sum, walkErr
	}
	return sum, ctx.Err()
}

func (ix *Index) ingestItem(ctx context.Context, source string, it Item, mu *sync.Mutex, sum *Summary) string {
	fail := func(err error) string {
		mu.Lock()
		sum.Failed++
		sum.Failures = append(sum.Failures, Problem{URL: it.URL, Reason: reason(err)})
		mu.Unlock()
		return "failed"
	}
	switch {
	case it.Skip != "":
		mu.Lock()
		sum.Skipped = append(sum.Skipped, Problem{URL: it.URL, Reason: it.Skip})
		mu.Unlock()
		return "skipped"
	case it.Err != nil:
		return fail(it.Err)
	}
	outcome, err := ix.save(ctx, source, it.Page)
	if err != nil {
		return fail(fmt.Errorf("store: %w", err))
	}
	mu.Lock()
	defer mu.Unlock()
	switch outcome {
	case New:
		sum.New++
		return "new"
	case Changed:
		sum.Changed++
		return "changed"
	}
	sum.Unchanged++
	return "unchanged"
}

func reason(err error) string {
	if errors.Is(err, errNoContent) {
		return "no main content (empty page or only navigation)"
	}
	return err.Error()
}
