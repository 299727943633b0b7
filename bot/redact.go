package bot

import (
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/citybot-project/citybot/knowledge"
)

// Redactor removes personal data from what citizens type before it is stored, logged or sent to
// any model. It errs on the side of removing: a phone number that was really an order number
// costs a little context, a stored phone number costs trust.
type Redactor struct {
	now func() time.Time
}

// NewRedactor returns a Redactor; now gives the current year for telling birth dates.
func NewRedactor(now func() time.Time) *Redactor { return &Redactor{now: now} }

// Placeholders that stand in for what was removed.
const (
	redEmail   = "[email]"
	redPhone   = "[phone]"
	redIBAN    = "[iban]"
	redID      = "[id-number]"
	redTax     = "[tax-number]"
	redBirth   = "[date-of-birth]"
	redAddress = "[address]"
)

var (
	reEmail = regexp.MustCompile(`(?i)[a-z0-9._%+\-]+@[a-z0-9.\-]+\.[a-z]{2,}`)
	// IBAN: country, check digits, then 11 to 30 letters or digits, often in groups of four.
	reIBAN = regexp.MustCompile(`(?i)\b[a-z]{2}\d{2}(?:[ ]?[a-z0-9]){11,30}\b`)
	// Phone numbers: international (+49, 0049) or national (0...) with separators; the digit
	// count is checked afterwards.
	rePhone = regexp.MustCompile(`(?:\+|\b00|\b0)\d[\d\s\-/().]{5,22}\d`)
	// German tax number (Steuernummer, e.g. 21/815/08150) and tax ID (11 digits, e.g. 12 345 678 901).
	reTaxNumber = regexp.MustCompile(`\b\d{2,3}/\d{3,4}/\d{4,5}\b`)
	reTaxID     = regexp.MustCompile(`\b\d{2}[ ]?\d{3}[ ]?\d{3}[ ]?\d{3}\b`)
	// ID card and passport numbers: nine (ten with check digit) capital letters and digits of the
	// German document alphabet, with at least two digits; foreign passports: a letter or two and
	// six to eight digits.
	reDocNumber = regexp.MustCompile(`\b(?:[CFGHJKLMNPRTVWXYZ][CFGHJKLMNPRTVWXYZ0-9]{8}[0-9]?|[A-Z]{1,2}\d{6,8})\b`)
	// Dates with a year: 3.5.1980, 03.05.80, 1980-05-03, 3/5/1980, 3. Mai 1980, May 3, 1980.
	reDate      = regexp.MustCompile(`(?i)\b(?:\d{1,2}[./-]\s?\d{1,2}[./-]\s?(\d{4}|\d{2})|(\d{4})-\d{1,2}-\d{1,2}|\d{1,2}\.?\s+(?:jan|feb|mär|mar|apr|mai|may|jun|jul|aug|sep|okt|oct|nov|dez|dec)[a-zäé]*\.?\s+(\d{4})|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{1,2},?\s+(\d{4}))\b`)
	reBirthWord = regexp.MustCompile(`(?i)(geboren|geb\.|geburtsdatum|geburtstag|born|birth|doğum|тарихи народження|народ|рожд|تاريخ الميلاد|مواليد|تولد|urodzon|data urodzenia|născut|data nașterii)`)
	// Street addresses: German street names with a house number, a postcode with a town, and the
	// common abbreviations of Polish, Russian, Ukrainian, Turkish and Romanian addresses.
	reStreet        = regexp.MustCompile(`(?i)\b(?:[a-zäöüß][a-zäöüß\-]*(?:straße|strasse|str\.|weg|allee|platz|gasse|ring|damm|ufer|chaussee|steig|pfad)|(?:am|an der|an den|auf der|auf dem|im|in der|zum|zur)\s+[a-zäöüß][a-zäöüß\-]+)\s+\d{1,4}\s?[a-z]?\b`)
	rePostcode      = regexp.MustCompile(`\b\d{5}\s+[A-ZÄÖÜ][a-zäöüß]+(?:[ \-][A-ZÄÖÜ][a-zäöüß]+)?`)
	reForeignStreet = regexp.MustCompile(`(?i)(?:\b(?:ul\.|ulica|al\.|str\.|strada|bd\.|bulevardul|sokak|sok\.|cadde|cad\.|mahalle|mah\.)|(?:ул\.|улица|вул\.|вулиця|пр\.|просп\.))\s*[^\s,\d][^,\d]{1,40}?,?\s*(?:д\.|буд\.|nr\.?|no:?)?\s*\d{1,4}[a-zа-я]?\b`)
)

