// Package privacy removes personal data from what citizens type, before anything stores, logs or
// sends it to a model.
package privacy

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/citybot-project/citybot/analysis"
)

// KnownNumbers tells whether the city's own pages state a number (an office's phone number,
// a file reference on a form); knowledge.Index implements it. digits holds 0-9 only, without
// separators (analysis.Digits).
type KnownNumbers interface {
	StatesNumber(ctx context.Context, digits string) (bool, error)
}

// Redactor removes personal data from what citizens type before it is stored, logged or sent to
// any model. It errs on the side of removing: a phone number that was really an order number
// costs a little context, a stored phone number costs trust. Numbers the city's pages state
// stay: they are what questions are about.
type Redactor struct {
	now   func() time.Time
	known KnownNumbers // nil: no number is known to be the city's
}

// NewRedactor returns a Redactor; now gives the current year for telling birth dates.
func NewRedactor(now func() time.Time) *Redactor { return &Redactor{now: now} }

// WithKnownNumbers returns a Redactor that keeps the numbers known says the city's pages state.
func (r *Redactor) WithKnownNumbers(known KnownNumbers) *Redactor {
	c := *r
	c.known = known
	return &c
}

// Placeholders that stand in for what was removed.
const (
	redEmail   = "[email]"
	redPhone   = "[phone]"
	redIBAN    = "[iban]"
	redID      = "[id-number]"
	redTax     = "[tax-number]"
	redBirth   = "[date-of-birth]"
	redAddress = "[address]"
	redSecret  = "[secret]"
	redName    = "[name]"
	redLabeled = "[id]" // a number or code after a label: Kundennummer, numărul CNP, код
	redNumber  = "[number]"
	redCard    = "[card]"
	redPlate   = "[plate]"
	redBIC     = "[bic]"
)

// placeholders are all of them, for retrieval to leave out.
var placeholders = []string{redEmail, redPhone, redIBAN, redID, redTax, redBirth, redAddress, redSecret, redName,
	redLabeled, redNumber, redCard, redPlate, redBIC}

// rePlaceholder finds every placeholder.
var rePlaceholder = regexp.MustCompile(func() string {
	quoted := make([]string, len(placeholders))
	for i, p := range placeholders {
		quoted[i] = regexp.QuoteMeta(p)
	}
	return strings.Join(quoted, "|")
}())

// WithoutPlaceholders returns redacted text with a space in place of each placeholder: "[email]"
// says nothing about what a question is about, and must not steer retrieval.
func WithoutPlaceholders(text string) string { return rePlaceholder.ReplaceAllString(text, " ") }

