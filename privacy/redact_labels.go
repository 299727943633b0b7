package privacy

import (
	"context"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Labelled data: a value after a label is personal whatever its shape ("Kundennummer 4711-0815",
// "numărul CNP …", "PIN: 4711", "mein Name ist …"). Go's \b knows ASCII only, so labels in other
// scripts start after a character that is neither letter nor digit; only the value is replaced.
const (
	// An Arabic or Persian label may carry a prefix: و (and), ب (with), ل (for), ف.
	bnd = `(?:^|[^\p{L}\p{N}])[وبلف]?`
	// Up to three words without digits or sentence punctuation between a label and its value
	// ("mein Kennwort fürs Portal ist …", "T.C. Kimlik No: …"); as few as possible.
	filler = `(?:[\s:=#№\-–—]+[^\s\d.,;!?()\[\]"“”„«»:=]+){0,3}?`
	sep    = `[\s:=#№\-–—]*`
	// A code with a digit: up to two groups of capitals before it ("КВ 123456"), groups of
	// capitals and digits after it ("65 071179 W 003", "123/2024").
	idValue = `(?P<v>(?:\p{Lu}{1,3}[ \-–.]){0,2}[\p{L}\d]*\d[\p{L}\d]*(?:[ ./\-–][\p{Lu}\d]+)*)`
)

var (
	// Names of documents and registers: their numbers are personal from four digits on.
	reStrongLabel = regexp.MustCompile(bnd + `(?i:(?:personal|kinder)?ausweis\p{L}*|(?:kinder)?reisepass\p{L}*|pass(?:nummer|-?nr\.?|-nummer)|` +
		`aufenthalts(?:titel|erlaubnis|karte|gestattung)\p{L}*|steuer-?id\p{L}*|steuer-?identifikationsnummer|identifikationsnummer|` +
		`steuer-?nummer|steuernr\.?|sozialversicherungs\p{L}*|rentenversicherungs\p{L}*|krankenversicherten\p{L}*|versicherten\p{L}*|` +
		`kunden\p{L}*|aktenzeichen|az\.|kassenzeichen|vorgangs\p{L}*|antrags\p{L}*|mitglieds\p{L}*|vertrags\p{L}*|` +
		`passport\p{L}*|id card|identity card|id number|national id|residence permit|residence card|tax id|` +
		`tax identification number|tax number|social security|social insurance|insurance number|customer (?:number|id)|` +
		`client number|reference number|file number|case number|account number|membership number|contract number|application number|` +
		`pasaport\p{L}*|kimlik\p{L}*|vergi\p{L}*|sigorta\p{L}*|müşteri\p{L}*|dosya\p{L}*|ikamet\p{L}*|oturma izni\p{L}*|` +
		`паспорт\p{L}*|снилс|инн|рнокпп|іпн|ідентифікаційн\p{L}*|идентификационн\p{L}*|полис\p{L}*|поліс\p{L}*|страхов\p{L}*|` +
		`посвідк\p{L}*|вида на жительство|внж|клиент\p{L}*|клієнт\p{L}*|договор\p{L}*|договір\p{L}*|` +
		`pesel|nip|dowod\p{L}*|dowód\p{L}*|paszport\p{L}*|karty? pobytu|ubezpieczeni\p{L}*|` +
		`cnp|pașaport\p{L}*|paşaport\p{L}*|buletin\p{L}*|carte de identitate|cărții de identitate|permis\p{L}* de ședere|cod fiscal|dosar\p{L}*|` +
		`جواز\p{L}*|الهوية|هوية\p{L}*|بطاقة\p{L}*|الإقامة|إقامة\p{L}*|اقامة\p{L}*|الرقم الضريبي|رقم ضريبي|التأمين\p{L}*|` +
		`code melli|کد ?ملی|شماره ?ملی|پاسپورت\p{L}*|گذرنامه\p{L}*|کارت\p{L}*|اقامت\p{L}*|بیمه\p{L}*|پرونده\p{L}*)` +
		filler + sep + idValue)
	// Words for "number": what follows is personal from five digits on.
	reNumberLabel = regexp.MustCompile(bnd + `(?i:\p{L}*nummer\p{L}*|\p{L}*nr\.?|numbers?|no\.|num\.|numara\p{L}*|номер\p{L}*|№|` +
		`numer\p{L}*|nr\.?|număr\p{L}*|numar\p{L}*|شماره\p{L}*|رقم\p{L}*|الرقم)` + filler + sep + idValue)
	// Bank identifier codes, next to their label.
	reBIC = regexp.MustCompile(bnd + `(?i:bic|swift(?:-code)?|swift code)` + sep + `(?P<v>[A-Z]{6}[A-Z0-9]{2}(?:[A-Z0-9]{3})?)`)
	// Number plates, next to their label: "Kennzeichen M-AB 1234", "plaka 34 ABC 123".
	rePlate = regexp.MustCompile(bnd + `(?i:kfz-kennzeichen|kennzeichen\p{L}*|nummernschild\p{L}*|(?:license|licence|number|car) plate|plate|` +
		`plaka\p{L}*|номерн\p{L}* знак\p{L}*|номер (?:машины|автомобиля|авто)|автономер|tablic\p{L}* rejestracyjn\p{L}*|numer rejestracyjny|` +
		`num[aă]r\p{L}* de înmatriculare|پلاک\p{L}*|لوحة\p{L}*|رقم السيارة)` + filler + sep +
		`(?P<v>(?:[\p{Lu}\d]{1,4}[ \-–]){0,3}[\p{Lu}\d]*\d[\p{Lu}\d]*(?:[ \-–]\p{Lu}{1,3})?)`)

	secretLabels = `(?i:kennw[öo]rt\p{L}*|passw[öo]rt\p{L}*|password\p{L}*|passwd|passcode|passphrase|pin(?:-?code|-?nummer)?|tan(?:-?nummer)?|` +
		`einmal(?:code|passwort)|bestätigungscode|sicherheitscode|freischaltcode|zugangscode|verification code|one-time code|otp|code|` +
		`şifre\p{L}*|parola\p{L}*|doğrulama kodu|пароль\p{L}*|код\p{L}*|пін(?:-код)?|пин(?:-код)?|hasł\p{L}*|kod\p{L}*|parol\p{L}*|cod\p{L}*|` +
		`كلمة المرور|كلمة السر|رمز\p{L}*|گذرواژه\p{L}*|رمز عبور|کلمه عبور|کد)`
	// A secret with a digit right after its label, or a word or two later ("PIN: 4711",
	// "şifrem Güneş2024", "код из СМС 123456").
	reSecret = regexp.MustCompile(bnd + secretLabels + `(?:[\s:=\-–—]+[^\s\d.,;!?()\[\]:=]+){0,2}?[\s:=\-–—]*(?P<v>[^\s\d]*\d\S*)`)
	// A secret of any shape after a word that says it ("mein Kennwort fürs Portal ist Sonne!").
	reSecretSaid = regexp.MustCompile(bnd + secretLabels + filler +
		`(?:\s*[:=]\s*|\s+(?i:ist|lautet|is|was|war|este|e|jest|to|это|це|هو|هي|:)\s+)(?P<v>[^\s\[]\S*)`)
	// What makes a code label something else: a postcode, an area code, a QR code, a national
	// ID (a register, not a secret).
	reNotSecret = regexp.MustCompile(`(?i)zip|post|area|qr|posta|почт|пошт|poczt|poștal|postal|پستی|بريد|ملی|country|dialling|vorwahl|gutschein|rabatt`)
	// Words that say something about a secret rather than being it.
	notSecretWords = wordSet(`falsch nicht zu abgelaufen gesperrt vergessen ungültig neu wrong not incorrect invalid expired blocked forgotten ` +
		`new too yanlış geçersiz неверный неправильный невірний неправильний błędne nieprawidłowe greșită greșit incorectă خطأ غلط`)
)

// replaceValues replaces the value (group v) of every match of re with what fn returns for it;
// after is the text that follows the value. fn's false leaves the value as it is.
func replaceValues(text string, re *regexp.Regexp, fn func(v, after, whole string) (string, bool)) string {
	vi := re.SubexpIndex("v")
	ms := re.FindAllStringSubmatchIndex(text, -1)
	if len(ms) == 0 {
		return text
	}
	var b strings.Builder
	last := 0
	for _, m := range ms {
		s, e := m[2*vi], m[2*vi+1]
		if s < 0 {
			continue
		}
		out, ok := fn(text[s:e], text[e:], text[m[0]:m[1]])
		if !ok {
			continue
		}
		b.WriteString(text[last:s])
		b.WriteString(out)
		last = e
	}
	b.WriteString(text[last:])
	return b.String()
}

// replaceAllIndex replaces whole matches with what fn returns; after is the text that follows.
func replaceAllIndex(text string, re *regexp.Regexp, fn func(m, after string) (string, bool)) string {
	ms := re.FindAllStringIndex(text, -1)
	if len(ms) == 0 {
		return text
	}
	var b strings.Builder
	last := 0
	for _, m := range ms {
		out, ok := fn(text[m[0]:m[1]], text[m[1]:])
		if !ok {
			continue
		}
		b.WriteString(text[last:m[0]])
		b.WriteString(out)
		last = m[1]
	}
	b.WriteString(text[last:])
	return b.String()
}

// cutGlued drops a value's last group when the text goes on with a letter: the group is the
// start of a word ("123456 Und" matched "123456 U"). It returns the value and what was cut.
func cutGlued(v, after string) (string, string) {
	r, _ := utf8.DecodeRuneInString(after)
	if !unicode.IsLetter(r) {
		return v, ""
	}
	i := strings.LastIndexAny(v, " ./-–")
	if i <= 0 {
		return v, ""
	}
	return v[:i], v[i:]
}

// labelledValue decides on the value after a label: a code with at least minDigits digits (or
// letters and three digits, like a passport number), not a date, amount or year, and not a
// number the city states. Word-like groups at its end stay.
func (r *Redactor) labelledValue(ctx context.Context, v, after string, minDigits int) (string, bool) {
	v, rest := cutGlued(v, after)
	for {
		i := strings.LastIndexAny(v, " ./-–")
		if i <= 0 {
			break
		}
		g := v[i+1:]
		if countDigits(g) > 0 || utf8.RuneCountInString(g) < 3 {
			break
		}
		v, rest = v[:i], v[i:]+rest
	}
	d := countDigits(v)
	letters := 0
	for _, c := range v {
		if unicode.IsLetter(c) {
			letters++
		}
	}
	if d < minDigits && (letters == 0 || d < 3 || utf8.RuneCountInString(v) < 6) {
		return "", false
	}
	if letters == 0 && (ordinaryNumber(v, rest+after) || r.stated(ctx, v)) {
		return "", false
	}
	return redLabeled + rest, true
}

// plateValue is a number plate: letters and digits, not too long.
func plateValue(v string) bool {
	letters := 0
	for _, c := range v {
		if unicode.IsLetter(c) {
			letters++
		}
	}
	return letters > 0 && countDigits(v) > 0 && utf8.RuneCountInString(v) <= 12
}

// secretValue replaces a secret unless the label was a postcode's or an area code's, or the
// value says something about the secret ("Passwort ist falsch").
func secretValue(v, _, whole string) (string, bool) {
	if notSecretWords[strings.ToLower(strings.TrimRight(v, ".,;!?"))] || reNotSecret.MatchString(whole) {
		return "", false
	}
	if countDigits(v) > 0 && utf8.RuneCountInString(v) < 4 {
		return "", false
	}
	return redSecret, true
}

func wordSet(words string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(words) {
		m[w] = true
	}
	return m
}

// Ordinary numbers that a long digit run may be made of: dates, times, years and ranges of
// them; and amounts, with their unit after them.
var (
	reOrdinaryPiece = regexp.MustCompile(`^(?:` +
		`\d{1,2}\.\d{1,2}\.(?:\d{4}|\d{2})?(?:[-–/]\d{1,2}\.\d{1,2}\.(?:\d{4}|\d{2})?)?|` +
		`\d{4}-\d{1,2}-\d{1,2}|\d{1,2}/\d{1,2}/\d{4}|` +
		`\d{1,2}[.:]\d{2}(?:[-–]\d{1,2}[.:]\d{2})?|` +
		`(?:19|20)\d{2}(?:[-–/](?:19|20)?\d{2})?|\d{1,2})$`)
	reUnitAfter = regexp.MustCompile(`(?i)^\s?(?:€|euro|eur\b|ct\b|cent|%|prozent|percent|liter|litre|l\b|kg|t\b|m²|m2|qm|km|m\b|` +
		`einwohner|inhabitants|people|personen|uhr|jahre|years|tage|days|lei|zł|zl\b|pln|руб|грн|₺|tl\b|usd|\$|dollar|kwh|ريال|تومان|ليرة|دينار)`)
)

// ordinaryNumber tells a run of digits that is a date, time, year or range of them, or an
// amount with its unit: what questions are about.
func ordinaryNumber(m, after string) bool {
	if reUnitAfter.MatchString(after) {
		return true
	}
	for _, p := range strings.Split(m, " ") {
		if !reOrdinaryPiece.MatchString(p) {
			return false
		}
	}
	return true
}

// Check digits of the numbers a digit run may be: payment cards (Luhn), PESEL, CNP and T.C.
// Kimlik No.
func luhn(d string) bool {
	if len(d) < 13 || len(d) > 19 {
		return false
	}
	sum := 0
	for i := range len(d) {
		n := int(d[len(d)-1-i] - '0')
		if i%2 == 1 {
			n *= 2
			if n > 9 {
				n -= 9
			}
		}
		sum += n
	}
	return sum%10 == 0
}

func pesel(d string) bool {
	if len(d) != 11 {
		return false
	}
	w := []int{1, 3, 7, 9, 1, 3, 7, 9, 1, 3}
	sum := 0
	for i, x := range w {
		sum += x * int(d[i]-'0')
	}
	return (10-sum%10)%10 == int(d[10]-'0')
}

func tcKimlik(d string) bool {
	if len(d) != 11 || d[0] == '0' {
		return false
	}
	n := func(i int) int { return int(d[i] - '0') }
	odd := n(0) + n(2) + n(4) + n(6) + n(8)
	even := n(1) + n(3) + n(5) + n(7)
	if ((odd*7-even)%10+10)%10 != n(9) {
		return false
	}
	sum := 0
	for i := range 10 {
		sum += n(i)
	}
	return sum%10 == n(10)
}

func cnp(d string) bool {
	if len(d) != 13 || d[0] == '0' {
		return false
	}
	w := "279146358279"
	sum := 0
	for i := range 12 {
		sum += int(w[i]-'0') * int(d[i]-'0')
	}
	c := sum % 11
	if c == 10 {
		c = 1
	}
	return c == int(d[12]-'0')
}

// Keywords: a label regexp runs only on a text whose lower case holds one of its keywords, so
// that most questions cost a few substring searches instead of a dozen large alternations.
var (
	keysStrong = strings.Fields(`ausweis reisepass aufenthalts steuer identifikation versicherung versicherten kunden aktenzeichen az. kassenzeichen ` +
		`vorgangs antrags mitglieds vertrags passnummer pass-nr passnr id card identity id number national id tax id tax identification tax number social security social insurance insurance number customer client number reference number file number case number account number membership number contract number application number residence ` +
		`kimlik vergi sigorta müşteri dosya ikamet oturma паспорт снилс инн рнокпп іпн ідентиф идентиф полис поліс страхов посвідк жительств ` +
		`внж клиент клієнт договор договір pesel nip dowod dowód paszport pobytu ubezpiecz cnp pașaport paşaport pasaport buletin identitate ` +
		`ședere fiscal dosar جواز هوية بطاقة قامة ضريب التأمين melli ملی پاسپورت گذرنامه کارت اقامت بیمه پرونده`)
	keysNumber = strings.Fields(`nummer nr number no. num. numara номер № numer număr numar شماره رقم`)
	keysPlate  = strings.Fields(`kennzeichen nummernschild plate plaka номер tablic rejestracyjn înmatriculare پلاک لوحة السيارة`)
	keysBIC    = strings.Fields(`bic swift`)
	keysSecret = strings.Fields(`kennw passw password passcode passphrase pin tan-nummer tan: tan  code otp şifre parola пароль код пін пин hasł kod parol cod ` +
		`كلمة رمز گذرواژه کلمه کد`)
)

// hasKey tells whether lower holds one of keys.
func hasKey(lower string, keys []string) bool {
	for _, k := range keys {
		if strings.Contains(lower, k) {
			return true
		}
	}
	return false
}
