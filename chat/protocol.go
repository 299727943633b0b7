package chat

import (
	"encoding/json"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/citybot-project/citybot/bot"
)

// ProtocolVersion is the version of the WebSocket protocol in docs/protocol.md.
const ProtocolVersion = 1

// Limits of what a client may send.
const (
	MaxTextRunes    = 2000 // a question
	MaxCommentRunes = 1000 // a rating's comment
	MaxFrameBytes   = 16 << 10
	MaxIDRunes      = 100 // an ask's id, a rate's answer_id
)

// Error codes of the protocol's error message: stable, for clients to act on.
const (
	CodeBadJSON         = "bad_json"
	CodeUnknownType     = "unknown_type"
	CodeMissingField    = "missing_field"
	CodeTooLong         = "too_long"
	CodeEmpty           = "empty"
	CodeInvalidText     = "invalid_text" // invalid UTF-8 or control characters
	CodeUnknownAnswer   = "unknown_answer"
	CodeInvalidToken    = "invalid_token"
	CodeRateLimited     = "rate_limited"
	CodeInternal        = "internal"
	CodeUnavailable     = "unavailable"      // the database is away: send the question again later
	CodeConsentRequired = "consent_required" // a ticket without consent to store contact data
)

// ClientMessage is any message a client sends; Type says which fields matter.
type ClientMessage struct {
	Type     string `json:"type"`
	ID       string `json:"id,omitempty"`        // ask: the client's id, echoed as reply_to
	Text     string `json:"text,omitempty"`      // ask
	Lang     string `json:"lang,omitempty"`      // ask: force a language
	AnswerID string `json:"answer_id,omitempty"` // rate
	Value    string `json:"value,omitempty"`     // rate: up or down
	Comment  string `json:"comment,omitempty"`   // rate
	Reason   string `json:"reason,omitempty"`    // handoff
	// ticket: a callback or e-mail request, stored only with consent.
	Kind    string `json:"kind,omitempty"` // callback or email
	Name    string `json:"name,omitempty"`
	Phone   string `json:"phone,omitempty"`
	Email   string `json:"email,omitempty"`
	Consent bool   `json:"consent,omitempty"`
	// To is "agent" on a citizen's message to a person of the service desk, as stored: the
	// server sets it, a client need not.
	To string `json:"to,omitempty"`
}

// ProtocolError is a bad client message: its code goes to the client in an error message.
type ProtocolError struct {
	Code   string
	Detail string // for logs and developers; the client gets a translated message
}

func (e *ProtocolError) Error() string { return e.Code + ": " + e.Detail }

func protoErr(code, detail string) *ProtocolError { return &ProtocolError{Code: code, Detail: detail} }

// DecodeClientMessage parses and checks one frame from a client.
func DecodeClientMessage(frame []byte) (ClientMessage, *ProtocolError) {
	var m ClientMessage
	if !utf8.Valid(frame) {
		return m, protoErr(CodeInvalidText, "frame is not valid UTF-8")
	}
	if err := json.Unmarshal(frame, &m); err != nil {
		return m, protoErr(CodeBadJSON, err.Error())
	}
	switch m.Type {
	case "ask":
		if strings.TrimSpace(m.ID) == "" {
			return m, protoErr(CodeMissingField, "ask needs id")
		}
		if perr := checkID(m.ID); perr != nil {
			m.ID = "" // not echoed as reply_to
			return m, perr
		}
		text, perr := checkText(m.Text, MaxTextRunes, true)
		if perr != nil {
			return m, perr
		}
		m.Text = text
	case "rate":
		if m.AnswerID == "" {
			return m, protoErr(CodeMissingField, "rate needs answer_id")
		}
		if perr := checkID(m.AnswerID); perr != nil {
			return m, perr
		}
		if m.Value != "up" && m.Value != "down" {
			return m, protoErr(CodeMissingField, `rate needs value "up" or "down"`)
		}
		comment, perr := checkText(m.Comment, MaxCommentRunes, false)
		if perr != nil {
			return m, perr
		}
		m.Comment = comment
	case "handoff":
		if m.Reason == "" {
			m.Reason = bot.ReasonUserRequest
		}
	case "ticket":
		if m.Kind != "callback" && m.Kind != "email" {
			return m, protoErr(CodeMissingField, `ticket needs kind "callback" or "email"`)
		}
		for _, f := range []*string{&m.Name, &m.Phone, &m.Email, &m.Text} {
			v, perr := checkText(*f, MaxCommentRunes, false)
			if perr != nil {
				return m, perr
			}
			*f = v
		}
		// Checked after trimming: an address of blanks is no address to answer to.
		if (m.Kind == "callback" && m.Phone == "") || (m.Kind == "email" && m.Email == "") {
			return m, protoErr(CodeMissingField, "ticket needs the phone number or e-mail address to answer to")
		}
	case "forget", "live", "live_end", "typing":
		// No fields: forget erases the connection's own conversation; live asks for a person,
		// live_end leaves them, typing tells them the citizen types.
	case "":
		return m, protoErr(CodeMissingField, "message without type")
	default:
		return m, protoErr(CodeUnknownType, "unknown type "+m.Type)
	}
	return m, nil
}