var (
	reEmail = regexp.MustCompile(`(?i)[a-z0-9._%+\-]+@[a-z0-9.\-]+\.[a-z]{2,}`)
	// IBAN: country, check digits, then 11 to 30 letters or digits, in groups of four or not.
	reIBAN = regexp.MustCompile(`(?i)\b[a-z]{2}\d{2}(?:(?:[ ]?[a-z0-9]{4}){2,7}(?:[ ]?[a-z0-9]{1,3})?|[a-z0-9]{11,30})\b`)
	// Phone numbers: international (+49, 0049) or national (0...) with separators; the digit
	// count is checked afterwards.
	rePhone = regexp.MustCompile(`(?:\+|\b00|\b0)\d[\d\s\-/().]{5,22}\d`)
	// German tax number (Steuernummer, e.g. 21/815/08150) and tax ID (11 digits, e.g. 12 345 678 901).
	reTaxNumber = regexp.MustCompile(`\b\d{2,3}/\d{3,4}/\d{4,5}\b`)
	reTaxID     = regexp.MustCompile(`\b\d{2}[ ]?\d{3}[ ]?\d{3}[ ]?\d{3}\b`)
	// ID card and passport numbers: nine (ten with check digit) capital letters and digits of the
	// German document alphabet, with at least two digits; foreign passports and health-insurance
	// numbers: a letter or two and six to nine digits.
	reDocNumber = regexp.MustCompile(`\b(?:[CFGHJKLMNPRTVWXYZ][CFGHJKLMNPRTVWXYZ0-9]{8}[0-9]?|[A-Z]{1,2}\d{6,9})\b`)
	// German social-security number: area, birth date, initial, serial and check digit
	// ("65 071179 W 003", "65071179W003").
	reSocialSecurity = regexp.MustCompile(`\b\d{2}[ ]?\d{6}[ ]?[A-Z][ ]?\d{3}\b`)
	// German number plates: "M-AB 1234", "HH-X 12E".
	rePlateShape = regexp.MustCompile(`\b[A-ZÄÖÜ]{1,3}-[A-Z]{1,2}[ ]?\d{1,4}[EH]?\b`)
	// Payment cards: 13 to 19 digits, in groups or not; Luhn tells them.
	reCard = regexp.MustCompile(`\b\d(?:[ \-]?\d){12,18}\b`)
	// Long digit runs: seven digits or more, with single spaces, dots, dashes or slashes between
	// groups.
	reDigitRun = regexp.MustCompile(`\d(?:[ ./\-–]?\d){6,}`)
	// Dates with a year: 3.5.1980, 03.05.80, 1980-05-03, 3/5/1980, 3. Mai 1980, May 3, 1980.
	reDate      = regexp.MustCompile(`(?i)\b(?:\d{1,2}[./-]\s?\d{1,2}[./-]\s?(\d{4}|\d{2})|(\d{4})-\d{1,2}-\d{1,2}|\d{1,2}\.?\s+(?:jan|feb|mär|mar|apr|mai|may|jun|jul|aug|sep|okt|oct|nov|dez|dec)[a-zäé]*\.?\s+(\d{4})|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{1,2},?\s+(\d{4}))\b`)
	reBirthWord = regexp.MustCompile(`(?i)(geboren|geb\.|geburtsdatum|geburtstag|born|birth|doğum|тарихи народження|народ|рожд|تاريخ الميلاد|مواليد|تولد|urodzon|data urodzenia|născut|data nașterii)`)
	// Street addresses: German street names with a house number, a postcode with a town, and the
	// common abbreviations of Polish, Russian, Ukrainian, Turkish and Romanian addresses.
	reStreet        = regexp.MustCompile(`(?i)\b(?:[a-zäöüß][a-zäöüß\-]*(?:straße|strasse|str\.|weg|allee|platz|gasse|ring|damm|ufer|chaussee|steig|pfad)|(?:am|an der|an den|auf der|auf dem|im|in der|zum|zur)\s+[a-zäöüß][a-zäöüß\-]+)\s+\d{1,4}\s?[a-z]?\b`)
	reYearEnd       = regexp.MustCompile(`\s(?:19|20)\d{2}\s?[a-z]?$`)
	rePostcode      = regexp.MustCompile(`\b\d{5}\s+[A-ZÄÖÜ][a-zäöüß]+(?:[ \-][A-ZÄÖÜ][a-zäöüß]+)?`)
	reForeignStreet = regexp.MustCompile(`(?i)(?:\b(?:ul\.|ulica|al\.|str\.|strada|bd\.|bulevardul|sokak|sok\.|cadde|cad\.|mahalle|mah\.)|(?:ул\.|улица|вул\.|вулиця|пр\.|просп\.))\s*[^\s,\d][^,\d]{1,40}?,?\s*(?:д\.|буд\.|nr\.?|no:?)?\s*\d{1,4}[a-zа-я]?\b`)
)

// Redact returns text with personal data replaced by placeholders such as [email].
func (r *Redactor) Redact(text string) string { return r.RedactContext(context.Background(), text) }

// maxRedactPasses bounds the passes of RedactContext; texts seen so far settle in two or three.
const maxRedactPasses = 8

