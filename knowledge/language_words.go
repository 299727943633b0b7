package knowledge

// The detector's evidence: each language's most frequent short words (articles, pronouns,
// prepositions, question words, auxiliaries and modals, greetings) and the letters only some of
// citybot's languages write. Nouns are left out on purpose: questions in every language name the
// town's German offices and documents (Bürgerbüro, Anmeldung), so a noun tells little about the
// language the citizen writes in, while "wie", "nasıl" or "czy" tells a lot.
//
// A word belongs to every language in which it is frequent ("in" is German and English, "ile"
// Polish and Turkish, "de" Romanian and Turkish): it then counts for each, and only the other
// words decide between them. Within one script, words both languages share are left out.

// functionWords lists, per language, its frequent words as written (lower case, with their
// diacritics; texts typed without them are matched too, see Detector).
var functionWords = map[string]string{
	"de": `der die das den dem des ein eine einen einem einer eines kein keine keinen keinem keiner
		ich du er sie es wir ihr mich mir dich dir uns euch ihn ihm ihnen sich man jemand
		mein meine meinen meinem meiner meines dein deine sein seine seinen seiner ihre ihren ihrem
		unser unsere unseren euer eure dieser diese dieses diesen diesem jeder jede jedes jeden
		ist sind bin bist seid war waren wäre wird werden wurde wurden würde worden gewesen
		habe hat haben hast hatte hatten kann können kannst konnte könnte muss müssen musst musste
		darf dürfen soll sollen sollte will wollen möchte möchten gibt geht bekomme bekommt
		brauche braucht brauchen mache macht machen
		und oder aber sondern denn doch auch noch schon nur nicht nichts etwas alles alle viel viele
		mehr sehr ganz wieder immer jetzt heute morgen gestern bald hier dort dafür dazu davon
		mit von zu zum zur bei beim nach aus auf für über unter vor hinter neben zwischen gegen ohne
		durch um im ins am an vom bis seit während wegen ab in
		wie was wer wen wem wessen wo wohin woher wann warum wieso weshalb wozu womit wofür worüber
		wieviel welche welcher welches welchen welchem dass daß ob wenn weil als dann so also
		bitte danke hallo ja nein gern gerne mal lange`,

	"en": `the a an this that these those there here
		i me my mine you your yours he him his she her it its we us our they them their
		is are was were be been being am do does did done have has had having
		can could will would shall should may might must need want get got make take
		and or but if not no yes so also only just still already then than too very more most
		of to in on at for with from by about into over under after before between without through
		during until since again
		what which who whom whose where when why how much many any some every all
		please thanks thank hello hi`,

	"tr": `ve veya ya ile için gibi kadar daha çok az en bir bu şu o bunu şunu onu bunun şunun onun
		buna şuna ona burada şurada orada bura ora ben sen biz siz onlar beni bana benim seni sana
		senin bizi bize bizim sizi size sizin onları onlara onların kendi kendim
		ne neden niçin niye nasıl nerede nereye nereden nere hangi hangisi kim kime kimin kaç kaça
		nedir nelerdir midir mıdır mudur müdür mi mı mu mü misiniz mısınız musunuz müsünüz miyim
		mıyım muyum müyüm miyiz mıyız
		var yok değil evet hayır lütfen teşekkürler teşekkür ederim merhaba selam
		de da ki ama fakat ancak çünkü eğer ise sonra önce şimdi hemen her hiç tüm bütün bazı başka
		hem yani sadece yalnız bile diye göre karşı olarak olan olur olabilir oluyor olmak olması
		gerek gerekir gerekiyor gerekli lazım istiyorum isterim yapabilirim alabilirim
		hakkında`,

	"pl": `i w we z ze na do od po za o u a ale lub albo oraz czy że żeby aby bo więc jeśli jeżeli gdy
		jak co kto czego czym komu gdzie kiedy ile dlaczego czemu jaki jaka jakie jakiego jakiej jakim
		który która które którego której ja ty on ona ono my wy oni one mnie mi mną mój moja moje
		mojego mojej moim moich twój twoja nasz nasza nasze naszego wasz pan pani państwo go jej
		jego ich nas was się sobie siebie ten ta to tego tej tym te tych dla przez przy pod nad przed
		bez między
		jest są być był była było były będzie będę mam ma mamy macie mają mieć można trzeba muszę
		musi musimy mogę może możemy chcę chce chciałbym chciałabym potrzebuję proszę dziękuję
		dzień dobry cześć tak nie też także jeszcze już tylko bardzo teraz dzisiaj jutro tutaj tam`,

	"ro": `și sau dar iar în la de pe cu din pentru despre prin spre până fără după între sub către
		un o unei unui niște cel cea cei cele al ale a ai am are au avem aveți fi fost este e sunt
		era va vor vom aș ar pot poate putem puteți trebuie vreau vrea vrem doresc
		ce cum unde când cât câți câte cine care eu tu el ea noi voi ei ele mă mi îmi meu mea mei mele
		nostru noastră vostru lui lor se să nu da mai foarte doar numai acum aici acolo acest această
		acesta aceasta asta acel acea dacă că ca bună ziua mulțumesc vă rog ne te îl`,

	"ru": `и что как где когда куда откуда почему зачем сколько какой какая какое какие каких каким
		кто чем чего это этот эта эти этого этой меня мне мной мой моё мое мои моего моей моему
		нас нам ваш ваша вашего он она оно они его её ее их ему ей им к ко от из с со или но если
		чтобы ли же бы уже ещё еще тоже также только очень можно нужно надо нельзя нужен нужна есть
		был была было были будет буду будут хочу хотел хотела могу должен должна нет да все всё
		всех здесь сейчас теперь сегодня вчера пожалуйста спасибо здравствуйте привет свой своего
		себя который которая которые которого после между получить сделать`,

	"uk": `і й та що як де коли куди звідки чому навіщо скільки який яка яке які якого якої яку
		якій яким хто чим чого це цей ця ці цього цієї цю мене мені мій моє мої мого моєї моєму
		моїй він вона воно вони його її їх йому їй їм від з із зі або чи але якщо щоб щоби би
		вже ще теж також тільки лише дуже можна потрібно треба потрібен потрібна є був була було
		були буде буду будуть хочу хотів хотіла можу мушу повинен повинна ні всі усі зараз тепер
		сьогодні вчора будь ласка дякую привіт вітаю добрий свій свого себе котрий після між
		отримати зробити`,

	"ar": `في إلى الى على عن مع عند منذ حول خلال دون بدون هل ما ماذا متى أين اين كيف لماذا كم أي اي
		هذا هذه ذلك تلك هؤلاء الذي التي الذين أن إن ان أنا انا أنت انت أنتم نحن هو هي هم لي لك له
		لها لنا لكم لا لم لن ليس ليست قد كان كانت يكون تكون يمكن يمكنني أستطيع استطيع أريد اريد
		نريد يجب علي لدي عندي أو او ثم لكن كل بعض حتى إذا اذا لو هنا هناك الآن الان شكرا مرحبا
		السلام عليكم نعم فضلك سمحت أيضا ايضا فقط جدا غير أكثر اكثر`,

	"fa": `است هست نیست هستم هستند هستید بود بودم شد شود میشود کرد کنم کنید کند کنیم کردن دارم
		داری دارد داریم دارید دارند باید میتوانم توانم میخواهم خواهم می نمی را از به با در برای تا
		بر که این آن اینجا آنجا یک یا هم اگر ولی چون چه چی چطور چگونه چرا کجا کجاست کی کدام چند
		چقدر آیا تو او شما آنها ایشان مرا خود خودم همه هر هیچ پس پیش روی زیر بدون مثل خیلی بیشتر
		کمی دیگر نه بله آره لطفا ممنون مرسی سلام چیست کیست چیه البته`,
}

