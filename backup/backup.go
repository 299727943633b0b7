// Package backup writes one town of a deployment to a file and reads it back, into the same
// deployment (after the town was removed, or as a copy under another slug) or into another one
// of the same schema version.
//
// The file is a gzip stream of JSON lines: a header (format and schema version, the town, when,
// each table's row count), the towns row, every row of every table with a town_id column, and
// an end line. Tables are found in the live schema, not listed here, so that tables added by
// later migrations are carried without a change to this package. References to what belongs to
// the deployment rather than the town (the town's own id, other towns, staff accounts) are
// carried by name (slug, e-mail address) and resolved again on restore. Staff accounts,
// sessions and failed logins are not carried: a person's account is the deployment's, not one
// town's; their roles in the town are, by e-mail.
package backup

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/citybot-project/citybot/audit"
	"github.com/citybot-project/citybot/tenant"
)

// Kind names the file's format in its header; FormatVersion is its version.
const (
	Kind          = "citybot-town-backup"
	FormatVersion = 1
)

// Header is the file's first line.
type Header struct {
	Kind    string    `json:"kind"`
	Format  int       `json:"format"`
	Schema  string    `json:"schema"` // the highest migration applied to the database backed up
	Town    string    `json:"town"`   // the town's slug
	Created time.Time `json:"created"`
	// Tables in the order their rows follow: towns first, then parents before children.
	Tables []Table `json:"tables"`
}

// Table is one table's part of a file.
type Table struct {
	Name    string   `json:"name"`
	Columns []string `json:"columns"`
	// Refs are the columns carried as a deployment-wide table's natural key: town_id and other
	// references to towns by slug, references to staff accounts by e-mail.
	Refs map[string]string `json:"refs,omitempty"`
	Rows int64             `json:"rows"`
	// Backrefs are rows of other towns that point at this one (towns linked to a Kreis's
	// collection): restored only when the town comes back under its own slug.
	Backrefs int64 `json:"backrefs,omitempty"`
}

// line is every line of the file after the header: a row of table T, with its references by
// name in K, or the end.
type line struct {
	T   string             `json:"t,omitempty"`
	Ref bool               `json:"ref,omitempty"`
	K   map[string]*string `json:"k,omitempty"`
	R   json.RawMessage    `json:"r,omitempty"`
	End bool               `json:"end,omitempty"`
}

// DB begins transactions: a pool or a connection.
type DB interface {
	BeginTx(ctx context.Context, opts pgx.TxOptions) (pgx.Tx, error)
}

// Errors to test for with errors.Is.
var (
	ErrCorrupt = errors.New("the backup file is truncated or corrupt")
	ErrSchema  = errors.New("the backup file is of another schema version")
)

// adminSession sets a backup's or restore's transaction up. row_security off makes a query that
// row-level security would filter fail instead: a backup that silently missed rows (run as a
// role the policies restrict, not the tables' owner) would be found out only on restore. Floats
// are written with every digit so that they come back bit for bit.
func adminSession(ctx context.Context, tx pgx.Tx) error {
	if _, err := tx.Exec(ctx, "SET LOCAL row_security = off"); err != nil {
		return fmt.Errorf("set up the transaction: %w", err)
	}
	if _, err := tx.Exec(ctx, "SET LOCAL extra_float_digits = 3"); err != nil {
		return fmt.Errorf("set up the transaction: %w", err)
	}
	return nil
}

// WriteFile backs the town of slug up into the file at path, made readable by its owner only
// (it holds citizens' conversations). The file appears whole or not at all: it is written
// beside path and renamed when complete. A path of "-" writes to stdout.
func WriteFile(ctx context.Context, db DB, slug, path string, stdout io.Writer, actor string) (Header, error) {
	if path == "-" {
		return Backup(ctx, db, slug, stdout, actor)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return Header{}, fmt.Errorf("back up town %s: %w", slug, err)
	}
	defer os.Remove(f.Name()) // after the rename, a no-op
	h, err := Backup(ctx, db, slug, f, actor)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		return Header{}, fmt.Errorf("back up town %s to %s: %w", slug, path, err)
	}
	return h, nil
}

