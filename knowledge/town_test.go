package knowledge

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/citybot-project/citybot/database/dbtest"
)

// Two towns in one database, written for this test: both have a page on the dog tax at the same
// address, with different amounts, and each has a page the other lacks. The Kreis has a page of
// its own that one town is linked to.
var townSites = map[string]map[string]string{
	"lindenbrueck": {
		"hundesteuer.html": page("Hundesteuer – Lindenbrück", `<p>Die Hundesteuer beträgt in Lindenbrück 96 Euro im Jahr. Telefon 0123 4711.</p>`),
		"faehre.html":      page("Fähre über die Aue", `<p>Die Fähre fährt von April bis Oktober, eine Fahrt kostet 2 Euro.</p>`),
	},
	"eichenfeld": {
		"hundesteuer.html": page("Hundesteuer – Eichenfeld", `<p>Die Hundesteuer beträgt in Eichenfeld 144 Euro im Jahr. Telefon 0987 6655.</p>`),
		"freibad.html":     page("Freibad Eichenfeld", `<p>Das Freibad ist von Mai bis September geöffnet, der Eintritt kostet 4 Euro.</p>`),
	},
	"kreis-auental": {
		"zulassung.html": page("Kfz-Zulassung im Landkreis Auental", `<p>Die Zulassungsstelle des Landkreises Auental ist für alle Gemeinden zuständig. Eine Zulassung kostet 30 Euro.</p>`),
	},
}

