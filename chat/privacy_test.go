package chat

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/citybot-project/citybot/analysis"
	"github.com/citybot-project/citybot/bot"
	"github.com/citybot-project/citybot/conversation"
	"github.com/citybot-project/citybot/i18n"
	"github.com/citybot-project/citybot/internal/testsite"
	"github.com/citybot-project/citybot/privacy"
)

// lockedBuffer is a log destination the server's goroutines write while the test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// TestNoPersonalDataStoredOrLogged sends every message of the set through the real server (as
// a question, a rating's comment or a ticket's note), with a debug-level logger, then searches
// every table's rows and the log for every personal string. A ticket's contact fields (name,
// phone, e-mail, entered with consent) are the one place personal data is kept: they are left
// out of the search, and are invented apart from the set.
func TestNoPersonalDataStoredOrLogged(t *testing.T) {
	pool, ix := testsite.Index(t)
	cat, err := i18n.Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	city := bot.City{Name: "Musterstadt", PrivacyURL: "https://www.musterstadt.example/datenschutz", Contact: bot.Contact{Office: "Musterstadt", Phone: "115"}}
	eng := bot.NewEngine(ix, ix, cat, city, bot.EngineConfig{MinConfidence: 0.3}, log)
	st := conversation.NewStore(pool, ix.Scope().Town, testNow)
	turns := conversation.NewService(st, eng, privacy.NewRedactor(testNow).WithKnownNumbers(ix))
	srv := NewServer(turns, st, cat, city, ServerConfig{Retention: 90 * 24 * time.Hour, ConnRate: 100, ConnBurst: 100}, log, testNow)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ws", srv.ServeWS)
	hs := httptest.NewServer(mux)
	defer hs.Close()
	h := &harness{srv: srv, http: hs, pool: pool}

	cases := testsite.PrivacyCases(t, "personal.jsonl")
	for i, c := range cases {
		conn := mustDial(t, h, "?lang="+c.Lang)
		read(t, conn)
		switch c.Where {
		case "ask":
			send(t, conn, map[string]any{"type": "ask", "id": "p" + strconv.Itoa(i), "text": c.Text})
			if m := read(t, conn); m["type"] != "answer" && m["type"] != "handoff" {
				t.Fatalf("%q: %v", c.Text, m)
			}
		case "comment":
			send(t, conn, map[string]any{"type": "ask", "id": "p" + strconv.Itoa(i), "text": "Was kostet ein Reisepass?"})
			a := read(t, conn)
			send(t, conn, map[string]any{"type": "rate", "answer_id": a["id"], "value": "down", "comment": c.Text})
			if m := read(t, conn); m["type"] != "rated" {
				t.Fatalf("%q: %v", c.Text, m)
			}
		case "note":
			send(t, conn, map[string]any{"type": "ticket", "kind": "callback", "name": "Kontakt Person" + strconv.Itoa(i),
				"phone": "0999 000" + strconv.Itoa(i), "consent": true, "text": c.Text})
			if m := read(t, conn); m["type"] != "ticket_created" {
				t.Fatalf("%q: %v", c.Text, m)
			}
		default:
			t.Fatalf("where %q", c.Where)
		}
		conn.Close()
	}

	ctx := context.Background()
	rows, err := pool.Query(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		rows.Scan(&name)
		tables = append(tables, name)
	}
	rows.Close()
	if len(tables) < 8 {
		t.Fatalf("tables %v", tables)
	}
	var dump strings.Builder
	for _, name := range tables {
		sql := `SELECT to_jsonb(t)::text FROM ` + quoteIdent(name) + ` t`
		if name == "tickets" {
			sql = `SELECT (to_jsonb(t) - 'name' - 'phone' - 'email')::text FROM tickets t`
		}
		if name == "chunks" || name == "pages" || name == "postings" || name == "lexeme_stats" {
			continue // the city's pages: searched below for the strings only, not for digits
		}
		rs, err := pool.Query(ctx, sql)
		if err != nil {
			t.Fatal(name, err)
		}
		for rs.Next() {
			var s string
			rs.Scan(&s)
			dump.WriteString(s)
			dump.WriteByte('\n')
		}
		rs.Close()
	}
	// Digits compared without separators: in what came from citizens, row by row (the whole
	// dump's digits run together and hold any short number by chance).
	var citizen []string
	crs, err := pool.Query(ctx, `SELECT body::text FROM messages WHERE role = 'citizen' UNION ALL SELECT question FROM answers
		UNION ALL SELECT comment FROM ratings UNION ALL SELECT note FROM tickets`)
	if err != nil {
		t.Fatal(err)
	}
	for crs.Next() {
		var s string
		crs.Scan(&s)
		citizen = append(citizen, s)
	}
	crs.Close()
	stored, logged := dump.String(), logs.String()
	if !strings.Contains(stored, "[name]") || !strings.Contains(stored, "[secret]") {
		t.Fatalf("the messages were not stored redacted: %.500s", stored)
	}
	n := 0
	for _, c := range cases {
		for _, p := range c.Personal {
			n++
			kind, v := testsite.PersonalValue(p)
			// A short number (a PIN "9021") can stand in any table's timestamps and ids by chance:
			// those are searched for in what came from citizens only, below.
			if short := len(analysis.Digits(v)) == len(v) && len(v) < 6; !short &&
				(strings.Contains(stored, v) || strings.Contains(stored, analysis.WesternDigits(v))) {
				t.Errorf("%s %s %q stored (%s)", c.Lang, kind, v, c.Where)
			}
			for _, row := range citizen {
				if testsite.Leaked(row, v) {
					t.Errorf("%s %s %q stored (%s): %s", c.Lang, kind, v, c.Where, row)
				}
			}
			if testsite.Leaked(logged, v) {
				t.Errorf("%s %s %q logged", c.Lang, kind, v)
			}
			var inPages bool
			pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM chunks WHERE strpos(body, $1) > 0)`, v).Scan(&inPages)
			if inPages {
				t.Errorf("%s %q is in the sample pages: invent another", kind, v)
			}
		}
	}
	t.Logf("%d messages, %d personal strings searched in %d tables (%d bytes) and %d bytes of debug log", len(cases), n, len(tables), len(stored), len(logged))
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// testNow is the day the privacy test set's dates are read against: a date ten years or more
// before it can be a birth date.
func testNow() time.Time { return time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC) }
