package privacy

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Names: the one to three capitalised words after "mein Name ist", "I'm", "меня зовут", a
// greeting's signature ("Viele Grüße"), a title ("Frau", "Mr") or a relation ("mein Sohn");
// in Arabic and Persian, which have no capitals, the one or two words after such a phrase, up to
// a word that is clearly not a name. Capitalised words that are not names (Bürgerbüro, German,
// Kindergeld) end the name.
const (
	nameWord  = `\p{Lu}[\p{L}'’]*(?:-\p{Lu}[\p{L}'’]*)?`
	nameValue = `(?P<v>` + nameWord + `(?:[ ]` + nameWord + `){0,2})`
	titles    = `(?:\s+(?i:dr|prof|med|ing|dipl)\.)*`
)

var (
	reNameCased = regexp.MustCompile(bnd + `(?i:mein name ist|mein name lautet|mein name|ich heiße|ich heisse|hier schreibt|` +
		`(?:viele|liebe|beste|freundliche|herzliche|mit freundlichen|schöne) grüße?n?|grüße|gruß|mfg|lg|vg|` +
		`herrn?|frau|hr\.|fr\.|dr\.|prof\.|mein(?:e|em|en|er)? (?:sohn|tochter|mann|ehemann|frau|ehefrau|vater|mutter|bruder|schwester|` +
		`kind|enkel|enkelin|oma|opa|großmutter|großvater|partner|partnerin|nachbar|nachbarin|vermieter|vermieterin)|` +
		`my name is|my name's|name|(?:best |kind |warm )?regards|best wishes|sincerely|cheers|mr\.?|mrs\.?|ms\.?|` +
		`my (?:son|daughter|husband|wife|father|mother|brother|sister|child|grandson|granddaughter|grandmother|grandfather|partner|neighbou?r|landlord)|` +
		`benim adım|adım|ismim|adım soyadım|bay|bayan|sayın|saygılarımla|oğlum|kızım|eşim|annem|babam|kardeşim|` +
		`меня зовут|мо[её] имя|моя фамилия|с уважением|господин|госпожа|мой (?:сын|муж|отец|брат)|моя (?:дочь|жена|мать|сестра)|` +
		`мене звати|моє ім['’]я|моє прізвище|з повагою|пан|пані|мій (?:син|чоловік|батько|брат)|моя (?:донька|дочка|дружина|мати|сестра)|` +
		`pan|pani|panią|panu|nazywam się|mam na imię|moje imię to|moje nazwisko to|pozdrawiam|z poważaniem|mój (?:syn|mąż|ojciec|brat)|moja (?:córka|żona|matka|siostra)|` +
		`m[ăa] numesc|numele meu (?:este|e)|cu stim[ăa]|cu respect|domnul|doamna|dl\.|dna\.|fiul meu|fiica mea|so[țţ]ul meu|so[țţ]ia mea)` +
		titles + `[,:]?\s+` + nameValue)
	// "I'm Anna", "I am Anna Smith": not "I'm moving", "I'm 19", "I'm from Berlin", "I'm German".
	reNameIAm = regexp.MustCompile(bnd + `(?i:i'm|i’m|i am)\s+` + nameValue)
	// "Ich bin Anna Schmidt.": only a first and last name, then the sentence or clause ends. "Ich
	// bin Rentner", "Ich bin im Bürgerbüro", "Ich bin 30" stay.
	reNameIchBin = regexp.MustCompile(bnd + `(?i:ich bin)\s+(?P<v>` + nameWord + ` ` + nameWord + `)(?:\s*[,.!?;]|\s*$|\s+(?:und|aus)\s)`)
	// Arabic and Persian: no capitals; one or two words.
	reNameUncased = regexp.MustCompile(bnd + `(?:أنا اسمي|اسمي|إسمي|اسمى|مع التحية|مع خالص التحية|تحياتي|السيد|السيدة|ابني|ابنتي|زوجي|زوجتي|` +
		`اسم من|نام من|اسمم|با احترام|با سپاس|آقای|خانم|پسرم|دخترم|همسرم)[،,:]?\s+(?P<v>[\p{L}\x{200c}]+(?:[ ][\p{L}\x{200c}]+)?)`)

	// Words that end a name: capitalised common words of the ten languages, nationalities,
	// and the city's offices and services.
	notNameWords = wordSet(`ich und oder aber der die das den dem des ein eine einen mit aus vom von im in am an bei beim für zur zum hier bitte ` +
		`danke hallo guten tag ja nein sie er es wir ihr wie was wann wo warum welche wer kann können muss habe hat ist bin sind möchte brauche will ` +
		`dr prof herr frau and or from in at on the a an i my we you he she it is am are was not here there hello hi thanks thank please what when where ` +
		`how can do need want would new just still also very so currently looking moving living trying going sorry retired married single pregnant ` +
		`unemployed student self ok okay fine interested happy glad writing calling asking new a an ` +
		`german germans ukrainian turkish syrian afghan iranian polish romanian russian arab arabic english american british european italian ` +
		`french spanish greek kurdish iraqi persian muslim christian eu uk us deutscher deutsche deutsch türke türkin ` +
		`rentner rentnerin student studentin schüler schülerin bürger bürgerin mutter vater eltern kind kinder alleinerziehend alleinerziehende ` +
		`ausländer ausländerin flüchtling selbstständig selbständig arbeitslos schwanger neu gerade jetzt leider auch noch schon nicht seit sehr ` +
		`kein keine eigentümer eigentümerin mieter mieterin vermieter besitzer unternehmer mitglied inhaber inhaberin bewohner anwohner halter ` +
		`antragsteller antragstellerin bürgerbüro stadt rathaus amt standesamt ordnungsamt jobcenter ausländerbehörde stadtverwaltung ` +
		`bürgermeister bürgermeisterin bibliothek stadtbibliothek schule kita kindergarten ausweis personalausweis reisepass pass kinderreisepass ` +
		`kindergeld elterngeld wohngeld anmeldung termin führerschein geburtsurkunde formular antrag gebühr musterstadt ` +
		`ben ve ile için bir bu şu merhaba teşekkürler я и в на из у меня мне мой моя это здравствуйте привет дякую і з у мені мій моя це вітаю ` +
		`ja i w na z jestem mam dzień dobry eu și în din la pentru sunt bună ziua`)
	// Word-final parts of German nouns: a capitalised word ending so is a thing, not a name.
	nounEndings = []string{"ung", "heit", "keit", "schaft", "geld", "schein", "ausweis", "pass", "urkunde", "amt", "büro", "zentrum",
		"schule", "garten", "antrag", "termin", "karte", "stelle", "behörde", "straße", "bescheid", "steuer", "tion", "ität", "gebühr",
		"zuschuss", "beitrag", "versicherung", "platz"}
	// Arabic and Persian words that end a name: particles, verbs of the questions, "is".
	notNameUncased = wordSet(`و من في أنا عمري أريد وأريد اريد واريد هل كيف ماذا متى أين لدي ولدي عندي وعندي أسكن وأسكن أعيش وأعيش ` +
		`يريد تريد يحتاج تحتاج أحتاج وأحتاج احتاج على إلى الى عن مع هو هي أود وأود كان ` +
		`الصف مدرسة المدرسة طالب طالبة يدرس تدرس عمره عمرها سنة سنوات روضة الروضة کلاس مدرسه دبستان مهد ساله سال سالش کودکستان دانشجو دانش‌آموز است هست هستم و از در به با که را می‌خواهم میخواهم دارم من برای هم شماره تا یک می‌خواهد میخواهد نیاز`)
)

