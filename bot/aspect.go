package bot

import (
	"regexp"
	"strings"

	"github.com/citybot-project/citybot/analysis"
)

// aspect is what a question wants to know about its matter: an amount, a time, a phone number,
// an e-mail address, a place. The page is found by the matter ("Bibliotheksausweis"); the
// sentence that answers is found by the aspect ("was kostet das" → the row with an amount).
type aspect uint8

const (
	aspectMoney aspect = 1 << iota
	aspectTime
	aspectPhone
	aspectEmail
	aspectPlace
)

// aspectCues are the words that ask for an aspect, in every catalog language, matched like the
// scope's phrases (folded, whole words, "*" for a stem). Written from how people ask for fees,
// deadlines, opening hours and contacts in general, not from test questions. Words that mean
// something else in another catalog language are left out: Polish "ile" (how much) is Turkish
// "with", Arabic "أين" (where) folds to Persian "این" (this), Polish "termin" is a German
// appointment. A cue written "ro:cat" counts only in a question in that language: Romanian
// "cât" (how much) folds to English "cat", Turkish "öde-" (pay) to German "oder".
var aspectCues = map[aspect][]string{
	aspectMoney: {
		"kost*", "gebuhr*", "preis*", "zahl*", "bezahl*", "euro", "wie viel", "wieviel*", "wie hoch", "teuer*",
		"eintritt*", "betrag*", "geld", "cost*", "fee", "fees", "price*", "pay", "paying", "how much", "charge*",
		"expensive", "amount", "ne kadar", "ucret*", "fiyat*", "odeme*", "odemek", "oderim", "odenir", "odenecek", "odeyecek*", "para", "masraf*", "كم", "تكلف*",
		"رسوم", "سعر", "ادفع", "يدفع", "مبلغ", "скільки", "вартіст*", "кошту*", "плат*", "ціна", "ціну",
		"сколько", "стоит", "стоимост*", "цена", "цену", "چقدر", "هزینه*", "قیمت*", "بپرداز*", "پرداخت*",
		"koszt*", "oplat*", "cena", "cene", "zaplac*", "placi*", "cat costa", "costa", "cost", "taxa", "taxe*",
		"pret*", "plati*", "platesc", "ro:cat", "tr:ode*",
	},
	aspectTime: {
		"wann", "bis wann", "ab wann", "wie fruh", "fruhestens", "spatestens", "wie lange", "wie lang", "dauer*", "frist*", "geoffnet", "offnungszeit*",
		"offen", "auf haben", "hat auf", "haben auf", "zu spat", "verspat*", "uhr", "uhrzeit*", "im voraus",
		"rechtzeitig", "tage", "wochen", "monate", "wochenende", "samstag*", "sonntag*", "montag*", "dienstag*",
		"mittwoch*", "donnerstag*", "freitag*", "morgens", "abends", "nachmittag*", "vormittag*", "when", "how long",
		"until", "deadline*", "how early", "earliest", "latest", "open", "opening", "hours", "what time", "days", "weeks", "months", "in advance",
		"how soon", "weekend", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
		"evening", "morning", "afternoon", "late", "ne zaman", "kac gun", "kac hafta", "sure*", "saat*", "acik",
		"hafta sonu", "pazar", "cumartesi", "gec", "متى", "مدة", "كم يوم", "ساعات", "مفتوح", "يفتح", "الوقت",
		"коли", "скільки часу", "термін*", "годин*", "відчинен*", "працює", "днів", "тижн*", "місяц*", "неділ*",
		"субот*", "когда", "сколько времени", "срок*", "час*", "открыт*", "работает", "дней", "недел*",
		"месяц*", "воскресень*", "суббот*", "چه زمانی", "چه وقت", "کی", "مدت", "ساعت*", "باز", "هفته", "kiedy",
		"jak dlugo", "do kiedy", "od kiedy", "godzin*", "otwart*", "czynne", "dni",
		"tygodni*", "miesiac*", "niedziel*", "sobot*", "cand", "cat timp", "dureaza", "pana cand", "termen*",
		"program*", "ora", "orele", "deschis*", "zile", "saptaman*", "duminica", "sambata",
	},
	aspectPhone: {
		"telefon*", "anruf*", "anrufen", "nummer", "hotline", "phone*", "call", "number", "telephone",
		"arayabilir*", "aramak", "هاتف", "رقم", "اتصل*", "телефон*", "номер*", "зателефон*", "позвон*", "تلفن",
		"شماره", "numer*", "zadzwon*", "numar*", "suna",
	},
	aspectEmail: {
		"e mail", "email*", "mail", "e posta", "eposta", "بريد", "ایمیل", "пошт*", "почт*", "мейл", "poczt*",
	},
	aspectPlace: {
		"wo", "wohin", "adresse*", "anschrift", "where", "address*", "nerede", "nereye", "adres*", "عنوان", "де", "куди", "адрес*", "где", "куда", "کجا", "نشانی", "ادرس", "gdzie", "dokad", "unde",
		"adresa",
	},
}

