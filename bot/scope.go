package bot

import (
	"strings"

	"github.com/citybot-project/citybot/analysis"
)

// intent is what a message is about before any retrieval.
type intent int

const (
	intentQuestion   intent = iota // a question for the city's pages
	intentHuman                    // the citizen asks for a person
	intentGreeting                 // hello, thanks: nothing to look up
	intentOutOfScope               // not the city's business, or not a question for a bot
	intentOtherBody                // what another authority or company does: a redirect when a page names it
)

// verdict is what classify makes of a message.
type verdict struct {
	intent   intent
	category string     // the out-of-scope category or the other body, for tests and logs
	body     *bodyScope // intentOtherBody: who does it
	city     string     // categoryOtherCity: the city asked about, folded
}

// categoryOtherCity: the question asks for a service in another city.
const categoryOtherCity = "other_city"

// The phrases below are matched on folded text (lower case, no diacritics, ä = a) as whole
// words; a phrase ending in "*" matches any word it starts ("wetter*" finds "Wetterbericht",
// "погод*" finds "погода", "погоди").
//
// The lists are sorted by kinds of request, each in every catalog language, and are general to
// every city: they were written from the kinds of requests municipal chatbots report (prompt
// injection, abuse, small talk, advice, homework, voting advice, other authorities' business),
// not from test questions. Where a word alone also belongs to ordinary questions ("schreiben",
// "Partei", "empfehlen", "übersetzen"), a category pairs it: the request ("schreib mir") and
// what it is for ("Gedicht") must both be there.

// category is a kind of request no town's bot answers.
type category struct {
	name    string
	phrases []string      // any one of them is enough
	pairs   [][2][]string // or one phrase of each side of a pair
	unless  []string      // phrases that make the message a question for the town after all
}

// townMatters are the town's own services that a message about another body often names too
// ("Meldebescheinigung für die Familienkasse", "Wohngeld trotz Rente"): with one of them the
// message is a question for the town's pages, not a redirect.
var townMatters = []string{
	"wohngeld*", "grundsicherung*", "sozialhilfe*", "unterhaltsvorschuss*", "anmeld*", "ummeld*", "abmeld*",
	"meldebescheinigung*", "wohnsitz*", "personalausweis*", "aufenthalt*", "niederlassungserlaubnis*",
	"einburgerung*", "auslanderbehorde*", "verpflichtungserklarung*", "fuhrungszeugnis*", "urkunde*",
	"geburtsurkunde*", "sterbeurkunde*", "eheurkunde*", "standesamt*", "eheschliessung*", "kita*", "kindergarten*",
	"hundesteuer*", "grundsteuer*", "gewerbesteuer*", "gewerbe*", "zweitwohnung*", "kirchenaustritt*", "asylbewerberleistung*",
	"integrationskurs*", "fuhrerschein*", "kfz zulassung*", "sperrmull*", "wahl*", "briefwahl*", "register*", "registration*",
	"vote", "voting", "election*", "secim*", "oy kullan*", "выбор*", "голосова*", "вибор*", "голосуван*", "wybor*",
	"glosowa*", "alegeri*", "vot", "votez", "انتخاب*", "الانتخابات", "التصويت",
	"housing benefit", "register my address", "registration certificate", "residence permit*", "naturalisation*",
	"naturalization*", "citizenship", "birth certificate*", "marriage certificate*", "certificate of good conduct",
	"childcare", "daycare", "dog tax", "driving licence*", "driver s license", "id card*",
	"konut yardimi", "ikamet*", "oturum izni", "vatandaslik*", "dogum belgesi", "kres*", "kopek vergisi", "ehliyet*", "kimlik karti*",
	"жилищное пособие", "жилищного пособия", "прописк*", "вид на жительство", "гражданств*", "свидетельство о рождении",
	"детский сад", "детсад*", "водительск*", "житлова допомога", "житлову допомогу", "житлової допомоги",
	"реєстрац*", "посвідка на проживання", "посвідку на проживання", "громадянств*", "свідоцтво про народження",
	"дитячий садок", "садочок", "посвідчення водія",
	"اعانة السكن", "بدل السكن", "تسجيل السكن", "تسجيل العنوان", "الاقامة", "تصريح الاقامة", "الجنسية", "التجنس",
	"شهادة الميلاد", "روضة", "الحضانة", "رخصة القيادة",
	"کمک هزینه مسکن", "ثبت ادرس", "ثبت محل سکونت", "اقامت", "تابعیت", "شهروندی", "گواهی تولد", "شناسنامه", "مهدکودک", "گواهینامه",
	"dodatek mieszkaniowy", "zameldowani*", "zameldowac", "meldunek", "karta pobytu", "karty pobytu", "obywatelstw*",
	"akt urodzenia", "przedszkol*", "zlobek", "prawo jazdy",
	"ajutor pentru locuinta", "inregistrare*", "permis de sedere", "permisul de sedere", "cetatenie*", "certificat de nastere",
	"gradinita", "permis de conducere", "permisul de conducere",
}