// Backup writes the town of slug to w, from one snapshot of the database: a running citybot
// may go on answering meanwhile. The export is recorded in the audit log as actor's.
func Backup(ctx context.Context, db DB, slug string, w io.Writer, actor string) (Header, error) {
	tx, err := db.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return Header{}, fmt.Errorf("back up town %s: begin: %w", slug, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := adminSession(ctx, tx); err != nil {
		return Header{}, err
	}
	var town int
	if err := tx.QueryRow(ctx, `SELECT id FROM towns WHERE slug = $1`, slug).Scan(&town); errors.Is(err, pgx.ErrNoRows) {
		return Header{}, fmt.Errorf("town %q: %w", slug, tenant.ErrNotFound)
	} else if err != nil {
		return Header{}, fmt.Errorf("back up town %s: %w", slug, err)
	}
	s, err := loadSchema(ctx, tx)
	if err != nil {
		return Header{}, fmt.Errorf("back up town %s: %w", slug, err)
	}
	names := map[string]map[int64]string{}
	for t, key := range naturalKeys {
		m, err := readNames(ctx, tx, t, key)
		if err != nil {
			return Header{}, fmt.Errorf("back up town %s: %w", slug, err)
		}
		names[t] = m
	}

	h := Header{Kind: Kind, Format: FormatVersion, Schema: s.version, Town: slug, Created: time.Now().UTC().Truncate(time.Second),
		Tables: []Table{{Name: "towns", Columns: s.towns.columns(), Rows: 1}}}
	for _, t := range s.order {
		e := Table{Name: t.name, Columns: t.columns(), Refs: t.refs}
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{t.name}.Sanitize()+` WHERE town_id = $1`, town).Scan(&e.Rows); err != nil {
			return Header{}, fmt.Errorf("back up town %s: count %s: %w", slug, t.name, err)
		}
		if where := backrefWhere(t); where != "" {
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{t.name}.Sanitize()+` WHERE `+where, town).Scan(&e.Backrefs); err != nil {
				return Header{}, fmt.Errorf("back up town %s: count %s: %w", slug, t.name, err)
			}
		}
		h.Tables = append(h.Tables, e)
	}

	zw := gzip.NewWriter(w)
	bw := bufio.NewWriterSize(zw, 1<<16)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false) // pages are full of <, > and &: no need to make them longer
	if err := enc.Encode(h); err != nil {
		return Header{}, fmt.Errorf("back up town %s: %w", slug, err)
	}
	var townRow []byte
	expr, args := s.towns.rowJSON("citybot_row", 2, 3)
	if err := tx.QueryRow(ctx, `SELECT `+expr+` FROM towns citybot_row WHERE id = $1`, append([]any{town, s.towns.dropped}, args...)...).Scan(&townRow); err != nil {
		return Header{}, fmt.Errorf("back up town %s: %w", slug, err)
	}
	if err := enc.Encode(line{T: "towns", R: townRow}); err != nil {
		return Header{}, fmt.Errorf("back up town %s: %w", slug, err)
	}
	var total int64 = 1
	for _, t := range s.order {
		n, err := writeRows(ctx, tx, enc, t, "town_id = $1", town, names, false)
		if err != nil {
			return Header{}, fmt.Errorf("back up town %s: %s: %w", slug, t.name, err)
		}
		total += n
		if where := backrefWhere(t); where != "" {
			n, err := writeRows(ctx, tx, enc, t, where, town, names, true)
			if err != nil {
				return Header{}, fmt.Errorf("back up town %s: %s: %w", slug, t.name, err)
			}
			total += n
		}
	}
	if err := enc.Encode(line{End: true}); err != nil {
		return Header{}, fmt.Errorf("back up town %s: %w", slug, err)
	}
	if err := bw.Flush(); err != nil {
		return Header{}, fmt.Errorf("back up town %s: write: %w", slug, err)
	}
	if err := zw.Close(); err != nil {
		return Header{}, fmt.Errorf("back up town %s: write: %w", slug, err)
	}
	tx.Rollback(ctx)

	// The export of a town's conversations is a staff action like any other: on the record.
	err = recordAudit(ctx, db, audit.Entry{Town: town, Actor: actor, Action: "town.backup", Target: slug,
		Details: map[string]any{"rows": total, "schema": s.version}})
	if err != nil {
		return Header{}, fmt.Errorf("back up town %s: %w", slug, err)
	}
	return h, nil
}

