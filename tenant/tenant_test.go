package tenant

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/citybot-project/citybot/database/dbtest"
	"github.com/citybot-project/citybot/i18n"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

// TestSettingsRejectBadValues: every kind of bad key or value gets an error that names the
// setting and says what it wants; nothing is changed.
func TestSettingsRejectBadValues(t *testing.T) {
	cat, err := i18n.Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ key, value, want string }{
		{"colour", "#fff", "unknown setting \"colour\"; the settings are name, privacy_url"},
		{"privacy_url", "datenschutz.html", "privacy_url: want an http or https URL"},
		{"privacy_url", "ftp://stadt.example/datenschutz", "privacy_url: want an http or https URL"},
		{"contact_email", "buergerbuero at stadt", "contact_email: want an e-mail address"},
		{"min_confidence", "1.5", "min_confidence: want a number from 0 to 1"},
		{"min_confidence", "NaN", "min_confidence: want a number from 0 to 1"},
		{"retention_days", "0", "retention_days: want a whole number of days from 1 to 36500"},
		{"retention_days", "ten", "retention_days: want a whole number"},
		{"allowed_origins", "https://www.stadt.example/widget", "is no origin"},
		{"allowed_origins", "www.stadt.example", "is no origin"},
		{"widget_color", "blue", "widget_color: want a colour such as #005ca9"},
		{"widget_logo", "logo.png", "widget_logo: want an http or https URL"},
		{"glossary", `[{"en": ["dog tax"]}]`, "has no German term"},
		{"glossary", `{"de": "Hundesteuer"`, "glossary"},
		{"texts.xx.disclosure.title", "Hallo", "LANG one of de, de-simple, en"},
		{"texts.de.no_such_message", "Hallo", "the catalog has no message \"no_such_message\""},
		{"name", "  ", "a town needs a name"},
		{"desk_email", "buero", "desk_email: want an e-mail address"},
		{"desk_hours", "Montag bis Freitag 8 bis 16 Uhr", "desk_hours: office hours"},
		{"desk_hours", "Mo-Fr 16:00-08:00", "the end after the start"},
		{"desk_holidays", "24.12.2026", "want a date such as 2026-12-24"},
		{"ticket_due_hours", "zwei Tage", "ticket_due_hours: want a whole number of hours"},
		{"desk_live_wait", "3m", "desk_live_wait: want a whole number of seconds"},
		{"desk_live_wait", "0", "desk_live_wait: want a whole number of seconds"},
	} {
		s := Settings{ContactEmail: "alt@stadt.example"}
		name := "Musterstadt"
		before := s
		err := Apply(&s, &name, c.key, c.value, cat)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s=%s: error %v, want one containing %q", c.key, c.value, err, c.want)
		}
		if name != "Musterstadt" || s.ContactEmail != before.ContactEmail || s.PrivacyURL != "" || s.Glossary != nil || s.Texts != nil {
			t.Errorf("%s=%s: changed the settings: %+v %q", c.key, c.value, s, name)
		}
	}
	if _, err := ParseAssignments([]string{"privacy_url"}); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "want key=value") {
		t.Errorf("an argument without =: %v", err)
	}
	for _, slug := range []string{"A", "x", "Muster_stadt", strings.Repeat("a", 41), "stadt/1"} {
		if err := CheckSlug(slug); !errors.Is(err, ErrInvalid) {
			t.Errorf("slug %q accepted", slug)
		}
	}
}

func TestSettingsApplyAndReset(t *testing.T) {
	cat, err := i18n.Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	var s Settings
	name := "Musterstadt"
	for _, kv := range [][2]string{
		{"privacy_url", "https://www.stadt.example/datenschutz"}, {"min_confidence", "0.4"},
		{"retention_days", "30"}, {"allowed_origins", "https://www.stadt.example, http://intranet.stadt.example/"},
		{"widget_color", "#005ca9"}, {"texts.de.disclosure.title", "Moin! Hier antwortet eine KI."}, {"name", "Neustadt"},
		{"glossary", `[{"de": ["Fähre"], "en": ["ferry"]}]`},
	} {
		if err := Apply(&s, &name, kv[0], kv[1], cat); err != nil {
			t.Fatalf("%s: %v", kv[0], err)
		}
	}
	if name != "Neustadt" || s.MinConf() != 0.4 || s.Retention() != 30 || s.Texts["de"]["disclosure.title"] != "Moin! Hier antwortet eine KI." ||
		strings.Join(s.AllowedOrigins, " ") != "https://www.stadt.example http://intranet.stadt.example" {
		t.Errorf("settings %+v name %s", s, name)
	}
	for _, k := range []string{"min_confidence", "retention_days", "texts.de.disclosure.title", "glossary"} {
		if err := Apply(&s, &name, k, "", cat); err != nil {
			t.Fatal(err)
		}
	}
	if s.MinConf() != DefaultMinConfidence || s.Retention() != DefaultRetentionDays || s.Texts != nil || s.Glossary != nil {
		t.Errorf("not reset: %+v", s)
	}
}

