package chat

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// protocolCodes are the codes DecodeClientMessage may reject a frame with.
var protocolCodes = map[string]bool{CodeBadJSON: true, CodeUnknownType: true, CodeMissingField: true, CodeTooLong: true,
	CodeEmpty: true, CodeInvalidText: true}

// FuzzDecodeClientMessage: any frame is either a valid message of a known type (its fields within
// the protocol's limits, free of control characters, and decoding to itself again) or rejected with
// one of the protocol's error codes; never a panic.
func FuzzDecodeClientMessage(f *testing.F) {
	for _, s := range []string{
		`{"type":"ask","id":"c1","text":"Wie beantrage ich einen Reisepass?"}`,
		`{"type":"ask","id":"c2","text":"  Hallo?  ","lang":"tr"}`,
		`{"type":"ask","id":"c3","text":"مرحبا، كيف أسجل عنواني؟","lang":"ar"}`,
		`{"type":"ask","id":"","text":"x"}`,
		`{"type":"ask","id":"c4","text":"\u0007"}`,
		`{"type":"ask","id":"c5","text":"\ud800"}`,
		`{"type":"ask","id":"\u0000","text":"Öffnungszeiten?"}`,
		`{"type":"rate","answer_id":"a1","value":"up"}`,
		`{"type":"rate","answer_id":"a1","value":"down","comment":"hat nicht geholfen"}`,
		`{"type":"rate","answer_id":"a1","value":"sideways"}`,
		`{"type":"handoff"}`,
		`{"type":"handoff","reason":"user_request"}`,
		`{"type":"ticket","kind":"callback","phone":"0171 1234567","name":"Erika","consent":true}`,
		`{"type":"ticket","kind":"email","email":"a@b.de","text":"Bitte um Rückruf","consent":false}`,
		`{"type":"forget"}`,
		`{"type":"nonsense"}`,
		`{}`, `[]`, `null`, `"ask"`, `{"type":1}`, `{"type":"ask","id":"c1","text":"a","text":"b"}`,
		"{\"type\":\"ask\",\"id\":\"c1\",\"text\":\"\xff\"}",
		`{"type":"ask","id":"c1","text":"` + strings.Repeat("ä", MaxTextRunes+1) + `"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		if len(frame) > MaxFrameBytes {
			return // the connection's read limit never lets it through
		}
		m, perr := DecodeClientMessage(frame)
		if perr != nil {
			if !protocolCodes[perr.Code] {
				t.Fatalf("rejected with code %q, not a protocol error code", perr.Code)
			}
			return
		}
		checkAccepted(t, m)
		// What was accepted reads the same when sent again.
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		m2, perr := DecodeClientMessage(b)
		if perr != nil || m2 != m {
			t.Fatalf("accepted %+v, re-sent: %+v %v", m, m2, perr)
		}
	})
}

func checkAccepted(t *testing.T, m ClientMessage) {
	t.Helper()
	text := func(name, s string, limit int, required bool) {
		if required && s == "" {
			t.Fatalf("%s: accepted empty %s", m.Type, name)
		}
		if s != strings.TrimSpace(s) || !utf8.ValidString(s) || utf8.RuneCountInString(s) > limit {
			t.Fatalf("%s: accepted %s %q", m.Type, name, s)
		}
		for _, r := range s {
			if r == utf8.RuneError || unicode.IsControl(r) && r != '\n' && r != '\t' && r != '\r' {
				t.Fatalf("%s: accepted %s with %U", m.Type, name, r)
			}
		}
	}
	ident := func(name, s string) {
		if s == "" {
			t.Fatalf("%s: accepted empty %s", m.Type, name)
		}
		if utf8.RuneCountInString(s) > MaxIDRunes || strings.IndexFunc(s, unicode.IsControl) >= 0 || !utf8.ValidString(s) {
			t.Fatalf("%s: accepted %s %q", m.Type, name, s)
		}
	}
	switch m.Type {
	case "ask":
		ident("id", m.ID)
		text("text", m.Text, MaxTextRunes, true)
	case "rate":
		ident("answer_id", m.AnswerID)
		if m.Value != "up" && m.Value != "down" {
			t.Fatalf("rate: accepted value %q", m.Value)
		}
		text("comment", m.Comment, MaxCommentRunes, false)
	case "handoff":
		if m.Reason == "" {
			t.Fatal("handoff without reason")
		}
	case "ticket":
		if m.Kind != "callback" && m.Kind != "email" {
			t.Fatalf("ticket: accepted kind %q", m.Kind)
		}
		for name, v := range map[string]string{"name": m.Name, "phone": m.Phone, "email": m.Email, "text": m.Text} {
			text(name, v, MaxCommentRunes, false)
		}
		if m.Kind == "callback" && m.Phone == "" || m.Kind == "email" && m.Email == "" {
			t.Fatalf("ticket %s without the address to answer to", m.Kind)
		}
	case "forget":
	default:
		t.Fatalf("accepted type %q", m.Type)
	}
}
