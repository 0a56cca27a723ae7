package register

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/unionvote/eballot/internal/erasure"
)

// Erasure is the register's part of the erasure of a ballot's personal data
// (internal/erasure): the register files, the contacts frozen at opening,
// the register itself (s.227, with voting-paper numbers) and the members on
// no other ballot. Its Prepare fills retention_entries for issuance's
// counts and creates retention_addresses for the outboxes' steps, which
// [Store.RetentionAddresses] fills (the mobiles and emails are sealed:
// SQL alone cannot read them).
var Erasure = erasure.Part{
	Links: []string{"register_entries", "ballot_contacts"},
	Prepare: []string{
		`CREATE TEMPORARY TABLE retention_entries ON COMMIT DROP AS SELECT member_id, style FROM register_entries WHERE ballot_id = $1`,
		`CREATE TEMPORARY TABLE retention_addresses (kind text NOT NULL, addr text NOT NULL) ON COMMIT DROP`,
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

// RetentionAddresses fills retention_addresses (internal/erasure) in the
// erasure's transaction, after the parts' Prepare: the mobiles (kind
// 'mobile') and lower-cased emails (kind 'email') of the members who go
// that no remaining member has (compared by blind index), opened here.
func (s *Store) RetentionAddresses(ctx context.Context, tx pgx.Tx) error {
	rows, err := tx.Query(ctx, `SELECT `+nameCols+`, `+contactCols+`,
		NOT EXISTS (SELECT 1 FROM members o WHERE o.mobile_index = m.mobile_index AND o.id NOT IN (SELECT id FROM retention_members WHERE gone)),
		NOT EXISTS (SELECT 1 FROM members o WHERE o.email_index = m.email_index AND o.id NOT IN (SELECT id FROM retention_members WHERE gone))
		FROM members m JOIN retention_members r ON r.id = m.id AND r.gone
		WHERE m.mobile_index IS NOT NULL OR m.email_index IS NOT NULL`)
	if err != nil {
		return fmt.Errorf("retention addresses: %w", err)
	}
	type addr struct{ kind, addr string }
	seen := map[addr]bool{}
	var kinds, addrs []string
	add := func(kind, a string) {
		if a == "" || seen[addr{kind, a}] {
			return
		}
		seen[addr{kind, a}] = true
		kinds, addrs = append(kinds, kind), append(addrs, a)
	}
	defer rows.Close()
	for rows.Next() {
		var n sealedName
		var sc sealedContact
		var lastMobile, lastEmail bool
		if err := rows.Scan(&n.union, &n.index, &n.ct, &sc.mobile, &sc.email, &lastMobile, &lastEmail); err != nil {
			return fmt.Errorf("retention addresses: %w", err)
		}
		mobile, email, err := s.openContacts(n, sc)
		if err != nil {
			return fmt.Errorf("retention addresses: %w", err)
		}
		if lastMobile {
			add(FieldMobile, mobile)
		}
		if lastEmail {
			add(FieldEmail, strings.ToLower(email))
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("retention addresses: %w", err)
	}
	rows.Close()
	if _, err := tx.Exec(ctx, `INSERT INTO retention_addresses (kind, addr) SELECT * FROM unnest($1::text[], $2::text[])`, kinds, addrs); err != nil {
		return fmt.Errorf("retention addresses: %w", err)
	}
	return nil
}
