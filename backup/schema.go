package backup

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/citybot-project/citybot/database"
)

// naturalKeys are the deployment-wide tables a town's rows may refer to, by the column that
// names a row in any deployment: an id means nothing in another database (and a town's own id
// changes on restore), a slug or an e-mail address does.
var naturalKeys = map[string]string{"towns": "slug", "users": "email"}

// table is what a backup needs to know of one table, read from the live schema.
type table struct {
	name string
	// plain are the columns carried as they are, in the row's JSON.
	plain []string
	// refs are the columns that point at a deployment-wide table (town_id and foreign keys to
	// towns or users): carried as that row's natural key, resolved again on restore.
	refs map[string]string
	// nullable says which columns may be NULL: a reference that cannot be resolved on restore
	// becomes NULL there, and costs the row where it may not.
	nullable map[string]bool
	// dropped are the columns not carried: generated ones, and ids the database assigns anew
	// (see regenerated in loadSchema).
	dropped []string
	// sequences are carried columns fed by a sequence, which must be advanced past the
	// restored values so that later inserts do not collide with them.
	sequences []string
	// json are the carried columns of type json or jsonb, by type. Their JSON null and SQL NULL
	// look alike in a row's JSON: they are carried wrapped, as {"v": value}, SQL NULL as null.
	json    map[string]string
	pk      []string
	parents []string
}

// refColumns are t's reference columns in a fixed order.
func (t *table) refColumns() []string {
	cols := make([]string, 0, len(t.refs))
	for c := range t.refs {
		cols = append(cols, c)
	}
	slices.Sort(cols)
	return cols
}

// backrefColumns are the references to towns other than the row's own town_id: a row of
// another town pointing at this one (a town linked to a Kreis's collection).
func (t *table) backrefColumns() []string {
	var cols []string
	for _, c := range t.refColumns() {
		if c != "town_id" && t.refs[c] == "towns" {
			cols = append(cols, c)
		}
	}
	return cols
}

// columns are the columns a backup file carries for t, sorted: what restore inserts.
func (t *table) columns() []string {
	cols := append(slices.Clone(t.plain), t.refColumns()...)
	slices.Sort(cols)
	return cols
}

// schema is the live database's picture of a town's data.
type schema struct {
	version string
	towns   *table
	// order are the tables with a town_id column, parents before children (foreign keys).
	order  []*table
	byName map[string]*table
}

