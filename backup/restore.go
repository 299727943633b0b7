package backup

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/citybot-project/citybot/audit"
	"github.com/citybot-project/citybot/tenant"
)

// A batch of rows goes to the database in one statement, up to these sizes: a town's postings
// run to millions of rows, one statement each would take hours.
const (
	batchRows  = 1000
	batchBytes = 4 << 20
)

// Report is what a restore did.
type Report struct {
	Header Header
	Slug   string           // the town's slug now
	ID     int              // its id now
	Rows   map[string]int64 // rows restored, by table
	// Notes are the rows left out or changed, and why: a role of a person with no account in
	// this deployment, a link to a town that is not here.
	Notes []string
}

// RestoreFile restores the town in the file at path ("-": stdin); see Restore.
func RestoreFile(ctx context.Context, db DB, path string, stdin io.Reader, as, actor string) (Report, error) {
	r := stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return Report{}, fmt.Errorf("restore a town: %w", err)
		}
		defer f.Close()
		r = f
	}
	rep, err := Restore(ctx, db, r, as, actor)
	if err != nil {
		return rep, fmt.Errorf("restore a town from %s: %w", path, err)
	}
	return rep, nil
}

// Restore reads a town's backup from r into the database, under the slug it had or as (when
// not empty), with a new id, in one transaction: a file that is truncated or corrupt, of
// another schema version, or for a slug that is taken changes nothing. Staff roles come back
// for the accounts of the same e-mail address there are; the others are reported in Notes.
func Restore(ctx context.Context, db DB, r io.Reader, as, actor string) (Report, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return Report{}, corrupt(fmt.Errorf("not a gzip stream: %w", err))
	}
	br := bufio.NewReaderSize(zr, 1<<16)
	first, err := br.ReadBytes('\n')
	if err != nil {
		return Report{}, corrupt(fmt.Errorf("no header: %w", err))
	}
	var h Header
	if err := json.Unmarshal(first, &h); err != nil || h.Kind != Kind {
		return Report{}, corrupt(fmt.Errorf("not a citybot town backup"))
	}
	rep := Report{Header: h, Slug: h.Town, Rows: map[string]int64{}}
	if h.Format != FormatVersion {
		return rep, fmt.Errorf("the backup file is of format %d, this citybot reads format %d", h.Format, FormatVersion)
	}
	if as != "" {
		if err := tenant.CheckSlug(as); err != nil {
			return rep, err
		}
		rep.Slug = as
	}
	tx, err := db.BeginTx(ctx, pgx.TxOptions{})
	if err != nil {
		return rep, fmt.Errorf("restore town %s: begin: %w", rep.Slug, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := adminSession(ctx, tx); err != nil {
		return rep, err
	}
	s, err := loadSchema(ctx, tx)
	if err != nil {
		return rep, fmt.Errorf("restore town %s: %w", rep.Slug, err)
	}
	if h.Schema != s.version {
		return rep, fmt.Errorf("%w: the file was written at schema %s, this database is at %s; restore it into a deployment at %s "+
			"(then upgrade that one, or back the town up again from it), nothing was restored", ErrSchema, h.Schema, s.version, h.Schema)
	}
	if err := sameTables(s, h); err != nil {
		return rep, err
	}
	var taken bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM towns WHERE slug = $1)`, rep.Slug).Scan(&taken); err != nil {
		return rep, fmt.Errorf("restore town %s: %w", rep.Slug, err)
	}
	if taken {
		return rep, fmt.Errorf("restore town %s: %w: remove it first (citybot towns remove %s --yes), or restore under a free slug with --as NEWSLUG",
			rep.Slug, tenant.ErrExists, rep.Slug)
	}
	ids := map[string]map[string]int64{}
	for t, key := range naturalKeys {
		names, err := readNames(ctx, tx, t, key)
		if err != nil {
			return rep, fmt.Errorf("restore town %s: %w", rep.Slug, err)
		}
		ids[t] = map[string]int64{}
		for id, name := range names {
			ids[t][name] = id
		}
	}
	rs := &restorer{tx: tx, s: s, h: h, rep: &rep, ids: ids, notes: map[string]int{}, read: map[string][2]int64{}}
	if err := rs.run(ctx, br); err != nil {
		return rep, err
	}
	if err := rs.finish(ctx, actor); err != nil {
		return rep, fmt.Errorf("restore town %s: %w", rep.Slug, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return rep, fmt.Errorf("restore town %s: commit: %w", rep.Slug, err)
	}
	return rep, nil
}

func corrupt(err error) error {
	return fmt.Errorf("%w: %v; nothing was restored", ErrCorrupt, err)
}

// sameTables checks that the file carries the tables and columns the database has. The same
// schema version promises it; a schema changed by hand would otherwise fail half way through.
func sameTables(s *schema, h Header) error {
	live := map[string]*table{"towns": s.towns}
	for _, t := range s.order {
		live[t.name] = t
	}
	var diff []string
	seen := map[string]bool{}
	for _, ft := range h.Tables {
		seen[ft.Name] = true
		t := live[ft.Name]
		switch {
		case t == nil:
			diff = append(diff, "the database has no table "+ft.Name)
		case !slices.Equal(ft.Columns, t.columns()) || !maps.Equal(ft.Refs, t.refs):
			diff = append(diff, fmt.Sprintf("%s has columns %s in the file, %s in the database", ft.Name,
				strings.Join(ft.Columns, ","), strings.Join(t.columns(), ",")))
		}
	}
	for n := range live {
		if !seen[n] {
			diff = append(diff, "the file has no table "+n)
		}
	}
	if len(diff) > 0 {
		slices.Sort(diff)
		return fmt.Errorf("%w: both say %s, but %s; nothing was restored", ErrSchema, s.version, strings.Join(diff, "; "))
	}
	return nil
}

// restorer reads a file's rows into one transaction.
type restorer struct {
	tx  pgx.Tx
	s   *schema
	h   Header
	rep *Report
	// ids map the natural keys of deployment-wide tables (towns' slugs, users' e-mail
	// addresses) to their ids in this database.
	ids   map[string]map[string]int64
	town  int64
	notes map[string]int
	// read counts the rows and back references read per table, to hold against the header.
	read map[string][2]int64

	batch      bytes.Buffer
	batchTable *table
	batchRows  int
}

func (rs *restorer) run(ctx context.Context, br *bufio.Reader) error {
	section := 0 // the index in the header's tables of the table being read
	for {
		b, err := br.ReadBytes('\n')
		if err != nil && !(err == io.EOF && len(b) > 0) {
			if err == io.EOF {
				err = errors.New("it ends before its last line")
			}
			return corrupt(err)
		}
		var l line
		if err := json.Unmarshal(b, &l); err != nil {
			return corrupt(fmt.Errorf("a line after %d rows: %w", rs.total(), err))
		}
		if l.End {
			break
		}
		for section < len(rs.h.Tables) && rs.h.Tables[section].Name != l.T {
			section++
		}
		if section == len(rs.h.Tables) {
			return corrupt(fmt.Errorf("rows of table %q where the header has none, or out of order", l.T))
		}
		n := rs.read[l.T]
		if l.Ref {
			n[1]++
		} else {
			n[0]++
		}
		rs.read[l.T] = n
		if err := rs.row(ctx, l); err != nil {
			return err
		}
	}
	if err := rs.flush(ctx); err != nil {
		return err
	}
	for _, t := range rs.h.Tables {
		if n := rs.read[t.Name]; n[0] != t.Rows || n[1] != t.Backrefs {
			return corrupt(fmt.Errorf("%s: the header counts %d rows, the file has %d", t.Name, t.Rows+t.Backrefs, n[0]+n[1]))
		}
	}
	// Read to the end: gzip checks the stream's checksum and length only there.
	if n, err := io.Copy(io.Discard, br); err != nil {
		return corrupt(err)
	} else if n > 0 {
		return corrupt(errors.New("data after its last line"))
	}
	return nil
}

func (rs *restorer) total() int64 {
	var n int64
	for _, c := range rs.read {
		n += c[0] + c[1]
	}
	return n
}

// row restores one line's row, or batches it.
func (rs *restorer) row(ctx context.Context, l line) error {
	if l.T == "towns" {
		return rs.townRow(ctx, l)
	}
	if rs.town == 0 {
		return corrupt(errors.New("rows before the town's own"))
	}
	t := rs.s.byName[l.T]
	if l.Ref && rs.rep.Slug != rs.h.Town {
		// Another town's link to this one belongs to the town that comes back in its place,
		// not to a copy beside it.
		rs.note(fmt.Sprintf("%s: rows of other towns referring to %s not restored, since it is restored as %s", t.name, rs.h.Town, rs.rep.Slug))
		return nil
	}
	row := bytes.TrimSpace(l.R)
	if len(row) < 2 || row[0] != '{' || row[len(row)-1] != '}' {
		return corrupt(fmt.Errorf("a row of %s is not a JSON object", t.name))
	}
	// The references go into the row's object as this database's ids.
	var refs bytes.Buffer
	for _, c := range t.refColumns() {
		name, ok := l.K[c]
		if !ok {
			return corrupt(fmt.Errorf("a row of %s lacks its %s", t.name, c))
		}
		val := "null"
		if name != nil {
			id, found := rs.lookup(t.refs[c], *name)
			switch {
			case found:
				val = strconv.FormatInt(id, 10)
			case !t.nullable[c]:
				rs.note(fmt.Sprintf("%s: rows left out, %s %q is not in this deployment", t.name, describe(t.refs[c]), *name))
				return nil
			default:
				rs.note(fmt.Sprintf("%s.%s: set empty, %s %q is not in this deployment", t.name, c, describe(t.refs[c]), *name))
			}
		}
		if refs.Len() > 0 {
			refs.WriteByte(',')
		}
		key, _ := json.Marshal(c)
		refs.Write(key)
		refs.WriteByte(':')
		refs.WriteString(val)
	}
	if rs.batchTable != t || rs.batchRows >= batchRows || rs.batch.Len() >= batchBytes {
		if err := rs.flush(ctx); err != nil {
			return err
		}
		rs.batchTable = t
		rs.batch.WriteByte('[')
	} else {
		rs.batch.WriteByte(',')
	}
	rs.batch.Write(row[:len(row)-1])
	if len(row) > 2 && refs.Len() > 0 {
		rs.batch.WriteByte(',')
	}
	rs.batch.Write(refs.Bytes())
	rs.batch.WriteByte('}')
	rs.batchRows++
	return nil
}

func describe(table string) string {
	switch table {
	case "users":
		return "the account"
	case "towns":
		return "the town"
	}
	return table
}

func (rs *restorer) lookup(table, name string) (int64, bool) {
	if table == "towns" && name == rs.h.Town {
		return rs.town, true // the town itself, under whatever slug it comes back
	}
	id, ok := rs.ids[table][name]
	return id, ok
}

func (rs *restorer) note(n string) { rs.notes[n]++ }

// townRow inserts the towns row, under its new slug, and takes the id it gets.
func (rs *restorer) townRow(ctx context.Context, l line) error {
	if rs.town != 0 {
		return corrupt(errors.New("a second towns row"))
	}
	var row map[string]json.RawMessage
	if err := json.Unmarshal(l.R, &row); err != nil {
		return corrupt(fmt.Errorf("the towns row: %w", err))
	}
	row["slug"], _ = json.Marshal(rs.rep.Slug)
	b, err := json.Marshal(row)
	if err != nil {
		return fmt.Errorf("restore town %s: %w", rs.rep.Slug, err)
	}
	list, args := rs.s.towns.selectRow("citybot_row", "p", 2)
	err = rs.tx.QueryRow(ctx, `INSERT INTO towns (`+quoted(rs.s.towns.columns())+`) SELECT `+list+
		` FROM (SELECT $1::jsonb AS v) citybot_row, jsonb_populate_record(NULL::towns, citybot_row.v) p RETURNING id`,
		append([]any{string(b)}, args...)...).Scan(&rs.town)
	if err != nil {
		return fmt.Errorf("restore town %s: the towns row: %w", rs.rep.Slug, err)
	}
	rs.rep.ID = int(rs.town)
	rs.rep.Rows["towns"] = 1
	return nil
}

// flush inserts the batch. OVERRIDING SYSTEM VALUE keeps the ids the file carries in identity
// columns GENERATED ALWAYS; those the database assigns anew are not in the file.
func (rs *restorer) flush(ctx context.Context) error {
	t := rs.batchTable
	if t == nil || rs.batchRows == 0 {
		return nil
	}
	rs.batch.WriteByte(']')
	name := pgx.Identifier{t.name}.Sanitize()
	list, args := t.selectRow("citybot_row", "p", 2)
	tag, err := rs.tx.Exec(ctx, `INSERT INTO `+name+` (`+quoted(t.columns())+`) OVERRIDING SYSTEM VALUE SELECT `+list+
		` FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY citybot_row (v, n), jsonb_populate_record(NULL::`+name+`, citybot_row.v) p`+
		` ORDER BY citybot_row.n`, append([]any{rs.batch.String()}, args...)...)
	if err != nil {
		return fmt.Errorf("restore town %s: table %s: %w", rs.rep.Slug, t.name, err)
	}
	rs.rep.Rows[t.name] += tag.RowsAffected()
	rs.batch.Reset()
	rs.batchRows, rs.batchTable = 0, nil
	return nil
}

// finish does what the restored rows need beyond themselves, and records the restore.
func (rs *restorer) finish(ctx context.Context, actor string) error {
	if rs.town == 0 {
		return corrupt(errors.New("no towns row"))
	}
	// Sequences are shared by every town's rows: one that never got this far in this database
	// would hand out the restored ids again. setval is not undone by a rollback, but the
	// rollbacks come before it, and a sequence ahead of its rows only leaves a gap.
	for _, t := range rs.s.order {
		for _, c := range t.sequences {
			name := pgx.Identifier{t.name}.Sanitize()
			_, err := rs.tx.Exec(ctx, `SELECT setval(seq, m) FROM (
					SELECT pg_get_serial_sequence($1, $2)::regclass AS seq, (SELECT max(`+pgx.Identifier{c}.Sanitize()+`) FROM `+name+` WHERE town_id = $3) AS m) x
				WHERE m > coalesce(pg_sequence_last_value(seq), 0)`, name, c, rs.town)
			if err != nil {
				return fmt.Errorf("advance the sequence of %s.%s: %w", t.name, c, err)
			}
		}
	}
	// A registry that served the town before it was removed knows it by slug and its last
	// change: a new change time makes every running citybot build it again, with its new id.
	if _, err := rs.tx.Exec(ctx, `UPDATE towns SET updated_at = now() WHERE id = $1`, rs.town); err != nil {
		return err
	}
	// Meilisearch keeps a town's documents under its id, which is new: marking the pages as not
	// yet pushed has the next ingest push them all.
	if pages := rs.s.byName["pages"]; pages != nil && slices.Contains(pages.plain, "search_hash") {
		if _, err := rs.tx.Exec(ctx, `UPDATE pages SET search_hash = NULL WHERE town_id = $1`, rs.town); err != nil {
			return err
		}
	}
	for n, k := range rs.notes {
		rs.rep.Notes = append(rs.rep.Notes, fmt.Sprintf("%s (%d)", n, k))
	}
	slices.Sort(rs.rep.Notes)
	var total int64
	for _, n := range rs.rep.Rows {
		total += n
	}
	return audit.Record(ctx, rs.tx, audit.Entry{Town: int(rs.town), Actor: actor, Action: "town.restore", Target: rs.rep.Slug,
		Details: map[string]any{"from": rs.h.Town, "created": rs.h.Created, "schema": rs.h.Schema, "rows": total, "notes": rs.rep.Notes}})
}
