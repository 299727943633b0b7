package knowledge

import "testing"

func TestDetectLanguage(t *testing.T) {
	d := NewDetector()
	for _, c := range []struct{ text, want string }{
		// The same question in every language.
		{"Was kostet ein Reisepass für mein Kind?", "de"},
		{"How much is a passport for my child?", "en"},
		{"Çocuğum için pasaport ne kadar?", "tr"},
		{"كم يكلف جواز السفر لطفلي؟", "ar"},
		{"Скільки коштує паспорт для моєї дитини?", "uk"},
		{"Сколько стоит паспорт для моего ребёнка?", "ru"},
		{"هزینه گذرنامه برای فرزندم چقدر است؟", "fa"},
		{"Ile kosztuje paszport dla mojego dziecka?", "pl"},
		{"Cât costă un pașaport pentru copilul meu?", "ro"},

		// German without umlauts, and in Leichte Sprache (which is German to a detector).
		{"Wie lange dauert es, bis der neue Personalausweis da ist?", "de"},
		{"Kann ich den Termin auch online absagen?", "de"},
		{"Ich habe einen Brief vom Amt. Was soll ich jetzt machen?", "de"},
		{"Wo kann man seinen Sperrmuell anmelden", "de"},
		// English with a German office name.
		{"Where do I find the Bürgeramt and when is it open?", "en"},

		// German office names in questions in other languages.
		{"Bürgerbüro'ya gitmeden önce randevu almam gerekiyor mu?", "tr"},
		{"Anmeldung için hangi belgeleri getirmeliyim?", "tr"},
		{"Czy muszę umówić wizytę w Bürgerbüro, żeby zrobić Anmeldung?", "pl"},
		{"Unde se află Bürgeramt și ce acte îmi trebuie pentru Anmeldung?", "ro"},
		{"Где находится Bürgerbüro и как туда записаться?", "ru"},
		{"Де знаходиться Bürgerbüro і як туди записатися?", "uk"},
		{"أين يقع Bürgerbüro وهل أحتاج إلى موعد؟", "ar"},
		{"Bürgerbüro کجاست و آیا باید وقت بگیرم؟", "fa"},

		// Typed without diacritics, as some keyboards do.
		{"Ogrenci icin kimlik karti nasil alinir?", "tr"},
		{"Gdzie moge zalatwic meldunek dla dziecka?", "pl"},
		{"Unde pot sa depun cererea pentru alocatia copilului?", "ro"},

		// Persian and Arabic: letters and function words.
		{"من می‌خواهم آدرس خانه‌ام را تغییر بدهم. چه کار باید بکنم؟", "fa"},
		{"ساعات کاری اداره چیست؟", "fa"},
		{"ما هي ساعات العمل في المكتب؟", "ar"},
		{"أريد تغيير عنواني، ماذا يجب أن أفعل؟", "ar"},
		// Persian typed on an Arabic keyboard (ي, ك): its words still tell.
		{"براي ثبت نام كجا بايد بروم؟", "fa"},

		// Ukrainian and Russian: letters and function words.
		{"Чи можна подати заяву онлайн?", "uk"},
		{"Можно ли подать заявление онлайн?", "ru"},
		{"Як отримати довідку про реєстрацію?", "uk"},
		{"Как получить справку о регистрации?", "ru"},
	} {
		if got := d.Detect(c.text, ""); got != c.want {
			t.Errorf("Detect(%q) = %s, want %s", c.text, got, c.want)
		}
	}
}

func TestDetectLanguageKeepsPriorOfShortTexts(t *testing.T) {
	d := NewDetector()
	for _, c := range []struct{ text, prior, want string }{
		// A German term alone says nothing about the conversation's language.
		{"Anmeldung", "tr", "tr"},
		{"Anmeldung", "", "de"},
		{"Wohngeld", "ar", "ar"},
		{"ok", "tr", "tr"},
		{"Führerschein?", "pl", "pl"},
		{"Danke", "en", "en"},
		{"Danke", "", "de"},
		{"Personalausweis", "de-simple", "de-simple"},
		// One word in another script cannot be in the prior's language.
		{"Спасибо", "de", "ru"},
		{"Дякую", "de", "uk"},
		{"شكرا", "de", "ar"},
		{"ممنون", "de", "fa"},
		// ... but a word both languages of a script write keeps the prior of that script.
		{"паспорт", "uk", "uk"},
		{"паспорт", "ru", "ru"},
		// Enough evidence overrides the prior even in a short text.
		{"Where is it?", "de", "en"},
		{"Wie geht das?", "en", "de"},
		{"Nerede?", "", "tr"},
		{"", "ro", "ro"},
		{"123 ?!", "", ""},
	} {
		if got := d.Detect(c.text, c.prior); got != c.want {
			t.Errorf("Detect(%q, %q) = %q, want %q", c.text, c.prior, got, c.want)
		}
	}
}
