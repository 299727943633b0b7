// Package review is the reviewers' work: the answers citizens rated, filtered, each with its
// conversation, a verdict on what was wrong, and the export of what was found. Everything runs
// as the town (row-level security), and every verdict and export is audited.
package review

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/citybot-project/citybot/audit"
	"github.com/citybot-project/citybot/database"
)

// Verdicts a reviewer gives an answer.
var Verdicts = []string{"correct", "wrong_page", "wrong_passage", "content_missing", "should_decline"}

// Filter picks rated answers; zero fields pick all.
type Filter struct {
	Rating      string // up or down
	WithComment bool
	Lang        string
	Reason      string // a handoff's reason
	Composer    string // extractive or llm
	Page        string // a cited page's address contains it
	From, To    time.Time
}

// Source is a page an answer cited.
type Source struct {
	Title string `json:"title"`
	URL   string `json:"url"`
}

// Item is one rated answer with what it must be judged by.
type Item struct {
	ConversationID string    `json:"conversation_id"`
	AnswerID       string    `json:"answer_id"`
	Question       string    `json:"question"` // redacted, as stored
	Kind           string    `json:"kind"`     // answer or handoff
	Reason         string    `json:"reason,omitempty"`
	Text           string    `json:"text"`
	Sources        []Source  `json:"sources"`
	Confidence     float64   `json:"confidence"`
	Lang           string    `json:"lang"`
	Composer       string    `json:"composer"`
	Rating         string    `json:"rating,omitempty"`
	Comment        string    `json:"comment,omitempty"` // redacted, as stored
	Answered       time.Time `json:"answered"`
	Verdict        string    `json:"verdict,omitempty"`
	Note           string    `json:"note,omitempty"`
}

// MaxItems bounds a list and an export.
const MaxItems = 5000

const itemSelect = `SELECT a.conversation_id::text, a.answer_id, a.question, a.kind, coalesce(a.reason, ''), a.text, a.sources,
	a.confidence, a.lang, a.composer, coalesce(r.value, ''), coalesce(r.comment, ''), a.created_at,
	coalesce(v.verdict, ''), coalesce(v.note, '')
	FROM answers a
	LEFT JOIN ratings r ON r.town_id = a.town_id AND r.conversation_id = a.conversation_id AND r.answer_id = a.answer_id
	LEFT JOIN verdicts v ON v.town_id = a.town_id AND v.conversation_id = a.conversation_id AND v.answer_id = a.answer_id `

// List returns a town's rated answers that f picks, newest first, at most limit.
func List(ctx context.Context, pool *pgxpool.Pool, town int, f Filter, limit int) ([]Item, error) {
	limit = min(max(limit, 1), MaxItems)
	var out []Item
	err := database.InTown(ctx, pool, []int{town}, func(tx pgx.Tx) error {
		var err error
		out, err = collect(ctx, tx, itemSelect+`WHERE a.town_id = $1 AND r.value IS NOT NULL
			AND ($2 = '' OR r.value = $2) AND (NOT $3 OR r.comment <> '') AND ($4 = '' OR a.lang = $4)
			AND ($5 = '' OR a.reason = $5) AND ($6 = '' OR a.composer = $6)
			AND ($7 = '' OR EXISTS (SELECT 1 FROM jsonb_array_elements(a.sources) s WHERE strpos(s->>'url', $7) > 0))
			AND ($8::timestamptz IS NULL OR a.created_at >= $8) AND ($9::timestamptz IS NULL OR a.created_at < $9)
			ORDER BY a.created_at DESC, a.answer_id LIMIT $10`,
			town, f.Rating, f.WithComment, f.Lang, f.Reason, f.Composer, f.Page, timeOrNil(f.From), timeOrNil(f.To), limit)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("rated answers of town %d: %w", town, err)
	}
	return out, nil
}

// Transcript returns every answer of one of the town's conversations, in order, rated or not.
func Transcript(ctx context.Context, pool *pgxpool.Pool, town int, conversation string) ([]Item, error) {
	var out []Item
	err := database.InTown(ctx, pool, []int{town}, func(tx pgx.Tx) error {
		var err error
		out, err = collect(ctx, tx, itemSelect+`WHERE a.town_id = $1 AND a.conversation_id::text = $2 ORDER BY a.created_at, a.answer_id`,
			town, conversation)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("the conversation %s: %w", conversation, err)
	}
	return out, nil
}

func collect(ctx context.Context, tx pgx.Tx, sql string, args ...any) ([]Item, error) {
	rows, err := tx.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Item, error) {
		var it Item
		var conf float32
		err := row.Scan(&it.ConversationID, &it.AnswerID, &it.Question, &it.Kind, &it.Reason, &it.Text, &it.Sources, &conf,
			&it.Lang, &it.Composer, &it.Rating, &it.Comment, &it.Answered, &it.Verdict, &it.Note)
		it.Confidence = float64(conf)
		return it, err
	})
}

