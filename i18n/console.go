package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// The staff console's words are a catalog of their own: staff read German or English, not the
// citizens' ten languages, and the console's HTML templates use them as they are, without
// go-i18n's placeholder templates.
//
//go:embed console/*.json
var consoleFiles embed.FS

// Console reads the staff console's texts, language ("de", "en") to key to text, one file a
// language under console/. German is the reference: a key another language lacks takes the
// German text, so a gap shows German words rather than an empty button.
func Console() (map[string]map[string]string, error) { return readConsole(consoleFiles) }

// readConsole is Console over any file system, for the test of the German fallback.
func readConsole(fsys fs.FS) (map[string]map[string]string, error) {
	names, err := fs.Glob(fsys, "console/*.json")
	if err != nil {
		return nil, err
	}
	out := map[string]map[string]string{}
	for _, name := range names {
		raw, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("console texts %s: %w", name, err)
		}
		var msgs map[string]string
		if err := json.Unmarshal(raw, &msgs); err != nil {
			return nil, fmt.Errorf("console texts %s: %w", name, err)
		}
		out[strings.TrimSuffix(path.Base(name), ".json")] = msgs
	}
	de, ok := out["de"]
	if !ok {
		return nil, fmt.Errorf("console texts: no German")
	}
	for _, msgs := range out {
		for k, v := range de {
			if strings.TrimSpace(msgs[k]) == "" {
				msgs[k] = v
			}
		}
	}
	return out, nil
}
