package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"testing/fstest"
	"text/tabwriter"

	"github.com/citybot-project/citybot/audit"
	"github.com/citybot-project/citybot/backup"
	"github.com/citybot-project/citybot/database"
	"github.com/citybot-project/citybot/i18n"
	"github.com/citybot-project/citybot/knowledge"
	"github.com/citybot-project/citybot/tenant"
)

const townsUsage = `towns add SLUG --name NAME [--set key=value ...]
       towns list
       towns show SLUG
       towns set SLUG key=value ...
       towns link SLUG --to COLLECTION      (SLUG's bot also searches COLLECTION's pages)
       towns unlink SLUG --from COLLECTION
       towns remove SLUG --yes              (deletes the town and all its data)
       towns backup SLUG --out FILE         (the town's data, settings and staff roles in one file)
       towns restore FILE [--as NEWSLUG]    (a town from such a file, under its slug or NEWSLUG)

Manages the towns one deployment serves. SLUG (2 to 40 of a-z, 0-9, -) names the town in URLs
(/t/SLUG/widget.js) and on the command line (--town SLUG or CITYBOT_TOWN). A value "" restores a
setting's default; glossary=@FILE reads the file. The settings:
`

func cmdTowns(ctx context.Context, e *env, args []string) error {
	usage := func() error {
		fmt.Fprint(e.stderr, "usage: citybot "+townsUsage+tenant.Help())
		return errUsage
	}
	if len(args) == 0 {
		return usage()
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(e.stderr, "usage: citybot "+townsUsage+tenant.Help())
		return nil
	}
	verb, rest := args[0], args[1:]
	fsys := newFlags("towns "+verb, townsUsage+tenant.Help(), e.stderr)
	name := fsys.String("name", "", "the town's name (add)")
	var sets multiFlag
	fsys.Var(&sets, "set", "a setting key=value (add; repeatable)")
	to := fsys.String("to", "", "the collection to link to (link)")
	from := fsys.String("from", "", "the collection to unlink (unlink)")
	yes := fsys.Bool("yes", false, "confirm removing the town and all its data (remove)")
	out := fsys.String("out", "", "the file to write, - for stdout (backup)")
	as := fsys.String("as", "", "restore the town under this slug instead of its own (restore)")
	// The slug comes first, flags after it: "towns add musterstadt --name Musterstadt". For
	// restore it is the file, where "-" is standard input.
	var slug string
	if len(rest) > 0 && (!strings.HasPrefix(rest[0], "-") || rest[0] == "-") {
		slug, rest = rest[0], rest[1:]
	}
	if err := parse(fsys, rest); err != nil {
		return err
	}
	needSlug := func() error {
		if slug == "" {
			fmt.Fprintf(e.stderr, "towns %s needs the town's SLUG\n", verb)
			return usage()
		}
		return nil
	}
	db, err := database.Open(ctx, database.Options{URL: e.cfg.DatabaseURL, DataDir: e.cfg.DataDir, Log: e.log, MaxConn: 2})
	if err != nil {
		return err
	}
	defer db.Close()
	store := tenant.NewStore(db.Pool)
	catalog, err := i18n.Load(nil)
	if err != nil {
		return err
	}
	switch verb {
	case "add":
		if err := needSlug(); err != nil {
			return err
		}
		if strings.TrimSpace(*name) == "" {
			return fmt.Errorf("%w: towns add needs --name, the town's name as texts say it", tenant.ErrInvalid)
		}
		var s tenant.Settings
		n := strings.TrimSpace(*name)
		if err := applyAll(&s, &n, sets, catalog); err != nil {
			return err
		}
		if _, err := store.Add(ctx, slug, n, s); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "town %s added; its widget: /t/%s/widget.js\n", slug, slug)
	case "list":
		towns, err := store.List(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SLUG\tNAME\tLINKED TO\tPRIVACY URL")
		for _, t := range towns {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.Slug, t.Name, strings.Join(t.LinkSlugs(), ","), t.Settings.PrivacyURL)
		}
		return tw.Flush()
	case "show":
		if err := needSlug(); err != nil {
			return err
		}
		t, err := store.Get(ctx, slug)
		if err != nil {
			return knownTowns(ctx, store, err)
		}
		printTown(e, t)
	case "set":
		if err := needSlug(); err != nil {
			return err
		}
		t, err := store.Get(ctx, slug)
		if err != nil {
			return knownTowns(ctx, store, err)
		}
		if len(fsys.Args()) == 0 {
			return fmt.Errorf("%w: towns set %s needs key=value; the settings are %s", tenant.ErrInvalid, slug, strings.Join(tenant.KeyNames(), ", "))
		}
		if err := applyAll(&t.Settings, &t.Name, fsys.Args(), catalog); err != nil {
			return err
		}
		if err := store.Update(ctx, t); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "town %s updated\n", slug)
	case "link", "unlink":
		if err := needSlug(); err != nil {
			return err
		}
		if verb == "link" {
			if *to == "" {
				return fmt.Errorf("%w: towns link %s needs --to COLLECTION", tenant.ErrInvalid, slug)
			}
			if err := store.Link(ctx, slug, *to); err != nil {
				return knownTowns(ctx, store, err)
			}
			fmt.Fprintf(e.stdout, "%s's bot now also searches %s's pages\n", slug, *to)
			return nil
		}
		if *from == "" {
			return fmt.Errorf("%w: towns unlink %s needs --from COLLECTION", tenant.ErrInvalid, slug)
		}
		if err := store.Unlink(ctx, slug, *from); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%s's bot no longer searches %s's pages\n", slug, *from)
	case "remove":
		if err := needSlug(); err != nil {
			return err
		}
		if !*yes {
			return fmt.Errorf("%w: towns remove deletes %s and all its pages, conversations, ratings and tickets: add --yes", tenant.ErrInvalid, slug)
		}
		if err := store.Remove(ctx, slug); err != nil {
			return knownTowns(ctx, store, err)
		}
		fmt.Fprintf(e.stdout, "town %s and all its data removed\n", slug)
	case "backup":
		if err := needSlug(); err != nil {
			return err
		}
		if *out == "" {
			return fmt.Errorf("%w: towns backup %s needs --out FILE", tenant.ErrInvalid, slug)
		}
		h, err := backup.WriteFile(ctx, db.Pool, slug, *out, e.stdout, audit.ActorCLI)
		if err != nil {
			return knownTowns(ctx, store, err)
		}
		report := e.stdout
		if *out == "-" {
			report = e.stderr
		}
		var counts []string
		for _, t := range h.Tables {
			if t.Rows+t.Backrefs > 0 {
				counts = append(counts, fmt.Sprintf("%s %d", t.Name, t.Rows+t.Backrefs))
			}
		}
		fmt.Fprintf(report, "town %s backed up to %s (schema %s): %s\n", slug, *out, h.Schema, strings.Join(counts, ", "))
	case "restore":
		if slug == "" {
			fmt.Fprintln(e.stderr, "towns restore needs the backup FILE")
			return usage()
		}
		if *as != "" {
			if err := tenant.CheckSlug(*as); err != nil {
				return err
			}
		}
		rep, err := backup.RestoreFile(ctx, db.Pool, slug, e.stdin, *as, audit.ActorCLI)
		if err != nil {
			return err
		}
		var counts []string
		for _, t := range rep.Header.Tables {
			if n := rep.Rows[t.Name]; n > 0 {
				counts = append(counts, fmt.Sprintf("%s %d", t.Name, n))
			}
		}
		fmt.Fprintf(e.stdout, "town %s restored from the backup of %s made %s: %s\n", rep.Slug, rep.Header.Town,
			rep.Header.Created.Format("2006-01-02 15:04 MST"), strings.Join(counts, ", "))
		for _, n := range rep.Notes {
			fmt.Fprintf(e.stdout, "  left out or changed: %s\n", n)
		}
	default:
		fmt.Fprintf(e.stderr, "unknown towns command %q\n", verb)
		return usage()
	}
	return nil
}

