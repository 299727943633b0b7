package analysis

import (
	"slices"
	"testing"
)

func TestFoldMeetsAllSpellings(t *testing.T) {
	for _, group := range [][]string{
		{"Führerschein", "Fuehrerschein", "Fuhrerschein", "FÜHRERSCHEIN"},
		{"Straße", "Strasse", "STRASSE"},
		{"kimlik kartı", "KIMLIK KARTI", "kimlik karti"},
		{"يوسف", "يوسف", "یوسف"},
		{"240 لتر", "٢٤٠ لتر"},
		{"240 لیتر", "۲۴۰ لیتر"},
	} {
		want := Fold(group[0])
		for _, s := range group[1:] {
			if got := Fold(s); got != want {
				t.Errorf("Fold(%q) = %q, Fold(%q) = %q", s, got, group[0], want)
			}
		}
	}
}

func TestCompoundForms(t *testing.T) {
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"hunde-steuer", []string{"hundesteuer"}},
		{"geburts-, ehe- und sterbeurkunden", []string{"geburtsurkunden", "eheurkunden"}},
		{"an- und abmeldung", []string{"anmeldung"}},
		{"keine bindestriche hier", nil},
	} {
		got := CompoundForms(tc.text)
		for _, w := range tc.want {
			if !slices.Contains(got, w) {
				t.Errorf("CompoundForms(%q) = %v, want %s among them", tc.text, got, w)
			}
		}
		if tc.want == nil && len(got) > 0 {
			t.Errorf("CompoundForms(%q) = %v, want none", tc.text, got)
		}
	}
}
