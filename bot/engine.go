// Package bot is citybot's answering engine: it answers citizens only from the city's pages,
// says when it does not know, and hands off to people.
package bot

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strings"

	"github.com/citybot-project/citybot/i18n"
	"github.com/citybot-project/citybot/knowledge"
	"github.com/citybot-project/citybot/privacy"
)

// Retriever finds the city's pages for a question; knowledge.Index implements it.
type Retriever interface {
	Search(ctx context.Context, q knowledge.Query) ([]knowledge.Hit, error)
	PageChunks(ctx context.Context, url string) ([]knowledge.ChunkHit, error)
	Analyze(text, lang string) knowledge.Analysis
	// Names tells whether a page's title names place: a town the deployment's pages serve
	// (a Kreis's collection names its member towns), not another city.
	Names(ctx context.Context, place string) (bool, error)
}

// Detector tells a text's language; prior wins for texts too short to tell.
type Detector interface {
	DetectLanguage(text, prior string) string
}

// City is what the engine says about the city it serves.
type City struct {
	Name       string
	PrivacyURL string
	Contact    Contact  // the general contact, when no page names an office
	Neighbours []string // other towns citizens confuse with this one, besides the big cities
	// Town is the town's id in the index; Collections names the collections (a Kreis's pages) its
	// bot also searches, by their town id: an answer from one says whose page it is and that
	// they are responsible.
	Town        int
	Collections map[int]string
}

// EngineConfig tunes when and how the engine answers.
type EngineConfig struct {
	// MinConfidence: below it the engine hands off instead of answering (low_confidence).
	MinConfidence float64
	// LLM, when set, writes answers from the passages the extractive composer found; an answer
	// that states a number, e-mail address or URL no passage states is replaced by the
	// extractive one.
	LLM *LLM
}

// Engine turns a citizen's message into a reply.
type Engine struct {
	retriever Retriever
	detector  Detector
	catalog   *i18n.Catalog
	city      City
	cfg       EngineConfig
	scope     *scope
	aspects   *aspects
	log       *slog.Logger
	units     unitCache
}

// NewEngine returns an engine over the given parts.
func NewEngine(r Retriever, d Detector, c *i18n.Catalog, city City, cfg EngineConfig, log *slog.Logger) *Engine {
	return &Engine{retriever: r, detector: d, catalog: c, city: city, cfg: cfg, log: log,
		scope: newScope(city.Name, append(append([]string(nil), otherCityNames...), city.Neighbours...)), aspects: newAspects()}
}

// Reply answers text (already redacted) in a conversation whose language is convLang; lang, if
// set, forces the answer's language.
func (e *Engine) Reply(ctx context.Context, text, convLang, lang string) (Reply, error) {
	return e.ReplyStream(ctx, text, convLang, lang, nil)
}

// ReplyStream is Reply that passes a generative answer's parts to onDelta as they arrive (when
// an LLM is configured). A streamed answer that fails its check is followed by the extractive
// reply: the final reply is what counts.
func (e *Engine) ReplyStream(ctx context.Context, text, convLang, lang string, onDelta func(string)) (Reply, error) {
	if lang == "" || !e.catalog.Supported(lang) {
		lang = e.detector.DetectLanguage(text, convLang)
		// Leichte Sprache is German to a detector: keep the citizen's choice.
		if convLang == "de-simple" && lang == "de" {
			lang = convLang
		}
	}
	data := map[string]any{"City": e.city.Name}
	v := e.scope.classify(text)
	if v.category == categoryOtherCity {
		named, err := e.retriever.Names(ctx, v.city)
		if err != nil {
			return Reply{}, err
		}
		if named {
			v = verdict{intent: intentQuestion}
		}
	}
	switch v.intent {
	case intentHuman:
		return e.handoff(lang, ReasonUserRequest, e.catalog.T(lang, "handoff.user_request", data), nil, nil), nil
	case intentGreeting:
		return e.handoff(lang, ReasonOutOfScope, e.catalog.T(lang, "greeting.reply", data), nil, nil), nil
	case intentOutOfScope:
		return e.handoff(lang, ReasonOutOfScope, e.catalog.T(lang, "handoff.out_of_scope", data), nil, nil), nil
	}
	query := privacy.WithoutPlaceholders(text)
	if v.intent == intentOtherBody {
		query += " " + v.body.name // the page that names who does it
	}
	analysis := e.retriever.Analyze(query, lang)
	hits, err := e.retriever.Search(ctx, knowledge.Query{Text: query, Lang: lang, Limit: 5, Analysis: &analysis})
	if err != nil {
		return Reply{}, fmt.Errorf("search: %w", err)
	}
	conf := confidence(hits)
	if v.intent == intentOtherBody {
		if r, ok, err := e.otherBody(ctx, v.body, lang, data, hits, conf); ok || err != nil {
			return r, err
		}
	}
	if len(hits) == 0 || conf < e.cfg.MinConfidence {
		var sources []Source
		for _, h := range hits[:min(2, len(hits))] {
			sources = append(sources, Source{Title: h.Title, URL: h.URL, Snippet: snippet(h.Text)})
		}
		r := e.handoff(lang, ReasonLowConfidence, e.catalog.T(lang, "handoff.low_confidence", data), sources, nil)
		r.Confidence = conf
		return r, nil
	}
	top := hits[0]
	chunks, err := e.retriever.PageChunks(ctx, top.URL)
	if err != nil {
		return Reply{}, err
	}
	contact := contactOf(top.URL, chunks)
	if passage, ok := notResponsible(top); ok {
		data["Title"] = top.Title
		text := e.catalog.T(lang, "handoff.not_responsible", data) + "\n\n" + passage
		r := e.handoff(lang, ReasonNotResponsible, text, []Source{{Title: top.Title, URL: top.URL, Snippet: snippet(passage)}}, contact)
		r.Confidence = conf
		return r, nil
	}
	r, passages, err := e.compose(ctx, query, analysis, lang, hits, chunks)
	if err != nil {
		return Reply{}, err
	}
	if e.cfg.LLM != nil {
		r = e.generate(ctx, query, lang, r, passages, onDelta)
	}
	r.Confidence = conf
	r.Contact = contact
	return r, nil
}

