// Package testsite gives the chat's tests the sample town, Musterstadt: its pages ingested into a
// real database once per test binary, and the privacy test set written for it. Ingesting the site
// takes seconds; every test of a package shares the one index, as citizens share the town's.
package testsite

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/citybot-project/citybot/database/dbtest"
	"github.com/citybot-project/citybot/knowledge"
)

// BaseURL is where the sample site's pages claim to live.
const BaseURL = "https://www.musterstadt.example"

// sample is the sample site's index, ingested once for all tests of a test binary (dbtest keeps
// its cluster the same way).
var sample struct {
	once sync.Once
	pool *pgxpool.Pool
	ix   *knowledge.Index
	err  error
}

// Index returns the sample site's index and the pool of its database. The package's TestMain must
// run dbtest.Main, which stops the cluster.
func Index(t testing.TB) (*pgxpool.Pool, *knowledge.Index) {
	t.Helper()
	sample.once.Do(func() {
		ctx := context.Background()
		// A database that lives as long as the test binary: the first test's cleanup must not drop it.
		db := dbtest.MustOpenDB(&keepAlive{TB: t})
		sample.pool = db.Pool
		g, err := knowledge.LoadGlossary(nil)
		if err != nil {
			sample.err = err
			return
		}
		quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
		town := dbtest.Town(&keepAlive{TB: t}, sample.pool, "musterstadt")
		sample.ix, sample.err = knowledge.NewIndex(ctx, sample.pool, knowledge.Scope{Town: town}, knowledge.NewHashEmbedder(0), g, nil, quiet)
		if sample.err == nil {
			src := knowledge.DirSource{Dir: Path("sample", "musterstadt"), BaseURL: BaseURL}
			_, sample.err = sample.ix.Ingest(ctx, src, 4, nil)
		}
	})
	if sample.err != nil {
		t.Fatal(sample.err)
	}
	return sample.pool, sample.ix
}

// keepAlive passes a test's helpers through but ignores its cleanups.
type keepAlive struct{ testing.TB }

func (k *keepAlive) Cleanup(func()) {}

// Path is a path below the repository's root ("sample", "eval"), wherever the test runs.
func Path(elem ...string) string {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	return filepath.Join(append([]string{root}, elem...)...)
}
