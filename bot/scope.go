package bot

import (
	"strings"

	"github.com/citybot-project/citybot/knowledge"
)

// intent is what a message is about before any retrieval.
type intent int

const (
	intentQuestion   intent = iota // a question for the city's pages
	intentHuman                    // the citizen asks for a person
	intentGreeting                 // hello, thanks: nothing to look up
	intentOutOfScope               // not the city's business, or not a question for a bot
)

// The phrases below are matched on folded text (lower case, no diacritics, ä = a) as whole
// words; a phrase ending in "*" matches any word it starts ("wetter*" finds "Wetterbericht",
// "погод*" finds "погода", "погоди").
// Each list is general to every city; they were written from the kinds of requests
// municipal chatbots report (small talk, abuse, prompt injection, advice), not from test questions.
var (
	// Asking for a person, in every catalog language.
	humanPhrases = []string{
		"mitarbeiter*", "echten menschen", "echter mensch", "einem menschen", "mit menschen", "menschlichen*",
		"sachbearbeiter*", "ansprechpartner sprechen", "jemanden sprechen",
		"human", "real person", "a person", "live agent", "speak to someone", "talk to someone", "representative",
		"insan", "yetkili", "gercek kisi", "canli destek", "temsilci",
		"انسان", "إنسان", "موظف", "شخص حقيقي", "شخص حقیقی", "کارمند", "اپراتور",
		"людин*", "живою людиною", "оператор", "працівник*", "співробітник*",
		"человек", "живым человеком", "сотрудник*",
		"czlowiek*", "konsultant*", "pracownik*", "z osoba",
		"om real", "o persoana", "operator", "angajat",
	}
	// Attempts to change the bot's instructions or read them out.
	injectionPhrases = []string{
		"ignore all", "ignore previous", "ignore your", "ignore the above", "disregard", "forget your", "forget all",
		"system prompt", "your instructions", "your rules", "which instructions", "jailbreak", "developer mode",
		"ignoriere*", "vergiss deine", "vergiss alle", "deine anweisungen", "deine regeln", "systemprompt",
		"talimatlari unut", "sistem istemi", "игнорируй*", "забудь", "системн промпт", "ігноруй*",
		"zignoruj*", "zapomnij*", "ignora", "uita instructiunile", "تجاهل", "نادیده بگیر",
	}
	// Insults and abuse.
	abusePhrases = []string{
		"idiot*", "dumm*", "bloed*", "scheiss*", "arschloch*", "nutzlos*", "useless*", "stupid*", "fuck*", "shit",
		"aptal*", "salak*", "gerizekali*", "ise yaramaz", "тупой*", "идиот*", "бесполезн*", "дурн*", "тупий*",
		"glupi*", "bezuzyteczn*", "idiota*", "inutil", "احمق", "غبي", "عديم الفائدة", "بی فایده",
	}
	// Small talk and entertainment.
	smalltalkPhrases = []string{
		"witz*", "joke", "langweilig*", "bored", "wie geht es dir", "wie gehts", "how are you", "who made you",
		"erzahl mir", "tell me a story", "fikra", "saka", "анекдот*", "шутк*", "жарт*", "dowcip*", "kawal*",
		"gluma*", "banc", "نكتة", "جوک", "لطیفه",
	}
	// Topics that are never a city service.
	topicPhrases = []string{
		"wetter*", "weather", "hava durumu", "погод*", "pogoda", "vremea*", "طقس", "الطقس", "هوا چطور",
		"wechselkurs*", "exchange rate", "курс евро", "курс доллар", "doviz kuru", "kurs walut", "curs valutar", "سعر الصرف",
		"aktienkurs*", "stock price", "bitcoin", "lotto",
	}
	// Medical and veterinary advice.
	medicalPhrases = []string{
		"durchfall*", "fieber*", "medikament*", "tablette*", "symptom*", "diarrh*", "fever", "medicine", "which drug",
		"ishal*", "ilac*", "понос*", "температур*", "лекарств*", "ліки*", "biegunka*", "goraczk*", "lekarstw*",
		"diaree*", "febra*", "medicament*", "الدواء", "دواء", "حرارته", "الحمى", "اسهال", "دارو",
	}
	// Private legal disputes and claims, which need a lawyer, not the city.
	legalPhrases = []string{
		"verklagen*", "klage einreichen", "schmerzensgeld*", "anwalt*", "meine chancen", "sue ", "lawsuit", "lawyer",
		"dava ac", "avukat*", "подать в суд", "адвокат*", "судитися*", "pozwac", "adwokat*", "avocat*", "da in judecata",
		"مقاضاة", "محامي", "وکیل", "شکایت کنم",
	}
	// Recommendations of businesses, apps or places.
	recommendPhrases = []string{
		"empfehl*", "empfiehl*", "recommend*", "oner*", "oner", "tavsiye*", "порекоменд*", "посовет*", "порад*", "polec*",
		"recomand*", "توصية", "تنصح", "پیشنهاد", "cheapest", "gunstigste*", "billigste*", "best rated",
	}
	// A landlord's or neighbour's conduct is a private dispute when the question is whether they may.
	disputeParties = []string{"vermieter*", "landlord", "nachbar*", "neighbour", "neighbor", "ev sahibi", "арендодател*", "орендодав*", "wlasciciel mieszkania", "proprietar*"}
	disputeAsks    = []string{"darf der", "darf die", "darf er", "darf sie", "allowed to", "can he", "can she", "is that legal", "ist das erlaubt", "zulassig"}
	greetings      = []string{"hallo", "hi", "hey", "guten tag", "guten morgen", "guten abend", "moin", "servus", "danke", "vielen dank", "thanks", "thank you", "hello", "merhaba", "tesekkurler", "привет", "здравствуйте", "спасибо", "дякую", "вітаю", "مرحبا", "شكرا", "سلام", "ممنون", "czesc", "dzien dobry", "dziekuje", "buna", "multumesc"}
)

