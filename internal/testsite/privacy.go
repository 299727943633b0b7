package testsite

import (
	"bufio"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/citybot-project/citybot/analysis"
)

// PrivacyCase is a message of the privacy test set (privacy/testdata/privacy): invented messages
// full of personal data in the ten languages, each with the personal strings ("kind:value") that
// must not survive (personal.jsonl), and ordinary questions full of numbers that must
// (ordinary.jsonl).
type PrivacyCase struct {
	Lang     string   `json:"lang"`
	Where    string   `json:"where"` // ask, comment (a rating's) or note (a ticket's)
	Text     string   `json:"text"`
	Personal []string `json:"personal"`
}

// PrivacyCases reads a file of the privacy test set.
func PrivacyCases(t testing.TB, name string) []PrivacyCase {
	t.Helper()
	f, err := os.Open(Path("privacy", "testdata", "privacy", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []PrivacyCase
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var c PrivacyCase
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("%s: %v: %s", name, err, sc.Text())
		}
		out = append(out, c)
	}
	return out
}

// PersonalValue splits "kind:value".
func PersonalValue(p string) (kind, value string) {
	kind, value, _ = strings.Cut(p, ":")
	return kind, value
}

// Leaked tells whether value survives in text: as written, or, for a value with five digits or
// more, its digits among text's digits.
func Leaked(text, value string) bool {
	if strings.Contains(text, value) || strings.Contains(analysis.WesternDigits(text), analysis.WesternDigits(value)) {
		return true
	}
	d := analysis.Digits(value)
	return len(d) >= 5 && strings.Contains(analysis.Digits(text), d)
}
