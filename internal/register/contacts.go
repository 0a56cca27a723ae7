package register

// Contacts frozen at open. Members' mobile and email live on the union's
// members rows, which a register import to any draft ballot of the union
// updates. Once a ballot is open, the contacts its credentials (invitation
// links, sign-in codes) and reminders go to MUST NOT change that way: a
// later import could otherwise redirect a member's credentials to another
// phone (s.230(1)(a): no interference; e-ballot Code: credentials to the
// member's personal contact). Open therefore snapshots every registered
// member's contacts, sealed at rest (internal/sealed) ([Store.Freeze]),
// and [Store.Contacts] serves them.

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/unionvote/eballot/internal/sealed"
)

// Contact is a member's personal contacts for one ballot ("" when none),
// with the language they prefer their invitations and reminders in ("en",
// "cy", or "" for no preference), frozen with them.
type Contact struct {
	Mobile string `json:"mobile,omitempty"`
	Email  string `json:"email,omitempty"`
	Lang   string `json:"lang,omitempty"`
}

// ContactAD is the additional data binding a sealed contact to its ballot
// and member.
func ContactAD(ballotID, memberID int64) string {
	return fmt.Sprintf("contact:%d:%d", ballotID, memberID)
}

// freezeContacts snapshots, in the opening transaction, the contacts of
// every member on the ballot's register. It returns how many were frozen.
func (s *Store) freezeContacts(ctx context.Context, tx pgx.Tx, ballotID int64) (int, error) {
	rows, err := tx.Query(ctx, `SELECT m.id, `+nameCols+`, `+contactCols+`, m.language
		FROM register_entries r JOIN members m ON m.id = r.member_id WHERE r.ballot_id = $1`, ballotID)
	if err != nil {
		return 0, fmt.Errorf("freeze contacts: %w", err)
	}
	type row struct {
		id int64
		c  Contact
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
		var x row
		var n sealedName
		var sc sealedContact
		if err := r.Scan(&x.id, &n.union, &n.index, &n.ct, &sc.mobile, &sc.email, &x.c.Lang); err != nil {
			return x, err
		}
		var err error
		x.c.Mobile, x.c.Email, err = s.openContacts(n, sc)
		return x, err
	})
	if err != nil {
		return 0, fmt.Errorf("freeze contacts: %w", err)
	}
	n, err := tx.CopyFrom(ctx, pgx.Identifier{"ballot_contacts"}, []string{"ballot_id", "member_id", "sealed", "has_mobile", "has_email"},
		pgx.CopyFromSlice(len(list), func(i int) ([]any, error) {
			x := list[i]
			pt, _ := json.Marshal(x.c)
			ct, err := sealed.Seal(s.key, pt, ContactAD(ballotID, x.id))
			if err != nil {
				return nil, err
			}
			return []any{ballotID, x.id, ct, x.c.Mobile != "", x.c.Email != ""}, nil
		}))
	if err != nil {
		return 0, fmt.Errorf("freeze contacts: %w", err)
	}
	return int(n), nil
}

