package register

// Blind indexes of members' direct identifiers (issue 21; migration
// 0022_blind_indexes; docs/threat-model.md "Data at rest"): the member
// number, the mobile (E.164) and the email (lower case) are looked up and
// joined by their keyed HMAC (internal/sealed Index) under keys derived
// from EBALLOT_SECRET_KEY, so that the look-ups do not need the values in
// clear. Every write of members here writes the indexes with the values;
// [Store.IndexMembers] computes them for rows written before (on startup).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/unionvote/eballot/internal/sealed"
)

// indexKeys are the keys of the members' blind indexes.
type indexKeys struct{ number, mobile, email []byte }

func newIndexKeys(secret []byte) indexKeys {
	return indexKeys{
		number: sealed.DeriveKey(secret, sealed.PurposeMemberNumber),
		mobile: sealed.DeriveKey(secret, sealed.PurposeMobile),
		email:  sealed.DeriveKey(secret, sealed.PurposeEmail),
	}
}

// numberIndex is the index of a member number (as registered: numbers are
// compared exactly, like the UNIQUE (union_id, member_number) they index).
func (k indexKeys) numberIndex(number string) []byte { return sealed.Index(k.number, number) }

// mobileIndex is the index of an E.164 mobile, nil for none.
func (k indexKeys) mobileIndex(e164 string) []byte {
	if e164 == "" {
		return nil
	}
	return sealed.Index(k.mobile, e164)
}

// emailIndex is the index of an email in lower case, nil for none.
func (k indexKeys) emailIndex(email string) []byte {
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" {
		return nil
	}
	return sealed.Index(k.email, email)
}

// MobileIndex is the blind index of an E.164 mobile under secret
// (EBALLOT_SECRET_KEY): what members.mobile_index holds, for the tables
// of other packages that join on it (gotv_optouts).
func MobileIndex(secret []byte, e164 string) []byte {
	return newIndexKeys(secret).mobileIndex(e164)
}

// IndexMembers computes the blind indexes of the members rows that lack
// them (rows written before migration 0022, or by a test fixture straight
// into the table) and seals their postal addresses, a thousand at a time. The service runs it on startup;
// it returns how many rows it indexed.
func (s *Store) IndexMembers(ctx context.Context) (int, error) {
	total := 0
	for {
		n := 0
		err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			rows, err := tx.Query(ctx, `SELECT id, union_id, member_number, coalesce(mobile, ''), coalesce(email, ''), postal_address, postcode,
					coalesce(name, '') FROM members
				WHERE number_index IS NULL OR (mobile IS NOT NULL AND mobile_index IS NULL) OR (email IS NOT NULL AND email_index IS NULL)
					OR postal_address <> '' OR postcode <> '' OR name IS NOT NULL
				ORDER BY id LIMIT 1000 FOR UPDATE SKIP LOCKED`)
			if err != nil {
				return err
			}
			type row struct {
				id, union                                      int64
				number, mobile, email, address, postcode, name string
			}
			list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
				var x row
				err := r.Scan(&x.id, &x.union, &x.number, &x.mobile, &x.email, &x.address, &x.postcode, &x.name)
				return x, err
			})
			if err != nil {
				return err
			}
			b := &pgx.Batch{}
			for _, x := range list {
				b.Queue(`UPDATE members SET number_index = $2, mobile_index = $3, email_index = $4 WHERE id = $1`,
					x.id, s.idx.numberIndex(x.number), s.idx.mobileIndex(x.mobile), s.idx.emailIndex(x.email))
				if x.name != "" {
					ct, err := s.sealName(x.union, s.idx.numberIndex(x.number), x.name)
					if err != nil {
						return err
					}
					b.Queue(`UPDATE members SET name_sealed = $2, name = NULL WHERE id = $1`, x.id, ct)
				}
				if x.address != "" || x.postcode != "" {
					ct, err := s.sealAddress(x.id, x.address, x.postcode)
					if err != nil {
						return err
					}
					b.Queue(`UPDATE members SET address_sealed = $2, postal_address = '', postcode = '' WHERE id = $1`, x.id, ct)
				}
			}
			n = len(list)
			return tx.SendBatch(ctx, b).Close()
		})
		if err != nil {
			return total, fmt.Errorf("index members: %w", err)
		}
		total += n
		if n < 1000 {
			return total, nil
		}
	}
}

// addressAD binds a sealed postal address to its member.
func addressAD(memberID int64) string { return fmt.Sprintf("address:%d", memberID) }

// sealedAddress is what members.address_sealed holds, opened.
type sealedAddress struct {
	Address  string `json:"a"`
	Postcode string `json:"p,omitempty"`
}

// sealAddress seals a member's postal address and postcode (nil when the
// address is empty: the member has none).
func (s *Store) sealAddress(memberID int64, address, postcode string) ([]byte, error) {
	if address == "" && postcode == "" {
		return nil, nil
	}
	pt, err := json.Marshal(sealedAddress{address, postcode})
	if err != nil {
		return nil, err
	}
	return sealed.Seal(s.key, pt, addressAD(memberID))
}

// openAddress opens members.address_sealed ("" for NULL).
func (s *Store) openAddress(memberID int64, ct []byte) (address, postcode string, err error) {
	if ct == nil {
		return "", "", nil
	}
	pt, err := sealed.Open(s.key, ct, addressAD(memberID))
	if err != nil {
		return "", "", fmt.Errorf("member %d address: %w", memberID, err)
	}
	var a sealedAddress
	if err := json.Unmarshal(pt, &a); err != nil {
		return "", "", fmt.Errorf("member %d address: %w", memberID, err)
	}
	return a.Address, a.Postcode, nil
}

// Members' names are sealed (migration 0030, issue 21): members.name_sealed
// holds the name under EBALLOT_SECRET_KEY with additional data
// "name:<union id>:<member number's blind index, hex>", which binds it to
// the member's row and is known before the row's id, so that an import
// seals in the one write that inserts. members.name stays NULL from then
// on ([Store.IndexMembers] seals a name written there: rows written before
// the migration, and test fixtures writing the table directly).

// nameCols are the columns of a member's sealed name (members m): scan
// them into a [sealedName]'s fields union, index, ct.
const nameCols = `m.union_id, m.number_index, m.name_sealed`

// sealedName is a member's sealed name as read with nameCols.
type sealedName struct {
	union     int64
	index, ct []byte
}

// nameAD binds a sealed name to its member.
func nameAD(unionID int64, numberIndex []byte) string {
	return fmt.Sprintf("name:%d:%x", unionID, numberIndex)
}

// sealName seals the name of the member of the union whose number has
// the blind index numberIndex.
func (s *Store) sealName(unionID int64, numberIndex []byte, name string) ([]byte, error) {
	if s.box == nil {
		return nil, s.boxErr
	}
	return s.box.Seal([]byte(name), nameAD(unionID, numberIndex))
}

// openName opens a name read with nameCols.
func (s *Store) openName(n sealedName) (string, error) {
	if n.ct == nil || n.index == nil {
		return "", errors.New("member name not sealed (the service seals names on startup)")
	}
	if s.box == nil {
		return "", s.boxErr
	}
	pt, err := s.box.Open(n.ct, nameAD(n.union, n.index))
	if err != nil {
		return "", fmt.Errorf("member name: %w", err)
	}
	return string(pt), nil
}
