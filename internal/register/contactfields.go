package register

// Contact fields: each field of a member's contacts has a value (on the
// members row), a source (the import, the member, staff) and when it was
// last verified (member_contact_fields); every change or confirmation is
// an event (member_contact_events, values never stored there) and an
// audit entry. The contact-refresh campaign (internal/refresh,
// docs/contact-refresh.md) reads and writes them through this file only.
//
// Ballots already open are not affected: their credentials go to the
// contacts frozen at opening (contacts.go, ballot_contacts).

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/unionvote/eballot/internal/audit"
	"github.com/unionvote/eballot/internal/web/page"
)

// Fields of a member's contacts.
const (
	FieldMobile    = "mobile"
	FieldEmail     = "email"
	FieldAddress   = "postal_address" // with the postcode
	FieldWorkplace = "workplace"
	FieldLanguage  = "language"
	FieldBallotBy  = "ballot_by" // "online" or "post"
)

// ContactFields lists the fields in display order.
var ContactFields = []string{FieldMobile, FieldEmail, FieldAddress, FieldWorkplace, FieldLanguage, FieldBallotBy}

// Sources of a field's value.
const (
	SourceImport = "import"
	SourceMember = "member"
	SourceStaff  = "staff"
)

// FieldInfo is the provenance of one field.
type FieldInfo struct {
	Source     string
	ChangedAt  time.Time
	VerifiedAt *time.Time // nil: never verified
}

// Details are a member's contacts and their provenance. PERSONAL DATA:
// never logged.
type Details struct {
	MemberID, UnionID int64
	Number, Name      string
	Mobile, Email     string
	Address, Postcode string
	Workplace         string
	Employer          string
	Language          string // "", "en" or "cy"
	BallotBy          string // "", "online" or "post"
	Fields            map[string]FieldInfo
}

// Verified reports whether field has a value verified by the member or
// staff.
func (d *Details) Verified(field string) bool {
	fi, ok := d.Fields[field]
	return ok && fi.VerifiedAt != nil && d.value(field) != ""
}

func (d *Details) value(field string) string {
	switch field {
	case FieldMobile:
		return d.Mobile
	case FieldEmail:
		return d.Email
	case FieldAddress:
		return d.Address
	case FieldWorkplace:
		return d.Workplace
	case FieldLanguage:
		return d.Language
	case FieldBallotBy:
		return d.BallotBy
	}
	return ""
}

// ErrNoMember: no such member.
var ErrNoMember = page.NewError("register: no such member", 404, "no_member", "register.err.nomember")

// Details reads a member's contacts.
func (s *Store) Details(ctx context.Context, memberID int64) (*Details, error) {
	d := &Details{MemberID: memberID, Fields: map[string]FieldInfo{}}
	var addr, num []byte
	var n sealedName
	var sc sealedContact
	err := s.pool.QueryRow(ctx, `SELECT `+numberCol+`, `+nameCols+`, `+contactCols+`, m.address_sealed,
		m.workplace, m.employer, m.language, m.ballot_by FROM members m WHERE m.id = $1`, memberID).
		Scan(&num, &n.union, &n.index, &n.ct, &sc.mobile, &sc.email, &addr, &d.Workplace, &d.Employer, &d.Language, &d.BallotBy)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNoMember
	}
	if err != nil {
		return nil, fmt.Errorf("read contacts: %w", err)
	}
	d.UnionID = n.union
	if d.Number, err = s.openNumber(n, num); err != nil {
		return nil, fmt.Errorf("read contacts: %w", err)
	}
	if d.Name, err = s.openName(n); err != nil {
		return nil, fmt.Errorf("read contacts: %w", err)
	}
	if d.Mobile, d.Email, err = s.openContacts(n, sc); err != nil {
		return nil, fmt.Errorf("read contacts: %w", err)
	}
	if d.Address, d.Postcode, err = s.openAddress(memberID, addr); err != nil {
		return nil, fmt.Errorf("read contacts: %w", err)
	}
	rows, err := s.pool.Query(ctx, `SELECT field, source, changed_at, verified_at FROM member_contact_fields WHERE member_id = $1`, memberID)
	if err != nil {
		return nil, fmt.Errorf("read contacts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var f string
		var fi FieldInfo
		if err := rows.Scan(&f, &fi.Source, &fi.ChangedAt, &fi.VerifiedAt); err != nil {
			return nil, fmt.Errorf("read contacts: %w", err)
		}
		d.Fields[f] = fi
	}
	return d, rows.Err()
}