// aspectFacts find an aspect's facts in the city's pages (German, and English where the site
// has English pages).
var aspectFacts = map[aspect]*regexp.Regexp{
	// Amounts as towns write them: "37,00 €", "12,-- €", "€ 5", "EUR 26", "Euro 26".
	aspectMoney: regexp.MustCompile(`(?i)\d[\d.,]*(-{1,2})?\s*(euro|eur\b|€)|(€|\beur\b|\beuro)\s*\d|kostenlos|kostenfrei|gebührenfrei|free of charge|\bfree\b`),
	aspectTime: regexp.MustCompile(`(?i)\d{1,2}([.:]\d{2})?\s*(uhr|a\.m\.|p\.m\.)|\d{1,2}(:\d{2})?\s*[–-]\s*\d{1,2}(:\d{2})?\s*(uhr|h\b)|` +
		`\b(\d+|eine?[mnr]?|zwei|drei|vier|fünf|sechs|sieben|acht|neun|zehn|elf|zwölf|vierzehn|one|two|three|four|five|six|seven|eight|nine|ten|twelve)\s+` +
		`(werk|arbeits|kalender)?(tag|woche|monat|jahr|stunde|minute|day|week|month|year|hour|working day|business day)|` +
		`\b(montags?|dienstags?|mittwochs?|donnerstags?|freitags?|samstags?|sonntags?|monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b|` +
		`\b(Mo|Di|Mi|Do|Fr|Sa|So)\.?\s*[–,-]|\d{1,2}\.\s*(januar|februar|märz|april|mai|juni|juli|august|september|oktober|november|dezember)|` +
		`\b\d{1,2}\.\d{1,2}\.|(january|february|march|april|may|june|july|august|september|october|november|december)\s+\d|` +
		`\b(19|20)\d{2}\b`),
	aspectPhone: regexp.MustCompile(`(\+\d{2}|\b0\d{2,5})[\s/-]*\d{2,}[\d\s-]*\d|(?i)telefon|phone`),
	aspectEmail: regexp.MustCompile(`[\w.+-]+@[\w-]+\.[\w.]+`),
	aspectPlace: regexp.MustCompile(`(?i)[a-zäöüß](straße|strasse|str\.|weg|platz|ring|allee|gasse|damm|ufer)\s+\d+|\b\d{5}\s+[A-ZÄÖÜ]|\b(raum|zimmer|room)\s+\d`),
}

// aspects reads the aspects a question asks for.
type aspects struct {
	cues   map[aspect][]phrase
	inLang map[string]map[aspect][]phrase // cues that count only in their language
}

func newAspects() *aspects {
	a := &aspects{cues: map[aspect][]phrase{}, inLang: map[string]map[aspect][]phrase{}}
	for k, list := range aspectCues {
		var general []string
		for _, c := range list {
			lang, cue, ok := strings.Cut(c, ":")
			if !ok {
				general = append(general, c)
				continue
			}
			if a.inLang[lang] == nil {
				a.inLang[lang] = map[aspect][]phrase{}
			}
			a.inLang[lang][k] = append(a.inLang[lang][k], compile([]string{cue})...)
		}
		a.cues[k] = compile(general)
	}
	return a
}

// of returns the aspects text, a question in lang, asks for; none when it asks for none of them.
func (a *aspects) of(text, lang string) aspect {
	f := " " + strings.Join(analysis.Words(analysis.Fold(text)), " ") + " "
	var out aspect
	for k, cues := range a.cues {
		if has(f, cues) || has(f, a.inLang[lang][k]) {
			out |= k
		}
	}
	return out
}

// factsIn returns the aspects whose facts text states.
func factsIn(text string) aspect {
	var out aspect
	for k, re := range aspectFacts {
		if re.MatchString(text) {
			out |= k
		}
	}
	return out
}
