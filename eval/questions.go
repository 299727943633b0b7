package eval

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Question is one line of a question file.
type Question struct {
	ID       string   `json:"id"`
	Lang     string   `json:"lang"`
	Question string   `json:"question"`
	Expect   []string `json:"expect"`
	Facts    []string `json:"facts"`
	Kind     string   `json:"kind"` // answerable, redirect or out_of_scope
}

// ReadQuestions reads the question files that patterns name, each a file or a glob, in order
// and each glob's files in name order.
func ReadQuestions(patterns []string) ([]Question, error) {
	var qs []Question
	for _, p := range patterns {
		files, err := filepath.Glob(p)
		if err != nil || len(files) == 0 {
			files = []string{p} // let the open below report the missing file
		}
		sort.Strings(files)
		for _, f := range files {
			more, err := ReadQuestionFile(f)
			if err != nil {
				return nil, err
			}
			qs = append(qs, more...)
		}
	}
	return qs, nil
}

// ReadQuestionFile reads one question file, JSON lines; an error names the file and line.
func ReadQuestionFile(name string) ([]Question, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var qs []Question
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		var q Question
		if err := json.Unmarshal([]byte(text), &q); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, line, err)
		}
		switch {
		case q.Question == "":
			return nil, fmt.Errorf("%s:%d: no question", name, line)
		case q.Kind != "answerable" && q.Kind != "redirect" && q.Kind != "out_of_scope":
			return nil, fmt.Errorf("%s:%d: kind %q, want answerable, redirect or out_of_scope", name, line, q.Kind)
		case q.Kind != "out_of_scope" && len(q.Expect) == 0:
			return nil, fmt.Errorf("%s:%d: %s question without expected URLs", name, line, q.Kind)
		}
		qs = append(qs, q)
	}
	return qs, sc.Err()
}
