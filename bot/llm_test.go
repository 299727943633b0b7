package bot

import (
	"strings"
	"testing"
)

func TestUnsupportedFacts(t *testing.T) {
	passages := []string{"Gebühren:\nReisepass ab 24 Jahren: 70,00 Euro\nTelefon: 0123 456-0\nE-Mail: buergerbuero@musterstadt.example",
		"Termine: https://termine.musterstadt.example/buergerbuero"}
	for answer, want := range map[string]string{
		"Der Pass kostet 70,00 Euro [1]. Rufen Sie 0123 456-0 an.":                "",
		"Termine gibt es unter https://termine.musterstadt.example/buergerbuero.": "",
		"Der Pass kostet 80,00 Euro [1].":                                         "80,00",
		"Schreiben Sie an info@musterstadt.example [2].":                          "info@musterstadt.example",
		"Mehr unter https://evil.example/pass":                                    "https://evil.example/pass",
	} {
		got := strings.Join(unsupportedFacts(answer, passages), " ")
		if got != want {
			t.Errorf("unsupportedFacts(%q) = %q, want %q", answer, got, want)
		}
	}
}
