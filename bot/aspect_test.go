package bot

import "testing"

// Turkish "öde-" (pay) folds to "ode", the start of German "oder": it counts in Turkish only.
func TestTurkishPayIsNotGermanOr(t *testing.T) {
	a := newAspects()
	for _, c := range []struct {
		q, lang string
		want    aspect
	}{
		{"Brauche ich einen Mietvertrag oder eine Wohnungsgeberbestätigung?", "de", 0},
		{"Ist der Wertstoffhof samstags oder sonntags geöffnet?", "de", aspectTime},
		{"Kann ich den Antrag online oder nur persönlich stellen?", "de", 0},
		{"Hundesteuer ödemek zorunda mıyım?", "tr", aspectMoney},
		{"Ödeme nasıl yapılır?", "tr", aspectMoney},
		{"Pasaport için ne kadar öderim?", "tr", aspectMoney},
		{"Bu belgeyi nerede öderiz?", "tr", aspectMoney | aspectPlace},
		// A Turkish question the detector read as German still finds the whole-word forms.
		{"Ödeme nakit mi?", "de", aspectMoney},
	} {
		if got := a.of(c.q, c.lang); got != c.want {
			t.Errorf("aspects of %q (%s) = %b, want %b", c.q, c.lang, got, c.want)
		}
	}
}

// TestMoneyAsTownsWriteIt: every way real towns' pages write an amount states money.
func TestMoneyAsTownsWriteIt(t *testing.T) {
	for _, text := range []string{"Gebühr: 37,00 €", "Die Urkunde kostet 12,-- €.", "Gebühr EUR 26", "Euro 26 je Anmeldung", "€ 5,50", "10 Euro", "gebührenfrei"} {
		if factsIn(text)&aspectMoney == 0 {
			t.Errorf("%q states no amount", text)
		}
	}
	for _, text := range []string{"Europa-Pass", "am 12. Mai", "Raum 26", "Europaplatz 3"} {
		if factsIn(text)&aspectMoney != 0 {
			t.Errorf("%q states an amount", text)
		}
	}
}
