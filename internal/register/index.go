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
// compared exactly: UNIQUE (union_id, number_index) keeps a number to one
// member of a union).
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

// contactIndex is the index of a mobile or email (field FieldMobile or
// FieldEmail), nil for none.
func (k indexKeys) contactIndex(field, value string) []byte {
	if field == FieldEmail {
		return k.emailIndex(value)
	}
	return k.mobileIndex(value)
}

// MobileIndex is the blind index of an E.164 mobile under secret
// (EBALLOT_SECRET_KEY): what members.mobile_index holds, for the tables
// of other packages that join on it (gotv_optouts).
func MobileIndex(secret []byte, e164 string) []byte {
	return newIndexKeys(secret).mobileIndex(e164)
}

// EmailIndex is the blind index of an email under secret
// (EBALLOT_SECRET_KEY): what members.email_index holds.
func EmailIndex(secret []byte, email string) []byte {
	return newIndexKeys(secret).emailIndex(email)
}

// IndexMembers computes the blind indexes of the members rows that lack
// them (rows written before migration 0022, or by a test fixture straight
// into the table) and seals the member numbers, names, mobiles, emails and
// postal addresses found in clear, a thousand at a time. The service runs
// it on startup; it returns how many rows it indexed.
func (s *Store) IndexMembers(ctx context.Context) (int, error) {
	total := 0
	for {
		n := 0
		err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			rows, err := tx.Query(ctx, `SELECT id, union_id, member_number, number_index, coalesce(mobile, ''), coalesce(email, ''),
					postal_address, postcode, coalesce(name, '') FROM members
				WHERE number_index IS NULL OR member_number IS NOT NULL OR mobile IS NOT NULL OR email IS NOT NULL
					OR postal_address <> '' OR postcode <> '' OR name IS NOT NULL
				ORDER BY id LIMIT 1000 FOR UPDATE SKIP LOCKED`)
			if err != nil {
				return err
			}
			type row struct {
				id, union                              int64
				number                                 *string
				index                                  []byte
				mobile, email, address, postcode, name string
			}
			list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
				var x row
				err := r.Scan(&x.id, &x.union, &x.number, &x.index, &x.mobile, &x.email, &x.address, &x.postcode, &x.name)
				return x, err
			})
			if err != nil {
				return err
			}
			b := &pgx.Batch{}
			for _, x := range list {
				ni := x.index
				if x.number != nil {
					// A number in clear: indexed, sealed and cleared (it
					// replaces a sealed one, written there before it).
					ni = s.idx.numberIndex(*x.number)
					ct, err := s.sealNumber(x.union, ni, *x.number)
					if err != nil {
						return err
					}
					b.Queue(`UPDATE members SET number_index = $2, number_sealed = $3, member_number = NULL WHERE id = $1`, x.id, ni, ct)
				}
				if ni == nil {
					return fmt.Errorf("member %d has neither a number in clear nor a blind index", x.id)
				}
				if x.mobile != "" || x.email != "" {
					// A mobile or email in clear replaces the sealed one
					// (written there after it, by a fixture).
					for _, f := range []struct{ field, value string }{{FieldMobile, x.mobile}, {FieldEmail, x.email}} {
						if f.value == "" {
							continue
						}
						ct, err := s.sealContact(f.field, x.union, ni, f.value)
						if err != nil {
							return err
						}
						b.Queue(`UPDATE members SET `+f.field+`_sealed = $2, `+f.field+`_index = $3, `+f.field+` = NULL WHERE id = $1`,
							x.id, ct, s.idx.contactIndex(f.field, f.value))
					}
				}
				if x.name != "" {
					ct, err := s.sealName(x.union, ni, x.name)
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

// Members' numbers are sealed as their names are (migration 0034, issue
// 21): members.number_sealed holds the member number under
// EBALLOT_SECRET_KEY with additional data "number:<union id>:<number
// index, hex>". Look-ups and joins by number go through the blind index
// (members.number_index, UNIQUE per union); the number itself is opened
// in Go, to show it, to order a register by it ([Store.Freeze]) and to
// hash the register. members.member_number stays NULL ([Store.IndexMembers]
// seals a number written there).

// numberCol is the column of a member's sealed number (members m), read
// with nameCols.
const numberCol = `m.number_sealed`

// fieldNumber names the member number in its additional data.
const fieldNumber = "number"

// sealNumber seals the member number of a member of the union; numberIndex
// is its blind index. It is sealed as a mobile or email is, additional
// data "number:<union id>:<number index, hex>" ([contactAD]).
func (s *Store) sealNumber(unionID int64, numberIndex []byte, number string) ([]byte, error) {
	return s.sealContact(fieldNumber, unionID, numberIndex, number)
}

// openNumber opens a member's number read with numberCol (n read with
// nameCols).
func (s *Store) openNumber(n sealedName, ct []byte) (string, error) {
	if ct == nil || n.index == nil {
		return "", errors.New("member number not sealed (the service seals numbers on startup)")
	}
	return s.openMember(fieldNumber, ct, contactAD(fieldNumber, n.union, n.index))
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
	return s.openMember("name", n.ct, nameAD(n.union, n.index))
}

// openMember opens a member's value (what: its field, for errors) sealed
// with additional data ad.
func (s *Store) openMember(what string, ct []byte, ad string) (string, error) {
	if s.box == nil {
		return "", s.boxErr
	}
	pt, err := s.box.Open(ct, ad)
	if err != nil {
		return "", fmt.Errorf("member %s: %w", what, err)
	}
	return string(pt), nil
}

// Members' mobiles and emails are sealed as their names are (migration
// 0032, issue 21): members.mobile_sealed and members.email_sealed hold the
// E.164 mobile and the email under EBALLOT_SECRET_KEY with additional data
// "mobile:<union id>:<number index, hex>" and "email:…" (the field's name
// binds the value to its column). The clear columns members.mobile and
// members.email stay NULL ([Store.IndexMembers] seals a value written
// there). Whether a member has a mobile or an email is whether the blind
// index is set (mobile_index, email_index), which SQL can test.

// contactCols are the columns of a member's sealed mobile and email
// (members m), read with nameCols: scan them into a [sealedContact].
const contactCols = `m.mobile_sealed, m.email_sealed`

// sealedContact is a member's sealed mobile and email as read with
// contactCols (nil: none).
type sealedContact struct{ mobile, email []byte }

// contactAD binds a sealed mobile or email (field) to its member.
func contactAD(field string, unionID int64, numberIndex []byte) string {
	return fmt.Sprintf("%s:%d:%x", field, unionID, numberIndex)
}

// sealContact seals a member's mobile or email (field FieldMobile or
// FieldEmail; or their number, fieldNumber: [Store.sealNumber]); nil for
// "" (none).
func (s *Store) sealContact(field string, unionID int64, numberIndex []byte, value string) ([]byte, error) {
	if value == "" {
		return nil, nil
	}
	if s.box == nil {
		return nil, s.boxErr
	}
	return s.box.Seal([]byte(value), contactAD(field, unionID, numberIndex))
}

// openContact opens one sealed mobile or email ("" for nil).
func (s *Store) openContact(field string, n sealedName, ct []byte) (string, error) {
	if ct == nil {
		return "", nil
	}
	return s.openMember(field, ct, contactAD(field, n.union, n.index))
}

// openContacts opens a member's sealed mobile and email.
func (s *Store) openContacts(n sealedName, c sealedContact) (mobile, email string, err error) {
	if mobile, err = s.openContact(FieldMobile, n, c.mobile); err != nil {
		return "", "", err
	}
	email, err = s.openContact(FieldEmail, n, c.email)
	return mobile, email, err
}

// sealContacts seals a member's mobile and email.
func (s *Store) sealContacts(unionID int64, numberIndex []byte, mobile, email string) (sealedContact, error) {
	m, err := s.sealContact(FieldMobile, unionID, numberIndex, mobile)
	if err != nil {
		return sealedContact{}, err
	}
	e, err := s.sealContact(FieldEmail, unionID, numberIndex, email)
	return sealedContact{m, e}, err
}
