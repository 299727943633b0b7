package chat

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/citybot-project/citybot/bot"
)

// TestProtocolExample replays the example exchange of docs/protocol.md against a real server:
// every server message must have the documented type and at least the documented fields.
func TestProtocolExample(t *testing.T) {
	raw, err := os.ReadFile("../docs/protocol.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	start := strings.Index(doc, "## Example exchange")
	block := doc[start:]
	block = block[strings.Index(block, "```json")+len("```json"):]
	block = block[:strings.Index(block, "```")]
	type step struct {
		from string
		msg  map[string]any
	}
	var steps []step
	from := ""
	for _, line := range strings.Split(block, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "":
		case strings.HasPrefix(line, "//"):
			from = strings.TrimSpace(strings.TrimPrefix(line, "//"))
		default:
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatalf("example line %q: %v", line, err)
			}
			steps = append(steps, step{from, m})
		}
	}
	if len(steps) < 8 {
		t.Fatalf("example has %d messages", len(steps))
	}
	h := newHarness(t, ServerConfig{})
	c := mustDial(t, h, "")
	for i, s := range steps {
		if s.from == "client" {
			send(t, c, s.msg)
			continue
		}
		got := read(t, c)
		if got["type"] != s.msg["type"] {
			t.Fatalf("message %d: got type %v, the doc says %v", i, got["type"], s.msg["type"])
		}
		for k := range s.msg {
			if _, ok := got[k]; !ok {
				t.Errorf("message %d (%s): field %q documented but not sent", i, s.msg["type"], k)
			}
		}
		for _, k := range []string{"reason", "code", "reply_to", "composer", "ai_generated"} {
			if want, ok := s.msg[k]; ok && got[k] != want {
				t.Errorf("message %d: %s = %v, the doc says %v", i, k, got[k], want)
			}
		}
	}
}

func TestDecodeClientMessage(t *testing.T) {
	m, err := DecodeClientMessage([]byte(`{"type":"ask","id":"c1","text":"  Hallo?  ","lang":"tr"}`))
	if err != nil || m.Text != "Hallo?" || m.Lang != "tr" {
		t.Fatalf("%+v %v", m, err)
	}
	if m, err := DecodeClientMessage([]byte(`{"type":"handoff"}`)); err != nil || m.Reason != bot.ReasonUserRequest {
		t.Fatalf("handoff without reason: %+v %v", m, err)
	}
	if _, err := DecodeClientMessage([]byte(`{"type":"rate","answer_id":"a1","value":"up","comment":"` + strings.Repeat("x", MaxCommentRunes+1) + `"}`)); err == nil || err.Code != CodeTooLong {
		t.Fatalf("long comment: %v", err)
	}
}

// Found by FuzzDecodeClientMessage: ids were taken as sent. A NUL in an ask's id made storing the
// exchange fail (PostgreSQL's jsonb and text take no U+0000) and the citizen got "internal" for a
// bad message; an id of 16 KiB was stored and echoed with every reply.
func TestClientIDsAreChecked(t *testing.T) {
	for _, tc := range []struct{ frame, code string }{
		{`{"type":"ask","id":"\u0000","text":"Öffnungszeiten?"}`, CodeInvalidText},
		{`{"type":"ask","id":"c1\n","text":"Öffnungszeiten?"}`, CodeInvalidText},
		{`{"type":"ask","id":"` + strings.Repeat("c", MaxIDRunes+1) + `","text":"Öffnungszeiten?"}`, CodeTooLong},
		{`{"type":"rate","answer_id":"a1\u0000","value":"up"}`, CodeInvalidText},
		{`{"type":"rate","answer_id":"` + strings.Repeat("a", MaxIDRunes+1) + `","value":"up"}`, CodeTooLong},
	} {
		if _, err := DecodeClientMessage([]byte(tc.frame)); err == nil || err.Code != tc.code {
			t.Errorf("%.60s: got %v, want %s", tc.frame, err, tc.code)
		}
	}
	if m, err := DecodeClientMessage([]byte(`{"type":"ask","id":"` + strings.Repeat("c", MaxIDRunes) + `","text":"Öffnungszeiten?"}`)); err != nil || len(m.ID) != MaxIDRunes {
		t.Fatalf("id of %d characters: %v", MaxIDRunes, err)
	}
	// Over the connection: the bad id is the client's error, not the server's.
	h := newHarness(t, ServerConfig{})
	c := mustDial(t, h, "")
	read(t, c) // welcome
	send(t, c, map[string]any{"type": "ask", "id": "\x00", "text": "Öffnungszeiten Bürgerbüro"})
	if got := read(t, c); got["type"] != "error" || got["code"] != CodeInvalidText {
		t.Fatalf("ask with a NUL id: %v", got)
	}
	send(t, c, map[string]any{"type": "rate", "answer_id": "a1\x00", "value": "up"})
	if got := read(t, c); got["type"] != "error" || got["code"] != CodeInvalidText {
		t.Fatalf("rate with a NUL answer_id: %v", got)
	}
}