// checkID rejects an id with control characters (PostgreSQL stores no U+0000, and the id is
// stored with the exchange) or over MaxIDRunes.
func checkID(id string) *ProtocolError {
	if utf8.RuneCountInString(id) > MaxIDRunes {
		return protoErr(CodeTooLong, "id over the limit")
	}
	if strings.IndexFunc(id, unicode.IsControl) >= 0 {
		return protoErr(CodeInvalidText, "control character in id")
	}
	return nil
}

// checkText trims a text field and rejects control characters (other than line breaks and
// tabs) and texts over limit runes.
func checkText(s string, limit int, required bool) (string, *ProtocolError) {
	s = strings.TrimSpace(s)
	if s == "" {
		if required {
			return s, protoErr(CodeEmpty, "empty text")
		}
		return s, nil
	}
	if utf8.RuneCountInString(s) > limit {
		return s, protoErr(CodeTooLong, "text over the limit")
	}
	for _, r := range s {
		if r == utf8.RuneError || (unicode.IsControl(r) && r != '\n' && r != '\t' && r != '\r') {
			return s, protoErr(CodeInvalidText, "control character in text")
		}
	}
	return s, nil
}

// Option is a way to reach a person that a handoff offers.
type Option struct {
	Kind  string `json:"kind"` // live, callback, email, office
	Label string `json:"label"`
}

// Welcome opens every connection.
type Welcome struct {
	Type           string   `json:"type"`
	Protocol       int      `json:"protocol"`
	ConversationID string   `json:"conversation_id"`
	Token          string   `json:"token"`
	Lang           string   `json:"lang"`
	Dir            string   `json:"dir"` // ltr or rtl
	Title          string   `json:"title"`
	Disclosure     string   `json:"disclosure"`
	Privacy        string   `json:"privacy"`
	PrivacyURL     string   `json:"privacy_url"`
	Languages      []string `json:"languages"`
	Resumed        bool     `json:"resumed"`
}

// Answer is the bot's answer to a question.
type Answer struct {
	Type        string       `json:"type"`
	ID          string       `json:"id"`
	ReplyTo     string       `json:"reply_to"`
	Text        string       `json:"text"`
	Lang        string       `json:"lang"`
	Dir         string       `json:"dir"`
	Sources     []bot.Source `json:"sources"`
	Confidence  float64      `json:"confidence"`
	Composer    string       `json:"composer"` // extractive or llm
	AIGenerated bool         `json:"ai_generated"`
	Label       string       `json:"label"` // the AI label in the citizen's language
}

// Delta is a streamed part of an answer.
type Delta struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	Text string `json:"text"`
}

// Handoff is the bot's offer of a person instead of an answer.
type Handoff struct {
	Type        string       `json:"type"`
	ID          string       `json:"id"`
	ReplyTo     string       `json:"reply_to,omitempty"`
	Reason      string       `json:"reason"`
	Text        string       `json:"text"`
	Lang        string       `json:"lang"`
	Dir         string       `json:"dir"`
	Sources     []bot.Source `json:"sources"`
	Contact     *bot.Contact `json:"contact,omitempty"`
	Options     []Option     `json:"options"`
	AIGenerated bool         `json:"ai_generated"`
	Confidence  float64      `json:"confidence"`
}

// Rated confirms a stored rating.
type Rated struct {
	Type     string `json:"type"`
	AnswerID string `json:"answer_id"`
	Text     string `json:"text"`
}

// TicketCreated confirms a stored callback or e-mail request.
type TicketCreated struct {
	Type   string `json:"type"`
	Number string `json:"number"`
	Text   string `json:"text"`
}

// Forgotten confirms that the conversation was erased; a welcome of a new one follows.
type Forgotten struct {
	Type string `json:"type"`
}

// ErrorMessage reports a bad client message; the connection stays open.
type ErrorMessage struct {
	Type    string `json:"type"`
	Code    string `json:"code"`
	Message string `json:"message"`
	ReplyTo string `json:"reply_to,omitempty"`
}

// History replays a resumed conversation.
type History struct {
	Type     string            `json:"type"`
	Messages []json.RawMessage `json:"messages"`
}

// Queued tells a citizen waiting for a person their place in the queue.
type Queued struct {
	Type     string `json:"type"`
	Position int    `json:"position"`
}

// AgentTyping tells a citizen that the person in the chat types.
type AgentTyping struct {
	Type string `json:"type"`
}

// Sent confirms that a citizen's message to a person is stored and on its way.
type Sent struct {
	Type    string `json:"type"`
	ReplyTo string `json:"reply_to"`
}

// LiveEnded confirms that the citizen left the queue or the chat with a person.
type LiveEnded struct {
	Type string `json:"type"`
	ID   string `json:"id,omitempty"`
	Text string `json:"text"`
}