// otherBody answers a question about what another authority or company does, from the best
// pages (the first three): a passage that names the body as the one to turn to ("Kindergeld:
// Zuständig ist die Familienkasse") is the redirect, with its page as source. Pages that name the
// body otherwise do the matter themselves ("Deutschlandticket Schule", paid by the town): the
// question is answered as usual (ok false). When no page names it, the pages cannot say who
// helps, and the bot declines.
func (e *Engine) otherBody(ctx context.Context, b *bodyScope, lang string, data map[string]any, hits []knowledge.Hit, conf float64) (Reply, bool, error) {
	named := false
	for _, h := range hits[:min(3, len(hits))] {
		chunks, err := e.retriever.PageChunks(ctx, h.URL)
		if err != nil {
			return Reply{}, false, err
		}
		// The page's best matching passages first, then all of it in order.
		candidates := []string{h.Text}
		for _, c := range h.Chunks {
			candidates = append(candidates, c.Text)
		}
		for _, c := range chunks {
			candidates = append(candidates, c.Text)
		}
		for _, passage := range candidates {
			if !e.scope.names(b, passage) {
				continue
			}
			named = true
			if reResponsible.MatchString(passage) || reResponsible.MatchString(h.Title) {
				data["Title"] = h.Title
				text := e.catalog.T(lang, "handoff.not_responsible", data) + "\n\n" + passage
				r := e.handoff(lang, ReasonNotResponsible, text, []Source{{Title: h.Title, URL: h.URL, Snippet: snippet(passage)}},
					contactOf(h.URL, chunks))
				r.Confidence = conf
				return r, true, nil
			}
		}
	}
	if named {
		return Reply{}, false, nil
	}
	return e.handoff(lang, ReasonOutOfScope, e.catalog.T(lang, "handoff.other_body", data), nil, nil), true, nil
}

// reResponsible finds a passage (or a page title: "Andere Behörden: Wer ist zuständig?") that
// sends the citizen to someone: "zuständig ist", "wenden Sie sich an", "beantragen Sie bei",
// "stellt nicht die Stadt aus, sondern", "zieht der Beitragsservice ein".
var reResponsible = regexp.MustCompile(`(?i)zuständig|wenden sie sich|nicht (die|der|bei der|beim|das) [^.]{0,40}sondern|` +
	`beantwortet|bearbeitet|\bzahlt\b|zieht [^.]{0,60}\bein\b|stellt [^.]{0,60}\baus\b|erhalten sie (bei|von|vom|über)|` +
	`beantragen sie [^.]{0,60}\b(bei|beim|über)\b|responsible|contact the`)

// PersonRequested is the handoff to a citizen who asks for a person without a question (the
// widget's button): the service desk's live agents, or, when none is online, a word that a
// callback or an e-mail answer is what there is.
func (e *Engine) PersonRequested(lang string, agentsOnline bool) Reply {
	data := map[string]any{"City": e.city.Name}
	text := e.catalog.T(lang, "handoff.user_request", data)
	if !agentsOnline {
		text += " " + e.catalog.T(lang, "handoff.agents_offline", data)
	}
	return e.handoff(lang, ReasonUserRequest, text, nil, nil)
}