// ---- Checking a member's input ----

// CheckMobile normalises a personal mobile number entered by a member or
// staff to E.164, or returns the reason it is refused (not a mobile, an
// employer's phone: credentials go to personal contacts only, e-ballot
// Code, statutory.md §5 C17).
func CheckMobile(s string, policy ContactPolicy) (string, page.Msg, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 32 {
		return "", page.M("register.mobile_invalid"), false
	}
	rp := regCompilePolicy(policy, nil)
	e164, code, m, sev := regMobile(rp, s)
	if sev == SeverityError || code == "mobile.work" {
		return "", m, false
	}
	return e164, page.Msg{}, true
}

// CheckEmail checks a personal email address (bare, not at an employer's
// domain) and lower-cases its domain.
func CheckEmail(s string, policy ContactPolicy) (string, page.Msg, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > maxEmailLen || regHasControl(s) {
		return "", page.M("register.email_invalid"), false
	}
	e, ok := regEmail(s)
	if !ok {
		return "", page.M("register.email_invalid"), false
	}
	if regCompilePolicy(policy, nil).employerDomain(e) {
		return "", page.M("register.email_employer"), false
	}
	return e, page.Msg{}, true
}

var postcodeRE = regexp.MustCompile(`^([A-Z]{1,2}[0-9][0-9A-Z]?)([0-9][A-Z]{2})$`)

// CheckPostcode normalises a UK postcode ("sw1a1aa" → "SW1A 1AA"); false
// when it does not have a postcode's shape.
func CheckPostcode(s string) (string, bool) {
	c := strings.ToUpper(strings.Join(strings.Fields(s), ""))
	m := postcodeRE.FindStringSubmatch(c)
	if m == nil {
		return "", false
	}
	return m[1] + " " + m[2], true
}

// CheckAddress checks a postal address without the postcode: 1–500
// characters, lines kept, no control characters but line ends.
func CheckAddress(s string) (string, bool) {
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	var keep []string
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		if regHasControl(l) {
			return "", false
		}
		keep = append(keep, l)
	}
	out := strings.Join(keep, "\n")
	if out == "" || len([]rune(out)) > 500 || len(keep) > 8 {
		return "", false
	}
	return out, true
}

// ---- Changing and confirming ----

// Change is a new value for one field (FieldAddress: Value is the address
// and Postcode its postcode). Values MUST have been checked (CheckMobile,
// CheckEmail, CheckAddress, CheckPostcode); a new mobile or email MUST
// have been verified by a code sent to it.
type Change struct {
	Field, Value, Postcode string
}

// UnionMember finds the member of the union with memberNumber, or
// [ErrNoMember].
func (s *Store) UnionMember(ctx context.Context, unionID int64, memberNumber string) (int64, error) {
	var id int64
	err := s.pool.QueryRow(ctx, `SELECT id FROM members WHERE union_id = $1 AND number_index = $2`, unionID, s.idx.numberIndex(memberNumber)).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, ErrNoMember
	}
	if err != nil {
		return 0, fmt.Errorf("find member: %w", err)
	}
	return id, nil
}

