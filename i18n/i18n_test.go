package i18n

import (
	"encoding/json"
	"io/fs"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
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

// TestConsoleTexts fails when the console's German and English files differ in their keys or
// leave a text empty: the loader would hide an English gap behind German words.
func TestConsoleTexts(t *testing.T) {
	raw := map[string]map[string]string{}
	for _, lang := range []string{"de", "en"} {
		b, err := consoleFiles.ReadFile("console/" + lang + ".json")
		if err != nil {
			t.Fatalf("%s: %v", lang, err)
		}
		var m map[string]string
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v", lang, err)
		}
		for k, v := range m {
			if strings.TrimSpace(v) == "" {
				t.Errorf("%s: %s is empty", lang, k)
			}
		}
		raw[lang] = m
	}
	for k := range raw["de"] {
		if _, ok := raw["en"][k]; !ok {
			t.Errorf("en: missing %s", k)
		}
	}
	for k := range raw["en"] {
		if _, ok := raw["de"][k]; !ok {
			t.Errorf("en: %s is not in the German texts", k)
		}
	}
	if names, _ := fs.Glob(consoleFiles, "console/*.json"); len(names) != len(raw) {
		t.Errorf("console texts in %v, tested de and en only", names)
	}
	got, err := Console()
	if err != nil {
		t.Fatal(err)
	}
	if got["de"]["signin"] != "Anmelden" || got["en"]["signin"] != "Sign in" || len(got["en"]) != len(raw["de"]) {
		t.Errorf("Console: de %q, en %q, %d English texts", got["de"]["signin"], got["en"]["signin"], len(got["en"]))
	}
}

func TestConsoleFallsBackToGerman(t *testing.T) {
	got, err := readConsole(fstest.MapFS{
		"console/de.json": {Data: []byte(`{"save": "Speichern", "delete": "Löschen", "add": "Hinzufügen"}`)},
		"console/en.json": {Data: []byte(`{"save": "Save", "delete": " "}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if en := got["en"]; en["save"] != "Save" || en["delete"] != "Löschen" || en["add"] != "Hinzufügen" {
		t.Errorf("English: %v", en)
	}
	if _, err := readConsole(fstest.MapFS{"console/en.json": {Data: []byte(`{}`)}}); err == nil {
		t.Error("no German texts, no error")
	}
}
