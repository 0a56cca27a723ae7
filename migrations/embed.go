// Package migrations holds the database schema as plain, append-only SQL
// files (NNNN_name.sql), embedded in the binaries and applied with tern by
// internal/db. A merged migration is never edited; a change is a new file.
package migrations

import "embed"

// FS holds every migration file.
//
//go:embed *.sql
var FS embed.FS
