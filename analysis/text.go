// Package analysis turns text into what citybot compares: folded words (case, diacritics and
// script variants left out), stems and lexemes. Pages when they are indexed and questions when
// they are asked go through the same functions, so that they meet.
package analysis

import (
	"strings"
	"unicode"

	snowball "github.com/blevesearch/snowballstem"
	"github.com/blevesearch/snowballstem/english"
	"github.com/blevesearch/snowballstem/german"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Fold lower-cases s and removes what citizens leave out or type differently: diacritics
// (Führerschein, Fuhrerschein), German umlaut transcriptions (Fuehrerschein), ß (Strasse), and the
// letter variants of Arabic and Persian script, so that all spellings meet in one form.
func Fold(s string) string {
	s = strings.ToLower(s)
	s = WesternDigits(specialFold.Replace(s))
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	if out, _, err := transform.String(t, s); err == nil {
		s = out
	}
	return s
}

var specialFold = strings.NewReplacer(
	"ß", "ss", "ı", "i", "ł", "l", "ø", "o", "æ", "ae", "đ", "d",
	"ä", "a", "ö", "o", "ü", "u", // before NFD: the transcription rules below need the bare vowel
	"ae", "a", "oe", "o", "ue", "u",
	"ي", "ی", "ى", "ی", "ك", "ک", "أ", "ا", "إ", "ا", "آ", "ا", "ة", "ه", "ـ", "",
	"\u00ad", "", "·", "", // soft hyphen; the middle dot of Leichte Sprache (Wohn·geld)
)

// WesternDigits writes Arabic-Indic and Persian digits, as Arabic and Persian keyboards type
// them, as 0-9: ٢٤٠ = ۲۴۰ = 240.
func WesternDigits(s string) string { return westernDigits.Replace(s) }

var westernDigits = strings.NewReplacer(
	"٠", "0", "١", "1", "٢", "2", "٣", "3", "٤", "4", "٥", "5", "٦", "6", "٧", "7", "٨", "8", "٩", "9",
	"۰", "0", "۱", "1", "۲", "2", "۳", "3", "۴", "4", "۵", "5", "۶", "6", "۷", "7", "۸", "8", "۹", "9",
)

// Digits returns s's digits (0-9 and the Arabic-Indic and Persian ones, as 0-9) without anything
// between them: a number as it is compared, whatever its writer put between its groups.
func Digits(s string) string {
	var b strings.Builder
	for _, r := range WesternDigits(s) {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Words splits folded text into letter/digit runs.
func Words(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsNumber(r) })
}

// Stem reduces a folded word with the Snowball stemmer of lang: English for English ("en",
// "en-GB"), German for every other language, since the city's pages are German.
func Stem(word, lang string) string {
	if len(word) < 4 || !IsLatin(word) {
		return word
	}
	env := snowball.NewEnv(word)
	if strings.HasPrefix(lang, "en") {
		english.Stem(env)
	} else {
		german.Stem(env)
	}
	return env.Current()
}

// IsLatin tells a word of Latin script (or of none: digits), which the stemmers and the
// transliterations of other scripts know apart.
func IsLatin(w string) bool {
	for _, r := range w {
		if r > unicode.MaxLatin1 && !unicode.Is(unicode.Latin, r) {
			return false
		}
	}
	return true
}

// IsNumber tells a word of digits only: a fee or a year says nothing about a page's topic.
func IsNumber(w string) bool {
	for _, r := range w {
		if !unicode.IsDigit(r) {
			return false
		}
	}
	return true
}

// Lexemes turns text into the terms of the lexical index: folded, with the words its hyphens
// stand for, stopwords dropped, stemmed for lang (see Stem).
func Lexemes(text, lang string) []string {
	f := Fold(text)
	ws := append(Words(f), CompoundForms(f)...)
	out := make([]string, 0, len(ws))
	for _, w := range ws {
		if stopwords[w] {
			continue
		}
		out = append(out, Stem(w, lang))
	}
	return out
}

// Stopword tells a function word of German or English (folded), which carries no topic.
func Stopword(w string) bool { return stopwords[w] }

// stopwords are function words of German and English (folded) that carry no topic. BM25's IDF
// would weigh them down anyway; dropping them keeps the candidate set and the index small.
var stopwords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`
aber alle allem allen aller alles als also am an ander andere anderen anderer anderes auch auf aus bei bin bis bist
da damit dann das dass dasselbe dazu dein deine deinem deinen deiner dem den denn der des dich die dies diese
diesem diesen dieser dieses dir doch dort du durch ein eine einem einen einer eines einig einige er es etwas
euch euer eure fur gegen gewesen hab habe haben hat hatte hatten hier hin hinter ich ihm ihn ihnen ihr ihre
ihrem ihren ihrer im in indem ins ist jede jedem jeden jeder jedes jene jetzt kann konnen konnte machen man
manche mein meine meinem meinen meiner mich mir mit muss musste nach nicht nichts noch nun nur ob oder ohne
sehr sein seine seinem seinen seiner seit sich sie sind so solche soll sollte sondern sonst uber um und uns
unser unsere unter vom von vor wann war waren warum was weg weil welche welchem welchen welcher welches wenn
wer werde werden wie wieder will wir wird wirst wo wollen wollte wurde wurden zu zum zur zwar zwischen
gibt gibts bitte mal ja nein schon euch eure
a about an and are as at be been but by can could do does did for from get got has have how i if in into is it
its me my of on or our so than that the their them then there these they this to us was we what when where
which who why will with would you your yours am i'm im`) {
		m[w] = true
	}
	return m
}()
