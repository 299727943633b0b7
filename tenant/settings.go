// Package tenant is the registry of towns: one deployment serves many towns (a municipal IT
// provider's, a Kreis's member towns), each with its own pages, texts, widget and conversations.
// A town's settings live in the database; the deployment's (database, addresses, model endpoints,
// limits) stay in the environment.
package tenant

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing/fstest"

	"golang.org/x/text/unicode/norm"

	"github.com/citybot-project/citybot/desk"
	"github.com/citybot-project/citybot/i18n"
	"github.com/citybot-project/citybot/knowledge"
)

// Settings are what a town decides for itself. Zero values mean the default.
type Settings struct {
	PrivacyURL   string `json:"privacy_url,omitempty"`
	ContactPhone string `json:"contact_phone,omitempty"`
	ContactEmail string `json:"contact_email,omitempty"`
	ContactHours string `json:"contact_hours,omitempty"`
	// DeskEmail is where new callback and e-mail requests are reported (default: ContactEmail).
	DeskEmail string `json:"desk_email,omitempty"`
	// DeskHours are the service desk's office hours, DeskHolidays the dates it is closed, and
	// TicketDueHours the office hours a request may wait (desk.ParseHours).
	DeskHours      string   `json:"desk_hours,omitempty"`
	DeskHolidays   []string `json:"desk_holidays,omitempty"`
	TicketDueHours int      `json:"ticket_due_hours,omitempty"`
	// DeskLiveWait is how many seconds a citizen waits for a person in the live chat before a
	// callback is offered instead (desk.DefaultLiveWait when 0).
	DeskLiveWait   int      `json:"desk_live_wait,omitempty"`
	MinConfidence  *float64 `json:"min_confidence,omitempty"`
	RetentionDays  int      `json:"retention_days,omitempty"`
	AllowedOrigins []string `json:"allowed_origins,omitempty"`
	WidgetColor    string   `json:"widget_color,omitempty"`
	WidgetTitle    string   `json:"widget_title,omitempty"`
	WidgetLogo     string   `json:"widget_logo,omitempty"`
	// Texts override the catalog's messages: language -> message id -> text.
	Texts map[string]map[string]string `json:"texts,omitempty"`
	// Glossary adds concepts to the shipped glossary, in its JSON format.
	Glossary json.RawMessage `json:"glossary,omitempty"`
	// Adopt marks the town a migration made of an installation from before towns: the next start
	// names it and fills its settings from the environment.
	Adopt bool `json:"adopt,omitempty"`
}

// Defaults of the settings a town leaves unset.
const (
	DefaultMinConfidence = 0.25
	DefaultRetentionDays = 90
	maxRetentionDays     = 36500
)

// MinConf is the town's confidence threshold for answering.
func (s Settings) MinConf() float64 {
	if s.MinConfidence == nil {
		return DefaultMinConfidence
	}
	return *s.MinConfidence
}

// Retention is how many days a conversation is kept after its last message.
func (s Settings) Retention() int {
	if s.RetentionDays == 0 {
		return DefaultRetentionDays
	}
	return s.RetentionDays
}

// key is one setting as `towns set` names it.
type key struct {
	name, help string
	set        func(s *Settings, v string) error // v == "": back to the default
}