// backrefWhere selects the rows of other towns that point at the town ($1), or is empty when
// the table has no such references.
func backrefWhere(t *table) string {
	cols := t.backrefColumns()
	if len(cols) == 0 {
		return ""
	}
	where := "town_id IS DISTINCT FROM $1 AND ("
	for i, c := range cols {
		if i > 0 {
			where += " OR "
		}
		where += pgx.Identifier{c}.Sanitize() + " = $1"
	}
	return where + ")"
}

// writeRows writes t's rows matching where (with the town's id as $1) and returns how many.
// Each row is its columns as JSON, the columns' own text forms where JSON has no type (a
// vector is "[0.1,0.2]", bytea "\\x…"), which is what their input functions read back.
func writeRows(ctx context.Context, tx pgx.Tx, enc *json.Encoder, t *table, where string, town int, names map[string]map[int64]string, backref bool) (int64, error) {
	refs := t.refColumns()
	expr, args := t.rowJSON("citybot_row", 2, 3)
	sql := `SELECT ` + expr
	for _, c := range refs {
		sql += ", " + pgx.Identifier{c}.Sanitize() + "::bigint"
	}
	sql += " FROM " + pgx.Identifier{t.name}.Sanitize() + " citybot_row WHERE " + where
	if len(t.pk) > 0 {
		// In key order: the same town gives the same file, and rows that refer to earlier rows
		// of their own table by id come after them.
		sql += " ORDER BY " + quoted(t.pk)
	}
	rows, err := tx.Query(ctx, sql, append([]any{town, append(refs, t.dropped...)}, args...)...)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var n int64
	ids := make([]*int64, len(refs))
	dest := make([]any, 1+len(refs))
	var row []byte
	dest[0] = &row
	for i := range ids {
		dest[1+i] = &ids[i]
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return n, err
		}
		l := line{T: t.name, Ref: backref, R: row, K: make(map[string]*string, len(refs))}
		for i, c := range refs {
			if ids[i] == nil {
				l.K[c] = nil
				continue
			}
			name, ok := names[t.refs[c]][*ids[i]]
			if !ok {
				// town_id of a table without a foreign key (verdicts) to a town that is gone.
				return n, fmt.Errorf("%s.%s = %d: no such row in %s", t.name, c, *ids[i], t.refs[c])
			}
			l.K[c] = &name
		}
		if err := enc.Encode(l); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Err()
}

// readNames maps the ids of a deployment-wide table to their natural keys.
func readNames(ctx context.Context, q pgx.Tx, table, key string) (map[int64]string, error) {
	rows, err := q.Query(ctx, `SELECT id::bigint, `+pgx.Identifier{key}.Sanitize()+`::text FROM `+pgx.Identifier{table}.Sanitize())
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", table, err)
	}
	defer rows.Close()
	m := map[int64]string{}
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, fmt.Errorf("read %s: %w", table, err)
		}
		m[id] = name
	}
	return m, rows.Err()
}

func recordAudit(ctx context.Context, db DB, e audit.Entry) error {
	tx, err := db.BeginTx(ctx, pgx.TxOptions{})
	if err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := audit.Record(ctx, tx, e); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	return nil
}
