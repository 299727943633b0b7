package knowledge

import (
	"strings"
	"unicode/utf8"
)

// maxChunkChars bounds a chunk: long enough for a whole fee table or list of documents, short
// enough that a hit points at the part of the page that answers.
const maxChunkChars = 1500

// maxLineChars bounds a line, which a chunk otherwise keeps whole: a longer one (a paragraph of
// a page without markup, a table row of a hundred columns) is split between words.
const maxLineChars = 4 * maxChunkChars

// chunk groups blocks into sections along the heading structure. Each chunk carries its heading
// path, starting with the page title; a section longer than maxChunkChars is split between blocks
// (and a single huge block between lines, its lead repeated in each part), never inside a list
// item or table row. A section's end block (an accordion panel's end) returns to the section
// around it.
func chunk(title string, bs []block) []Chunk {
	var out []Chunk
	path := []string{title}
	levels := []int{1}
	var body []string
	size := 0
	emit := func() {
		if len(body) > 0 {
			out = append(out, Chunk{Headings: append([]string(nil), path...), Text: strings.Join(body, "\n")})
		}
		body, size = nil, 0
	}
	add := func(t string) {
		if size > 0 && size+len(t) > maxChunkChars {
			emit()
		}
		body = append(body, t)
		size += len(t) + 1
	}
	for _, b := range bs {
		if b.end {
			emit()
			for len(levels) > 1 && levels[len(levels)-1] >= b.level {
				path, levels = path[:len(path)-1], levels[:len(levels)-1]
			}
			continue
		}
		if b.level == 0 {
			if len(b.text) <= maxChunkChars {
				add(b.text)
				continue
			}
			lead, leadLines := b.lead, 0
			if lead != "" {
				leadLines = strings.Count(lead, "\n") + 1
			}
			if len(lead) > maxChunkChars/3 {
				lead = ""
			}
			for i, whole := range strings.Split(b.text, "\n") {
				for _, line := range splitLine(whole, maxLineChars) {
					if size > 0 && size+len(line) > maxChunkChars {
						emit()
						if lead != "" && i >= leadLines {
							add(lead)
						}
					}
					add(line)
				}
			}
			continue
		}
		emit()
		if b.level == 1 {
			// The page title is the path's root already.
			if b.text != title {
				path, levels = []string{b.text}, []int{1}
			}
			continue
		}
		for len(levels) > 1 && levels[len(levels)-1] >= b.level {
			path, levels = path[:len(path)-1], levels[:len(levels)-1]
		}
		path = append(path, b.text)
		levels = append(levels, b.level)
	}
	emit()
	return out
}

// splitLine cuts s into parts of at most max bytes, between words where it can and else between
// characters.
func splitLine(s string, max int) []string {
	var out []string
	for len(s) > max {
		cut := strings.LastIndexByte(s[:max+1], ' ')
		if cut <= 0 {
			cut = max
			for cut > 0 && !utf8.RuneStart(s[cut]) {
				cut--
			}
		}
		out = append(out, strings.TrimSpace(s[:cut]))
		s = strings.TrimSpace(s[cut:])
	}
	return append(out, s)
}