// UpdateContacts applies changes to a member's fields and marks the
// fields in confirm as verified unchanged, in one transaction, by source
// (SourceMember, SourceStaff) at time at: each field's provenance, an
// event each, and one audit entry "member.contacts" naming the fields
// (never their values). A field changed by the member or staff is
// verified at that moment. It does not touch any ballot's frozen contacts.
func (s *Store) UpdateContacts(ctx context.Context, memberID int64, source, actor string, changes []Change, confirm []string, at time.Time) error {
	if source != SourceMember && source != SourceStaff {
		return fmt.Errorf("update contacts: source %q", source)
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var unionID int64
		var cur Details
		var addr []byte
		var n sealedName
		var sc sealedContact
		if err := tx.QueryRow(ctx, `SELECT `+nameCols+`, `+contactCols+`, m.address_sealed, m.workplace, m.language, m.ballot_by
			FROM members m WHERE m.id = $1 FOR UPDATE`, memberID).
			Scan(&n.union, &n.index, &n.ct, &sc.mobile, &sc.email, &addr, &cur.Workplace, &cur.Language, &cur.BallotBy); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return ErrNoMember
			}
			return err
		}
		unionID = n.union
		var err error
		if cur.Mobile, cur.Email, err = s.openContacts(n, sc); err != nil {
			return err
		}
		if cur.Address, cur.Postcode, err = s.openAddress(memberID, addr); err != nil {
			return err
		}
		var changed, confirmed []string
		for _, c := range changes {
			var q string
			args := []any{memberID, c.Value}
			switch c.Field {
			case FieldMobile, FieldEmail:
				ct, err := s.sealContact(c.Field, n.union, n.index, c.Value)
				if err != nil {
					return err
				}
				q, args = `UPDATE members SET `+c.Field+`_sealed = $2, `+c.Field+`_index = $3, `+c.Field+` = NULL WHERE id = $1`,
					[]any{memberID, ct, s.idx.contactIndex(c.Field, c.Value)}
			case FieldAddress:
				ct, err := s.sealAddress(memberID, c.Value, c.Postcode)
				if err != nil {
					return err
				}
				q, args = `UPDATE members SET address_sealed = $2 WHERE id = $1`, []any{memberID, ct}
			case FieldWorkplace:
				q = `UPDATE members SET workplace = $2 WHERE id = $1`
			case FieldLanguage:
				q = `UPDATE members SET language = $2 WHERE id = $1`
			case FieldBallotBy:
				q = `UPDATE members SET ballot_by = $2 WHERE id = $1`
			default:
				return fmt.Errorf("unknown field %q", c.Field)
			}
			if _, err := tx.Exec(ctx, q, args...); err != nil {
				return err
			}
			if err := recordField(ctx, tx, unionID, memberID, c.Field, source, true, c.Value != "", true, at); err != nil {
				return err
			}
			changed = append(changed, c.Field)
		}
		for _, f := range confirm {
			if cur.value(f) == "" {
				continue // nothing to confirm
			}
			if err := recordField(ctx, tx, unionID, memberID, f, source, false, true, true, at); err != nil {
				return err
			}
			confirmed = append(confirmed, f)
		}
		if len(changed) == 0 && len(confirmed) == 0 {
			return nil
		}
		return audit.Append(ctx, tx, actor, "member.contacts", nil, map[string]any{
			"member": memberID, "source": source, "changed": changed, "confirmed": confirmed,
		})
	})
	if err != nil {
		return fmt.Errorf("update contacts: %w", err)
	}
	return nil
}