// redactNames replaces the names the citizen gives.
func redactNames(text, lower string) string {
	if hasKey(lower, keysNameCased) {
		text = replaceValues(text, reNameCased, nameOf)
	}
	if hasKey(lower, keysNameIAm) {
		text = replaceValues(text, reNameIAm, nameOf)
	}
	if !hasKey(lower, keysNameIchBin) && !hasKey(lower, keysNameUncased) {
		return text
	}
	text = replaceValues(text, reNameIchBin, func(v, _, _ string) (string, bool) {
		for _, w := range strings.Fields(v) {
			if !nameLike(w) {
				return "", false
			}
		}
		return redName, true
	})
	text = replaceValues(text, reNameUncased, func(v, _, _ string) (string, bool) {
		words := strings.Fields(v)
		n := 0
		for _, w := range words {
			if notNameUncased[w] || strings.ContainsAny(w, "0123456789") {
				break
			}
			n++
		}
		if n == 0 {
			return "", false
		}
		return strings.Join(append([]string{redName}, words[n:]...), " "), true
	})
	return text
}

// nameOf keeps the name-like words at the value's start as [name] and the rest as they were.
func nameOf(v, _, _ string) (string, bool) {
	words := strings.Split(v, " ")
	n := 0
	for _, w := range words {
		if !nameLike(w) {
			break
		}
		n++
	}
	if n == 0 {
		return "", false
	}
	return strings.Join(append([]string{redName}, words[n:]...), " "), true
}

// nameLike tells a capitalised word that may be a name: not a common word, not an acronym
// (ID, EU), not a German noun by its ending.
func nameLike(w string) bool {
	lw := strings.ToLower(strings.TrimRight(w, "'’"))
	if notNameWords[lw] {
		return false
	}
	if utf8.RuneCountInString(w) >= 2 && strings.IndexFunc(w, unicode.IsLower) < 0 {
		return false
	}
	for _, e := range nounEndings {
		if strings.HasSuffix(lw, e) && len(lw) > len(e)+1 {
			return false
		}
	}
	return true
}

var (
	keysNameCased = strings.Fields(`name heiße heisse schreibt grüß gruß mfg lg vg herr frau hr. fr. dr. prof. sohn tochter mann vater mutter ` +
		`bruder schwester kind enkel oma opa groß partner nachbar vermieter my regards wishes sincerely cheers mr ms adım ismim bay sayın saygı ` +
		`oğlum kızım eşim annem babam kardeşim зовут имя фамилия уважением господ госпож мой моя звати ім прізвище повагою пан мій ` +
		`pan pani nazywam imię nazwisko pozdrawiam poważaniem mój moja numesc numele stim respect domn doamn dl. dna. fiul fiica soț soţ`)
	keysNameIAm     = []string{"i'm", "i’m", "i am"}
	keysNameIchBin  = []string{"ich bin"}
	keysNameUncased = strings.Fields(`اسم اسمى التحية تحياتي السيد ابن زوج نام احترام سپاس آقای خانم پسرم دخترم همسرم`)
)