func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// Errors of SetVerdict.
var (
	ErrNoAnswer   = errors.New("no such answer")
	ErrBadVerdict = fmt.Errorf("not a verdict: want one of %s", strings.Join(Verdicts, ", "))
)

// MaxNote bounds a verdict's note.
const MaxNote = 2000

// SetVerdict records a reviewer's verdict and note on one of the town's answers, in place of an
// earlier one, with its audit entry.
func SetVerdict(ctx context.Context, pool *pgxpool.Pool, town int, reviewer, conversation, answer, verdict, note string) error {
	if !slices.Contains(Verdicts, verdict) {
		return ErrBadVerdict
	}
	if note = strings.TrimSpace(note); utf8.RuneCountInString(note) > MaxNote {
		return fmt.Errorf("a note has at most %d characters", MaxNote)
	}
	return database.InTown(ctx, pool, []int{town}, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO verdicts (town_id, conversation_id, answer_id, verdict, note, reviewer)
			SELECT town_id, conversation_id, answer_id, $4, $5, $6 FROM answers
			WHERE town_id = $1 AND conversation_id::text = $2 AND answer_id = $3
			ON CONFLICT (town_id, conversation_id, answer_id) DO UPDATE SET verdict = EXCLUDED.verdict, note = EXCLUDED.note,
				reviewer = EXCLUDED.reviewer, at = now()`, town, conversation, answer, verdict, note, reviewer)
		if err != nil {
			return fmt.Errorf("verdict: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return ErrNoAnswer
		}
		return audit.Record(ctx, tx, audit.Entry{Town: town, Actor: reviewer, Action: "review.verdict",
			Target: conversation + "/" + answer, Details: map[string]any{"verdict": verdict}})
	})
}

// Export writes the answers f picks as CSV or JSON and records the export in the audit log:
// what citizens typed is stored redacted, so the export holds nothing more of them.
func Export(ctx context.Context, pool *pgxpool.Pool, town int, reviewer string, f Filter, format string, w io.Writer) error {
	if format != "csv" && format != "json" {
		return fmt.Errorf("export as csv or json, not %q", format)
	}
	items, err := List(ctx, pool, town, f, MaxItems)
	if err != nil {
		return err
	}
	if err := audit.Record(ctx, pool, audit.Entry{Town: town, Actor: reviewer, Action: "review.export",
		Details: map[string]any{"format": format, "items": len(items), "filter": f}}); err != nil {
		return err
	}
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(items)
	}
	cw := csv.NewWriter(w)
	cw.Write([]string{"conversation_id", "answer_id", "answered", "lang", "kind", "reason", "composer", "confidence",
		"question", "answer", "sources", "rating", "comment", "verdict", "note"})
	for _, it := range items {
		var urls []string
		for _, s := range it.Sources {
			urls = append(urls, s.URL)
		}
		cw.Write([]string{it.ConversationID, it.AnswerID, it.Answered.Format(time.RFC3339), it.Lang, it.Kind, it.Reason, it.Composer,
			strconv.FormatFloat(it.Confidence, 'f', 2, 64), csvSafe(it.Question), csvSafe(it.Text), strings.Join(urls, " "),
			it.Rating, csvSafe(it.Comment), it.Verdict, csvSafe(it.Note)})
	}
	cw.Flush()
	return cw.Error()
}

// csvSafe keeps a spreadsheet from reading a citizen's text as a formula (CSV injection).
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