// TestTownsSeeOnlyTheirOwnPages: every way an index reads the database or its caches stays
// within its town and the collections it is linked to.
func TestTownsSeeOnlyTheirOwnPages(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.Pool(t)
	g, err := LoadGlossary(nil)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]int{}
	var base *Index
	for _, slug := range []string{"lindenbrueck", "eichenfeld", "kreis-auental"} {
		ids[slug] = dbtest.Town(t, pool, slug)
	}
	base, err = NewIndex(ctx, pool, Scope{Town: ids["lindenbrueck"]}, NewHashEmbedder(0), g, nil, quiet)
	if err != nil {
		t.Fatal(err)
	}
	ix := map[string]*Index{"lindenbrueck": base}
	for _, slug := range []string{"eichenfeld", "kreis-auental"} {
		if ix[slug], err = base.ForTown(ctx, Scope{Town: ids[slug]}, nil); err != nil {
			t.Fatal(err)
		}
	}
	dirs := map[string]string{}
	for slug, files := range townSites {
		dir := t.TempDir()
		dirs[slug] = dir
		writeFiles(t, dir, files)
		// The same base URL for both towns: addresses are unique per town only.
		if sum, err := ix[slug].Ingest(ctx, DirSource{Dir: dir, BaseURL: "https://www.stadt.example"}, 2, nil); err != nil || sum.Failed > 0 {
			t.Fatalf("ingest %s: %+v %v", slug, sum, err)
		}
	}
	// Eichenfeld searches the Kreis's pages too.
	linked, err := base.ForTown(ctx, Scope{Town: ids["eichenfeld"], Search: []int{ids["eichenfeld"], ids["kreis-auental"]}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []*Index{ix["lindenbrueck"], ix["eichenfeld"], linked} {
		if err := i.Warm(ctx); err != nil {
			t.Fatal(err)
		}
	}
	search := func(i *Index, q string) []Hit {
		hits, err := i.Search(ctx, Query{Text: q, Lang: "de", Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		return hits
	}
	texts := func(hits []Hit) string {
		var b strings.Builder
		for _, h := range hits {
			b.WriteString(h.Text)
			for _, c := range h.Chunks {
				b.WriteString(c.Text)
			}
		}
		return b.String()
	}

	// Search: each town's own amount, never the other's; the other town's services are not found.
	for slug, want := range map[string][2]string{"lindenbrueck": {"96 Euro", "144 Euro"}, "eichenfeld": {"144 Euro", "96 Euro"}} {
		hits := search(ix[slug], "Was kostet die Hundesteuer?")
		if got := texts(hits); !strings.Contains(got, want[0]) || strings.Contains(got, want[1]) {
			t.Errorf("%s: dog tax hits %q, want %s and not %s", slug, got, want[0], want[1])
		}
		for _, h := range hits {
			if h.Town != ids[slug] {
				t.Errorf("%s: a hit of town %d: %s", slug, h.Town, h.URL)
			}
		}
	}
	if hits := search(ix["lindenbrueck"], "Freibad Eintritt"); strings.Contains(texts(hits), "Freibad") {
		t.Errorf("Lindenbrück finds Eichenfeld's pool: %v", hits)
	}
	if hits := search(ix["eichenfeld"], "Fähre über die Aue"); strings.Contains(texts(hits), "Fähre") {
		t.Errorf("Eichenfeld finds Lindenbrück's ferry: %v", hits)
	}
	// A linked collection: Eichenfeld's bot finds the Kreis's page, and says whose it is;
	// Lindenbrück's does not.
	if hits := search(linked, "Auto zulassen Zulassungsstelle"); len(hits) == 0 || hits[0].Town != ids["kreis-auental"] {
		t.Errorf("linked town: hits %v, want the Kreis's page first", hits)
	}
	if hits := search(ix["lindenbrueck"], "Auto zulassen Zulassungsstelle"); strings.Contains(texts(hits), "Landkreis") {
		t.Errorf("unlinked town finds the Kreis's page")
	}
	// Both ways of searching the vectors (see exactVectors) give a town its own chunks only, the
	// same ones in the same order on a corpus this small.
	for slug, i := range map[string]*Index{"lindenbrueck": ix["lindenbrueck"], "eichenfeld": ix["eichenfeld"]} {
		own := map[int64]bool{}
		rows, _ := pool.Query(ctx, "SELECT id FROM chunks WHERE town_id = $1", ids[slug])
		for rows.Next() {
			var id int64
			rows.Scan(&id)
			own[id] = true
		}
		rows.Close()
		exact, err := i.vector(ctx, "Hundesteuer für den ersten Hund", true)
		if err != nil {
			t.Fatal(err)
		}
		indexed, err := i.vector(ctx, "Hundesteuer für den ersten Hund", false)
		if err != nil {
			t.Fatal(err)
		}
		if len(exact) == 0 || len(exact) != len(indexed) || exact[0].id != indexed[0].id {
			t.Errorf("%s: exact %v, through the index %v", slug, exact, indexed)
		}
		for _, r := range append(exact, indexed...) {
			if !own[r.id] {
				t.Errorf("%s: vector search found chunk %d of another town", slug, r.id)
			}
		}
	}
	if !exactVectors(600, 200*600) || exactVectors(1159, 1159) || exactVectors(20000, 200000) {
		t.Error("exactVectors: a small town among many is searched exactly, a town alone or a tenth of all through the index")
	}
	// The page cache: the same address, each town's own text.
	for slug, want := range map[string]string{"lindenbrueck": "96 Euro", "eichenfeld": "144 Euro"} {
		cs, err := ix[slug].PageChunks(ctx, "https://www.stadt.example/hundesteuer")
		if err != nil || len(cs) == 0 || !strings.Contains(cs[0].Text, want) {
			t.Errorf("%s: page chunks %v %v, want %s", slug, cs, err, want)
		}
	}
	// The baseline's page texts, the vocabulary, the stated numbers and the counts.
	for slug, other := range map[string]string{"lindenbrueck": "freibad", "eichenfeld": "faehre"} {
		pts, err := ix[slug].PageTexts(ctx)
		if err != nil || len(pts) != 2 || slices.ContainsFunc(pts, func(p PageText) bool { return strings.Contains(p.URL, other) }) {
			t.Errorf("%s: page texts %v %v", slug, pts, err)
		}
		st, err := ix[slug].Stats(ctx)
		if err != nil || st.Pages != 2 {
			t.Errorf("%s: stats %+v %v", slug, st, err)
		}
	}
	for slug, c := range map[string]struct{ own, other string }{"lindenbrueck": {"Lindenbrück", "Eichenfeld"}, "eichenfeld": {"Eichenfeld", "Lindenbrück"}} {
		if ok, err := ix[slug].Names(ctx, c.own); err != nil || !ok {
			t.Errorf("%s does not know its own name: %v", slug, err)
		}
		if ok, _ := ix[slug].Names(ctx, c.other); ok {
			t.Errorf("%s knows %s from the other town's titles", slug, c.other)
		}
	}
	for slug, c := range map[string]struct{ own, other string }{"lindenbrueck": {"01234711", "09876655"}, "eichenfeld": {"09876655", "01234711"}} {
		if ok, err := ix[slug].StatesNumber(ctx, c.own); err != nil || !ok {
			t.Errorf("%s does not state its own number %s: %v", slug, c.own, err)
		}
		if ok, _ := ix[slug].StatesNumber(ctx, c.other); ok {
			t.Errorf("%s states the other town's number %s", slug, c.other)
		}
	}
	// Re-ingesting one town retires nothing of the other's, although the source key is the same.
	if err := os.Remove(filepath.Join(dirs["lindenbrueck"], "faehre.html")); err != nil {
		t.Fatal(err)
	}
	if sum, err := ix["lindenbrueck"].Ingest(ctx, DirSource{Dir: dirs["lindenbrueck"], BaseURL: "https://www.stadt.example"}, 2, nil); err != nil || sum.Retired != 1 {
		t.Fatalf("re-ingest: %+v %v", sum, err)
	}
	if st, _ := ix["eichenfeld"].Stats(ctx); st.Pages != 2 || st.RetiredPages != 0 {
		t.Errorf("the other town's pages were touched: %+v", st)
	}
}
