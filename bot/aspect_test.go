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