// phrase is a folded phrase of the lists above: whole words, or a stem.
type phrase struct {
	text string // " word word " for whole words, " stem" for stems
}

func compile(list []string) []phrase {
	out := make([]phrase, 0, len(list))
	for _, p := range list {
		if stem, ok := strings.CutSuffix(p, "*"); ok {
			out = append(out, phrase{" " + knowledge.Fold(stem)})
		} else {
			out = append(out, phrase{" " + strings.Join(knowledge.Words(knowledge.Fold(p)), " ") + " "})
		}
	}
	return out
}

// scope classifies messages; it folds its phrase lists once, since it runs on every message.
type scope struct {
	injection, human, abuse, smalltalk, topics, medical, legal, recommend, parties, asks []phrase
	greetings                                                                            []string
	ownCity                                                                              string
	cities, locatives, cityWords                                                         map[string]bool
}

func newScope(ownCity string, otherCities []string) *scope {
	s := &scope{injection: compile(injectionPhrases), human: compile(humanPhrases), abuse: compile(abusePhrases),
		smalltalk: compile(smalltalkPhrases), topics: compile(topicPhrases), medical: compile(medicalPhrases),
		legal: compile(legalPhrases), recommend: compile(recommendPhrases), parties: compile(disputeParties),
		asks: compile(disputeAsks), ownCity: knowledge.Fold(ownCity),
		cities: map[string]bool{}, locatives: map[string]bool{}, cityWords: map[string]bool{}}
	for _, g := range greetings {
		s.greetings = append(s.greetings, " "+knowledge.Fold(g)+" ")
	}
	for _, c := range otherCities {
		if f := knowledge.Fold(c); f != s.ownCity {
			s.cities[f] = true
		}
	}
	for _, l := range locatives {
		s.locatives[knowledge.Fold(l)] = true
	}
	for _, c := range cityWords {
		s.cityWords[knowledge.Fold(c)] = true
	}
	return s
}

func has(f string, list []phrase) bool {
	for _, p := range list {
		if strings.Contains(f, p.text) {
			return true
		}
	}
	return false
}

