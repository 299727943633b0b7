package knowledge

import (
	"strings"

	"github.com/pemistahl/lingua-go"
)

// Detector tells which of citybot's languages a question is written in. It uses lingua's
// low-accuracy (trigram) models: about 8 MiB for all languages instead of 200, and accurate
// enough for a sentence; for a word or two a caller's prior (the conversation's language) wins.
type Detector struct {
	d lingua.LanguageDetector
}

// languageCodes maps lingua's languages to citybot's codes. Leichte Sprache is German to a
// detector; choosing it is the citizen's setting, not something to detect.
var languageCodes = map[lingua.Language]string{
	lingua.German: "de", lingua.English: "en", lingua.Turkish: "tr", lingua.Arabic: "ar",
	lingua.Ukrainian: "uk", lingua.Russian: "ru", lingua.Persian: "fa", lingua.Polish: "pl",
	lingua.Romanian: "ro",
}

// NewDetector loads the models of the supported languages.
func NewDetector() *Detector {
	langs := make([]lingua.Language, 0, len(languageCodes))
	for l := range languageCodes {
		langs = append(langs, l)
	}
	return &Detector{d: lingua.NewLanguageDetectorBuilder().FromLanguages(langs...).
		WithLowAccuracyMode().WithPreloadedLanguageModels().Build()}
}

// minConfidence below which a short text keeps the caller's prior.
const minConfidence = 0.6

// Detect returns the language code of text; prior (may be empty) is returned for texts too
// short or too mixed to tell.
func (d *Detector) Detect(text, prior string) string {
	vals := d.d.ComputeLanguageConfidenceValues(text)
	if len(vals) == 0 {
		return prior
	}
	best := vals[0]
	if prior != "" && best.Value() < minConfidence && len(strings.Fields(text)) < 4 {
		return prior
	}
	if code, ok := languageCodes[best.Language()]; ok {
		return code
	}
	return prior
}

// DetectLanguage tells the language of a question as retrieval sees it; see Detector.Detect.
func (ix *Index) DetectLanguage(text, prior string) string { return ix.detector.Detect(text, prior) }