// Contacts returns the contacts of the given members (nil: every member on the
// register) for a ballot: the ones frozen when it opened. A member not on
// the frozen register has none. For a ballot without a snapshot (a draft,
// or one opened before contacts were frozen) it returns the members'
// current contacts. A snapshot that does not open (wrong key, tampering)
// is an error, never a silent fallback.
func (s *Store) Contacts(ctx context.Context, ballotID int64, memberIDs []int64) (map[int64]Contact, error) {
	// Frozen when the ballot opened: a register that opened has members,
	// so a frozen ballot has snapshot rows.
	var frozen bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM ballot_contacts WHERE ballot_id = $1)`, ballotID).Scan(&frozen); err != nil {
		return nil, fmt.Errorf("contacts: %w", err)
	}
	out := map[int64]Contact{}
	if !frozen {
		rows, err := s.pool.Query(ctx, `SELECT m.id, `+nameCols+`, `+contactCols+`, m.language
			FROM register_entries r JOIN members m ON m.id = r.member_id
			WHERE r.ballot_id = $1 AND ($2::bigint[] IS NULL OR m.id = ANY($2))`, ballotID, memberIDs)
		if err != nil {
			return nil, fmt.Errorf("contacts: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			var ct Contact
			var n sealedName
			var sc sealedContact
			if err := rows.Scan(&id, &n.union, &n.index, &n.ct, &sc.mobile, &sc.email, &ct.Lang); err != nil {
				return nil, fmt.Errorf("contacts: %w", err)
			}
			var err error
			if ct.Mobile, ct.Email, err = s.openContacts(n, sc); err != nil {
				return nil, fmt.Errorf("contacts: member %d: %w", id, err)
			}
			out[id] = ct
		}
		return out, rows.Err()
	}
	rows, err := s.pool.Query(ctx, `SELECT member_id, sealed FROM ballot_contacts
		WHERE ballot_id = $1 AND ($2::bigint[] IS NULL OR member_id = ANY($2))`, ballotID, memberIDs)
	if err != nil {
		return nil, fmt.Errorf("contacts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var ct []byte
		if err := rows.Scan(&id, &ct); err != nil {
			return nil, fmt.Errorf("contacts: %w", err)
		}
		pt, err := sealed.Open(s.key, ct, ContactAD(ballotID, id))
		if err != nil {
			return nil, fmt.Errorf("contacts: member %d: %w", id, err)
		}
		var x Contact
		if err := json.Unmarshal(pt, &x); err != nil {
			return nil, fmt.Errorf("contacts: member %d: %w", id, err)
		}
		out[id] = x
	}
	return out, rows.Err()
}

// Contact returns one member's contacts for a ballot (zero when none).
func (s *Store) Contact(ctx context.Context, ballotID, memberID int64) (Contact, error) {
	m, err := s.Contacts(ctx, ballotID, []int64{memberID})
	return m[memberID], err
}

// MobilesByIndex opens the current mobiles whose blind index
// (members.mobile_index) is among idx, keyed by that index (as a string):
// gotv re-keys the opt-outs recorded under the mobile's index with it
// (gotv.Service.IndexOptOuts), without joining the register's table.
func (s *Store) MobilesByIndex(ctx context.Context, idx [][]byte) (map[string]string, error) {
	out := map[string]string{}
	if len(idx) == 0 {
		return out, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT ON (m.mobile_index) m.mobile_index, `+nameCols+`, m.mobile_sealed
		FROM members m WHERE m.mobile_index = ANY($1) AND m.mobile_sealed IS NOT NULL ORDER BY m.mobile_index, m.id`, idx)
	if err != nil {
		return nil, fmt.Errorf("mobiles by index: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var x, ct []byte
		var n sealedName
		if err := rows.Scan(&x, &n.union, &n.index, &n.ct, &ct); err != nil {
			return nil, fmt.Errorf("mobiles by index: %w", err)
		}
		mobile, err := s.openContact(FieldMobile, n, ct)
		if err != nil {
			return nil, fmt.Errorf("mobiles by index: %w", err)
		}
		out[string(x)] = mobile
	}
	return out, rows.Err()
}

// CurrentContacts returns the members' current contacts (mobile, email
// and language, as on their members rows; not the ones frozen for a
// ballot), opened in one pass; a member not found is absent.
func (s *Store) CurrentContacts(ctx context.Context, memberIDs []int64) (map[int64]Contact, error) {
	rows, err := s.pool.Query(ctx, `SELECT m.id, `+nameCols+`, `+contactCols+`, m.language FROM members m WHERE m.id = ANY($1)`, memberIDs)
	if err != nil {
		return nil, fmt.Errorf("current contacts: %w", err)
	}
	defer rows.Close()
	out := make(map[int64]Contact, len(memberIDs))
	for rows.Next() {
		var id int64
		var c Contact
		var n sealedName
		var sc sealedContact
		if err := rows.Scan(&id, &n.union, &n.index, &n.ct, &sc.mobile, &sc.email, &c.Lang); err != nil {
			return nil, fmt.Errorf("current contacts: %w", err)
		}
		if c.Mobile, c.Email, err = s.openContacts(n, sc); err != nil {
			return nil, fmt.Errorf("current contacts: member %d: %w", id, err)
		}
		out[id] = c
	}
	return out, rows.Err()
}