// applyAll applies key=value settings, reading glossary=@FILE from the file.
func applyAll(s *tenant.Settings, name *string, args []string, catalog *i18n.Catalog) error {
	kvs, err := tenant.ParseAssignments(args)
	if err != nil {
		return err
	}
	for _, kv := range kvs {
		v := kv[1]
		if file, ok := strings.CutPrefix(v, "@"); ok && kv[0] == "glossary" {
			b, err := os.ReadFile(file)
			if err != nil {
				return fmt.Errorf("%w: glossary: %w", tenant.ErrInvalid, err)
			}
			v = string(b)
		}
		if err := tenant.Apply(s, name, kv[0], v, catalog); err != nil {
			return err
		}
	}
	return nil
}

func printTown(e *env, t tenant.Town) {
	s := t.Settings
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "slug\t%s\nname\t%s\nlinked to\t%s\n", t.Slug, t.Name, strings.Join(t.LinkSlugs(), ", "))
	fmt.Fprintf(tw, "privacy_url\t%s\ncontact_phone\t%s\ncontact_email\t%s\ncontact_hours\t%s\n",
		s.PrivacyURL, s.ContactPhone, s.ContactEmail, s.ContactHours)
	fmt.Fprintf(tw, "min_confidence\t%g\nretention_days\t%d\nallowed_origins\t%s\n", s.MinConf(), s.Retention(), strings.Join(s.AllowedOrigins, ", "))
	fmt.Fprintf(tw, "widget_color\t%s\nwidget_title\t%s\nwidget_logo\t%s\n", s.WidgetColor, s.WidgetTitle, s.WidgetLogo)
	glossary := "(none)"
	if len(s.Glossary) > 0 {
		glossary = fmt.Sprintf("%d bytes of concepts", len(s.Glossary))
	}
	fmt.Fprintf(tw, "glossary\t%s\n", glossary)
	var langs []string
	for l := range s.Texts {
		langs = append(langs, l)
	}
	slices.Sort(langs)
	for _, l := range langs {
		var ids []string
		for id := range s.Texts[l] {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for _, id := range ids {
			fmt.Fprintf(tw, "texts.%s.%s\t%s\n", l, id, s.Texts[l][id])
		}
	}
	tw.Flush()
}