// NoAgent is the handoff to a citizen who asked for a person in the live chat when nobody of the
// service desk took it: a callback or an e-mail answer instead.
func (e *Engine) NoAgent(lang string) Reply {
	return e.handoff(lang, ReasonNoAgent, e.catalog.T(lang, "handoff.no_agent", map[string]any{"City": e.city.Name}), nil, nil)
}

// handoff is a reply that hands off to people, with the city's general contact when the pages
// name no office.
func (e *Engine) handoff(lang, reason, text string, sources []Source, contact *Contact) Reply {
	if contact == nil && e.city.Contact.Phone != "" {
		c := e.city.Contact
		contact = &c
	}
	return Reply{Kind: "handoff", Reason: reason, Text: text, Lang: lang, Sources: sources, Contact: contact,
		Composer: "extractive"}
}

// confidence maps retrieval evidence to 0..1: how much of the question the best page holds
// (its coverage: the question's words and concepts, weighted by how rare they are, a German word
// no page uses counting as missing) and how much closer by meaning its best section is than the
// vector side's background (lift, full at liftFull). Both are shares, not raw scores, so they
// mean the same with PostgreSQL or Meilisearch as the lexical side and with any embedder.
func confidence(hits []knowledge.Hit) float64 {
	if len(hits) == 0 {
		return 0
	}
	h := hits[0]
	return round2(0.5*h.Coverage + 0.5*min(1, h.Lift/liftFull))
}

// liftFull is the lift at which the vector side counts as fully confident: the best section
// closer than the background by 30 % of the distance left.
const liftFull = 0.3

func round2(x float64) float64 { return float64(int(x*100+0.5)) / 100 }

// reNotResponsible finds a page saying that someone other than the city handles a matter.
// Only an explicit denial counts: "wenden Sie sich an ..." also ends ordinary answers.
var reNotResponsible = regexp.MustCompile(`(?i)(ist (die stadt|das bürgerbüro|die stadtverwaltung) nicht zuständig|(sind|ist) wir nicht zuständig|nicht die stadt[^.]{0,40}sondern|erledigt nicht die stadt|nicht bei der stadt, sondern|nicht zuständig[^.]{0,30}(sondern|zuständig ist)|the city is not responsible)`)

// notResponsible tells a hit whose best passage sends the citizen elsewhere.
func notResponsible(h knowledge.Hit) (string, bool) {
	if reNotResponsible.MatchString(h.Text) {
		return h.Text, true
	}
	return "", false
}

func snippet(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 200 {
		return string(r[:200]) + "…"
	}
	return s
}

// languageNames name the catalog languages for the generative composer's instructions.
var languageNames = map[string]string{"de": "German", "de-simple": "German in Leichte Sprache (plain language: short sentences, common words)",
	"en": "English", "tr": "Turkish", "ar": "Arabic", "uk": "Ukrainian", "ru": "Russian", "fa": "Persian", "pl": "Polish", "ro": "Romanian"}

// generate asks the LLM to answer from the passages the extractive composer quoted (the best
// page's, and a close second page's). It returns the extractive reply when the LLM fails or
// states a fact no passage states.
func (e *Engine) generate(ctx context.Context, question, lang string, extractive Reply, ps []passage, onDelta func(string)) Reply {
	var passages []string
	var sources []Source
	for _, p := range ps {
		passages = append(passages, p.source.Title+"\n"+p.text)
		sources = append(sources, p.source)
	}
	if !e.cfg.LLM.Breaker.Allow() {
		return extractive
	}
	answer, err := e.cfg.LLM.stream(ctx, llmPrompt(e.city.Name, languageNames[lang], question, passages), onDelta)
	if ctx.Err() == nil {
		e.cfg.LLM.Breaker.Done(err)
	} else {
		e.cfg.LLM.Breaker.Done(nil) // the citizen left: nothing said of the model
	}
	if err != nil {
		e.log.Warn("generative composer failed, answering extractively", "err", err)
		return extractive
	}
	if missing := unsupportedFacts(answer, passages); len(missing) > 0 || strings.TrimSpace(answer) == "" {
		e.log.Info("generated answer states facts no passage states, answering extractively", "facts", len(missing))
		return extractive
	}
	r := extractive
	r.Text, r.Sources, r.Composer = strings.TrimSpace(answer), sources, "llm"
	return r
}
