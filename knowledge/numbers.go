package knowledge

import (
	"context"
	"fmt"
	"strings"
)

// Numbers the city's pages state (an office's phone number, a file reference on a form): the
// redactor keeps a long digit run a citizen types when a page states it, and removes every other
// one as personal. The set holds every run of at least minStatedDigits digits of the active
// pages' chunks, written without the spaces, dots, dashes and slashes between its groups, and
// every stretch of whole groups of such a run that is long enough ("0123 456-7000 / -7001"
// gives 01234567000 and 4567000 besides the whole run).

// minStatedDigits is the shortest digit run the set of stated numbers holds: a postcode.
const minStatedDigits = 5

// maxRunGroups bounds the stretches taken from one run (a table of numbers is one long run).
const maxRunGroups = 8

// numberSeparators may stand between the groups of a number: space, no-break spaces, dot,
// hyphen, en dash, non-breaking hyphen, slash.
const numberSeparators = " \u00a0\u202f.-\u2013\u2011/"

// StatesNumber tells whether an active page's text states the digit string digits (0-9 only,
// separators removed, as analysis.Digits writes a number), as a run of its own or a stretch of
// whole groups of one. The set is loaded once and checked against the pages table every
// vocabTTL, reloaded when an ingest (in this process or another) changed the pages.
func (ix *Index) StatesNumber(ctx context.Context, digits string) (bool, error) {
	if len(digits) < minStatedDigits {
		return false, nil
	}
	set, err := ix.statedNumbers(ctx)
	if err != nil {
		return false, err
	}
	_, ok := set[digits]
	return ok, nil
}

func (ix *Index) statedNumbers(ctx context.Context) (map[string]struct{}, error) {
	return ix.numbers.get(ctx, ix, ix.loadNumbers)
}

// loadNumbers reads the digit runs of the active pages' chunks; PostgreSQL finds them, so only
// the runs, not the texts, cross the wire.
func (ix *Index) loadNumbers(ctx context.Context) (map[string]struct{}, error) {
	rows, err := ix.query(ctx, `SELECT DISTINCT m[1] FROM chunks c JOIN pages p ON p.town_id = c.town_id AND p.id = c.page_id,
		regexp_matches(c.body, $1, 'g') AS m WHERE c.town_id = ANY($2) AND p.active`, `([0-9]+(?:[`+regexpClass(numberSeparators)+`][0-9]+)*)`, ix.scope.Search)
	if err != nil {
		return nil, fmt.Errorf("stated numbers: %w", err)
	}
	defer rows.Close()
	set := map[string]struct{}{}
	for rows.Next() {
		var run string
		if err := rows.Scan(&run); err != nil {
			return nil, fmt.Errorf("stated numbers: %w", err)
		}
		addRun(set, run)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("stated numbers: %w", err)
	}
	return set, nil
}

// regexpClass escapes the characters of a bracket expression: the hyphen goes last.
func regexpClass(chars string) string {
	return strings.ReplaceAll(chars, "-", "") + "-"
}

// addRun adds a run's digits and the stretches of its groups that are long enough.
func addRun(set map[string]struct{}, run string) {
	groups := strings.FieldsFunc(run, func(r rune) bool { return strings.ContainsRune(numberSeparators, r) })
	for i := range groups {
		var b strings.Builder
		for j := i; j < len(groups) && (j-i < maxRunGroups || i == 0); j++ {
			b.WriteString(groups[j])
			if b.Len() >= minStatedDigits {
				set[b.String()] = struct{}{}
			}
		}
	}
}
