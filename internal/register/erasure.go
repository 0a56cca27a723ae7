package register

import "github.com/unionvote/eballot/internal/erasure"

// Erasure is the register's part of the erasure of a ballot's personal data
// (internal/erasure): the register files, the contacts frozen at opening,
// the register itself (s.227, with voting-paper numbers) and the members on
// no other ballot. Its Prepare fills retention_entries for issuance's
// counts and retention_addresses for the outboxes' steps.
var Erasure = erasure.Part{
	Links: []string{"register_entries", "ballot_contacts"},
	Prepare: []string{
		`CREATE TEMPORARY TABLE retention_entries ON COMMIT DROP AS SELECT member_id, style FROM register_entries WHERE ballot_id = $1`,
		`CREATE TEMPORARY TABLE retention_addresses (kind text NOT NULL, addr text NOT NULL) ON COMMIT DROP`,
		`INSERT INTO retention_addresses (kind, addr)
		SELECT 'mobile', m.mobile FROM members m JOIN retention_members r ON r.id = m.id AND r.gone WHERE m.mobile IS NOT NULL
		EXCEPT SELECT 'mobile', m.mobile FROM members m WHERE m.mobile IS NOT NULL AND m.id NOT IN (SELECT id FROM retention_members WHERE gone)`,
		`INSERT INTO retention_addresses (kind, addr)
		SELECT 'email', lower(m.email) FROM members m JOIN retention_members r ON r.id = m.id AND r.gone WHERE m.email IS NOT NULL
		EXCEPT SELECT 'email', lower(m.email) FROM members m WHERE m.email IS NOT NULL AND m.id NOT IN (SELECT id FROM retention_members WHERE gone)`,
	},
	Steps: []erasure.Step{
		// Register files between preview and commit (the whole register; F40
		// "register copies deleted after the ballot"). The content is not
		// hashed again: its SHA-256 is a column.
		{Table: "register_uploads", SQL: `DELETE FROM register_uploads WHERE ballot_id = $1 RETURNING ballot_id, encode(sha256, 'hex') AS sha256, uploaded_by, uploaded_at`},
		// Contacts frozen at open (sealed mobile and email).
		{Table: "ballot_contacts", SQL: `DELETE FROM ballot_contacts WHERE ballot_id = $1 RETURNING *`},
		// The register (s.227) with voting-paper numbers.
		{Table: "register_entries", SQL: `DELETE FROM register_entries WHERE ballot_id = $1 RETURNING *`},
		// Provenance and history of the contacts of members who go.
		{Table: "member_contact_events", SQL: `DELETE FROM member_contact_events WHERE member_id IN (SELECT id FROM retention_members WHERE gone) RETURNING id, union_id, member_id, field, source, changed, at`},
		{Table: "member_contact_fields", SQL: `DELETE FROM member_contact_fields WHERE member_id IN (SELECT id FROM retention_members WHERE gone) RETURNING *`},
		// The members themselves (name, number, mobile, email, workplace,
		// branch, employer) when on no other ballot.
		{Table: "members", SQL: `DELETE FROM members WHERE id IN (SELECT id FROM retention_members WHERE gone) RETURNING *`},
	},
}