func TestSlugify(t *testing.T) {
	for in, want := range map[string]string{"Musterstadt": "musterstadt", "Bad Münstereifel": "bad-muenstereifel",
		"Frankfurt (Oder)": "frankfurt-oder", "Landkreis Auental": "landkreis-auental", "Straßburg": "strassburg"} {
		if got := Slugify(in); got != want {
			t.Errorf("%s: %s, want %s", in, got, want)
		}
	}
}

func TestStoreKeepsTowns(t *testing.T) {
	ctx := context.Background()
	s := NewStore(dbtest.Pool(t))
	a, err := s.Add(ctx, "lindenbrueck", "Lindenbrück", Settings{PrivacyURL: "https://lindenbrueck.example/datenschutz"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Add(ctx, "lindenbrueck", "Nochmal", Settings{}); !errors.Is(err, ErrExists) {
		t.Errorf("second add: %v", err)
	}
	if _, err := s.Add(ctx, "Linden Brück", "x", Settings{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad slug: %v", err)
	}
	kreis, err := s.Add(ctx, "kreis-auental", "Landkreis Auental", Settings{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Link(ctx, "lindenbrueck", "kreis-auental"); err != nil {
		t.Fatal(err)
	}
	if err := s.Link(ctx, "lindenbrueck", "no-such-kreis"); !errors.Is(err, ErrNotFound) {
		t.Errorf("link to a missing town: %v", err)
	}
	if err := s.Link(ctx, "lindenbrueck", "lindenbrueck"); !errors.Is(err, ErrInvalid) {
		t.Errorf("link to itself: %v", err)
	}
	got, err := s.Get(ctx, "lindenbrueck")
	if err != nil || got.ID != a.ID || got.Name != "Lindenbrück" || got.Settings.PrivacyURL != "https://lindenbrueck.example/datenschutz" ||
		strings.Join(got.LinkSlugs(), ",") != "kreis-auental" {
		t.Fatalf("get: %+v %v", got, err)
	}
	if scope, err := s.Scope(ctx, a.ID); err != nil || len(scope) != 2 || scope[0] != a.ID || scope[1] != kreis.ID {
		t.Errorf("scope %v %v", scope, err)
	}
	got.Name = "Lindenbrück an der Aue"
	got.Settings.ContactPhone = "0123 45-0"
	if err := s.Update(ctx, got); err != nil {
		t.Fatal(err)
	}
	list, err := s.List(ctx)
	if err != nil || len(list) != 2 || list[1].Name != "Lindenbrück an der Aue" || list[1].Settings.ContactPhone != "0123 45-0" {
		t.Errorf("list %+v %v", list, err)
	}
	if err := s.Unlink(ctx, "lindenbrueck", "kreis-auental"); err != nil {
		t.Fatal(err)
	}
	if err := s.Unlink(ctx, "lindenbrueck", "kreis-auental"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second unlink: %v", err)
	}
	if err := s.Remove(ctx, "kreis-auental"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "kreis-auental"); !errors.Is(err, ErrNotFound) {
		t.Errorf("removed town: %v", err)
	}
	if err := s.Remove(ctx, "kreis-auental"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second remove: %v", err)
	}
}

// TestRegistryBuildsPerTownAndRebuildsOnChange: a town is built once, again after its settings
// change, never for an unknown slug, and forgotten when removed.
func TestRegistryBuildsPerTownAndRebuildsOnChange(t *testing.T) {
	ctx := context.Background()
	s := NewStore(dbtest.Pool(t))
	for _, slug := range []string{"lindenbrueck", "eichenfeld"} {
		if _, err := s.Add(ctx, slug, strings.ToUpper(slug[:1])+slug[1:], Settings{}); err != nil {
			t.Fatal(err)
		}
	}
	builds := map[string]int{}
	r := NewRegistry(s, 0, func(ctx context.Context, town Town) (string, error) {
		builds[town.Slug]++
		return town.Name + "|" + town.Settings.ContactPhone, nil
	})
	var retired []string
	r.OnRetire(func(v string, gone bool) { retired = append(retired, fmt.Sprint(v, " gone:", gone)) })
	for range 3 {
		if _, v, err := r.Get(ctx, "lindenbrueck"); err != nil || v != "Lindenbrueck|" {
			t.Fatalf("get: %q %v", v, err)
		}
	}
	if _, v, err := r.Get(ctx, "eichenfeld"); err != nil || v != "Eichenfeld|" {
		t.Fatalf("get: %q %v", v, err)
	}
	if builds["lindenbrueck"] != 1 || builds["eichenfeld"] != 1 {
		t.Errorf("builds %v, want one each", builds)
	}
	town, err := s.Get(ctx, "lindenbrueck")
	if err != nil {
		t.Fatal(err)
	}
	town.Settings.ContactPhone = "0123 45"
	if err := s.Update(ctx, town); err != nil {
		t.Fatal(err)
	}
	if _, v, err := r.Get(ctx, "lindenbrueck"); err != nil || v != "Lindenbrueck|0123 45" || builds["lindenbrueck"] != 2 {
		t.Errorf("after a change: %q %v, %d builds", v, err, builds["lindenbrueck"])
	}
	for _, slug := range []string{"nowhere", "../eichenfeld", ""} {
		if _, v, err := r.Get(ctx, slug); !errors.Is(err, ErrNotFound) || v != "" {
			t.Errorf("%q: %q %v, want not found", slug, v, err)
		}
	}
	if err := s.Remove(ctx, "eichenfeld"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.Get(ctx, "eichenfeld"); !errors.Is(err, ErrNotFound) {
		t.Errorf("removed town: %v", err)
	}
	if got := r.Built(); len(got) != 1 || got["lindenbrueck"] == "" {
		t.Errorf("built %v", got)
	}
	// The rebuild retired the old value; the removal the town's, as gone.
	if want := []string{"Lindenbrueck| gone:false", "Eichenfeld| gone:true"}; !slices.Equal(retired, want) {
		t.Errorf("retired %q, want %q", retired, want)
	}
}

// TestRegistrySweepRetiresIdleTowns: a town not asked for within the idle time and not busy is
// retired and built again on its next Get; a busy one or one asked for lately is kept.
func TestRegistrySweepRetiresIdleTowns(t *testing.T) {
	ctx := context.Background()
	s := NewStore(dbtest.Pool(t))
	for _, slug := range []string{"lindenbrueck", "eichenfeld", "ahornfeld"} {
		if _, err := s.Add(ctx, slug, slug, Settings{}); err != nil {
			t.Fatal(err)
		}
	}
	builds := map[string]int{}
	r := NewRegistry(s, time.Hour, func(ctx context.Context, town Town) (string, error) {
		builds[town.Slug]++
		return town.Slug, nil
	})
	var retired []string
	r.OnRetire(func(v string, gone bool) { retired = append(retired, v) })
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	r.now = func() time.Time { return now }
	for _, slug := range []string{"lindenbrueck", "eichenfeld", "ahornfeld"} {
		if _, _, err := r.Get(ctx, slug); err != nil {
			t.Fatal(err)
		}
	}
	now = now.Add(20 * time.Minute)
	r.Get(ctx, "ahornfeld") // asked for lately
	now = now.Add(15 * time.Minute)
	if n := r.Sweep(30*time.Minute, func(v string) bool { return v == "eichenfeld" }); n != 1 { // eichenfeld has citizens
		t.Errorf("swept %d, want 1", n)
	}
	if !slices.Equal(retired, []string{"lindenbrueck"}) {
		t.Errorf("retired %v, want only the idle lindenbrueck", retired)
	}
	if got := r.Built(); len(got) != 2 || got["lindenbrueck"] != "" {
		t.Errorf("built after the sweep: %v", got)
	}
	if _, v, err := r.Get(ctx, "lindenbrueck"); err != nil || v != "lindenbrueck" || builds["lindenbrueck"] != 2 {
		t.Errorf("after the sweep: %q %v, %d builds", v, err, builds["lindenbrueck"])
	}
}
