package i18n

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

// TestMissingTranslations fails when any catalog lacks a key of the German one, has a key it
// does not, or drops a placeholder.
func TestMissingTranslations(t *testing.T) {
	raw, err := files.ReadFile("de.json")
	if err != nil {
		t.Fatal(err)
	}
	var de map[string]string
	if err := json.Unmarshal(raw, &de); err != nil {
		t.Fatal(err)
	}
	placeholder := regexp.MustCompile(`\{\{\.[A-Za-z]+\}\}`)
	for _, lang := range Languages() {
		raw, err := files.ReadFile(lang + ".json")
		if err != nil {
			t.Errorf("%s: no catalog: %v", lang, err)
			continue
		}
		var m map[string]string
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Errorf("%s: %v", lang, err)
			continue
		}
		for id, text := range de {
			got, ok := m[id]
			if !ok || strings.TrimSpace(got) == "" {
				t.Errorf("%s: missing %s", lang, id)
				continue
			}
			for _, p := range placeholder.FindAllString(text, -1) {
				if !strings.Contains(got, p) {
					t.Errorf("%s: %s lacks %s", lang, id, p)
				}
			}
		}
		for id := range m {
			if _, ok := de[id]; !ok {
				t.Errorf("%s: %s is not in the German catalog", lang, id)
			}
		}
	}
}

func TestLookupAndOverride(t *testing.T) {
	c, err := Load(map[string]map[string]string{"en": {"greeting.reply": "Hi from {{.City}}!"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.T("en", "greeting.reply", map[string]any{"City": "Musterstadt"}); got != "Hi from Musterstadt!" {
		t.Errorf("override: %q", got)
	}
	if got := c.T("de", "answer.intro", map[string]any{"Title": "Wohngeld"}); got != "Dazu steht auf der Seite „Wohngeld“ der Stadt:" {
		t.Errorf("German: %q", got)
	}
	if got := c.T("xx", "error.empty", nil); got != c.T("de", "error.empty", nil) {
		t.Errorf("unknown language does not fall back to German: %q", got)
	}
	if got := c.T("de", "no.such.key", nil); got != "no.such.key" {
		t.Errorf("missing key: %q", got)
	}
	if !RTL("ar") || !RTL("fa") || RTL("de") {
		t.Error("RTL")
	}
	if ui := c.Messages("tr", "ui."); len(ui) == 0 || ui["ui.send"] == "" {
		t.Errorf("widget messages: %v", ui)
	}
}