// recordField writes a field's provenance and its event.
func recordField(ctx context.Context, tx pgx.Tx, unionID, memberID int64, field, source string, changed, hasValue, verified bool, at time.Time) error {
	var ver *time.Time
	if verified {
		ver = &at
	}
	if _, err := tx.Exec(ctx, `INSERT INTO member_contact_fields (member_id, field, source, changed_at, verified_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (member_id, field) DO UPDATE SET
			source = CASE WHEN $6 THEN excluded.source ELSE member_contact_fields.source END,
			changed_at = CASE WHEN $6 THEN excluded.changed_at ELSE member_contact_fields.changed_at END,
			verified_at = excluded.verified_at`, memberID, field, source, at, ver, changed); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `INSERT INTO member_contact_events (union_id, member_id, field, source, changed, has_value, verified, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, unionID, memberID, field, source, changed, hasValue, verified, at)
	return err
}

// ---- Who a campaign asks ----

// Segments of a refresh campaign.
const (
	SegmentAll        = "all"
	SegmentWorkplace  = "workplace"
	SegmentEmployer   = "employer"
	SegmentUnverified = "unverified" // no verified mobile or no verified email
	SegmentOneMember  = "member"     // one member, by internal id (a new link from the union's office)
)

// Target is a member a refresh campaign asks. PERSONAL DATA.
type Target struct {
	MemberID      int64
	Name          string
	Mobile, Email string
	Language      string
}

// RefreshTargets lists the union's members in a segment (value: the
// workplace or employer, matched ignoring case), in id order.
func (s *Store) RefreshTargets(ctx context.Context, unionID int64, segment, value string) ([]Target, error) {
	rows, err := s.pool.Query(ctx, `SELECT m.id, `+nameCols+`, `+contactCols+`, m.language FROM members m
		WHERE m.union_id = $1 AND CASE $2
			WHEN 'all' THEN true
			WHEN 'workplace' THEN lower(m.workplace) = lower($3)
			WHEN 'employer' THEN lower(m.employer) = lower($3)
			WHEN 'member' THEN m.id::text = $3
			WHEN 'unverified' THEN NOT (
				m.mobile_index IS NOT NULL AND EXISTS (SELECT 1 FROM member_contact_fields f WHERE f.member_id = m.id AND f.field = 'mobile' AND f.verified_at IS NOT NULL)
				AND m.email_index IS NOT NULL AND EXISTS (SELECT 1 FROM member_contact_fields f WHERE f.member_id = m.id AND f.field = 'email' AND f.verified_at IS NOT NULL))
			ELSE false END
		ORDER BY m.id`, unionID, segment, strings.TrimSpace(value))
	if err != nil {
		return nil, fmt.Errorf("refresh targets: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Target, error) {
		var t Target
		var n sealedName
		var sc sealedContact
		if err := r.Scan(&t.MemberID, &n.union, &n.index, &n.ct, &sc.mobile, &sc.email, &t.Language); err != nil {
			return t, err
		}
		var err error
		if t.Name, err = s.openName(n); err != nil {
			return t, err
		}
		t.Mobile, t.Email, err = s.openContacts(n, sc)
		return t, err
	})
}

// UnionPlaces lists the distinct workplaces and employers of a union's
// members (for the campaign form and the member's workplace choice).
func (s *Store) UnionPlaces(ctx context.Context, unionID int64) (workplaces, employers []string, err error) {
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT 'w', workplace FROM members WHERE union_id = $1 AND workplace <> ''
		UNION SELECT DISTINCT 'e', employer FROM members WHERE union_id = $1 AND employer <> '' ORDER BY 1, 2`, unionID)
	if err != nil {
		return nil, nil, fmt.Errorf("union places: %w", err)
	}
	return twoLists(rows, "w")
}

// ---- Coverage ----

// Reach is how one member can be reached: a verified mobile, a verified
// email, post only (neither, but a postal address), or not at all.
type Reach struct {
	Employer, Workplace string
	Mobile, Email, Post bool // verified mobile, verified email, postal address
}

// PostalOnly: no verified mobile or email, but a postal address.
func (r Reach) PostalOnly() bool { return !r.Mobile && !r.Email && r.Post }

// Unreachable: no verified mobile or email and no postal address.
func (r Reach) Unreachable() bool { return !r.Mobile && !r.Email && !r.Post }

// Reachability lists how each member of the union can be reached now.
func (s *Store) Reachability(ctx context.Context, unionID int64) ([]Reach, error) {
	rows, err := s.pool.Query(ctx, `SELECT m.employer, m.workplace,
		m.mobile_index IS NOT NULL AND coalesce(fm.verified_at IS NOT NULL, false),
		m.email_index IS NOT NULL AND coalesce(fe.verified_at IS NOT NULL, false),
		m.address_sealed IS NOT NULL
		FROM members m
		LEFT JOIN member_contact_fields fm ON fm.member_id = m.id AND fm.field = 'mobile'
		LEFT JOIN member_contact_fields fe ON fe.member_id = m.id AND fe.field = 'email'
		WHERE m.union_id = $1`, unionID)
	if err != nil {
		return nil, fmt.Errorf("reachability: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Reach, error) {
		var x Reach
		err := r.Scan(&x.Employer, &x.Workplace, &x.Mobile, &x.Email, &x.Post)
		return x, err
	})
}

// CoveragePoint is how many members had a verified mobile and a verified
// email at a time.
type CoveragePoint struct {
	At            time.Time
	Mobile, Email int
}