var reColor = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// keys are the settings `towns add --set` and `towns set` accept, besides name and the catalog
// texts (texts.LANG.ID).
var keys = []key{
	{"privacy_url", "the town's privacy notice (http or https URL), linked in every welcome", func(s *Settings, v string) error {
		if err := checkURL(v); err != nil {
			return err
		}
		s.PrivacyURL = v
		return nil
	}},
	{"contact_phone", "phone number handoffs name", func(s *Settings, v string) error { s.ContactPhone = v; return nil }},
	{"contact_email", "e-mail address handoffs name", func(s *Settings, v string) error {
		if v != "" {
			if a, err := mail.ParseAddress(v); err != nil || a.Address != v {
				return fmt.Errorf("want an e-mail address such as buergerbuero@stadt.example")
			}
		}
		s.ContactEmail = v
		return nil
	}},
	{"contact_hours", "opening hours handoffs name", func(s *Settings, v string) error { s.ContactHours = v; return nil }},
	{"desk_hours", "the service desk's office hours, e.g. \"Mo-Fr 08:00-18:00; Sa 09:00-12:00\" (default Mo-Fr 08:00-16:00)", func(s *Settings, v string) error {
		if v != "" {
			if _, err := desk.ParseHours(v, nil); err != nil {
				return err
			}
		}
		s.DeskHours = v
		return nil
	}},
	{"desk_holidays", "dates the service desk is closed, comma-separated (2026-12-24,2026-12-31)", func(s *Settings, v string) error {
		var days []string
		for _, d := range strings.Split(v, ",") {
			if d = strings.TrimSpace(d); d != "" {
				days = append(days, d)
			}
		}
		if _, err := desk.ParseHours(desk.DefaultHours, days); err != nil {
			return err
		}
		s.DeskHolidays = days
		return nil
	}},
	{"ticket_due_hours", "office hours a callback or e-mail request may wait (default 16)", func(s *Settings, v string) error {
		if v == "" {
			s.TicketDueHours = 0
			return nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return fmt.Errorf("want a whole number of hours from 1 to 1000")
		}
		s.TicketDueHours = n
		return nil
	}},
	{"desk_live_wait", "seconds a citizen waits for a person in the live chat before a callback is offered (default 180)", func(s *Settings, v string) error {
		if v == "" {
			s.DeskLiveWait = 0
			return nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 3600 {
			return fmt.Errorf("want a whole number of seconds from 1 to 3600")
		}
		s.DeskLiveWait = n
		return nil
	}},
	{"desk_email", "where new callback and e-mail requests are reported (default: contact_email)", func(s *Settings, v string) error {
		if v != "" {
			if a, err := mail.ParseAddress(v); err != nil || a.Address != v {
				return fmt.Errorf("want an e-mail address such as buergerbuero@stadt.example")
			}
		}
		s.DeskEmail = v
		return nil
	}},
	{"min_confidence", "evidence below which the bot hands off instead of answering, 0 to 1 (default 0.25)", func(s *Settings, v string) error {
		if v == "" {
			s.MinConfidence = nil
			return nil
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || !(f >= 0 && f <= 1) || math.IsNaN(f) {
			return fmt.Errorf("want a number from 0 to 1")
		}
		s.MinConfidence = &f
		return nil
	}},
	{"retention_days", "days a conversation is kept after its last message (default 90)", func(s *Settings, v string) error {
		if v == "" {
			s.RetentionDays = 0
			return nil
		}
		d, err := strconv.Atoi(v)
		if err != nil || d < 1 || d > maxRetentionDays {
			return fmt.Errorf("want a whole number of days from 1 to %d", maxRetentionDays)
		}
		s.RetentionDays = d
		return nil
	}},
	{"allowed_origins", "origins of the town's pages that embed the widget, comma-separated (https://www.stadt.example)", func(s *Settings, v string) error {
		var list []string
		for _, o := range strings.Split(v, ",") {
			if o = strings.TrimSpace(o); o == "" {
				continue
			}
			u, err := url.Parse(o)
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
				return fmt.Errorf("%q is no origin: want scheme and host, such as https://www.stadt.example", o)
			}
			list = append(list, u.Scheme+"://"+u.Host)
		}
		s.AllowedOrigins = list
		return nil
	}},
	{"widget_color", "the widget's accent colour, #rrggbb", func(s *Settings, v string) error {
		if v != "" && !reColor.MatchString(v) {
			return fmt.Errorf("want a colour such as #005ca9")
		}
		s.WidgetColor = v
		return nil
	}},
	{"widget_title", "the widget's title bar", func(s *Settings, v string) error { s.WidgetTitle = v; return nil }},
	{"widget_logo", "the widget's logo (http or https URL)", func(s *Settings, v string) error {
		if err := checkURL(v); err != nil {
			return err
		}
		s.WidgetLogo = v
		return nil
	}},
	{"glossary", "the town's own glossary concepts, in the glossary's JSON format (towns set accepts @FILE)", func(s *Settings, v string) error {
		if v == "" {
			s.Glossary = nil
			return nil
		}
		if _, err := knowledge.LoadGlossary(fstest.MapFS{"town.json": {Data: []byte(v)}}); err != nil {
			return err
		}
		s.Glossary = json.RawMessage(v)
		return nil
	}},
}

func checkURL(v string) error {
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("want an http or https URL")
	}
	return nil
}

