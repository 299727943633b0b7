package knowledge

import (
	"slices"
	"testing"
	"unicode/utf8"
)

// TestDeleteIndexMatchesAMapOfDeletions: the compact index finds for every key exactly the words
// a plain map of each word's deletions holds, and a hash shared by other words adds none of them.
func TestDeleteIndexMatchesAMapOfDeletions(t *testing.T) {
	words := []string{"hundesteuer", "hundesteur", "hundsteuer", "kaffee", "kafee", "personalausweis", "reisepass",
		"reisepas", "meldebescheinigung", "wohnsitz", "wohnsitze", "zweitwohnung", "anmeldung", "abmeldung", "ummeldung"}
	slices.Sort(words)
	x := newDeleteIndex(words, 5)
	want := map[string][]string{}
	for _, w := range words {
		if utf8.RuneCountInString(w) < 5 {
			continue
		}
		for _, d := range deletions(w) {
			if !slices.Contains(want[d], w) {
				want[d] = append(want[d], w)
			}
		}
	}
	keys := []string{"nichtda", "", "x"}
	for k := range want {
		keys = append(keys, k)
	}
	for _, k := range keys {
		got, exp := x.lookup(k), want[k]
		slices.Sort(exp)
		if !slices.Equal(got, exp) {
			t.Errorf("%q: %v, want %v", k, got, exp)
		}
	}
	// Every deletion given the hash of "kafee": only the words that are "kafee" plus a letter.
	for i := range x.hashes {
		x.hashes[i] = hashString("kafee")
	}
	if got := x.lookup("kafee"); !slices.Equal(got, []string{"kaffee"}) {
		t.Errorf("with colliding hashes: %v, want [kaffee]", got)
	}
}