// CoverageTrend replays the union's contact events to count, at each of
// the times given (ascending), the members with a verified mobile and
// with a verified email at that moment.
func (s *Store) CoverageTrend(ctx context.Context, unionID int64, times []time.Time) ([]CoveragePoint, error) {
	if len(times) == 0 {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT member_id, field, has_value AND verified, at FROM member_contact_events
		WHERE union_id = $1 AND field IN ('mobile', 'email') AND at <= $2 ORDER BY at, id`, unionID, times[len(times)-1])
	if err != nil {
		return nil, fmt.Errorf("coverage trend: %w", err)
	}
	defer rows.Close()
	type key struct {
		m int64
		f string
	}
	state := map[key]bool{}
	counts := map[string]int{}
	out := make([]CoveragePoint, 0, len(times))
	i := 0
	emit := func(until time.Time) {
		for i < len(times) && times[i].Before(until) {
			out = append(out, CoveragePoint{At: times[i], Mobile: counts[FieldMobile], Email: counts[FieldEmail]})
			i++
		}
	}
	for rows.Next() {
		var k key
		var v bool
		var at time.Time
		if err := rows.Scan(&k.m, &k.f, &v, &at); err != nil {
			return nil, fmt.Errorf("coverage trend: %w", err)
		}
		emit(at)
		if state[k] != v {
			if v {
				counts[k.f]++
			} else {
				counts[k.f]--
			}
			state[k] = v
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("coverage trend: %w", err)
	}
	for ; i < len(times); i++ {
		out = append(out, CoveragePoint{At: times[i], Mobile: counts[FieldMobile], Email: counts[FieldEmail]})
	}
	return out, nil
}

// ---- Export and import with the union's membership system ----

// ExportRow is a member whose details changed (by the member or staff)
// since a date: the current values of the changed fields.
type ExportRow struct {
	MemberNumber string
	Field        string
	Value        string // for FieldAddress: the address then the postcode on its own line
	Source       string
	ChangedAt    time.Time
	VerifiedAt   *time.Time
}

// ChangesSince lists, for the union's own membership system, every field
// changed by a member or staff since since (current value, newest change
// per field), by member number and field.
func (s *Store) ChangesSince(ctx context.Context, unionID int64, since time.Time) ([]ExportRow, error) {
	rows, err := s.pool.Query(ctx, `SELECT m.id, `+numberCol+`, f.field, f.source, f.changed_at, f.verified_at,
		CASE f.field WHEN 'mobile' THEN '' WHEN 'email' THEN ''
			WHEN 'postal_address' THEN ''
			WHEN 'workplace' THEN m.workplace WHEN 'language' THEN m.language ELSE m.ballot_by END,
		CASE f.field WHEN 'postal_address' THEN m.address_sealed WHEN 'mobile' THEN m.mobile_sealed WHEN 'email' THEN m.email_sealed END,
		m.union_id, m.number_index
		FROM member_contact_fields f JOIN members m ON m.id = f.member_id
		WHERE m.union_id = $1 AND f.source IN ('member', 'staff') AND f.changed_at >= $2
		ORDER BY m.id, f.field`, unionID, since)
	if err != nil {
		return nil, fmt.Errorf("export changes: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ExportRow, error) {
		var x ExportRow
		var id int64
		var addr, num []byte
		var n sealedName
		if err := r.Scan(&id, &num, &x.Field, &x.Source, &x.ChangedAt, &x.VerifiedAt, &x.Value, &addr, &n.union, &n.index); err != nil {
			return x, err
		}
		var err error
		if x.MemberNumber, err = s.openNumber(n, num); err != nil {
			return x, err
		}
		if x.Field == FieldMobile || x.Field == FieldEmail {
			if x.Value, err = s.openContact(x.Field, n, addr); err != nil {
				return x, err
			}
		}
		if x.Field == FieldAddress {
			a, pc, err := s.openAddress(id, addr)
			if err != nil {
				return x, err
			}
			x.Value = a
			if pc != "" {
				x.Value += "\n" + pc
			}
		}
		return x, nil
	})
	if err != nil {
		return nil, fmt.Errorf("export changes: %w", err)
	}
	// By member number, then field (the numbers are sealed: ordered
	// after opening, byte by byte as the database's C.UTF-8 collation did).
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].MemberNumber != out[j].MemberNumber {
			return out[i].MemberNumber < out[j].MemberNumber
		}
		return out[i].Field < out[j].Field
	})
	return out, nil
}

// UnionRow is one member's record in the union's membership system file:
// the fields it gives ("" = not given, left alone) and when the record
// was last updated there.
type UnionRow struct {
	MemberNumber      string
	Mobile, Email     string
	Address, Postcode string
	UpdatedAt         time.Time
}

// ImportReport is what an import of the union's file did.
type ImportReport struct {
	Updated int // fields changed
	Kept    int // fields not overwritten: the member verified a newer value
	// KeptBy is Kept per field (FieldMobile, FieldEmail, FieldAddress).
	KeptBy  map[string]int
	Same    int // fields already equal
	Unknown int // member numbers not in the union
}

// ImportUnionFile takes the union membership system's records back: each
// given field replaces the member's value (source import, unverified),
// except where the member or staff verified a value after the record's
// UpdatedAt (changed it, or confirmed the value held): that newer value is
// kept, and counted per field. One transaction, one audit entry
// with the counts.
func (s *Store) ImportUnionFile(ctx context.Context, unionID int64, actor string, rows []UnionRow, at time.Time) (ImportReport, error) {
	var rep ImportReport
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].MemberNumber < rows[j].MemberNumber })
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		rep = ImportReport{KeptBy: map[string]int{}}
		for _, r := range rows {
			var id int64
			var cur Details
			var addr []byte
			var sc sealedContact
			n := sealedName{union: unionID, index: s.idx.numberIndex(r.MemberNumber)}
			err := tx.QueryRow(ctx, `SELECT id, mobile_sealed, email_sealed, address_sealed FROM members
				WHERE union_id = $1 AND number_index = $2 FOR UPDATE`, unionID, n.index).
				Scan(&id, &sc.mobile, &sc.email, &addr)
			if errors.Is(err, pgx.ErrNoRows) {
				rep.Unknown++
				continue
			}
			if err != nil {
				return err
			}
			if cur.Mobile, cur.Email, err = s.openContacts(n, sc); err != nil {
				return err
			}
			if cur.Address, cur.Postcode, err = s.openAddress(id, addr); err != nil {
				return err
			}
			type fv struct {
				field, value, postcode, cur string
			}
			var fields []fv
			if r.Mobile != "" {
				fields = append(fields, fv{FieldMobile, r.Mobile, "", cur.Mobile})
			}
			if r.Email != "" {
				fields = append(fields, fv{FieldEmail, r.Email, "", cur.Email})
			}
			if r.Address != "" {
				fields = append(fields, fv{FieldAddress, r.Address, r.Postcode, cur.Address + "\n" + cur.Postcode})
			}
			for _, f := range fields {
				newVal := f.value
				if f.field == FieldAddress {
					newVal = f.value + "\n" + f.postcode
				}
				if newVal == f.cur {
					rep.Same++
					continue
				}
				var source string
				var verified *time.Time
				err := tx.QueryRow(ctx, `SELECT source, verified_at FROM member_contact_fields WHERE member_id = $1 AND field = $2`, id, f.field).
					Scan(&source, &verified)
				if err != nil && !errors.Is(err, pgx.ErrNoRows) {
					return err
				}
				// verified_at is set only when the member or staff checked
				// the value (changed it, or confirmed the one held, whatever
				// its source); an import clears it.
				if verified != nil && verified.After(r.UpdatedAt) {
					rep.Kept++
					rep.KeptBy[f.field]++
					continue
				}
				var q string
				var args []any
				switch f.field {
				case FieldMobile, FieldEmail:
					ct, err := s.sealContact(f.field, unionID, n.index, f.value)
					if err != nil {
						return err
					}
					q, args = `UPDATE members SET `+f.field+`_sealed = $2, `+f.field+`_index = $3, `+f.field+` = NULL WHERE id = $1`,
						[]any{id, ct, s.idx.contactIndex(f.field, f.value)}
				default:
					ct, err := s.sealAddress(id, f.value, f.postcode)
					if err != nil {
						return err
					}
					q, args = `UPDATE members SET address_sealed = $2 WHERE id = $1`, []any{id, ct}
				}
				if _, err := tx.Exec(ctx, q, args...); err != nil {
					return err
				}
				if err := recordField(ctx, tx, unionID, id, f.field, SourceImport, true, true, false, at); err != nil {
					return err
				}
				rep.Updated++
			}
		}
		return audit.Append(ctx, tx, actor, "union.contacts_import", nil, map[string]any{
			"union": unionID, "rows": len(rows), "updated": rep.Updated, "kept": rep.Kept, "kept_by_field": rep.KeptBy, "same": rep.Same, "unknown": rep.Unknown,
		})
	})
	if err != nil {
		return ImportReport{}, fmt.Errorf("import union file: %w", err)
	}
	return rep, nil
}