// RedactContext is Redact with a context for asking whether the city states a number.
//
// A pass that removed something is repeated until nothing changes: the patterns run one after
// another, and a span one of them left whole (too many digits for a phone number) can hold a
// phone number once another has taken part of it. Without the repeat, what was stored would lose
// more personal data when redacted again; with it, redaction is idempotent. A text without
// personal data costs one pass, as before.
func (r *Redactor) RedactContext(ctx context.Context, text string) string {
	for range maxRedactPasses {
		out := r.redactOnce(ctx, text)
		if out == text {
			break
		}
		text = out
	}
	return text
}

func (r *Redactor) redactOnce(ctx context.Context, text string) string {
	// The patterns below know 0-9 only; a phone number typed on an Arabic or Persian keyboard
	// must not slip through.
	text = analysis.WesternDigits(text)
	if strings.IndexByte(text, '@') >= 0 {
		text = reEmail.ReplaceAllString(text, redEmail)
	}
	lower := strings.ToLower(text)
	if strings.ContainsAny(text, "0123456789") {
		text = r.redactNumbers(ctx, text, lower)
	}
	if hasKey(lower, keysSecret) {
		text = replaceValues(text, reSecret, secretValue)
		text = replaceValues(text, reSecretSaid, secretValue)
	}
	if strings.ContainsAny(text, "0123456789") {
		text = reForeignStreet.ReplaceAllString(text, redAddress)
		text = reStreet.ReplaceAllStringFunc(text, func(m string) string {
			// "im Jahr 2026": a year, not a house number.
			if reYearEnd.MatchString(m) {
				return m
			}
			return redAddress
		})
		// The town's own postcode ("Bürgerbüro in 12345 Musterstadt") is no one's address.
		text = rePostcode.ReplaceAllStringFunc(text, func(m string) string {
			if r.stated(ctx, m[:5]) {
				return m
			}
			return redAddress
		})
	}
	return redactNames(text, lower)
}

// redactNumbers replaces numbers that are personal by their shape (IBAN, phone, tax, ID and
// card numbers, dates of birth), by their label (Kundennummer, numărul CNP, Kennzeichen), or by
// being long and not the city's.
func (r *Redactor) redactNumbers(ctx context.Context, text, lower string) string {
	text = reIBAN.ReplaceAllStringFunc(text, func(m string) string {
		if looksLikeIBAN(m) {
			return redIBAN
		}
		return m
	})
	if hasKey(lower, keysBIC) {
		text = replaceValues(text, reBIC, func(string, string, string) (string, bool) { return redBIC, true })
	}
	text = reTaxNumber.ReplaceAllString(text, redTax)
	text = reSocialSecurity.ReplaceAllString(text, redID)
	text = reDate.ReplaceAllStringFunc(text, func(m string) string {
		if r.birthDate(text, m) {
			return redBirth
		}
		return m
	})
	text = replaceAllIndex(text, reCard, func(m, after string) (string, bool) {
		if luhn(analysis.Digits(m)) && !ordinaryNumber(m, after) && !r.stated(ctx, m) {
			return redCard, true
		}
		return "", false
	})
	text = rePhone.ReplaceAllStringFunc(text, func(m string) string {
		if n := countDigits(m); n >= 7 && n <= 15 && !strings.Contains(m, ",") && !ordinaryNumber(strings.TrimSpace(m), "") && !r.stated(ctx, m) {
			return redPhone
		}
		return m
	})
	text = reTaxID.ReplaceAllStringFunc(text, func(m string) string {
		if r.stated(ctx, m) {
			return m
		}
		if d := analysis.Digits(m); pesel(d) || tcKimlik(d) {
			return redID
		}
		return redTax
	})
	text = reDocNumber.ReplaceAllStringFunc(text, func(m string) string {
		if countDigits(m) >= 2 {
			return redID
		}
		return m
	})
	if hasKey(lower, keysPlate) {
		text = replaceValues(text, rePlate, func(v, after, _ string) (string, bool) {
			v, rest := cutGlued(v, after)
			return redPlate + rest, plateValue(v)
		})
	}
	text = rePlateShape.ReplaceAllString(text, redPlate)
	if hasKey(lower, keysStrong) {
		text = replaceValues(text, reStrongLabel, func(v, after, _ string) (string, bool) {
			return r.labelledValue(ctx, v, after, 4)
		})
	}
	if hasKey(lower, keysNumber) {
		text = replaceValues(text, reNumberLabel, func(v, after, _ string) (string, bool) {
			return r.labelledValue(ctx, v, after, 5)
		})
	}
	return replaceAllIndex(text, reDigitRun, func(m, after string) (string, bool) {
		if ordinaryNumber(m, after) || r.stated(ctx, m) {
			return "", false
		}
		if d := analysis.Digits(m); cnp(d) || pesel(d) || tcKimlik(d) {
			return redID, true
		}
		return redNumber, true
	})
}