// scripts are the writing systems of citybot's languages, each with the languages written in it,
// the first the one a tie goes to (see Detector.Detect).
const (
	latinScript = iota
	cyrillicScript
	arabicScript
	numScripts
)

var scriptLanguages = [numScripts][]string{
	latinScript:    {"de", "en", "tr", "pl", "ro"},
	cyrillicScript: {"ru", "uk"},
	arabicScript:   {"ar", "fa"},
}

// letterLanguages are the letters only some languages of a script write. Romanian's ş and ţ with
// cedilla are the older forms of ș and ț that many keyboards still type; Persian ی and ک are
// other code points than Arabic ي and ك, and Persian keyboards type them.
var letterLanguages = map[rune]string{
	'ä': "de", 'ß': "de", 'ö': "de tr", 'ü': "de tr",
	'ş': "tr ro", 'ğ': "tr", 'ı': "tr", 'ç': "tr",
	'ą': "pl", 'ę': "pl", 'ł': "pl", 'ń': "pl", 'ś': "pl", 'ź': "pl", 'ż': "pl", 'ć': "pl", 'ó': "pl",
	'ă': "ro", 'â': "ro", 'î': "ro", 'ș': "ro", 'ț': "ro", 'ţ': "ro",
	'і': "uk", 'ї': "uk", 'є': "uk", 'ґ': "uk",
	'ы': "ru", 'э': "ru", 'ё': "ru", 'ъ': "ru",
	'پ': "fa", 'چ': "fa", 'ژ': "fa", 'گ': "fa", 'ی': "fa", 'ک': "fa",
	'ة': "ar", 'ى': "ar", 'ي': "ar", 'ك': "ar", 'أ': "ar", 'إ': "ar", 'ؤ': "ar",
}

// arabicKeyboardLetters are Arabic letters that Persians type too, on Arabic keyboards.
var arabicKeyboardLetters = map[rune]bool{'ي': true, 'ك': true}

// turkishSuffixes are the case endings Turkish writes after an apostrophe on a name
// (Musterstadt'ta, Bürgerbüro'ya); English writes its clitics there (what's, don't).
var (
	turkishSuffixes = setOf(`a e ya ye ı i u ü yı yi yu yü da de ta te dan den tan ten ın in un ün
		nın nin nun nün la le yla yle daki deki taki teki dır dir dur dür tır tir tur tür lar ler`)
	englishClitics = setOf("s t m d re ve ll")
)
