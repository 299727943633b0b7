package conversation

import (
	"context"

	"github.com/citybot-project/citybot/bot"
	"github.com/citybot-project/citybot/privacy"
)

// Answerer is the engine a turn asks; bot.Engine implements it.
type Answerer interface {
	// ReplyStream answers text (redacted) in a conversation held in convLang; lang, when
	// supported, forces the answer's language; onDelta gets a generative answer's parts.
	ReplyStream(ctx context.Context, text, convLang, lang string, onDelta func(string)) (bot.Reply, error)
	// PersonRequested is the handoff to a citizen who asks for a person without a question.
	PersonRequested(lang string, agentsOnline bool) bot.Reply
	// NoAgent is the handoff to a citizen whom nobody of the service desk took in the live chat.
	NoAgent(lang string) bot.Reply
}

// Protocol writes a turn's messages as the citizen's client receives them. They are stored as
// written, so that a resumed conversation's history shows what the citizen saw; chat's
// connections implement it, and a service desk that relays a turn would too.
type Protocol interface {
	// Asked is the citizen's question as the history replays it: the client's id of it, its
	// redacted text, and the language it was answered in.
	Asked(id, text, lang string) any
	// Replied is reply r as sent: id is its id in the conversation, replyTo the client's id of
	// the question ("" when there was none).
	Replied(id, replyTo string, r bot.Reply) any
	// Streamed passes on a part of answer id as the generative composer writes it.
	Streamed(id, part string)
}

// Service runs what a citizen sends in a conversation: what they type is redacted before it is
// answered or stored, and a reply is stored before it is sent.
type Service struct {
	store    *Store
	engine   Answerer
	redactor *privacy.Redactor
}

// NewService returns a Service that answers with engine, redacts with redactor and stores in st.
func NewService(st *Store, engine Answerer, redactor *privacy.Redactor) *Service {
	return &Service{store: st, engine: engine, redactor: redactor}
}

// Exchange is a stored reply: the engine's, and the message the client receives.
type Exchange struct {
	Reply   bot.Reply
	Message any
}

// Turn answers a citizen's question in conv and stores both before it returns the reply's
// message. askID is the client's id of the question, text what the citizen typed, lang, when
// supported, the language the citizen asks the answer in. Turn moves conv on: one answer more,
// held in the answer's language.
func (s *Service) Turn(ctx context.Context, conv *Conversation, askID, text, lang string, p Protocol) (Exchange, error) {
	text = s.redactor.RedactContext(ctx, text)
	// The id is taken before the engine answers: a streamed part names its answer.
	id := conv.nextAnswerID()
	r, err := s.engine.ReplyStream(ctx, text, conv.Lang, lang, func(part string) { p.Streamed(id, part) })
	if err != nil {
		return Exchange{}, err
	}
	conv.Lang = r.Lang
	return s.record(ctx, conv, id, &question{id: askID, text: text}, r, p)
}

// HandOff stores and returns the handoff to a citizen who asks for a person without a question
// (the widget's button); agentsOnline tells whether the service desk has someone in the chat.
func (s *Service) HandOff(ctx context.Context, conv *Conversation, agentsOnline bool, p Protocol) (Exchange, error) {
	r := s.engine.PersonRequested(conv.Lang, agentsOnline)
	return s.record(ctx, conv, conv.nextAnswerID(), nil, r, p)
}

// NoAgent stores and returns the handoff to a citizen who asked for a person in the live chat
// when nobody took it: a callback or an e-mail answer instead.
func (s *Service) NoAgent(ctx context.Context, conv *Conversation, p Protocol) (Exchange, error) {
	return s.record(ctx, conv, conv.nextAnswerID(), nil, s.engine.NoAgent(conv.Lang), p)
}

// Redact removes the personal data from what a citizen typed for a person of the service desk
// (the live chat), which is stored and relayed as the answers' questions are.
func (s *Service) Redact(ctx context.Context, text string) string {
	return s.redactor.RedactContext(ctx, text)
}

// question is the citizen's question a reply answers.
type question struct {
	id   string // the client's
	text string // redacted
}

// record stores reply id of conv with q, the question it answers (nil: none), and returns it.
func (s *Service) record(ctx context.Context, conv *Conversation, id string, q *question, r bot.Reply, p Protocol) (Exchange, error) {
	if r.Sources == nil {
		r.Sources = []bot.Source{} // a list in the protocol, never null
	}
	a := storedAnswer{ID: id, Kind: r.Kind, Reason: r.Reason, Text: r.Text, Lang: r.Lang, Composer: r.Composer,
		Sources: r.Sources, Confidence: r.Confidence}
	var asked any
	replyTo := ""
	if q != nil {
		a.Question, replyTo = q.text, q.id
		asked = p.Asked(q.id, q.text, r.Lang)
	}
	msg := p.Replied(id, replyTo, r)
	if err := s.store.saveExchange(ctx, conv.ID, conv.Lang, asked, a, msg); err != nil {
		return Exchange{}, err
	}
	return Exchange{Reply: r, Message: msg}, nil
}

// Rate stores the citizen's rating ("up" or "down") of answer answerID of conversation convID,
// with its comment redacted, in place of an earlier one. ErrNotFound: there is no such answer.
func (s *Service) Rate(ctx context.Context, convID, answerID, value, comment string) error {
	return s.store.rate(ctx, convID, answerID, value, s.redactor.RedactContext(ctx, comment))
}

// Ticket stores a citizen's request to be called back or answered by e-mail, its note redacted,
// and returns its number. The caller has the citizen's consent to store the contact data.
func (s *Service) Ticket(ctx context.Context, convID string, t Ticket) (string, error) {
	t.Note = s.redactor.RedactContext(ctx, t.Note)
	return s.store.createTicket(ctx, convID, t)
}