// Redact returns text with personal data replaced by placeholders such as [email].
func (r *Redactor) Redact(text string) string {
	// The patterns below know 0-9 only; a phone number typed on an Arabic or Persian keyboard
	// must not slip through.
	text = knowledge.WesternDigits(text)
	text = reEmail.ReplaceAllString(text, redEmail)
	text = reIBAN.ReplaceAllStringFunc(text, func(m string) string {
		if looksLikeIBAN(m) {
			return redIBAN
		}
		return m
	})
	text = reTaxNumber.ReplaceAllString(text, redTax)
	text = reDate.ReplaceAllStringFunc(text, func(m string) string {
		if r.birthDate(text, m) {
			return redBirth
		}
		return m
	})
	text = rePhone.ReplaceAllStringFunc(text, func(m string) string {
		if n := countDigits(m); n >= 7 && n <= 15 && !strings.Contains(m, ",") {
			return redPhone
		}
		return m
	})
	text = reTaxID.ReplaceAllString(text, redTax)
	text = reDocNumber.ReplaceAllStringFunc(text, func(m string) string {
		if countDigits(m) >= 2 {
			return redID
		}
		return m
	})
	text = reForeignStreet.ReplaceAllString(text, redAddress)
	text = reStreet.ReplaceAllString(text, redAddress)
	text = rePostcode.ReplaceAllString(text, redAddress)
	return text
}

// birthDate tells a date of birth: a date next to a word for birth, or any full date whose year
// makes its writer at least ten years old. Dates of this year and the last few (an appointment,
// a deadline) stay: they are what questions are about.
func (r *Redactor) birthDate(text, date string) bool {
	if i := strings.Index(text, date); i >= 0 {
		before := text[max(0, i-40):i]
		if reBirthWord.MatchString(before) {
			return true
		}
	}
	sub := reDate.FindStringSubmatch(date)
	for _, y := range sub[1:] {
		if y == "" {
			continue
		}
		year, _ := strconv.Atoi(y)
		if len(y) == 2 {
			// Two-digit years: 80 is 1980; a two-digit year of this century is rarely a birth.
			year += 1900
		}
		return year >= 1900 && year <= r.now().Year()-10
	}
	return false
}

func countDigits(s string) int {
	n := 0
	for _, c := range s {
		if c >= '0' && c <= '9' {
			n++
		}
	}
	return n
}

// ibanLength is the IBAN length of the countries citizens most likely bank in.
var ibanLength = map[string]int{"DE": 22, "AT": 20, "CH": 21, "NL": 18, "BE": 16, "FR": 27, "IT": 27, "ES": 24,
	"PL": 28, "RO": 24, "TR": 26, "UA": 29, "LU": 20, "DK": 18, "CZ": 24, "GB": 22, "IE": 22, "PT": 25, "GR": 27,
	"HR": 21, "BG": 22, "HU": 28, "SE": 24, "NO": 15, "FI": 18, "SK": 24, "SI": 19, "LT": 20, "LV": 21, "EE": 20}

// looksLikeIBAN checks the country's length, or for other countries a plausible one, and the
// ISO 7064 mod-97 check; a mistyped IBAN (failed check, right length) is still removed.
func looksLikeIBAN(s string) bool {
	s = strings.ToUpper(strings.ReplaceAll(s, " ", ""))
	if want, ok := ibanLength[s[:2]]; ok {
		return len(s) == want
	}
	if len(s) < 15 || len(s) > 34 {
		return false
	}
	rearranged := s[4:] + s[:4]
	rem := 0
	for _, c := range rearranged {
		var v int
		switch {
		case c >= '0' && c <= '9':
			v = int(c - '0')
		case c >= 'A' && c <= 'Z':
			v = int(c-'A') + 10
		default:
			return false
		}
		if v >= 10 {
			rem = (rem*100 + v) % 97
		} else {
			rem = (rem*10 + v) % 97
		}
	}
	return rem == 1
}
