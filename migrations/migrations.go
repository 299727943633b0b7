// Package migrations holds citybot's versioned SQL schema, embedded in the binary.
//
// Files are applied in name order, each in one transaction, and recorded in schema_migrations;
// they are forward-only: a released file is never edited, a change is a new file.
package migrations

import "embed"

// FS holds the *.sql files of this folder.
//
//go:embed *.sql
var FS embed.FS
