package privacy

import (
	"testing"
	"unicode/utf8"
)

// FuzzRedact: any text in any script comes out without a panic, no longer than a placeholder per
// byte, valid UTF-8 when it went in so, and unchanged by a second redaction.
func FuzzRedact(f *testing.F) {
	for _, s := range []string{
		"Schreiben Sie mir an max.mustermann@web.de bitte",
		"Rufen Sie mich an: 0171 1234567",
		"my number is +49 (0)30 1234 5678",
		"Numaram +90 532 123 45 67",
		"رقمي ٠١٧١ ١٢٣٤٥٦٧",
		"شماره من ۰۱۷۶ ۱۲۳۴۵۶۷۸ است",
		"Meine IBAN ist DE89 3704 0044 0532 0130 00.",
		"Meine Ausweisnummer ist L01X00T47",
		"Steuernummer 21/815/08150, Steuer-ID 12 345 678 901",
		"Ich bin am 03.05.1980 geboren",
		"I was born on May 3, 1990",
		"Ich wohne in der Lindenstraße 12a, ist das Nord?",
		"12345 Musterstadt",
		"живу на ул. Ленина, д. 5",
		"mieszkam na ul. Długa 5",
		"Mein Name ist Erika Mustermann, Kundennummer 4711-0815",
		"PIN: 4711, mein Kennwort fürs Portal ist Sonne!",
		"Kennzeichen M-AB 1234",
		"Kreditkarte 4111 1111 1111 1111",
		"numărul CNP 1800101221144",
		"Ich bin Ali und wohne Am Mühlbach 7",
		"اسمي أحمد وأريد موعدا",
		"Wann hat das Bürgerbüro im Jahr 2026 geöffnet?",
		"",
	} {
		f.Add(s)
	}
	r := NewRedactor(testNow)
	f.Fuzz(func(t *testing.T, in string) {
		if len(in) > 16<<10 {
			return // no frame of the chat protocol carries more (chat.MaxFrameBytes)
		}
		out := r.Redact(in)
		if len(out) > maxRedactedLen(in) {
			t.Fatalf("Redact(%q) is %d bytes, over the bound %d", in, len(out), maxRedactedLen(in))
		}
		if utf8.ValidString(in) && !utf8.ValidString(out) {
			t.Fatalf("Redact(%q) = %q: invalid UTF-8", in, out)
		}
		if again := r.Redact(out); again != out {
			t.Fatalf("not idempotent:\nin    %q\nonce  %q\ntwice %q", in, out, again)
		}
	})
}

// maxRedactedLen bounds the redaction of in: every placeholder replaces at least one byte.
func maxRedactedLen(in string) int {
	longest := 0
	for _, p := range placeholders {
		longest = max(longest, len(p))
	}
	return longest*len(in) + longest
}