// loadSchema discovers the tables that hold a town's rows: every base table with a town_id
// column. Nothing is listed by hand, so that a table a later migration adds is carried too.
func loadSchema(ctx context.Context, q database.Querier) (*schema, error) {
	s := &schema{byName: map[string]*table{}}
	if err := q.QueryRow(ctx, `SELECT coalesce(max(name), '') FROM schema_migrations`).Scan(&s.version); err != nil {
		return nil, fmt.Errorf("read the schema version: %w", err)
	}
	s.version = strings.TrimSuffix(s.version, ".sql")
	rows, err := q.Query(ctx, `SELECT c.table_name::text FROM information_schema.columns c
		JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
		WHERE c.table_schema = current_schema() AND c.column_name = 'town_id' AND t.table_type = 'BASE TABLE'
		ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("find the tables of a town: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("find the tables of a town: %w", err)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("find the tables of a town: none has a town_id column (is this citybot's database?)")
	}
	all := append([]string{"towns"}, names...)
	for _, n := range all {
		s.byName[n] = &table{name: n, refs: map[string]string{}, nullable: map[string]bool{}, json: map[string]string{}}
	}
	s.towns = s.byName["towns"]

	type col struct {
		name, dataType           string
		nullable, seq, generated bool
	}
	cols := map[string][]col{}
	rows, err = q.Query(ctx, `SELECT table_name::text, column_name::text, data_type::text, is_nullable = 'YES',
			is_identity = 'YES' OR coalesce(column_default, '') LIKE 'nextval(%', is_generated = 'ALWAYS'
		FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ANY($1)
		ORDER BY table_name, ordinal_position`, all)
	if err != nil {
		return nil, fmt.Errorf("read the columns of a town's tables: %w", err)
	}
	for rows.Next() {
		var tn string
		var c col
		if err := rows.Scan(&tn, &c.name, &c.dataType, &c.nullable, &c.seq, &c.generated); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read the columns of a town's tables: %w", err)
		}
		cols[tn] = append(cols[tn], c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the columns of a town's tables: %w", err)
	}

	rows, err = q.Query(ctx, `SELECT k.table_name::text, k.column_name::text
		FROM information_schema.table_constraints c
		JOIN information_schema.key_column_usage k ON k.constraint_schema = c.constraint_schema
			AND k.constraint_name = c.constraint_name AND k.table_name = c.table_name
		WHERE c.table_schema = current_schema() AND c.constraint_type = 'PRIMARY KEY' AND c.table_name = ANY($1)
		ORDER BY k.table_name, k.ordinal_position`, all)
	if err != nil {
		return nil, fmt.Errorf("read the primary keys of a town's tables: %w", err)
	}
	for rows.Next() {
		var tn, cn string
		if err := rows.Scan(&tn, &cn); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read the primary keys of a town's tables: %w", err)
		}
		s.byName[tn].pk = append(s.byName[tn].pk, cn)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the primary keys of a town's tables: %w", err)
	}

	// Foreign keys with their columns in order. information_schema cannot pair the columns of a
	// composite key with those it references, so this one is read from pg_constraint.
	rows, err = q.Query(ctx, `SELECT src.relname::text, dst.relname::text,
			array(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k (n, i)
				JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.i),
			array(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k (n, i)
				JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n ORDER BY k.i)
		FROM pg_constraint con
		JOIN pg_class src ON src.oid = con.conrelid
		JOIN pg_class dst ON dst.oid = con.confrelid
		WHERE con.contype = 'f' AND src.relnamespace = current_schema()::regnamespace`)
	if err != nil {
		return nil, fmt.Errorf("read the foreign keys: %w", err)
	}
	referenced := map[string]bool{}
	for rows.Next() {
		var src, dst string
		var from, to []string
		if err := rows.Scan(&src, &dst, &from, &to); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read the foreign keys: %w", err)
		}
		if src != dst {
			referenced[dst] = true
		}
		t := s.byName[src]
		if t == nil || t == s.towns {
			continue
		}
		if _, natural := naturalKeys[dst]; natural && len(from) == 1 && slices.Equal(to, []string{"id"}) {
			t.refs[from[0]] = dst
		} else if s.byName[dst] != nil && dst != src && dst != "towns" && !slices.Contains(t.parents, dst) {
			t.parents = append(t.parents, dst)
		}
		// A reference to any other deployment-wide table is carried as its raw value: it holds
		// in the same deployment, and elsewhere the restore's foreign key check says which.
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the foreign keys: %w", err)
	}

	for _, n := range all {
		t := s.byName[n]
		if n != "towns" {
			// A table without a foreign key on it (verdicts) still belongs to the town.
			t.refs["town_id"] = "towns"
		}
		// An id from a sequence is kept when the primary key holds the town (pages: (town_id,
		// id)), where it cannot meet another town's. Where the id alone is the key (audit_log,
		// the towns row itself) and nothing refers to it, the database assigns a new one: the
		// old may be taken, by the very rows a removed town left behind (audit_log keeps them).
		regenerated := func(c col) bool {
			return c.seq && (n == "towns" || !slices.Contains(t.pk, "town_id") && !referenced[n])
		}
		for _, c := range cols[n] {
			t.nullable[c.name] = c.nullable
			switch {
			case c.generated || regenerated(c):
				t.dropped = append(t.dropped, c.name)
			case t.refs[c.name] != "":
			default:
				t.plain = append(t.plain, c.name)
				if c.dataType == "json" || c.dataType == "jsonb" {
					t.json[c.name] = c.dataType
				}
				if c.seq {
					t.sequences = append(t.sequences, c.name)
				}
			}
		}
		if len(cols[n]) == 0 {
			return nil, fmt.Errorf("read the columns of %s: none visible to this database user", n)
		}
	}
	order, err := parentsFirst(s.byName, names)
	if err != nil {
		return nil, err
	}
	s.order = order
	return s, nil
}

// parentsFirst orders the tables so that each comes after those its foreign keys point to.
func parentsFirst(byName map[string]*table, names []string) ([]*table, error) {
	var order []*table
	done := map[string]bool{}
	for len(order) < len(names) {
		progress := false
		for _, n := range names { // sorted: the order is the same on every run
			if done[n] {
				continue
			}
			ready := true
			for _, p := range byName[n].parents {
				ready = ready && done[p]
			}
			if ready {
				done[n], progress = true, true
				order = append(order, byName[n])
			}
		}
		if !progress {
			var left []string
			for _, n := range names {
				if !done[n] {
					left = append(left, n)
				}
			}
			return nil, fmt.Errorf("order the tables of a town: their foreign keys form a cycle among %s", strings.Join(left, ", "))
		}
	}
	return order, nil
}

// quoted is a list of identifiers, each quoted, joined by commas.
func quoted(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = pgx.Identifier{n}.Sanitize()
	}
	return strings.Join(q, ", ")
}

// rowJSON is the SQL expression of a row of t (under alias) as the file carries it: its carried
// columns as a JSON object, json columns wrapped (see table.json). The wrappers' keys are
// parameters from $first on, whose values args returns.
func (t *table) rowJSON(alias string, drop int, first int) (expr string, args []any) {
	expr = "(to_jsonb(" + alias + ".*) - $" + strconv.Itoa(drop) + "::text[])"
	var pairs []string
	for _, c := range t.columns() {
		if t.json[c] == "" {
			continue
		}
		col := alias + "." + pgx.Identifier{c}.Sanitize()
		pairs = append(pairs, "$"+strconv.Itoa(first+len(args))+"::text, CASE WHEN "+col+" IS NULL THEN NULL ELSE jsonb_build_object('v', "+col+") END")
		args = append(args, c)
	}
	if len(pairs) > 0 {
		expr = "(" + expr + " || jsonb_build_object(" + strings.Join(pairs, ", ") + "))"
	}
	return expr + "::text", args
}

// selectRow is the select list that turns a row of the file (the jsonb rowAlias.v, its
// columns typed by populated, jsonb_populate_record's row of t) into t's carried columns; the
// json columns' keys are parameters from $first on, whose values args returns.
func (t *table) selectRow(rowAlias, populated string, first int) (list string, args []any) {
	var out []string
	for _, c := range t.columns() {
		if typ := t.json[c]; typ != "" {
			// typ is json or jsonb, from the catalog: nothing else reaches here.
			out = append(out, "("+rowAlias+".v -> $"+strconv.Itoa(first+len(args))+"::text -> 'v')::"+typ)
			args = append(args, c)
			continue
		}
		out = append(out, populated+"."+pgx.Identifier{c}.Sanitize())
	}
	return strings.Join(out, ", "), args
}