// stated tells whether the city's pages state the number m (with its separators); a number
// written internationally (+49 123 ..., 0049 123 ...) counts as its national form (0123 ...).
func (r *Redactor) stated(ctx context.Context, m string) bool {
	if r.known == nil {
		return false
	}
	d := analysis.Digits(m)
	if ok, err := r.known.StatesNumber(ctx, d); err == nil && ok {
		return true
	}
	t := strings.TrimSpace(m)
	if strings.HasPrefix(t, "+49") || strings.HasPrefix(t, "0049") {
		// +49 123 ..., 0049 123 ..., +49 (0)123 ...
		d = "0" + strings.TrimPrefix(strings.TrimPrefix(strings.TrimPrefix(d, "00"), "49"), "0")
		if ok, err := r.known.StatesNumber(ctx, d); err == nil && ok {
			return true
		}
	}
	return false
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
	if !validDayMonth(date) {
		return false
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

// validDayMonth tells a numeric date whose day and month can be ("8.00-12" is a time).
func validDayMonth(date string) bool {
	f := strings.FieldsFunc(date, func(r rune) bool { return r == '.' || r == '/' || r == '-' || r == ' ' })
	if len(f) < 3 || countDigits(f[0]) != len(f[0]) || countDigits(f[1]) != len(f[1]) {
		return true // a date in words
	}
	a, _ := strconv.Atoi(f[0])
	b, _ := strconv.Atoi(f[1])
	if len(f[0]) == 4 { // 1980-05-03
		b, _ = strconv.Atoi(f[2])
		a, _ = strconv.Atoi(f[1])
		return a >= 1 && a <= 12 && b >= 1 && b <= 31
	}
	return a >= 1 && a <= 31 && b >= 1 && b <= 31 && (a <= 12 || b <= 12)
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

// ibanLength is the IBAN length of every country of the IBAN registry (SWIFT, 2024).
var ibanLength = map[string]int{"AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22,
	"BH": 22, "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18,
	"DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
	"GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30,
	"KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24,
	"ME": 22, "MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24,
	"PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24, "SC": 31, "SD": 18, "SE": 24,
	"SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22,
	"VG": 24, "XK": 20, "YE": 30}

// looksLikeIBAN checks the country's length, or for other countries a plausible one, and the
// ISO 7064 mod-97 check; a mistyped IBAN (failed check, right length) is still removed.
func looksLikeIBAN(s string) bool {
	s = strings.ToUpper(strings.ReplaceAll(s, " ", ""))
	if want, ok := ibanLength[s[:2]]; ok {
		// A mistyped IBAN of the right length is still removed; one with a group too many only
		// when its first part checks.
		return len(s) == want || len(s) > want && mod97(s[:want])
	}
	if len(s) < 15 || len(s) > 34 {
		return false
	}
	return mod97(s)
}

// mod97 is the ISO 7064 check of an IBAN without spaces, upper case.
func mod97(s string) bool {
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
