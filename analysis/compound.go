package analysis

import (
	"regexp"
	"strings"
)

// German writes one concept as one word where a citizen may write it with a hyphen or leave
// out a shared head: "Hunde-Steuer" also yields "hundesteuer", and a list that leaves out a
// shared head ("Geburts-, Ehe- und Sterbeurkunden", "An- und Abmeldung") yields the words it
// stands for ("geburtsurkunden", "anmeldung"). Splitting compounds against the pages'
// vocabulary is retrieval's business (knowledge/compound.go); this needs no vocabulary.

// reTruncated finds lists of words that leave their head to the last word of the list.
var reTruncated = regexp.MustCompile(`((?:\pL+-\s*(?:,\s*|\s+))+)(?:und|oder|bzw\.?|sowie|&)\s+(\pL+)`)

// reHyphenated finds words joined by a hyphen.
var reHyphenated = regexp.MustCompile(`\pL+(?:-\pL+)+`)

// CompoundForms returns the words that hyphens in folded text stand for.
func CompoundForms(folded string) []string {
	if !strings.Contains(folded, "-") {
		return nil
	}
	var out []string
	for _, m := range reHyphenated.FindAllString(folded, -1) {
		out = append(out, strings.ReplaceAll(m, "-", ""))
	}
	for _, m := range reTruncated.FindAllStringSubmatch(folded, -1) {
		last := []rune(m[2])
		for _, mod := range strings.FieldsFunc(m[1], func(r rune) bool { return r == '-' || r == ',' || r == ' ' }) {
			// Where the last word's head begins is not known without a vocabulary: every split
			// that leaves a modifier of two letters (Ab-meldung) and a head of four is tried.
			// The words that do not exist are never asked for, so they cost only a little index
			// space.
			for i := 2; i+4 <= len(last); i++ {
				out = append(out, mod+string(last[i:]))
			}
		}
	}
	return out
}