// ErrInvalid is the kind of every error about a setting's key or value.
var ErrInvalid = errors.New("invalid")

// KeyNames lists the keys a town's settings accept, for help texts and errors.
func KeyNames() []string {
	names := []string{"name"}
	for _, k := range keys {
		names = append(names, k.name)
	}
	return append(names, "texts.LANG.MESSAGE")
}

// Help describes every key, one per line.
func Help() string {
	var b strings.Builder
	fmt.Fprintf(&b, "  %-16s %s\n", "name", "the town's name as texts say it")
	for _, k := range keys {
		fmt.Fprintf(&b, "  %-16s %s\n", k.name, k.help)
	}
	fmt.Fprintf(&b, "  %-16s %s\n", "texts.LANG.ID", "the catalog's message ID in language LANG (de, de-simple, en, tr, ar, uk, ru, fa, pl, ro), the town's wording")
	return b.String()
}

// Apply sets key to value on s (and on name for "name"); an empty value restores the default.
// catalog checks the message IDs of texts.* keys.
func Apply(s *Settings, name *string, k, value string, catalog *i18n.Catalog) error {
	if k == "name" {
		if strings.TrimSpace(value) == "" {
			return fmt.Errorf("%w: name: a town needs a name", ErrInvalid)
		}
		*name = strings.TrimSpace(value)
		return nil
	}
	if rest, ok := strings.CutPrefix(k, "texts."); ok {
		lang, id, ok := strings.Cut(rest, ".")
		if !ok || !slices.Contains(i18n.Languages(), lang) {
			return fmt.Errorf("%w: %s: want texts.LANG.ID with LANG one of %s", ErrInvalid, k, strings.Join(i18n.Languages(), ", "))
		}
		if catalog != nil && !slices.Contains(catalog.IDs(), id) {
			return fmt.Errorf("%w: %s: the catalog has no message %q", ErrInvalid, k, id)
		}
		if value == "" {
			delete(s.Texts[lang], id)
			if len(s.Texts[lang]) == 0 {
				delete(s.Texts, lang)
			}
			if len(s.Texts) == 0 {
				s.Texts = nil
			}
			return nil
		}
		if s.Texts == nil {
			s.Texts = map[string]map[string]string{}
		}
		if s.Texts[lang] == nil {
			s.Texts[lang] = map[string]string{}
		}
		s.Texts[lang][id] = value
		return nil
	}
	for _, kk := range keys {
		if kk.name == k {
			if err := kk.set(s, strings.TrimSpace(value)); err != nil {
				return fmt.Errorf("%w: %s: %w", ErrInvalid, k, err)
			}
			return nil
		}
	}
	return fmt.Errorf("%w: unknown setting %q; the settings are %s", ErrInvalid, k, strings.Join(KeyNames(), ", "))
}

// ParseAssignments splits "key=value" arguments.
func ParseAssignments(args []string) ([][2]string, error) {
	var out [][2]string
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%w: %q: want key=value; the settings are %s", ErrInvalid, a, strings.Join(KeyNames(), ", "))
		}
		out = append(out, [2]string{k, v})
	}
	return out, nil
}

// reSlug is what a town's slug may be: it appears in URLs (/t/SLUG/widget.js).
var reSlug = regexp.MustCompile(`^[a-z0-9-]{2,40}$`)

// CheckSlug tells whether slug can name a town.
func CheckSlug(slug string) error {
	if !reSlug.MatchString(slug) {
		return fmt.Errorf("%w: slug %q: want 2 to 40 lower-case letters, digits or hyphens, such as musterstadt", ErrInvalid, slug)
	}
	return nil
}

// Slugify turns a town's name into a slug ("Bad Münstereifel" → "bad-muenstereifel").
func Slugify(name string) string {
	r := strings.NewReplacer("ä", "ae", "ö", "oe", "ü", "ue", "ß", "ss", "Ä", "ae", "Ö", "oe", "Ü", "ue")
	s := strings.ToLower(r.Replace(name))
	var b strings.Builder
	dash := false
	for _, c := range norm.NFD.String(s) { // é → e and a combining accent, which is dropped
		switch {
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
			b.WriteRune(c)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	out := strings.TrimRight(b.String(), "-")
	if len(out) > 40 {
		out = strings.TrimRight(out[:40], "-")
	}
	return out
}