// classify sorts a (redacted) message. Questions about another city's services are out of
// scope, questions from someone who moved from there are not.
func (s *scope) classify(text string) intent {
	f := " " + strings.Join(knowledge.Words(knowledge.Fold(text)), " ") + " "
	switch {
	case has(f, s.injection):
		return intentOutOfScope
	case has(f, s.human) && len(strings.Fields(f)) <= 12:
		return intentHuman
	case s.isGreeting(f):
		return intentGreeting
	case has(f, s.abuse), has(f, s.smalltalk), has(f, s.topics), has(f, s.medical), has(f, s.legal),
		has(f, s.recommend), has(f, s.parties) && has(f, s.asks):
		return intentOutOfScope
	case s.mentionsOtherCity(f):
		return intentOutOfScope
	}
	return intentQuestion
}

// isGreeting: the whole message is a greeting or thanks, nothing more.
func (s *scope) isGreeting(f string) bool {
	rest := f
	for _, g := range s.greetings {
		rest = strings.ReplaceAll(rest, g, " ")
	}
	return strings.TrimSpace(rest) == "" || (len(strings.Fields(rest)) <= 2 && len(strings.Fields(f)) <= 4 &&
		strings.TrimSpace(rest) != strings.TrimSpace(f))
}

// locatives are the words that put a place as where something happens ("in Hamburg"), unlike
// "from Hamburg" (someone who moved here).
var locatives = []string{"in", "im", "at", "w", "we", "в", "у", "في", "در", "în"}

// cityWords are "city" in the catalog languages as they stand before a city's name.
var cityWords = []string{"Stadt", "city", "of", "مدينة", "شهر", "городе", "город", "місті", "місто", "mieście", "orașul", "şehri", "şehir"}

// mentionsOtherCity: the question places itself in another city ("in Hamburg", "في مدينة
// ميونخ", "Hamburg'da"), unlike "aus Hamburg" (someone who moved here).
func (s *scope) mentionsOtherCity(f string) bool {
	words := strings.Fields(f)
	for i, w := range words {
		city := s.cities[w]
		// Declined or joined forms: "Мюнхене", "بميونخ".
		for c := range s.cities {
			if city {
				break
			}
			city = strings.HasPrefix(w, c) && len(w) <= len(c)+6 || strings.HasPrefix(w, "ب"+c)
		}
		if !city {
			continue
		}
		switch {
		case strings.HasPrefix(w, "ب"):
			return true
		case i > 0 && s.locatives[words[i-1]]:
			return true
		case i > 1 && s.locatives[words[i-2]] && s.cityWords[words[i-1]]:
			return true
		case i+1 < len(words) && (words[i+1] == "da" || words[i+1] == "de" || words[i+1] == "ta" || words[i+1] == "te"):
			return true
		}
	}
	return false
}

// otherCityNames are German cities (and their names in other scripts) that citizens compare with
// or confuse with their own. A deployment adds its neighbours in configuration.
var otherCityNames = []string{
	"Berlin", "Hamburg", "München", "Munich", "Köln", "Cologne", "Frankfurt", "Stuttgart", "Düsseldorf", "Leipzig",
	"Dortmund", "Essen", "Bremen", "Dresden", "Hannover", "Nürnberg", "Duisburg", "Bochum", "Wuppertal", "Bielefeld",
	"Bonn", "Münster", "Mannheim", "Karlsruhe", "Augsburg", "Wiesbaden", "Mainz", "Kiel", "Rostock", "Erfurt",
	"Берлин", "Берлін", "Гамбург", "Мюнхен", "Кельн", "Франкфурт", "Штутгарт", "Дюссельдорф", "Лейпциг", "Дрезден",
	"برلين", "برلین", "هامبورغ", "هامبورگ", "ميونخ", "مونیخ", "کلن", "كولونيا", "فرانكفورت", "فرانکفورت",
	"Monachium", "Kolonia", "Münih", "Köln'de", "Monaco di Baviera",
}
