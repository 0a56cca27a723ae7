// Package erasure declares how each module takes part in the one-transaction
// erasure of a ballot's personal data after the retention period
// (internal/retention runs it; docs/ballots.md "Retention and deletion").
//
// Tables have owners (docs/architecture.md): the SQL that deletes a table's
// rows is written by the package that owns the table, as a [Part], and
// internal/retention runs every part's statements, in the order it decides,
// inside its transaction. While the parts run, the transaction holds these
// temporary tables (the first filled by retention, the others by the
// parts' Prepare statements):
//
//   - retention_members (id bigint, gone boolean): every member linked to the
//     ballot by a [Part.Links] table; gone is true when the member is linked
//     to no other ballot, so their member row and member-level records go too.
//   - retention_entries (member_id bigint, style text): the ballot's
//     register lines, copied by the register's [Part.Prepare] (which runs
//     first) for the parts that count by style.
//   - retention_addresses (kind text, addr text): created by the register's
//     [Part.Prepare] and filled by its store (the values are sealed: SQL
//     alone cannot read them): the mobile numbers (kind 'mobile') and lower-cased
//     email addresses (kind 'email') of gone members that no remaining
//     member uses.
//
// This package is a leaf: it imports nothing of the module.
package erasure

// A Step deletes (or overwrites) one table's rows of the ballot. SQL is a
// DELETE or UPDATE … RETURNING whose returned rows are hashed into the
// deletion record's digest; $1, where the statement uses it, is the
// ballot's id.
type Step struct {
	Table string // the table, or "table.column" for an overwrite
	SQL   string
}

// A Part is one owner's share of the erasure.
type Part struct {
	// Links are the owner's tables whose (member_id, ballot_id) rows tie a
	// member to a ballot.
	Links []string
	// Prepare are statements run after retention_members is filled and
	// before any step; $1, where used, is the ballot's id.
	Prepare []string
	// Steps delete the owner's rows; retention orders them across parts
	// (children before parents).
	Steps []Step
}