// Asking for a person, in every catalog language.
var humanPhrases = []string{
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

var greetings = []string{"hallo", "hi", "hey", "guten tag", "guten morgen", "guten abend", "moin", "servus", "danke", "vielen dank", "thanks", "thank you", "hello", "merhaba", "tesekkurler", "привет", "здравствуйте", "спасибо", "дякую", "вітаю", "مرحبا", "شكرا", "سلام", "ممنون", "czesc", "dzien dobry", "dziekuje", "buna", "multumesc"}

// injection: attempts to change the bot's instructions or read them out. Checked first, since
// an injection may wrap any question.
var injection = category{name: "injection", phrases: []string{
	"ignore all", "ignore previous", "ignore your", "ignore the above", "disregard", "forget your", "forget all",
	"system prompt", "your instructions", "your rules", "which instructions", "jailbreak", "developer mode",
	"pretend you are", "pretend to be", "you are now", "from now on you", "roleplay", "role play",
	"ignoriere*", "vergiss deine", "vergiss alle", "vergiss alles", "deine anweisungen", "deine regeln", "systemprompt",
	"tu so als", "stell dir vor du bist", "du bist jetzt", "ab jetzt bist du", "rollenspiel*",
	"talimatlari unut", "onceki talimatlar*", "sistem istemi", "gibi davran", "artik sen",
	"игнорируй*", "забудь", "системный промпт", "системные инструкции", "твои инструкции", "свои инструкции",
	"притворись", "представь что ты", "ты теперь",
	"ігноруй*", "системний промпт", "твої інструкції", "свої інструкції", "прикинься", "уяви що ти", "ти тепер",
	"zignoruj*", "zapomnij*", "twoje instrukcje", "prompt systemowy", "udawaj", "od teraz jestes",
	"ignora", "uita instructiunile", "instructiunile tale", "promptul de sistem", "prefa te",
	"تجاهل", "انس التعليمات", "تعليماتك", "تظاهر بانك", "نادیده بگیر", "دستورالعمل هایت", "دستورات قبلی", "وانمود کن",
}}

// outOfScope are the categories declined at once, in the order they are tried.
var outOfScope = []category{
	{name: "abuse", phrases: []string{
		"idiot*", "vollidiot*", "dumm", "dumme", "dummer", "dummes", "dummen", "dummkopf*", "blod", "blode", "bloder",
		"blodes", "bloden", "blodmann", "scheiss*", "arschloch*", "nutzlos*", "halt die klappe", "halts maul",
		"verpiss dich", "wichser*", "hurensohn*", "trottel*", "depp", "deppen",
		"useless*", "stupid*", "fuck*", "shit", "shut up", "dumb", "moron*", "you suck",
		"aptal*", "salak*", "gerizekali*", "ise yaramaz", "siktir*", "kapa ceneni", "gerzek*",
		"тупой*", "идиот*", "бесполезн*", "дурн*", "дурак*", "заткнись", "тупий*", "ідіот*", "марний", "дурень", "замовкни",
		"glupi*", "bezuzyteczn*", "idiota*", "debil*", "zamknij sie", "inutil", "prost", "proasta", "taci", "dobitoc*",
		"احمق", "غبي", "عديم الفائدة", "اخرس", "بی فایده", "خفه شو", "نفهم",
	}},
	{name: "smalltalk", phrases: []string{
		"witz*", "joke*", "langweilig*", "bored", "wie geht es dir", "wie gehts", "wie alt bist du", "bist du verheiratet",
		"liebst du mich", "sinn des lebens", "erzahl mir", "how are you", "who made you", "tell me a story",
		"how old are you", "are you married", "do you love me", "meaning of life", "sing a song",
		"fikra", "saka", "nasilsin", "canim sikiliyor", "kac yasindasin", "beni seviyor musun",
		"анекдот*", "шутк*", "как дела", "как у тебя дела", "мне скучно", "сколько тебе лет", "расскажи сказку",
		"кто тебя создал", "жарт*", "як справи", "мені нудно", "скільки тобі років", "розкажи казку", "хто тебе створив",
		"dowcip*", "kawal*", "jak sie masz", "nudzi mi sie", "ile masz lat", "opowiedz bajke", "kto cie stworzyl",
		"gluma*", "banc", "ce mai faci", "ma plictisesc", "cati ani ai", "spune mi o poveste", "cine te a creat",
		"نكتة", "كيف حالك", "اشعر بالملل", "كم عمرك", "من صنعك", "احكي لي قصة",
		"جوک", "لطیفه", "حالت چطوره", "حوصله ام سر رفته", "چند سالته", "قصه بگو",
	}},
	// Weather, exchange rates, shares, lottery: never a city service.
	{name: "topics", phrases: []string{
		"wetter*", "wechselkurs*", "aktienkurs*", "aktie", "aktien", "borse", "borsenkurs*", "bitcoin*", "krypto*", "lotto*",
		"lottozahlen", "eurojackpot", "bundesliga*",
		"weather", "forecast", "exchange rate*", "stock price*", "share price*", "stock market", "crypto*", "lottery", "premier league",
		"hava durumu", "hava nasil", "doviz*", "dolar kuru", "euro kuru", "borsa*", "hisse senedi*", "kripto*", "piyango*", "super lig",
		"погод*", "курс евро", "курс доллар*", "курс валют*", "курс рубля", "курс акций", "цена акций", "фондов* бирж*",
		"биткоин*", "криптовалют*", "лотере*", "лото", "курс гривні", "курс долар*", "ціна акцій", "курс акцій",
		"біткоін*", "біткойн*",
		"pogoda", "pogody", "pogode", "prognoza pogody", "kurs walut", "kurs euro", "kurs dolara", "kurs akcji", "cena akcji",
		"gielda", "gieldzie", "kryptowalut*", "loteri*",
		"vremea*", "prognoza meteo", "meteo", "curs valutar", "cursul valutar", "cursul euro", "pretul actiunilor",
		"criptomoned*", "loto", "loteria", "loterie",
		"طقس", "الطقس", "حالة الجو", "سعر الصرف", "سعر الدولار", "سعر اليورو", "اسعار الاسهم", "سعر السهم", "البورصة",
		"بيتكوين", "العملات الرقمية", "اليانصيب",
		"هوا چطور", "وضع هوا", "اب و هوا", "پیش بینی هوا", "نرخ ارز", "قیمت دلار", "قیمت یورو", "قیمت سهام", "بورس",
		"بیت کوین", "ارز دیجیتال", "لاتاری", "بخت ازمایی",
	}},
	// Medical and veterinary advice.
	{name: "medical", phrases: []string{
		"durchfall*", "fieber*", "medikament*", "tablette*", "symptom*", "kopfschmerz*", "bauchschmerz*", "halsschmerz*",
		"zahnschmerz*", "schmerzen", "husten", "erkaltung*", "erbrech*", "ubelkeit", "antibiotik*", "ibuprofen",
		"paracetamol", "dosierung*", "tut weh", "tut mir weh", "tun weh", "was soll ich einnehmen",
		"diarrh*", "fever", "medicine", "medication*", "which drug", "pill", "pills", "headache*", "stomach ache",
		"sore throat", "cough*", "rash", "painkiller*", "antibiotic*", "dosage", "vomit*", "what should i take",
		"ishal*", "ilac*", "ates", "atesi", "atesim", "atesli", "bas agri*", "karin agri*", "bogaz agri*", "agriyor", "oksuru*", "kusma*",
		"понос*", "диаре*", "температур*", "лекарств*", "таблетк*", "симптом*", "болит", "болят", "головная боль",
		"кашель", "кашля", "рвот*", "тошнит", "антибиотик*", "простуд*",
		"ліки*", "пронос*", "діаре*", "болить", "болять", "головний біль", "кашлю", "блюван*", "нудить", "застуд*",
		"biegunk*", "goraczk*", "lekarstw*", "lek", "leki", "lekow", "tabletk*", "objawy", "boli mnie", "bol glowy",
		"kaszel", "kaszlu", "wymiot*", "antybiotyk*", "przeziebi*",
		"diaree*", "febra*", "medicament*", "pastil*", "simptom*", "ma doare", "durere de cap", "dureri de", "tuse",
		"tusesc", "varsaturi", "antibiotic", "raceala", "ce sa iau",
		"الدواء", "دواء", "ادويه", "حرارته", "الحمى", "حمى", "اسهال", "إسهال", "صداع", "يولمني", "سعال", "كحة", "مضاد حيوي",
		"قيء", "غثيان",
		"دارو", "داروی", "قرص", "تب دارم", "تب", "سردرد", "سر درد", "درد دارم", "سرفه", "استفراغ", "حالت تهوع", "انتی بیوتیک",
	}},
	// Private legal disputes and claims, which need a lawyer, not the city.
	{name: "legal", phrases: []string{
		"verklagen*", "klage einreichen", "schmerzensgeld*", "anwalt*", "rechtsanwalt*", "meine chancen", "schadensersatz*", "mietminderung*",
		"rechtsstreit*", "sue", "lawsuit", "lawyer", "compensation claim", "my chances",
		"dava ac*", "dava etmek", "avukat*", "tazminat*", "подать в суд", "адвокат*", "судитися*", "подати до суду",
		"pozwac", "adwokat*", "odszkodowani*", "avocat*", "da in judecata", "despagubir*",
		"مقاضاة", "محامي", "وکیل", "شکایت کنم", "غرامت",
	}, pairs: [][2][]string{{
		// A landlord's, neighbour's or employer's conduct is a private dispute when the question
		// is whether they may; noise and quiet hours are the town's (Ordnungsamt), see unless.
		{"vermieter*", "landlord", "nachbar*", "neighbour", "neighbor", "arbeitgeber*", "employer", "ev sahibi", "komsu*",
			"арендодател*", "сосед*", "работодател*", "орендодав*", "сусід*", "роботодав*", "wlasciciel mieszkania",
			"sasiad*", "pracodawc*", "proprietar*", "vecin*", "angajator*", "المالك", "صاحب الشقة", "الجار", "جاري", "صاحبخانه", "همسایه"},
		{"darf der", "darf die", "darf er", "darf sie", "darf mein", "darf meine", "allowed to", "can he", "can she", "can my",
			"is that legal", "ist das erlaubt", "ist das legal", "zulassig", "yapabilir mi", "hakki var mi", "имеет ли он право",
			"имеет ли право", "может ли он", "чи має право", "чи може він", "czy moze", "czy ma prawo", "are voie", "are dreptul",
			"هل يحق", "هل يجوز", "حق دارد", "ایا می تواند"},
	}}, unless: append([]string{"wohnungsgeber*", "landlord confirmation", "larm*", "laut*", "rasen mah*", "mahen",
		"sonntag*", "feiertag*", "nachts", "grill*", "musik*", "bellt", "bellen", "party", "partys", "ruhezeit*", "nachtruhe", "mittagsruhe", "ruhestorung*", "rasenmah*", "noise",
		"loud", "quiet hours", "gurultu*", "шум*", "tisza*", "halas*", "zgomot*", "ضجيج", "سر و صدا"}, townMatters...)},
	// Recommendations of businesses, doctors, apps: the town does not rank them.
	{name: "recommend", phrases: []string{
		"cheapest", "best rated", "gunstigste*", "billigste*",
	}, pairs: [][2][]string{{
		{"empfehl*", "empfiehl*", "beste", "bester", "besten", "bestes", "einen guten", "eine gute", "ein gutes", "guter",
			"recommend*", "best", "a good", "any good", "oner*", "tavsiye*", "en iyi", "en ucuz", "iyi bir",
			"порекоменд*", "рекоменд*", "посовет*", "лучший", "лучшего", "лучшую", "лучшие", "лучших", "хороший", "хорошего", "хорошую", "самый дешев*", "порад*", "найкращ*", "найдешевш*",
			"polec*", "najlepsz*", "najtansz*", "dobrego", "dobra", "dobrej", "recomand*", "cel mai bun", "cea mai buna",
			"cel mai ieftin", "توصي", "تنصح", "تنصحني", "افضل", "ارخص", "جيد", "پیشنهاد*", "توصیه*", "بهترین", "ارزان ترین"},
		{"restaurant*", "hotel*", "cafe*", "kneipe*", "arzt", "arztin", "arzte", "zahnarzt*", "kinderarzt*", "frauenarzt*",
			"hausarzt*", "friseur*", "geschaft*", "supermarkt*", "handwerker*", "klempner*", "elektriker*",
			"werkstatt*", "umzugsfirma*", "umzugsunternehmen*", "makler*", "fahrschule*", "sprachschule*", "pizzeria*", "supermarket*",
			"doctor*", "dentist*", "hairdresser*", "barber*", "shop*", "store*", "plumber*", "electrician*",
			"mechanic*", "moving company", "estate agent*", "realtor*", "driving school*", "language school*",
			"restoran*", "otel*", "kafe*", "doktor*", "disci*", "dis hekimi", "kuafor*", "berber*", "marketi", "marketler", "dukkan*",
			"magaza*", "tamirci*", "nakliyat*", "emlakci*", "surucu kursu", "dil okulu",
			"ресторан*", "гостиниц*", "отел*", "кафе", "врач*", "доктор*", "стоматолог*", "парикмахер*", "магазин*",
			"супермаркет*", "автосервис*", "риелтор*", "автошкол*", "готел*", "лікар*", "перукар*", "автосервіс*",
			"ріелтор*",
			"restauracj*", "kawiarni*", "lekarz*", "dentyst*", "fryzjer*", "sklep*", "mechanik*", "warsztat*",
			"szkol* jazdy", "szkol* jezykow*",
			"cafenea", "medic", "medicul", "doctorul", "frizer*", "magazin*", "service auto", "mecanic*",
			"scoala de soferi",
			"مطعم", "مطاعم", "فندق", "مقهى", "طبيب", "دكتور", "طبيب اسنان", "حلاق", "متجر", "محلات", "سوبرماركت", "ورشة",
			"رستوران", "هتل", "کافه", "پزشک", "دکتر", "دندانپزشک", "ارایشگاه", "مغازه", "فروشگاه", "سوپرمارکت", "تعمیرگاه",
			// Banks, insurers, telephone and internet providers, apps: products the town does
			// not rank either.
			"bank", "banken", "girokonto*", "versicherung*", "handyvertrag*", "mobilfunk*", "internetanbieter*", "app", "apps",
			"bank account", "insurance", "phone contract", "mobile plan", "internet provider",
			"banka", "bankasi", "sigorta*", "hat tarifesi", "internet saglayici*", "uygulama*",
			"банк", "банка", "банке", "банков", "страхов*", "мобильн* оператор*", "интернет провайдер*", "приложени*",
			"банку", "страхуван*", "застосун*", "додаток", "додатки",
			"bankow*", "konto", "ubezpiecz*", "siec komorkow*", "aplikacj*",
			"banca", "banci", "cont bancar", "asigurar*", "operator de telefonie", "aplicati*",
			"بنك", "البنك", "حساب بنكي", "تامين", "شركة الاتصالات", "تطبيق",
			"بانک", "حساب بانکی", "بیمه", "اپلیکیشن", "اپ"},
	}}},
	// Voting advice and opinions on politics, politicians and religion. Where and how to vote
	// (Briefwahl, Wahllokal) and who sits on the council are the town's, so a party or the mayor
	// alone declines nothing: only advice ("wen soll ich wählen") or an opinion asked of the bot.
	{name: "politics", phrases: []string{
		"wen soll ich wahl*", "wen sollte ich wahl*", "wen soll man wahl*", "was soll ich wahl*", "wen wahl ich",
		"wem soll ich meine stimme", "welche partei soll", "welche partei sollte", "welche partei ist die beste",
		"welche partei ist gut", "welche partei ist besser", "welche partei wahl*", "welche partei passt",
		"wahlempfehlung*", "gibt es gott",
		"who should i vote", "who to vote for", "who do i vote", "who would you vote", "which party should",
		"which party is best", "which party is the best", "which party is better", "which party to vote",
		"should i vote for", "does god exist", "is god real",
		"kime oy", "oyumu kime", "hangi partiye oy", "hangi parti iyi", "hangi partiyi sec*", "kimi secmeliyim", "allah var mi",
		"за кого голосовать", "за кого мне голосовать", "за кого проголосовать", "за какую партию", "какую партию выбрать",
		"есть ли бог", "за кого голосувати", "за кого мені голосувати", "за кого проголосувати", "за яку партію",
		"яку партію обрати", "чи існує бог",
		"na kogo glosowac", "na kogo mam glosowac", "na kogo zaglosowac", "na ktora partie", "ktora partia jest najlepsza",
		"czy bog istnieje",
		"cu cine sa votez", "cu cine votez", "cu cine ar trebui sa votez", "pe cine sa votez", "cu ce partid",
		"ce partid sa votez", "ce partid e cel mai bun", "exista dumnezeu",
		"لمن اصوت", "لمن يجب ان اصوت", "لاي حزب", "اي حزب اختار", "اي حزب افضل", "هل الله موجود",
		"به چه کسی رای", "به کی رای", "به کدام حزب رای", "کدام حزب بهتر", "ایا خدا وجود دارد",
	}, pairs: [][2][]string{{
		// whom to vote for, with words between ("Wen soll ich bei der Bundestagswahl wählen?")
		{"wen soll ich", "wen sollte ich", "wen soll man", "who should i", "kime", "за кого", "na kogo", "cu cine",
			"pe cine", "لمن", "به کی", "به چه کسی"},
		{"wahlen", "wahle", "vote", "oy", "голосовать", "проголосовать", "голосувати", "проголосувати", "glosowac",
			"zaglosowac", "votez", "votam", "اصوت", "رای"},
	}, {
		// the bot's opinion, or a verdict, asked for
		{"was haltst du", "was halten sie", "was denkst du", "was denken sie", "was meinst du", "wie findest du",
			"wie finden sie", "deine meinung", "ihre meinung", "deiner meinung", "magst du", "bist du fur", "bist du gegen",
			"gute arbeit", "guten job", "schlechte arbeit", "schlechten job", "gut oder schlecht", "ein guter", "besser als",
			"what do you think", "your opinion", "your view", "do you like", "do you support", "are you for", "are you against",
			"good job", "bad job", "doing a good", "doing a bad", "doing well", "good or bad", "better than", "a good mayor",
			"a bad mayor", "good politician",
			"ne dusunuyorsun", "ne dusunuyorsunuz", "fikrin", "sence", "sizce", "begeniyor musun", "iyi mi", "iyi is",
			"kotu mu", "daha iyi",
			"что ты думаешь", "что вы думаете", "твое мнение", "ваше мнение", "как ты относишься", "как вы относитесь",
			"нравится ли", "хорошо ли", "хороший ли", "лучше чем", "що ти думаєш", "що ви думаєте", "твоя думка",
			"ваша думка", "як ти ставишся", "як ви ставитеся", "чи подобається", "чи добре", "чи хороший", "краще ніж",
			"co myslisz", "co sadzisz", "twoja opinia", "twoim zdaniem", "czy lubisz", "dobra robote", "czy dobrze",
			"lepsza niz", "lepszy niz",
			"ce parere ai", "ce crezi despre", "parerea ta", "iti place", "e bun", "este bun", "e buna", "mai bun decat",
			"ما رايك", "رايك في", "هل تحب", "هل تويد", "هل هو جيد", "افضل من",
			"نظرت درباره", "نظر شما درباره", "نظرت در مورد", "چه فکری", "به نظرت", "ایا خوب", "بهتر از"},
		// politics and religion
		{"partei*", "politik*", "politiker*", "burgermeister*", "oberburgermeister*", "landrat", "regierung*",
			"bundesregierung", "kanzler*", "minister*", "religion*", "islam*", "christentum", "afd", "cdu", "csu", "spd",
			"fdp", "grunen", "grune", "bsw", "linke", "stadtrat", "gemeinderat",
			"political party", "politic*", "mayor", "government", "chancellor", "minister", "religion*", "islam", "christianity",
			"council", "siyasi parti*", "siyaset*", "politika*", "belediye baskan*", "hukumet*", "dinler", "dini", "islam", "chp", "akp",
			"mhp", "erdogan",
			"парти*", "политик*", "мэр*", "бургомистр*", "правительств*", "канцлер*", "религи*", "ислам*", "путин*",
			"партія", "партію", "партії", "політик*", "мер", "мера", "мером", "бургомістр*", "уряд*", "релігі*",
			"partia", "partie", "partii", "polityk*", "burmistrz*", "prezydent miasta", "rzad", "rzadu", "rzadem", "kanclerz*", "religi*",
			"partid*", "politic*", "primar", "primarul", "guvern*", "cancelar*", "religia", "religie",
			"حزب", "الحزب", "احزاب", "الاحزاب", "سياس*", "العمدة", "عمدة", "رئيس البلدية", "الحكومة", "الدين", "الاسلام", "المستشار",
			"حزب", "احزاب", "سیاست*", "سیاسی", "شهردار", "دولت", "دین", "اسلام", "صدراعظم"},
	}}},
	// Writing, homework, translation and maths for the citizen: not a service of the town.
	{name: "writing", phrases: []string{
		"meine hausaufgab*", "meinen hausaufgab*", "meiner hausaufgab*", "hausaufgaben machen", "hausaufgabe machen",
		"hausaufgaben losen", "matheaufgab*", "mathaufgab*", "rechenaufgab*", "gleichung*", "quadratwurzel*", "dreisatz",
		"ubersetz mir", "ubersetze mir", "ubersetze diesen", "ubersetze diese", "ubersetze das", "ubersetz das",
		"ubersetze den folgenden", "ubersetze folgenden", "ubersetze bitte", "ubersetz bitte", "ubersetzen sie mir",
		"my homework", "my essay", "my assignment", "solve this equation", "solve the equation", "solve this math",
		"solve for x", "math problem*",
		"maths problem*", "equation*", "derivative of", "integral of", "square root", "translate this",
		"translate the following", "translate for me", "can you translate", "please translate",
		"odevim*", "odevimi", "odevini yap", "denklem*", "matematik sorusu", "matematik problemi", "karekok*",
		"bunu cevir*", "cevirir misin", "cevirebilir misin", "tercume et*", "tercume eder misin", "ingilizceye cevir",
		"almancaya cevir", "turkceye cevir",
		"домашнее задание", "домашку", "мою домашн*", "уравнени*", "реши задачу", "реши пример", "решите задачу",
		"квадратный корень", "интеграл*", "производную", "переведи", "переведите этот", "переведите текст",
		"переведите на", "перевести этот текст",
		"домашнє завдання", "моє домашн*", "рівнян*", "розв яжи*", "розв яжіть*", "квадратний корінь", "похідну",
		"переклади мені", "переклади цей", "перекладіть мені", "перекладіть цей", "переклади будь ласка",
		"перекладіть будь ласка",
		"zadanie domowe", "zadania domowe", "zadaniem domowym", "prace domowa", "prace domowe", "pracy domowej", "moja prace domowa", "rownani*", "rozwiaz zadanie",
		"zadanie z matematyki", "pierwiastek kwadratowy", "przetlumacz", "przetlumacz mi",
		"przetlumaczysz", "przetlumacz ten", "przetlumacz to",
		"tema pentru acasa", "temele mele", "tema mea", "ecuati*", "rezolva exercitiul",
		"problema de matematica", "radical din", "tradu", "tradu mi", "traduceti mi", "traduceti acest",
		"poti sa traduci", "poti traduce",
		"واجبي", "الواجب المنزلي", "واجباتي", "معادله", "مساله رياضيات", "حل هذه المساله", "الجذر التربيعي",
		"ترجم لي", "ترجم هذا", "ترجم هذه", "ترجمها", "ترجم النص",
		"تکلیفم", "تکالیفم", "تکلیف مدرسه", "مساله ریاضی", "مسئله ریاضی", "جذر", "ترجمه کن",
		"این متن را ترجمه", "برام ترجمه",
	}, pairs: [][2][]string{{
		// a request to write ...
		{"schreib", "schreibe", "schreibst", "verfass", "verfasse", "formuliere mir", "dichte", "erstelle mir",
			"erstell mir", "mach mir", "kannst du mir", "konntest du mir", "schreiben sie mir",
			"write", "draft", "compose", "generate", "write me", "make me",
			"yaz", "yazar misin", "yazabilir misin", "yazin", "yazsana", "hazirla",
			"напиши", "напишите", "составь", "составьте", "сочини", "сочините", "помоги написать",
			"напиши мені", "напишіть", "склади", "складіть", "придумай", "допоможи написати",
			"napisz", "napiszesz", "napisz mi", "uloz", "stworz", "pomoz napisac",
			"scrie", "scrie mi", "scrieti", "compune", "redacteaza",
			"اكتب", "اكتبي", "اكتب لي", "بنویس", "بنویسید", "بنویسی", "برام بنویس"},
		// ... what only the citizen writes
		{"gedicht*", "aufsatz*", "essay*", "bewerbung*", "anschreiben", "motivationsschreiben", "lebenslauf*",
			"liebesbrief*", "kurzgeschichte*", "songtext*", "lied", "rede", "hausaufgab*", "referat*",
			"hausarbeit*", "facharbeit*", "seminararbeit*", "bachelorarbeit*", "masterarbeit*", "python", "javascript",
			"sql", "html", "programmcode", "computerprogramm*",
			"poem*", "story", "stories", "song*", "lyrics", "cover letter*", "motivation letter*", "cv", "resume",
			"speech", "homework", "assignment*", "script", "love letter", "article", "blog post", "thesis", "program code",
			"siir*", "kompozisyon*", "makale*", "ozgecmis*", "on yazi", "is basvuru*", "hikaye*", "odev*",
			"sarki*", "ask mektubu", "konusma metni",
			"стих*", "стихотворени*", "сочинени*", "эссе", "резюме", "сопроводительн*", "рассказ*", "сказк*", "песн*",
			"реферат*", "доклад*", "домашн*", "речь", "вірш*", "твір", "есе", "супровідн*", "оповідан*",
			"казк*", "пісн*", "промов*",
			"wiersz*", "wypracowani*", "esej*", "list motywacyjny", "zyciorys*", "opowiadani*", "bajk*", "piosenk*",
			"referat*", "przemowieni*",
			"poezi*", "poem", "poemul", "eseu*", "compuner*", "scrisoare de intentie", "scrisoare de motivare", "povest*",
			"cantec*", "referat", "discurs*", "tema", "teme",
			"قصيده", "شعر", "مقال", "مقاله", "سيره ذاتيه", "رساله تحفيزيه", "قصه", "الواجب", "اغنيه",
			"انشا", "انشاء", "رزومه", "نامه انگیزشی", "داستان", "تکلیف", "تکالیف", "اهنگ", "سخنرانی"},
	}}, unless: townMatters},
}

// bodyScope is another authority or company whose business citizens bring to the town: the
// messages that are about it, and the names its pages give it.
type bodyScope struct {
	name   string   // as a town's pages name it
	names  []string // names and synonyms a page may use for it
	cues   []string // a message about what it does
	pairs  [][2][]string
	unless []string // extra town matters besides townMatters
}

// otherBodies are the federal agencies, companies and foreign authorities citizens ask a town
// about. A page that names one gets the redirect; otherwise the bot declines.
var otherBodies = []bodyScope{
	{name: "Familienkasse", names: []string{"familienkasse", "kindergeld"}, cues: []string{
		"familienkasse*", "kindergeld*", "kinderzuschlag*", "child benefit", "kinder geld",
		"cocuk parasi", "cocuk yardimi", "детское пособие", "детские пособия", "детские деньги", "киндергельд*",
		"дитяча допомога", "дитячу допомогу", "дитячої допомоги", "кіндергельд*", "zasilek na dziecko",
		"zasilku na dziecko", "swiadczenie na dziecko", "alocatia pentru copii", "alocatie pentru copii",
		"alocatia copilului", "اعانة الاطفال", "مخصصات الاطفال", "علاوة الاطفال", "كيندرغيلد", "کمک هزینه فرزند",
		"پول بچه", "کیندرگلد"}},
	{name: "Agentur für Arbeit", names: []string{"agentur fur arbeit", "arbeitsagentur", "arbeitslosengeld"}, cues: []string{
		"arbeitsagentur*", "agentur fur arbeit", "bundesagentur*", "arbeitsamt*", "arbeitslosengeld*", "alg 1", "alg i",
		"arbeitslos melden", "arbeitsuchend melden", "arbeitssuchend melden",
		"employment agency", "unemployment benefit*", "jobseeker s allowance",
		"is ajansi", "issizlik parasi", "issizlik maasi", "issizlik yardimi",
		"биржа труда", "биржу труда", "агентство по труду", "по безработиц*", "біржа праці", "центр зайнятості",
		"по безробіттю", "urzad pracy", "urzedu pracy", "zasilek dla bezrobotnych", "agentia pentru munca",
		"agentia de munca", "ajutor de somaj", "somaj", "وكالة العمل", "مكتب العمل", "اعانة البطالة", "اداره کار", "بیمه بیکاری"}},
	{name: "Jobcenter", names: []string{"jobcenter", "burgergeld"}, cues: []string{
		"jobcenter*", "job center", "jobcentre", "burgergeld*", "hartz*", "alg 2", "alg ii",
		"джобцентр*", "джоб центр*", "бюргергельд*", "جوب سنتر", "الجوب سنتر", "جوبسنتر", "جاب سنتر"}},
	{name: "Deutsche Rentenversicherung", names: []string{"rentenversicherung", "rente", "renten"}, cues: []string{
		"rentenversicherung*", "rente", "renten", "rentenantrag*", "rentenauskunft*", "altersrente*",
		"erwerbsminderungsrente*", "rentenbescheid*", "meine rente", "pension", "state pension", "retirement pension",
		"emekli maasi", "emeklilik*", "пенсия", "пенсию", "пенсии", "пенсионный фонд", "пенсія", "пенсію", "пенсії",
		"пенсійний фонд", "emerytur*", "pensie", "pensia", "pensii", "pensionare*",
		"التقاعد", "معاش التقاعد", "راتب التقاعد", "حقوق بازنشستگی", "بازنشستگی"}},
	{name: "Finanzamt", names: []string{"finanzamt", "einkommensteuer", "steuererklarung"}, cues: []string{
		"finanzamt*", "einkommensteuer*", "einkommenssteuer*", "lohnsteuer*", "steuererklarung*", "steuer id",
		"steuerid*", "steueridentifikationsnummer*", "elster", "steuerklasse*", "kirchensteuer*",
		"tax return", "income tax", "tax office", "tax id", "tax class", "tax refund",
		"vergi dairesi", "gelir vergisi", "vergi beyanname*", "vergi numara*", "vergi sinifi", "vergi iadesi",
		"налоговая декларация", "налоговую декларацию", "подоходный налог", "налоговая", "налоговую", "налоговой",
		"налоговый класс", "налоговый номер", "податкова декларація", "податкову декларацію", "податок на доходи",
		"податкова", "податкову", "податкової", "податковий номер", "податковий клас",
		"urzad skarbowy", "urzedu skarbowego", "podatek dochodowy", "zeznanie podatkowe", "numer podatkowy",
		"klasa podatkowa", "fiscul", "biroul fiscal", "impozit pe venit", "impozitul pe venit", "declaratia de impozit",
		"declaratie fiscala", "clasa de impozitare", "numarul fiscal",
		"مكتب الضرائب", "مصلحة الضرائب", "ضريبة الدخل", "الاقرار الضريبي", "الرقم الضريبي", "الفئة الضريبية",
		"اداره مالیات", "مالیات بر درامد", "اظهارنامه مالیاتی", "شماره مالیاتی", "کلاس مالیاتی"}},
	{name: "Bundesamt für Migration und Flüchtlinge (BAMF)", names: []string{"bamf", "bundesamt fur migration"}, cues: []string{
		"bamf", "bundesamt fur migration", "asylantrag*", "asylverfahren*", "asylentscheid*", "asylbescheid*",
		"asylanhorung*", "asylanerkennung*", "asylum application", "asylum decision", "asylum interview",
		"asylum procedure", "asylum claim", "claim asylum", "apply for asylum", "iltica basvuru*", "siginma basvuru*",
		"iltica karari", "убежищ*", "на притулок", "про притулок", "надання притулку", "статус біженця", "статус беженца",
		"azyl*", "o azyl", "azil", "de azil", "cererea de azil", "اللجوء", "طلب اللجوء", "قرار اللجوء", "لجوء",
		"پناهندگی", "درخواست پناهندگی"}},
	{name: "Bundeswehr", names: []string{"bundeswehr", "karrierecenter"}, cues: []string{
		"bundeswehr*", "wehrdienst*", "wehrpflicht*", "musterung*", "army", "military service", "german army",
		"askerlik*", "армия", "армии", "армию", "военная служба", "военную службу", "бундесвер*", "армія", "армії",
		"військова служба", "військову службу", "wojsko", "wojska", "sluzba wojskowa", "sluzby wojskowej",
		"armata", "armatei", "serviciul militar", "الجيش", "الخدمة العسكرية", "سربازی", "خدمت سربازی", "ارتش"}},
	{name: "Deutsche Bahn", names: []string{"deutsche bahn", "db"}, cues: []string{
		"deutsche bahn", "bahnticket*", "zugticket*", "bahncard*", "db navigator", "fahrgastrecht*", "zugverspatung*",
		"zugausfall*", "zug hat verspatung", "zug ausgefallen", "train ticket*", "train delay*", "train was delayed",
		"train was cancelled", "train was canceled", "rail ticket*", "tren bilet*", "tren rotar*", "tren gecik*",
		"билет на поезд", "билеты на поезд", "опоздание поезда", "поезд опоздал", "дойче бан", "квиток на потяг",
		"квитки на потяг", "затримка потяга", "потяг запізнився", "bilet na pociag", "bilet kolejowy",
		"opoznienie pociagu", "pociag sie spoznil", "bilet de tren", "biletul de tren", "trenul a intarziat",
		"intarzierea trenului", "تذكرة القطار", "تذاكر القطار", "تاخر القطار", "دويتشه بان", "بلیط قطار", "تاخیر قطار",
		"دویچه بان"}, pairs: [][2][]string{{
		// A train, and what went wrong with it or the money back: the railway's business.
		{"zug", "zuge", "ice", "intercity", "regionalbahn", "regionalexpress", "bahn", "train", "trains", "tren", "treni",
			"trenim", "trenin", "поезд*", "электричк*", "потяг*", "поїзд*", "pociag*", "trenul", "trenului", "قطار", "القطار"},
		{"verspatung*", "verspatet*", "ausgefallen", "zugausfall*", "entschadigung*", "erstattung*", "geld zuruck",
			"delay*", "cancelled", "canceled", "refund*", "compensation", "rotar*", "gecik*", "iptal*", "para iade*",
			"опозд*", "задерж*", "отмен*", "компенсац*", "возврат*", "запізн*", "затрим*", "скасов*", "повернення",
			"opozni*", "spozni*", "odwolan*", "zwrot*", "odszkodowan*", "intarzi*", "anulat*", "rambursar*", "despagubir*",
			"تاخر", "تاخير", "الغاء", "تعويض", "استرداد", "تاخیر", "لغو", "بازپرداخت", "غرامت"},
	}}},
	{name: "Deutschlandticket", names: []string{"deutschlandticket", "verkehrsverbund"}, cues: []string{
		"deutschlandticket*", "deutschland ticket*", "d ticket*", "49 euro ticket*", "58 euro ticket*", "germany ticket",
		"дойчландтикет*", "дойчландтікет*", "بليط المانيا", "دويتشلاند تيكت", "دویچلند تیکت"}},
	{name: "ARD ZDF Deutschlandradio Beitragsservice", names: []string{"rundfunkbeitrag", "beitragsservice"}, cues: []string{
		"rundfunkbeitrag*", "rundfunkgebuhr*", "gez", "beitragsservice", "tv licence", "tv license", "broadcasting fee*",
		"broadcast fee*", "radio fee*", "yayin ucreti", "radyo televizyon ucreti", "рундфунк*", "гез",
		"плату за телевидение", "сбор за телевидение", "взнос за радио", "збір за радіо", "плату за телебачення",
		"abonament rtv", "oplata rtv", "oplaty rtv", "taxa radio", "taxa tv", "taxa de radiodifuziune",
		"رسوم البث", "رسوم الاذاعة", "رسوم التلفزيون", "عوارض رادیو و تلویزیون", "حق پخش"}},
	{name: "Telekommunikationsanbieter", names: []string{"telekom", "telefonanbieter", "internetanbieter", "bundesnetzagentur"}, cues: []string{
		"telekom", "vodafone", "o2", "1und1", "internetanbieter*", "internetanschluss*", "internet anschluss*",
		"handyvertrag*", "mobilfunkvertrag*", "dsl", "internet provider*", "internet contract", "phone contract",
		"mobile contract", "internet saglayici*", "internet sozlesme*", "telefon faturasi", "интернет провайдер*",
		"провайдер*", "договор на интернет", "інтернет провайдер*", "dostawca internetu", "umowa na internet",
		"abonament internet*", "furnizor de internet", "furnizorul de internet", "abonament de internet",
		"contract de internet", "مزود الانترنت", "شركة الاتصالات", "عقد الانترنت", "ارائه دهنده اینترنت",
		"قرارداد اینترنت", "شرکت مخابرات"}},
	{name: "Energieversorger", names: []string{"energieversorger", "stromanbieter", "stromversorger", "grundversorger", "netzbetreiber"}, cues: []string{
		"stromanbieter*", "stromvertrag*", "stromrechnung*", "gasanbieter*", "gasvertrag*", "gasrechnung*",
		"energieversorger*", "strompreis*", "gaspreis*", "electricity provider*", "electricity bill*",
		"electricity contract", "gas bill*", "energy supplier*", "power company", "elektrik faturasi",
		"elektrik sirketi", "dogalgaz faturasi", "elektrik sozlesme*", "счет за электричество", "счет за свет",
		"поставщик электроэнергии", "поставщик газа", "рахунок за електроенергію", "рахунок за світло",
		"постачальник електроенергії", "постачальник газу", "rachunek za prad", "dostawca pradu", "umowa na prad",
		"rachunek za gaz", "factura de curent", "factura la curent", "furnizor de energie", "furnizorul de energie",
		"factura de gaz", "فاتورة الكهرباء", "شركة الكهرباء", "فاتورة الغاز", "قبض برق", "شرکت برق", "قبض گاز"}},
	{name: "Krankenkasse", names: []string{"krankenkasse", "krankenversicherung"}, cues: []string{
		"krankenkasse*", "krankenversicherung*", "gesundheitskarte*", "versichertenkarte*", "krankengeld*", "aok",
		"barmer", "health insurance", "health insurer", "health card", "sick pay", "saglik sigorta*", "hastalik parasi",
		"медицинская страховка", "медицинскую страховку", "медстраховк*", "больничная касса", "больничную кассу",
		"медичне страхування", "медичного страхування", "лікарняна каса", "лікарняну касу", "kasa chorych",
		"kasy chorych", "ubezpieczenie zdrowotne", "ubezpieczenia zdrowotnego", "casa de asigurari",
		"asigurare de sanatate", "asigurarea de sanatate", "cardul de sanatate", "التامين الصحي", "تامين صحي",
		"البطاقة الصحية", "بیمه درمانی", "بیمه سلامت", "کارت بیمه"}},
	// Other countries' authorities: their passports and ID cards, visas for other countries.
	{name: "Botschaft oder Konsulat", names: []string{"konsulat", "botschaft", "generalkonsulat"}, cues: []string{
		"konsulat*", "generalkonsulat*", "botschaft", "botschaften", "consulate*", "embassy", "embassies",
		"konsolosluk*", "konsoloslug*", "buyukelcilik*", "консульств*", "посольств*", "konsulat*", "ambasad*",
		"consulat*", "القنصلية", "قنصلية", "السفارة", "سفارة", "کنسولگری", "سفارت",
		"загранпаспорт*", "закордонний паспорт", "закордонного паспорта"},
		pairs: [][2][]string{
			{
				{"pass", "passes", "reisepass*", "ausweis", "personalausweis", "passport*", "pasaport*", "kimlik*", "nufus cuzdan*",
					"паспорт*", "paszport*", "dowod osobisty", "dowodu osobistego", "pasaport*", "buletin*", "carte de identitate",
					"cartea de identitate", "جواز السفر", "جواز سفر", "جوازي", "پاسپورت", "گذرنامه"},
				{"turkisch*", "syrisch*", "ukrainisch*", "russisch*", "polnisch*", "rumanisch*", "afghanisch*", "iranisch*",
					"irakisch*", "italienisch*", "griechisch*", "serbisch*", "kosovarisch*", "bulgarisch*", "eritreisch*",
					"turkish", "syrian", "ukrainian", "russian", "polish", "romanian", "afghan", "iranian", "iraqi",
					"italian", "greek", "serbian", "bulgarian", "eritrean", "home country", "my country",
					"turk", "tc", "turkiye", "российск*", "украинск*", "український", "українського", "українську",
					"polski", "polskiego", "polskim", "romanesc", "romanesti", "romania", "romaniei",
					"السوري", "سوري", "العراقي", "عراقي", "الافغاني", "ایرانی", "ایران", "افغانی", "افغانستان", "بلدي", "کشورم"},
			},
			{
				{"visum", "visa", "visas", "vize*", "виза", "визу", "визы", "віза", "візу", "візи", "wiza", "wize", "wizy",
					"viza", "vize", "تاشيره", "فيزا", "ویزا", "روادید"},
				{"usa", "amerika*", "america*", "kanada*", "canada", "england", "grossbritannien", "uk", "britain",
					"turkei", "turkey", "russland", "russia", "china", "indien", "india", "japan", "thailand", "agypten",
					"egypt", "dubai", "emirat*", "australi*", "anderes land", "ein anderes land", "another country",
					"other countries", "andere lander", "abd", "ingiltere", "rusya", "cin", "hindistan", "japonya",
					"baska bir ulke", "yurt disi", "сша", "америк*", "англи*", "канад*", "турци*", "китай", "китая",
					"япони*", "таиланд*", "египет", "египта", "другую страну", "другой стране", "англі*", "туреччин*",
					"китаю", "япон*", "іншу країну", "іншої країни", "ameryk*", "angli*", "kanad*", "turcj*", "rosj*",
					"chin", "innego kraju", "inny kraj", "sua", "anglia", "turcia", "rusia", "alta tara", "altei tari",
					"امريكا", "الولايات المتحدة", "بريطانيا", "كندا", "تركيا", "روسيا", "الصين", "دولة اخرى", "بلد اخر",
					"امریکا", "انگلیس", "کانادا", "ترکیه", "روسیه", "چین", "کشور دیگر", "کشوری دیگر"},
			},
		},
		unless: []string{"verpflichtungserklarung*", "einladung*", "invitation", "davet*", "приглашени*", "запрошен*",
			"zaproszeni*", "invitati*", "دعوة", "دعوتنامه"}},
}

// phrase is a folded phrase of the lists above: whole words, or a stem.
type phrase struct {
	text string // " word word " for whole words, " stem" for stems
}

func compile(list []string) []phrase {
	out := make([]phrase, 0, len(list))
	for _, p := range list {
		if stem, ok := strings.CutSuffix(p, "*"); ok {
			out = append(out, phrase{" " + strings.Join(analysis.Words(analysis.Fold(stem)), " ")})
		} else {
			out = append(out, phrase{" " + strings.Join(analysis.Words(analysis.Fold(p)), " ") + " "})
		}
	}
	return out
}

func has(f string, list []phrase) bool {
	for _, p := range list {
		if strings.Contains(f, p.text) {
			return true
		}
	}
	return false
}

// matcher is a compiled category or other body.
type matcher struct {
	name    string
	phrases []phrase
	pairs   [][2][]phrase
	unless  []phrase
	body    *bodyScope
	names   []phrase // a body's names, to find on a page
}

func compileMatcher(name string, phrases []string, pairs [][2][]string, unless ...[]string) matcher {
	m := matcher{name: name, phrases: compile(phrases)}
	for _, p := range pairs {
		m.pairs = append(m.pairs, [2][]phrase{compile(p[0]), compile(p[1])})
	}
	for _, u := range unless {
		m.unless = append(m.unless, compile(u)...)
	}
	return m
}

func (m *matcher) match(f string) bool {
	if has(f, m.unless) {
		return false
	}
	if has(f, m.phrases) {
		return true
	}
	for _, p := range m.pairs {
		if has(f, p[0]) && has(f, p[1]) {
			return true
		}
	}
	return false
}

// scope classifies messages; it folds its phrase lists once, since it runs on every message.
type scope struct {
	injection, human             matcher
	declines                     []matcher
	bodies                       []matcher
	greetings                    []string
	ownCity                      string
	cities                       map[string]bool
	cityContext                  []phrase
	locatives, fromTo, cityWords map[string]bool
}

func newScope(ownCity string, otherCities []string) *scope {
	s := &scope{injection: compileMatcher(injection.name, injection.phrases, nil),
		human: compileMatcher("human", humanPhrases, nil), ownCity: analysis.Fold(ownCity),
		cities: map[string]bool{}, cityContext: compile(cityContext),
		locatives: foldSet(locatives), fromTo: foldSet(fromTo), cityWords: foldSet(cityWords)}
	for _, c := range outOfScope {
		s.declines = append(s.declines, compileMatcher(c.name, c.phrases, c.pairs, c.unless))
	}
	for i := range otherBodies {
		b := &otherBodies[i]
		m := compileMatcher(b.name, b.cues, b.pairs, townMatters, b.unless)
		m.body, m.names = b, compile(b.names)
		s.bodies = append(s.bodies, m)
	}
	for _, g := range greetings {
		s.greetings = append(s.greetings, " "+analysis.Fold(g)+" ")
	}
	for _, c := range otherCities {
		if f := analysis.Fold(c); f != s.ownCity && !strings.Contains(f, " ") {
			s.cities[f] = true
		}
	}
	return s
}

func foldSet(list []string) map[string]bool {
	m := map[string]bool{}
	for _, w := range list {
		m[analysis.Fold(w)] = true
	}
	return m
}

// fold is a message as the phrases are matched against it: folded words between single spaces.
func fold(text string) string {
	return " " + strings.Join(analysis.Words(analysis.Fold(text)), " ") + " "
}

// classify sorts a (redacted) message. Questions about another city's services are out of
// scope, questions from someone who moved from there are not.
func (s *scope) classify(text string) verdict {
	f := fold(text)
	switch {
	case s.injection.match(f):
		return verdict{intent: intentOutOfScope, category: s.injection.name}
	case s.human.match(f) && len(strings.Fields(f)) <= 12:
		return verdict{intent: intentHuman}
	case s.isGreeting(f):
		return verdict{intent: intentGreeting}
	}
	for i := range s.declines {
		if s.declines[i].match(f) {
			return verdict{intent: intentOutOfScope, category: s.declines[i].name}
		}
	}
	for i := range s.bodies {
		if s.bodies[i].match(f) {
			return verdict{intent: intentOtherBody, category: s.bodies[i].name, body: s.bodies[i].body}
		}
	}
	if city, ok := s.asksOtherCity(f); ok {
		return verdict{intent: intentOutOfScope, category: categoryOtherCity, city: city}
	}
	return verdict{intent: intentQuestion}
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

// names tells whether a text (a page's passage) names a body.
func (s *scope) names(b *bodyScope, text string) bool {
	for i := range s.bodies {
		if s.bodies[i].body == b {
			return has(fold(text), s.bodies[i].names)
		}
	}
	return false
}

// locatives are the words that put a place as where something happens ("in Hamburg"), unlike
// "from Hamburg" (someone who moved here). Romanian "în" folds to "in".
var locatives = []string{"in", "im", "at", "w", "we", "в", "у", "في", "در"}

// fromTo are the words that make a city where someone comes from or goes to: "aus Köln",
// "nach Köln", "from Berlin", "из Берлина", "من برلين", "z Berlina", "din Berlin".
var fromTo = []string{"aus", "von", "nach", "from", "to", "into", "из", "с", "со", "до", "з", "із", "зі", "من", "الى",
	"از", "به", "z", "ze", "do", "din", "spre", "la"}

// cityWords are "city" and the offices a question may name a city by ("Bürgeramt Köln",
// "Stadt Köln", "Berlin city hall", "مدينة ميونخ").
var cityWords = []string{"Stadt", "city", "town", "Bürgeramt", "Bürgerbüro", "Rathaus", "Stadtverwaltung", "Standesamt",
	"Ausländerbehörde", "Zulassungsstelle", "Meldeamt", "Ordnungsamt", "Bürgerservice", "hall", "office",
	"مدينة", "بلدية", "شهر", "شهرداری", "городе", "город", "мэрия", "мэрии", "місті", "місто", "мерія", "мерії",
	"mieście", "miasto", "urząd", "urzędzie", "orașul", "orașului", "primăria", "primăriei", "şehri", "şehir",
	"belediyesi", "belediye"}

// cityContext are the words that make a mentioned city the citizen's past or the way here:
// moving, born, applied, lived there, or the question is about here ("hier", "here",
// "burada", "здесь", "هنا", "اینجا", "tutaj", "aici").
var cityContext = []string{
	"hier", "hierher", "her", "bei euch", "bei ihnen", "zieh*", "umzieh*", "umgezogen", "gezogen", "hergezogen",
	"zugezogen", "wegzieh*", "umzug*", "geboren", "beantragt", "gewohnt", "wohnte", "lebte", "gelebt", "vorher",
	"fruher", "bisher", "zuvor", "ausgestellt", "geheiratet", "gestorben", "verstorben", "zuletzt",
	"here", "move", "moves", "moving", "moved", "born", "applied", "lived", "used to", "previously", "before",
	"issued", "married", "relocat*", "this city", "this town", "your city", "your town",
	"burada", "buraya", "buradan", "tasin*", "dogdum", "dogdu", "basvurdum", "yasadim", "yasiyordum",
	"oturuyordum", "onceden", "eskiden", "verildi", "evlendim",
	"здесь", "тут", "сюда", "переех*", "переезж*", "переезд*", "родил*", "подавал*", "подал", "подала", "жил", "жила",
	"жили", "раньше", "ранее", "выдан*", "женил*", "вышла замуж", "сюди", "переїх*", "переїжд*", "переїзд*",
	"народил*", "подав", "подавала", "жив", "раніше", "видан*", "одружил*",
	"tutaj", "tu", "przeprowadz*", "urodzil*", "zlozyl*", "mieszkal*", "wczesniej", "wydan*", "slub",
	"aici", "mutat", "mut", "mutam", "ma mut", "nascut", "nascuta", "am depus", "am locuit", "locuiam", "inainte",
	"eliberat*", "casatorit*",
	"هنا", "انتقل*", "انتقلت", "نقلت", "ولدت", "قدمت", "سكنت", "عشت", "كنت اعيش", "سابقا", "تزوجت",
	"اینجا", "نقل مکان", "اسباب کشی", "جابجا", "متولد", "به دنیا امدم", "درخواست دادم", "زندگی می کردم", "قبلا",
	"ساکن بودم", "ازدواج کردم",
}

// asksOtherCity: the question asks for a service of or in another city ("Wie melde ich mich in
// Hamburg an?", "Öffnungszeiten Bürgeramt Köln", "في مدينة ميونخ", "Hamburg'da", "в Берлине"). A
// city that is only mentioned is not: where someone comes from or moves to ("aus Berlin", "nach
// Köln"), where they were born or applied, or a question that is about here.
func (s *scope) asksOtherCity(f string) (string, bool) {
	if has(f, s.cityContext) || s.ownCity != "" && strings.Contains(f, " "+s.ownCity) {
		return "", false
	}
	words := strings.Fields(f)
	before := func(i int) string {
		if i > 0 {
			return words[i-1]
		}
		return ""
	}
	for i, w := range words {
		name, joined := s.city(w)
		if name == "" {
			continue
		}
		prev := before(i)
		switch {
		case joined:
			return name, true // "ببرلين": in Berlin
		case ofWords[prev] && s.cityWords[before(i-1)]:
			return name, true // "city hall of Berlin", "Bürgeramt von Köln", "primăria din Berlin"
		case s.fromTo[prev]:
			continue
		case s.locatives[prev]:
			// Russian and Ukrainian "в/у Берлин" goes there; "в Берлине" is in it.
			if (prev == "в" || prev == "у") && w == name {
				continue
			}
			return name, true
		case s.cityWords[prev] && !s.fromTo[before(i-1)] && !s.fromTo[before(i-2)]:
			return name, true // "Bürgeramt Köln", "in der Stadt Köln", "city of Cologne"
		case i+1 < len(words) && s.cityWords[words[i+1]]:
			return name, true // "Kölner Bürgeramt", "Berlin city hall"
		case i+1 < len(words) && turkishLocative[words[i+1]]:
			return name, true // "Hamburg'da", "Berlin'deki"
		}
	}
	return "", false
}

// ofWords make a city an office's: "the city hall of Berlin", "Rathaus von Köln", "primăria din Berlin".
var ofWords = map[string]bool{"of": true, "von": true, "vom": true, "din": true}

// turkishLocative are the Turkish locative endings a city name takes after an apostrophe.
var turkishLocative = map[string]bool{"da": true, "de": true, "ta": true, "te": true, "daki": true, "deki": true, "taki": true, "teki": true}

// city returns the other city a word names ("Мюнхене" is München declined), and whether an
// Arabic "in" is joined to it ("بميونخ").
func (s *scope) city(w string) (string, bool) {
	if s.cities[w] {
		return w, false
	}
	if rest, ok := strings.CutPrefix(w, "ب"); ok && s.cities[rest] {
		return rest, true
	}
	for c := range s.cities {
		if strings.HasPrefix(w, c) && len(w) <= len(c)+6 {
			return c, false
		}
	}
	return "", false
}

// otherCityNames are German cities (and their names in other scripts) that citizens compare with
// or confuse with their own. A deployment adds its neighbours in configuration.
var otherCityNames = []string{
	"Berlin", "Hamburg", "München", "Munich", "Köln", "Cologne", "Frankfurt", "Stuttgart", "Düsseldorf", "Leipzig",
	"Dortmund", "Essen", "Bremen", "Dresden", "Hannover", "Nürnberg", "Duisburg", "Bochum", "Wuppertal", "Bielefeld",
	"Bonn", "Münster", "Mannheim", "Karlsruhe", "Augsburg", "Wiesbaden", "Mainz", "Kiel", "Rostock", "Erfurt",
	"Берлин", "Берлін", "Гамбург", "Мюнхен", "Кельн", "Франкфурт", "Штутгарт", "Дюссельдорф", "Лейпциг", "Дрезден",
	"برلين", "برلین", "هامبورغ", "هامبورگ", "ميونخ", "مونیخ", "کلن", "كولونيا", "فرانكفورت", "فرانکفورت",
	"Monachium", "Kolonia", "Münih",
}