// knownTowns adds the towns there are to a "no such town" error.
func knownTowns(ctx context.Context, store *tenant.Store, err error) error {
	if !errors.Is(err, tenant.ErrNotFound) {
		return err
	}
	towns, lerr := store.List(ctx)
	if lerr != nil || len(towns) == 0 {
		return fmt.Errorf("%w (no towns yet: citybot towns add SLUG --name NAME)", err)
	}
	var slugs []string
	for _, t := range towns {
		slugs = append(slugs, t.Slug)
	}
	return fmt.Errorf("%w; the towns are %s", err, strings.Join(slugs, ", "))
}

// resolveTown picks the town a command acts on: the one named (--town, CITYBOT_TOWN), else the
// only one. An installation from before towns becomes its first town here, named and configured
// from the environment (CITYBOT_CITY and the settings it had).
func resolveTown(ctx context.Context, e *env, db *database.DB) (tenant.Town, error) {
	store := tenant.NewStore(db.Pool)
	settings, err := envSettings(e.cfg)
	if err != nil {
		return tenant.Town{}, err
	}
	if slug, err := store.Bootstrap(ctx, e.cfg.City, settings); err != nil {
		return tenant.Town{}, fmt.Errorf("the first town from %s: %w", envCity, err)
	} else if slug != "" {
		e.log.Info("town set up from the environment", "town", slug)
	}
	if e.cfg.Town != "" {
		t, err := store.Get(ctx, e.cfg.Town)
		return t, knownTowns(ctx, store, err)
	}
	towns, err := store.List(ctx)
	if err != nil {
		return tenant.Town{}, err
	}
	switch len(towns) {
	case 1:
		return towns[0], nil
	case 0:
		return tenant.Town{}, fmt.Errorf("no town yet: add one (citybot towns add SLUG --name NAME) or set %s", envCity)
	}
	var slugs []string
	for _, t := range towns {
		slugs = append(slugs, t.Slug)
	}
	return tenant.Town{}, fmt.Errorf("%d towns (%s): name one with --town SLUG or %s", len(towns), strings.Join(slugs, ", "), envTown)
}

// envSettings are the town settings an installation from before towns kept in its environment.
func envSettings(c config) (tenant.Settings, error) {
	s := tenant.Settings{PrivacyURL: c.PrivacyURL, ContactPhone: c.ContactPhone, ContactEmail: c.ContactEmail,
		ContactHours: c.ContactHours, AllowedOrigins: c.Origins}
	if c.MinConf != tenant.DefaultMinConfidence {
		s.MinConfidence = &c.MinConf
	}
	if days := int(c.Retention.Hours() / 24); days != tenant.DefaultRetentionDays {
		s.RetentionDays = days
	}
	if c.TextsDir != "" {
		texts, err := readTexts(os.DirFS(c.TextsDir))
		if err != nil {
			return s, fmt.Errorf("%s: %w", envTextsDir, err)
		}
		s.Texts = texts
	}
	if c.GlossaryDir != "" {
		g, err := readGlossaries(os.DirFS(c.GlossaryDir))
		if err != nil {
			return s, fmt.Errorf("%s: %w", envGlossaryDir, err)
		}
		s.Glossary = g
	}
	return s, nil
}

// readTexts reads catalog overrides named like the catalogs (de.json, en.json, ...).
func readTexts(fsys fs.FS) (map[string]map[string]string, error) {
	out := map[string]map[string]string{}
	for _, lang := range i18n.Languages() {
		b, err := fs.ReadFile(fsys, lang+".json")
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		var m map[string]string
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("%s.json: %w", lang, err)
		}
		out[lang] = m
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// readGlossaries joins the concept arrays of a directory's *.json files into one.
func readGlossaries(fsys fs.FS) ([]byte, error) {
	files, err := fs.Glob(fsys, "*.json")
	if err != nil {
		return nil, err
	}
	var all []any
	for _, f := range files {
		b, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, err
		}
		var list []any
		if err := json.Unmarshal(b, &list); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		all = append(all, list...)
	}
	if len(all) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(all)
	if err != nil {
		return nil, err
	}
	if _, err := knowledge.LoadGlossary(fstest.MapFS{"town.json": {Data: b}}); err != nil {
		return nil, err
	}
	return b, nil
}

// multiFlag is a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, " ") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// townFlag adds --town to a command that acts on one town.
func townFlag(fs *flag.FlagSet, e *env) {
	fs.Func("town", "the town's slug ("+envTown+"; default: the only town)", func(v string) error {
		if err := tenant.CheckSlug(v); err != nil {
			return err
		}
		e.cfg.Town = v
		return nil
	})
}
