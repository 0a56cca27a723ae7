package register

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/unionvote/eballot/internal/audit"
	"github.com/unionvote/eballot/internal/db"
	"github.com/unionvote/eballot/internal/sealed"
)

// Store reads and writes the tables of the register: members,
// register_entries, register_uploads and ballot_contacts. No other package
// names them in SQL (internal/archtest).
type Store struct {
	pool *pgxpool.Pool
	key  []byte    // EBALLOT_SECRET_KEY: seals the frozen contacts
	idx  indexKeys // the blind indexes' keys, derived from key (index.go)
	// box seals and opens the members' names under key (nil, and boxErr
	// set, when key is not a valid key).
	box    *sealed.Box
	boxErr error
}

// NewStore returns the register's store; key is EBALLOT_SECRET_KEY.
func NewStore(pool *pgxpool.Pool, key []byte) *Store {
	box, err := sealed.NewBox(key)
	return &Store{pool: pool, key: key, idx: newIndexKeys(key), box: box, boxErr: err}
}

// Querier is a pool or a transaction: the register's reads and writes in a
// caller's transaction (the ballot's opening) take one; nil is the store's
// pool.
type Querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func (s *Store) or(q Querier) Querier {
	if q == nil {
		return s.pool
	}
	return q
}

// Ballot is what an import needs to know of its ballot; the election
// module, which owns ballots, gives it ([Ballots]).
type Ballot struct {
	ID         int64
	UnionID    int64
	Workplaces []Workplace
	Aggregated bool
	Policy     ContactPolicy // the union's employer channels
	// OpenBallots are the ids of the union's open ballots: a member's
	// contacts changed by an import reach their registers too.
	OpenBallots []int64
}

// Ballots gives the ballot of an import. In the commit's transaction
// (lock set) it MUST lock the ballot's row, so that an import and the
// ballot's opening serialise, and refuse a ballot that is not a draft.
type Ballots interface {
	ImportBallot(ctx context.Context, q Querier, ballotID int64, lock bool) (*Ballot, error)
}

// DiffEntry is one member in a [Diff]. Fields names what differs
// (name, mobile, email, workplace, branch, employer), never the values.
type DiffEntry struct {
	MemberNumber string
	Name         string // as in the file, or as registered for a removal
	Line         int    // line in the file; 0 for a removal
	Fields       []string
}

// Diff compares a register file with the ballot's current register.
type Diff struct {
	Added     []DiffEntry // in the file, not on the register (Fields: details of an existing member that change)
	Removed   []DiffEntry // on the register, not in the file
	Changed   []DiffEntry // on both, with different details
	Unchanged int
	// OpenBallots lists members whose mobile or email would change while
	// they are on the register of another ballot that is open: contacts
	// are held per member, so the change reaches that ballot too. The
	// scrutineer should confirm such changes.
	OpenBallots []DiffEntry
	// Kept counts, per column (ColMobile, ColEmail, ColLanguage, in that
	// order; only those with a count), the values of the file NOT taken
	// because the member (or staff with the member) verified or chose the
	// value held: the contact refresh's values win over the file (issue
	// 24; docs/contact-refresh.md "The ballot's register import").
	Kept []KeptCount
}

// KeptCount is how many values of one column an import keeps.
type KeptCount struct {
	Field string // ColMobile, ColEmail or ColLanguage
	N     int
}

type regCurrent struct {
	name, mobile, email, workplace, branch, employer, language string
	// The member verified the mobile / the email held (source member or
	// staff, or the member confirmed it: member_contact_fields.verified_at),
	// or chose the language themselves.
	verMobile, verEmail, ownLanguage bool
}

// regKeep is the file's row as the import applies it: a mobile or email
// the member verified, and a language they chose, are kept (a blank cell
// too: the file cannot erase them). kept names the columns kept.
func regKeep(row *Row, c *regCurrent) (eff Row, kept []string) {
	eff = *row
	if c == nil {
		return eff, nil
	}
	if c.verMobile && row.Mobile != c.mobile {
		eff.Mobile, kept = c.mobile, append(kept, ColMobile)
	}
	if c.verEmail && row.Email != c.email {
		eff.Email, kept = c.email, append(kept, ColEmail)
	}
	if c.ownLanguage && row.Language != "" && row.Language != c.language {
		eff.Language, kept = c.language, append(kept, ColLanguage)
	}
	return eff, kept
}

func regDiffFields(row *Row, c *regCurrent, withWorkplace bool) []string {
	var f []string
	if row.Name != c.name {
		f = append(f, ColName)
	}
	if row.Mobile != c.mobile {
		f = append(f, ColMobile)
	}
	if row.Email != c.email {
		f = append(f, ColEmail)
	}
	if withWorkplace && row.Workplace.Name != c.workplace {
		f = append(f, ColWorkplace)
	}
	if row.Branch != c.branch {
		f = append(f, ColBranch)
	}
	if row.Employer != c.employer {
		f = append(f, ColEmployer)
	}
	if row.Language != "" && row.Language != c.language { // a blank cell keeps the member's language
		f = append(f, ColLanguage)
	}
	return f
}

// regDiff compares file with the ballot's register and returns the
// diff, the file's rows as the import applies them ([regKeep]) and the
// current values of the file's members already in the union, by number
// (an unchanged name, mobile or email is not sealed again).
func (s *Store) regDiff(ctx context.Context, q Querier, b *Ballot, file *File) (*Diff, []Row, map[string]*regCurrent, error) {
	rows, err := q.Query(ctx, `
		SELECT `+numberCol+`, `+nameCols+`, `+contactCols+`, r.workplace, m.branch, m.employer, m.language
		FROM register_entries r JOIN members m ON m.id = r.member_id
		WHERE r.ballot_id = $1`, b.ID)
	if err != nil {
		return nil, nil, nil, err
	}
	cur, _, err := s.regRows(rows, false)
	if err != nil {
		return nil, nil, nil, err
	}
	indexes := make([][]byte, len(file.Rows))
	for i := range file.Rows {
		indexes[i] = s.idx.numberIndex(file.Rows[i].MemberNumber)
	}
	// Members of the union not (yet) on this register, and members on the
	// register of an open ballot.
	rows, err = q.Query(ctx, `
		SELECT `+numberCol+`, `+nameCols+`, `+contactCols+`, m.workplace, m.branch, m.employer, m.language,
		       EXISTS (SELECT 1 FROM register_entries r WHERE r.member_id = m.id AND r.ballot_id = ANY($3) AND r.ballot_id <> $4),
		       `+regVerified+`
		FROM members m
		WHERE m.union_id = $1 AND m.number_index = ANY($2)`, b.UnionID, indexes, b.OpenBallots, b.ID)
	if err != nil {
		return nil, nil, nil, err
	}
	other, inOpen, err := s.regRows(rows, true)
	if err != nil {
		return nil, nil, nil, err
	}
	d := &Diff{}
	kept := map[string]int{}
	effs := make([]Row, len(file.Rows))
	inFile := make(map[string]bool, len(file.Rows))
	for i := range file.Rows {
		eff, k := regKeep(&file.Rows[i], other[file.Rows[i].MemberNumber])
		for _, f := range k {
			kept[f]++
		}
		effs[i] = eff
		row := &effs[i]
		inFile[row.MemberNumber] = true
		e := DiffEntry{MemberNumber: row.MemberNumber, Name: row.Name, Line: row.Line}
		if c, ok := cur[row.MemberNumber]; ok {
			if e.Fields = regDiffFields(row, c, true); len(e.Fields) > 0 {
				d.Changed = append(d.Changed, e)
			} else {
				d.Unchanged++
			}
		} else {
			if c, ok := other[row.MemberNumber]; ok {
				e.Fields = regDiffFields(row, c, false)
			}
			d.Added = append(d.Added, e)
		}
		if m, ok := other[row.MemberNumber]; ok && inOpen[row.MemberNumber] && (m.mobile != row.Mobile || m.email != row.Email) {
			oe := DiffEntry{MemberNumber: row.MemberNumber, Name: row.Name, Line: row.Line}
			if m.mobile != row.Mobile {
				oe.Fields = append(oe.Fields, ColMobile)
			}
			if m.email != row.Email {
				oe.Fields = append(oe.Fields, ColEmail)
			}
			d.OpenBallots = append(d.OpenBallots, oe)
		}
	}
	for mn, c := range cur {
		if !inFile[mn] {
			d.Removed = append(d.Removed, DiffEntry{MemberNumber: mn, Name: c.name})
		}
	}
	sort.Slice(d.Removed, func(i, j int) bool { return d.Removed[i].MemberNumber < d.Removed[j].MemberNumber })
	for _, f := range []string{ColMobile, ColEmail, ColLanguage} {
		if kept[f] > 0 {
			d.Kept = append(d.Kept, KeptCount{Field: f, N: kept[f]})
		}
	}
	return d, effs, other, nil
}

// regRows reads the members' current values, by number, from rows of
// numberCol, nameCols, contactCols, workplace, branch, employer, language
// and, if more, whether the member is on another open ballot's register
// (open, by number) and regVerified.
func (s *Store) regRows(rows pgx.Rows, more bool) (cur map[string]*regCurrent, open map[string]bool, err error) {
	defer rows.Close()
	cur, open = map[string]*regCurrent{}, map[string]bool{}
	for rows.Next() {
		var num []byte
		var n sealedName
		var sc sealedContact
		var o bool
		c := &regCurrent{}
		dest := []any{&num, &n.union, &n.index, &n.ct, &sc.mobile, &sc.email, &c.workplace, &c.branch, &c.employer, &c.language}
		if more {
			dest = append(dest, &o, &c.verMobile, &c.verEmail, &c.ownLanguage)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, nil, err
		}
		mn, err := s.openNumber(n, num)
		if err == nil {
			c.name, err = s.openName(n)
		}
		if err == nil {
			c.mobile, c.email, err = s.openContacts(n, sc)
		}
		if err != nil {
			return nil, nil, err
		}
		cur[mn], open[mn] = c, o
	}
	return cur, open, rows.Err()
}

// regVerified are the columns verMobile, verEmail, ownLanguage of
// regCurrent for members m (a verified value is one the member or staff
// checked: verified_at is set only by them; an import clears it).
const regVerified = `m.mobile_index IS NOT NULL AND EXISTS (SELECT 1 FROM member_contact_fields f
			WHERE f.member_id = m.id AND f.field = 'mobile' AND f.verified_at IS NOT NULL),
		m.email_index IS NOT NULL AND EXISTS (SELECT 1 FROM member_contact_fields f
			WHERE f.member_id = m.id AND f.field = 'email' AND f.verified_at IS NOT NULL),
		EXISTS (SELECT 1 FROM member_contact_fields f WHERE f.member_id = m.id AND f.field = 'language' AND f.source = 'member')`

// Preview compares a checked register file with the ballot's current
// register, without changing anything. The file must be free of errors
// ([ErrInvalid]).
func (s *Store) Preview(ctx context.Context, b *Ballot, file *File) (*Diff, error) {
	if file == nil || file.errors > 0 || len(file.Rows) == 0 {
		return nil, ErrInvalid
	}
	d, _, _, err := s.regDiff(ctx, s.pool, b, file)
	if err != nil {
		return nil, fmt.Errorf("preview register: %w", err)
	}
	return d, nil
}

// Commit makes a checked register file the ballot's register, in one
// transaction: it MUST leave the register unchanged on any failure. It
// upserts the members of the ballot's union by member number (name,
// contacts, workplace, branch, employer) — except a mobile or email the
// member (or staff with them) verified, and a language the member chose,
// which the file does not overwrite (nor erase with a blank cell): those
// are kept and counted per column in the diff's Kept — then makes the ballot's
// register_entries exactly the file's rows, with the style of each
// member's workplace (s.228, or "all" under s.228A) and no paper number
// (numbers are assigned when the ballot opens). It refuses a file with
// errors ([ErrInvalid]), a ballot that is not a draft (ballots'
// error: the ballot row is locked, so an import and an opening
// serialise), and a file checked against workplaces that have since
// changed ([ErrStale]). It returns the diff it applied.
//
// The import is recorded in the audit log, in the same transaction, as
// "ballot.register_import" by actor with the file's SHA-256 and the counts
// (never a member's data).
func (s *Store) Commit(ctx context.Context, ballots Ballots, actor string, ballotID int64, file *File) (*Diff, error) {
	if file == nil || file.errors > 0 || len(file.Rows) == 0 {
		return nil, ErrInvalid
	}
	var diff *Diff
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		b, err := ballots.ImportBallot(ctx, tx, ballotID, true)
		if err != nil {
			return err
		}
		styles := make([]string, len(file.Rows))
		for i := range file.Rows {
			row := &file.Rows[i]
			w, ok := WorkplaceByName(b.Workplaces, row.Workplace.Name)
			if !ok || w.ID != row.Workplace.ID || (w.Employer != "" && w.Employer != row.Employer) {
				return ErrStale
			}
			styles[i] = StyleFor(b.Aggregated, w)
		}
		// The rows as applied: a mobile or email the member verified, and
		// a language they chose, are kept (regKeep; counted in diff.Kept).
		var rows []Row
		var current map[string]*regCurrent
		if diff, rows, current, err = s.regDiff(ctx, tx, b, file); err != nil {
			return err
		}
		// The numbers, names, mobiles and emails, sealed (an insert needs them),
		// and whether those of a member already in the union change (a
		// sealed value never compares equal in SQL: that is decided here).
		sealedNumbers := make([][]byte, len(rows))
		sealedNames := make([][]byte, len(rows))
		sealedContacts := make([]sealedContact, len(rows))
		renamed := make([]bool, len(rows))
		recontacted := make([]bool, len(rows))
		for i := range rows {
			r := &rows[i]
			if cur, ok := current[r.MemberNumber]; ok {
				renamed[i] = cur.name != r.Name
				recontacted[i] = cur.mobile != r.Mobile || cur.email != r.Email
			}
			ni := s.idx.numberIndex(r.MemberNumber)
			if sealedNumbers[i], err = s.sealNumber(b.UnionID, ni, r.MemberNumber); err != nil {
				return err
			}
			if sealedNames[i], err = s.sealName(b.UnionID, ni, r.Name); err != nil {
				return err
			}
			if sealedContacts[i], err = s.sealContacts(b.UnionID, ni, r.Mobile, r.Email); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `
			CREATE TEMP TABLE register_import_rows (
				number_sealed bytea NOT NULL,
				name_sealed   bytea NOT NULL,
				renamed       boolean NOT NULL,
				recontacted   boolean NOT NULL,
				mobile_sealed bytea,
				email_sealed  bytea,
				workplace     text NOT NULL,
				branch        text NOT NULL,
				employer      text NOT NULL,
				language      text NOT NULL,
				style         text NOT NULL,
				number_index  bytea NOT NULL,
				mobile_index  bytea,
				email_index   bytea
			) ON COMMIT DROP`); err != nil {
			return err
		}
		_, err = tx.CopyFrom(ctx, pgx.Identifier{"register_import_rows"},
			[]string{"number_sealed", "name_sealed", "renamed", "recontacted", "mobile_sealed", "email_sealed", "workplace", "branch", "employer", "language", "style",
				"number_index", "mobile_index", "email_index"},
			pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
				r := &rows[i]
				return []any{sealedNumbers[i], sealedNames[i], renamed[i], recontacted[i], sealedContacts[i].mobile, sealedContacts[i].email,
					r.Workplace.Name, r.Branch, r.Employer, r.Language, styles[i],
					s.idx.numberIndex(r.MemberNumber), s.idx.mobileIndex(r.Mobile), s.idx.emailIndex(r.Email)}, nil
			}))
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `ANALYZE register_import_rows`); err != nil {
			return err
		}
		// The preferred language: a blank cell keeps the member's, and a
		// language the member chose themselves (contact refresh,
		// member_contact_fields source 'member') is not overwritten.
		if _, err := tx.Exec(ctx, `
			INSERT INTO members (union_id, number_sealed, name_sealed, mobile_sealed, email_sealed, workplace, branch, employer, language,
				number_index, mobile_index, email_index)
			SELECT $1, i.number_sealed, i.name_sealed, i.mobile_sealed, i.email_sealed, i.workplace, i.branch, i.employer, i.language,
				i.number_index, i.mobile_index, i.email_index
			FROM register_import_rows i
			ON CONFLICT (union_id, number_index) DO UPDATE SET
				mobile_index = EXCLUDED.mobile_index, email_index = EXCLUDED.email_index,
				workplace = EXCLUDED.workplace, branch = EXCLUDED.branch, employer = EXCLUDED.employer,
				language = CASE WHEN EXCLUDED.language = '' OR EXISTS (SELECT 1 FROM member_contact_fields f
					WHERE f.member_id = members.id AND f.field = 'language' AND f.source = 'member')
					THEN members.language ELSE EXCLUDED.language END
			WHERE (members.workplace, members.branch, members.employer, members.language,
					members.mobile_index, members.email_index)
				IS DISTINCT FROM (EXCLUDED.workplace, EXCLUDED.branch, EXCLUDED.employer,
					CASE WHEN EXCLUDED.language = '' THEN members.language ELSE EXCLUDED.language END,
					EXCLUDED.mobile_index, EXCLUDED.email_index)`,
			b.UnionID); err != nil {
			return err
		}
		// A new name, mobile or email of a member already in the union
		// (the insert above wrote those of new members).
		if _, err := tx.Exec(ctx, `
			UPDATE members m SET name_sealed = i.name_sealed, name = NULL
			FROM register_import_rows i WHERE i.renamed AND m.union_id = $1 AND m.number_index = i.number_index`, b.UnionID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `
			UPDATE members m SET mobile_sealed = i.mobile_sealed, email_sealed = i.email_sealed, mobile = NULL, email = NULL
			FROM register_import_rows i WHERE i.recontacted AND m.union_id = $1 AND m.number_index = i.number_index`, b.UnionID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `
			DELETE FROM register_entries r
			WHERE r.ballot_id = $1 AND NOT EXISTS (
				SELECT 1 FROM register_import_rows i JOIN members m ON m.union_id = $2 AND m.number_index = i.number_index
				WHERE m.id = r.member_id)`, ballotID, b.UnionID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO register_entries (ballot_id, member_id, style, workplace, paper_number)
			SELECT $1, m.id, i.style, i.workplace, NULL
			FROM register_import_rows i JOIN members m ON m.union_id = $2 AND m.number_index = i.number_index
			ON CONFLICT (ballot_id, member_id) DO UPDATE SET
				style = EXCLUDED.style, workplace = EXCLUDED.workplace, paper_number = NULL
			WHERE (register_entries.style, register_entries.workplace, register_entries.paper_number)
				IS DISTINCT FROM (EXCLUDED.style, EXCLUDED.workplace, NULL::integer)`,
			ballotID, b.UnionID); err != nil {
			return err
		}
		return audit.Append(ctx, tx, actor, "ballot.register_import", &ballotID, map[string]any{
			"sha256": hex.EncodeToString(file.SHA256[:]), "rows": len(file.Rows),
			"added": len(diff.Added), "removed": len(diff.Removed), "changed": len(diff.Changed),
			"contact_changes_in_open_ballots": len(diff.OpenBallots), "kept": keptCounts(diff.Kept),
		})
	})
	if err != nil {
		return nil, fmt.Errorf("commit register: %w", err)
	}
	return diff, nil
}

// keptCounts is diff.Kept for the audit entry: column → count.
func keptCounts(k []KeptCount) map[string]int {
	out := make(map[string]int, len(k))
	for _, c := range k {
		out[c.Field] = c.N
	}
	return out
}

// ---- Uploads: a previewed file waits for its commit ----

// SaveUpload keeps a previewed register file until it is committed (or a
// day has passed), keyed by its SHA-256. The file holds names, numbers and
// contacts: it is sealed at rest like the members' own rows
// (docs/threat-model.md "Data at rest"), bound to its ballot and digest.
func (s *Store) SaveUpload(ctx context.Context, ballotID int64, sum [32]byte, content []byte, actor string) error {
	if s.boxErr != nil {
		return fmt.Errorf("save register upload: %w", s.boxErr)
	}
	ct, err := s.box.Seal(content, uploadAD(ballotID, sum[:]))
	if err != nil {
		return fmt.Errorf("save register upload: %w", err)
	}
	if _, err := s.pool.Exec(ctx, `
		WITH old AS (DELETE FROM register_uploads WHERE uploaded_at < now() - interval '1 day')
		INSERT INTO register_uploads (ballot_id, sha256, content, uploaded_by) VALUES ($1, $2, $3, $4)
		ON CONFLICT (ballot_id, sha256) DO UPDATE SET uploaded_at = now(), content = EXCLUDED.content`, ballotID, sum[:], ct, actor); err != nil {
		return fmt.Errorf("save register upload: %w", err)
	}
	return nil
}

// uploadAD binds a sealed upload to its ballot and digest: a file moved to
// another ballot's row does not open.
func uploadAD(ballotID int64, sum []byte) string {
	return fmt.Sprintf("register_upload:%d:%x", ballotID, sum)
}

// ErrNoUpload: no previewed file with that digest waits for the ballot.
var ErrNoUpload = errors.New("register: no such previewed file")

// Upload returns the previewed file of the ballot with that SHA-256, or
// ErrNoUpload. A file that does not open (saved in clear before uploads
// were sealed, or under another key) is as good as gone: the organiser
// uploads it again.
func (s *Store) Upload(ctx context.Context, ballotID int64, sum []byte) ([]byte, error) {
	if s.boxErr != nil {
		return nil, fmt.Errorf("read register upload: %w", s.boxErr)
	}
	var ct []byte
	err := s.pool.QueryRow(ctx, `SELECT content FROM register_uploads WHERE ballot_id = $1 AND sha256 = $2`, ballotID, sum).Scan(&ct)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNoUpload
	}
	if err != nil {
		return nil, fmt.Errorf("read register upload: %w", err)
	}
	content, err := s.box.Open(ct, uploadAD(ballotID, sum))
	if err != nil {
		return nil, ErrNoUpload
	}
	return content, nil
}

// DeleteUploads forgets the ballot's previewed files (after a commit).
func (s *Store) DeleteUploads(ctx context.Context, ballotID int64) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM register_uploads WHERE ballot_id = $1`, ballotID); err != nil {
		return fmt.Errorf("delete register uploads: %w", err)
	}
	return nil
}

// ---- Counts ----

// EntitledByStyle counts the members on the ballot's register per ballot
// style.
func (s *Store) EntitledByStyle(ctx context.Context, q Querier, ballotID int64) (map[string]int, error) {
	rows, err := s.or(q).Query(ctx, `SELECT style, count(*) FROM register_entries WHERE ballot_id = $1 GROUP BY style ORDER BY style`, ballotID)
	if err != nil {
		return nil, fmt.Errorf("count register: %w", err)
	}
	out, err := db.KeyCounts(rows)
	if err != nil {
		return nil, fmt.Errorf("count register: %w", err)
	}
	return out, nil
}

// Entitled counts the members on each ballot's register.
func (s *Store) Entitled(ctx context.Context, ballotIDs []int64) (map[int64]int, error) {
	rows, err := s.pool.Query(ctx, `SELECT ballot_id, count(*) FROM register_entries WHERE ballot_id = ANY($1) GROUP BY ballot_id`, ballotIDs)
	if err != nil {
		return nil, fmt.Errorf("count registers: %w", err)
	}
	out := map[int64]int{}
	for rows.Next() {
		var id int64
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("count registers: %w", err)
		}
		out[id] = n
	}
	return out, rows.Err()
}

// Group is the number of members on a register with one employer,
// workplace and branch (as spelt on the register).
type Group struct {
	Employer, Workplace, Branch string
	Members                     int
}

// EntitledGroups counts the members on the ballot's register per
// employer, workplace and branch (s.226A notices), by employer.
func (s *Store) EntitledGroups(ctx context.Context, q Querier, ballotID int64) ([]Group, error) {
	rows, err := s.or(q).Query(ctx, `SELECT m.employer, r.workplace, m.branch, count(*) FROM register_entries r JOIN members m ON m.id = r.member_id
		WHERE r.ballot_id = $1 GROUP BY m.employer, r.workplace, m.branch ORDER BY m.employer, r.workplace, m.branch`, ballotID)
	if err != nil {
		return nil, fmt.Errorf("count register groups: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Group, error) {
		var g Group
		err := r.Scan(&g.Employer, &g.Workplace, &g.Branch, &g.Members)
		return g, err
	})
}

// ---- Opening: the register frozen ----

// Freeze freezes the ballot's register in the opening transaction tx:
// consecutive voting-paper numbers 1..N in style, then member number order
// (s.229(1A)(c)); the members' contacts, sealed ([Store.Contacts] serves
// them from then on). It returns the register hash: SHA-256 over
// (paper number, member number, style) in paper order, which the ballot
// records.
//
// The numbers are sealed (migration 0034), so the order is taken here,
// after opening them: styles and numbers compared byte by byte, which is
// the order the database's C.UTF-8 collation gave when it sorted them
// (internal/pgtest, scripts/pg.sh initdb --locale=C.UTF-8).
func (s *Store) Freeze(ctx context.Context, tx pgx.Tx, ballotID int64) ([]byte, error) {
	lines, err := s.frozenOrder(ctx, tx, ballotID)
	if err != nil {
		return nil, fmt.Errorf("freeze register: %w", err)
	}
	ids := make([]int64, len(lines))
	papers := make([]int32, len(lines))
	for i := range lines {
		ids[i], papers[i] = lines[i].member, int32(i+1)
	}
	if _, err := tx.Exec(ctx, `
		UPDATE register_entries r SET paper_number = n.num
		FROM unnest($2::bigint[], $3::integer[]) AS n(member_id, num)
		WHERE r.ballot_id = $1 AND r.member_id = n.member_id`, ballotID, ids, papers); err != nil {
		return nil, fmt.Errorf("freeze register: %w", err)
	}
	hash := registerHash(lines)
	if _, err := s.freezeContacts(ctx, tx, ballotID); err != nil {
		return nil, err
	}
	return hash, nil
}

// frozenLine is a line of a register in paper order ([Store.frozenOrder]).
type frozenLine struct {
	member        int64
	number, style string
}

// frozenOrder reads the ballot's register lines, their numbers opened, in
// the order of their voting-paper numbers: style, then member number.
func (s *Store) frozenOrder(ctx context.Context, q Querier, ballotID int64) ([]frozenLine, error) {
	rows, err := q.Query(ctx, `SELECT r.member_id, r.style, `+numberCol+`, m.union_id, m.number_index
		FROM register_entries r JOIN members m ON m.id = r.member_id WHERE r.ballot_id = $1`, ballotID)
	if err != nil {
		return nil, err
	}
	lines, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (frozenLine, error) {
		var l frozenLine
		var num []byte
		var n sealedName
		if err := r.Scan(&l.member, &l.style, &num, &n.union, &n.index); err != nil {
			return l, err
		}
		var err error
		l.number, err = s.openNumber(n, num)
		return l, err
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(lines, func(i, j int) bool {
		if lines[i].style != lines[j].style {
			return lines[i].style < lines[j].style
		}
		return lines[i].number < lines[j].number
	})
	return lines, nil
}

// registerHash commits to the frozen register: SHA-256 over
// (paper number, member number, style) in paper order, lines[i] being
// paper i+1.
func registerHash(lines []frozenLine) []byte {
	h := sha256.New()
	h.Write([]byte("eballot-register-v1"))
	for i, l := range lines {
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], uint32(i+1))
		h.Write(b[:])
		for _, s := range []string{l.number, l.style} {
			binary.BigEndian.PutUint32(b[:], uint32(len(s)))
			h.Write(b[:])
			h.Write([]byte(s))
		}
	}
	return h.Sum(nil)
}

// ---- Loading a register directly ----

// Member is a member to load onto a register with [Store.Load].
type Member struct {
	Number, Name, Mobile, Branch string // Mobile "" for none
	Workplace                    Workplace
	Style                        string
	Language                     string // preferred language: "en", "cy", or "" none
}

// Load puts n members, member(0) … member(n-1), in the union and on the
// ballot's register, in one transaction with bulk COPYs: the demo ballot
// and load tests, where a register of 100,000 takes seconds. (Organisers'
// registers are checked and imported with [Parse] and [Store.Commit].) A
// member already in the union by number keeps their details but their name.
func (s *Store) Load(ctx context.Context, unionID, ballotID int64, n int, member func(i int) Member) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `CREATE TEMPORARY TABLE register_load (number_sealed bytea NOT NULL, name_sealed bytea NOT NULL, mobile_sealed bytea,
			workplace text NOT NULL, branch text NOT NULL, employer text NOT NULL, style text NOT NULL, language text NOT NULL,
			number_index bytea NOT NULL, mobile_index bytea) ON COMMIT DROP`); err != nil {
			return err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"register_load"}, []string{"number_sealed", "name_sealed", "mobile_sealed", "workplace", "branch", "employer", "style", "language",
			"number_index", "mobile_index"},
			pgx.CopyFromSlice(n, func(i int) ([]any, error) {
				m := member(i)
				ni := s.idx.numberIndex(m.Number)
				number, err := s.sealNumber(unionID, ni, m.Number)
				if err != nil {
					return nil, err
				}
				name, err := s.sealName(unionID, ni, m.Name)
				if err != nil {
					return nil, err
				}
				mobile, err := s.sealContact(FieldMobile, unionID, ni, m.Mobile)
				if err != nil {
					return nil, err
				}
				return []any{number, name, mobile, m.Workplace.Name, m.Branch, m.Workplace.Employer, m.Style, m.Language,
					ni, s.idx.mobileIndex(m.Mobile)}, nil
			})); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO members (union_id, number_sealed, name_sealed, mobile_sealed, workplace, branch, employer, language, number_index, mobile_index)
			SELECT $1, number_sealed, name_sealed, mobile_sealed, workplace, branch, employer, language, number_index, mobile_index FROM register_load
			ON CONFLICT (union_id, number_index) DO UPDATE SET name_sealed = EXCLUDED.name_sealed, name = NULL`, unionID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO register_entries (ballot_id, member_id, style, workplace)
			SELECT $1, m.id, l.style, l.workplace FROM register_load l JOIN members m ON m.union_id = $2 AND m.number_index = l.number_index`,
			ballotID, unionID)
		return err
	})
	if err != nil {
		return fmt.Errorf("load register: %w", err)
	}
	return nil
}

// Entry is a member's line on a ballot's register.
type Entry struct {
	Style       string
	PaperNumber int // 0 until the ballot opens
}

// ErrNotOnRegister: the member is not on the ballot's register.
var ErrNotOnRegister = errors.New("register: not on this ballot's register")

// Entry reads the member's entry on the ballot's register, or
// [ErrNotOnRegister]; q is the caller's transaction (nil: the pool).
func (s *Store) Entry(ctx context.Context, q Querier, ballotID, memberID int64) (Entry, error) {
	var e Entry
	var paper *int32
	err := s.or(q).QueryRow(ctx, `SELECT style, paper_number FROM register_entries WHERE ballot_id = $1 AND member_id = $2`, ballotID, memberID).
		Scan(&e.Style, &paper)
	if errors.Is(err, pgx.ErrNoRows) {
		return e, ErrNotOnRegister
	}
	if err != nil {
		return e, fmt.Errorf("read register entry: %w", err)
	}
	if paper != nil {
		e.PaperNumber = int(*paper)
	}
	return e, nil
}

// Members lists the member ids on the ballot's register, in id order.
func (s *Store) Members(ctx context.Context, ballotID int64) ([]int64, error) {
	rows, err := s.pool.Query(ctx, `SELECT member_id FROM register_entries WHERE ballot_id = $1 ORDER BY member_id`, ballotID)
	if err != nil {
		return nil, fmt.Errorf("list register: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("list register: %w", err)
	}
	return ids, nil
}

// PackRecipient is a member on a ballot's register as their postal pack
// is addressed (internal/packs): no contact but the postal address.
type PackRecipient struct {
	MemberID    int64
	Name        string
	Address     string // lines separated by newlines, as stored
	Postcode    string
	Lang        string // "cy", or "en" (the default)
	Style       string
	PaperNumber int
}

// PackRecipients lists, in paper-number order, the members of an opened
// ballot's register who get a postal pack: all of them when everyone is
// true (a hybrid ballot sent to everyone), else those whose contacts
// frozen at the opening hold neither a mobile nor an email, and those
// who asked for their ballot by post (s.230(2) as modified: a member
// without a usable e-contact votes by post).
func (s *Store) PackRecipients(ctx context.Context, ballotID int64, everyone bool) ([]PackRecipient, error) {
	rows, err := s.pool.Query(ctx, `SELECT m.id, `+nameCols+`, m.address_sealed, m.language, r.style, r.paper_number
		FROM register_entries r JOIN members m ON m.id = r.member_id
		LEFT JOIN ballot_contacts c ON c.ballot_id = r.ballot_id AND c.member_id = r.member_id
		WHERE r.ballot_id = $1 AND r.paper_number IS NOT NULL
		  AND ($2 OR m.ballot_by = 'post' OR c.member_id IS NULL OR NOT (c.has_mobile OR c.has_email))
		ORDER BY r.paper_number`, ballotID, everyone)
	if err != nil {
		return nil, fmt.Errorf("pack recipients: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (PackRecipient, error) {
		var p PackRecipient
		var addr []byte
		var n sealedName
		if err := row.Scan(&p.MemberID, &n.union, &n.index, &n.ct, &addr, &p.Lang, &p.Style, &p.PaperNumber); err != nil {
			return p, err
		}
		var err error
		if p.Name, err = s.openName(n); err != nil {
			return p, err
		}
		if p.Lang != "cy" {
			p.Lang = "en"
		}
		p.Address, p.Postcode, err = s.openAddress(p.MemberID, addr)
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("pack recipients: %w", err)
	}
	return out, nil
}

// PaperVoters counts the members on a ballot's register who, by their
// current contacts, would be posted a paper when it opens (as
// [Store.PackRecipients] picks them from the contacts frozen then): those
// who asked for their ballot by post and those with neither a mobile nor
// an email.
func (s *Store) PaperVoters(ctx context.Context, q Querier, ballotID int64) (int, error) {
	var n int
	if err := s.or(q).QueryRow(ctx, `SELECT count(*) FROM register_entries r JOIN members m ON m.id = r.member_id
		WHERE r.ballot_id = $1 AND (m.ballot_by = 'post' OR (m.mobile_index IS NULL AND m.email_index IS NULL))`, ballotID).Scan(&n); err != nil {
		return 0, fmt.Errorf("paper voters: %w", err)
	}
	return n, nil
}

// MemberByNumber finds the member with memberNumber on the ballot's
// register, or [ErrNotOnRegister].
func (s *Store) MemberByNumber(ctx context.Context, ballotID int64, memberNumber string) (int64, error) {
	var id int64
	err := s.pool.QueryRow(ctx, `SELECT m.id FROM register_entries re JOIN members m ON m.id = re.member_id
		WHERE re.ballot_id = $1 AND m.number_index = $2`, ballotID, s.idx.numberIndex(memberNumber)).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, ErrNotOnRegister
	}
	if err != nil {
		return 0, fmt.Errorf("find member: %w", err)
	}
	return id, nil
}

// MemberNumbers returns the member numbers of the members ids (a member
// not found is absent from the map).
func (s *Store) MemberNumbers(ctx context.Context, ids []int64) (map[int64]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT m.id, `+numberCol+`, m.union_id, m.number_index FROM members m WHERE m.id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("read member numbers: %w", err)
	}
	defer rows.Close()
	out := make(map[int64]string, len(ids))
	for rows.Next() {
		var id int64
		var num []byte
		var n sealedName
		if err := rows.Scan(&id, &num, &n.union, &n.index); err != nil {
			return nil, fmt.Errorf("read member numbers: %w", err)
		}
		if out[id], err = s.openNumber(n, num); err != nil {
			return nil, fmt.Errorf("read member numbers: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read member numbers: %w", err)
	}
	return out, nil
}

// LockEntry reads the member's entry on the ballot's register and locks
// it in the caller's transaction (authorisations and returns for one
// member serialise on it), or [ErrNotOnRegister].
func (s *Store) LockEntry(ctx context.Context, tx pgx.Tx, ballotID, memberID int64) (Entry, error) {
	var e Entry
	err := scanLockedEntry(tx.QueryRow(ctx, lockEntrySQL, ballotID, memberID), &e)
	return e, err
}

// QueueLockEntry queues [Store.LockEntry] into b, a batch that runs in a
// transaction (pgx.Batch.BeginTx): when b's results are read, e is the
// member's entry, or *err is [ErrNotOnRegister]; a database error is b's.
// It saves a round trip to the database over LockEntry.
func (s *Store) QueueLockEntry(b *pgx.Batch, ballotID, memberID int64, e *Entry, err *error) {
	b.Queue(lockEntrySQL, ballotID, memberID).QueryRow(func(row pgx.Row) error {
		*err = scanLockedEntry(row, e)
		if errors.Is(*err, ErrNotOnRegister) {
			return nil
		}
		return *err
	})
}

const lockEntrySQL = `SELECT style, paper_number FROM register_entries WHERE ballot_id = $1 AND member_id = $2 FOR UPDATE`

func scanLockedEntry(row pgx.Row, e *Entry) error {
	var paper *int32
	err := row.Scan(&e.Style, &paper)
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotOnRegister
	}
	if err != nil {
		return fmt.Errorf("lock register entry: %w", err)
	}
	if paper != nil {
		e.PaperNumber = int(*paper)
	}
	return nil
}

// LockPaper finds the member whose voting paper is paperNumber on the
// ballot's register and locks their entry in the caller's transaction; it
// returns the member and their style, or [ErrNotOnRegister].
func (s *Store) LockPaper(ctx context.Context, tx pgx.Tx, ballotID int64, paperNumber int) (memberID int64, style string, err error) {
	err = tx.QueryRow(ctx, `SELECT member_id, style FROM register_entries WHERE ballot_id = $1 AND paper_number = $2 FOR UPDATE`,
		ballotID, paperNumber).Scan(&memberID, &style)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, "", ErrNotOnRegister
	}
	if err != nil {
		return 0, "", fmt.Errorf("lock register entry: %w", err)
	}
	return memberID, style, nil
}

// CountByStyle counts, per style, the members of memberIDs on the
// ballot's register; q is the caller's transaction (nil: the pool).
func (s *Store) CountByStyle(ctx context.Context, q Querier, ballotID int64, memberIDs []int64) (map[string]int, error) {
	rows, err := s.or(q).Query(ctx, `SELECT style, count(*) FROM register_entries WHERE ballot_id = $1 AND member_id = ANY($2) GROUP BY style`,
		ballotID, memberIDs)
	if err != nil {
		return nil, fmt.Errorf("count register by style: %w", err)
	}
	out, err := db.KeyCounts(rows)
	if err != nil {
		return nil, fmt.Errorf("count register by style: %w", err)
	}
	return out, nil
}

// Line is a member's line on a ballot's register with their current
// contacts (internal/auth's invitations and delivery page; the contacts
// frozen at the opening come from [Store.Contacts]).
type Line struct {
	MemberID     int64
	Number, Name string
	PaperNumber  int // 0 until the ballot opens
	Mobile       string
	Email        string
	Lang         string
}

// Lines reads the ballot's register (only memberID's line if not 0), in
// paper-number order (lines without one last), then member id.
func (s *Store) Lines(ctx context.Context, ballotID, memberID int64) ([]Line, error) {
	rows, err := s.pool.Query(ctx, `SELECT m.id, `+numberCol+`, `+nameCols+`, coalesce(re.paper_number, 0),
		`+contactCols+`, m.language
		FROM register_entries re JOIN members m ON m.id = re.member_id
		WHERE re.ballot_id = $1 AND ($2::bigint = 0 OR re.member_id = $2) ORDER BY re.paper_number NULLS LAST, m.id`, ballotID, memberID)
	if err != nil {
		return nil, fmt.Errorf("read register lines: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Line, error) {
		var l Line
		var num []byte
		var n sealedName
		var sc sealedContact
		if err := r.Scan(&l.MemberID, &num, &n.union, &n.index, &n.ct, &l.PaperNumber, &sc.mobile, &sc.email, &l.Lang); err != nil {
			return l, err
		}
		var err error
		if l.Number, err = s.openNumber(n, num); err != nil {
			return l, err
		}
		if l.Name, err = s.openName(n); err != nil {
			return l, err
		}
		l.Mobile, l.Email, err = s.openContacts(n, sc)
		return l, err
	})
	if err != nil {
		return nil, fmt.Errorf("read register lines: %w", err)
	}
	return out, nil
}

// BallotsOf lists the ballots whose register holds the member.
func (s *Store) BallotsOf(ctx context.Context, memberID int64) ([]int64, error) {
	rows, err := s.pool.Query(ctx, `SELECT ballot_id FROM register_entries WHERE member_id = $1`, memberID)
	if err != nil {
		return nil, fmt.Errorf("member's ballots: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("member's ballots: %w", err)
	}
	return ids, nil
}

// NumberOn is the membership number of a member on the ballot's
// register, or [ErrNotOnRegister].
func (s *Store) NumberOn(ctx context.Context, ballotID, memberID int64) (string, error) {
	var num []byte
	var n sealedName
	err := s.pool.QueryRow(ctx, `SELECT `+numberCol+`, m.union_id, m.number_index FROM register_entries re JOIN members m ON m.id = re.member_id
		WHERE re.ballot_id = $1 AND re.member_id = $2`, ballotID, memberID).Scan(&num, &n.union, &n.index)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", ErrNotOnRegister
	}
	if err != nil {
		return "", fmt.Errorf("member number: %w", err)
	}
	number, err := s.openNumber(n, num)
	if err != nil {
		return "", fmt.Errorf("member number: %w", err)
	}
	return number, nil
}

// SegmentMember is a member of a segment of a ballot's register, for
// reminders (internal/gotv): current name, mobile and language, the
// register line's workplace, and whether they can be texted.
type SegmentMember struct {
	MemberID          int64
	Number, Name      string
	Mobile            string // the current one, "" none
	Workplace, Branch string
	Lang              string
	// Textable: a mobile was frozen for this ballot at its opening, or
	// (before the opening) the member has one now.
	Textable bool
}

// Segment lists the members on the ballot's register in workplaces wps
// and branches brs (empty: all), in member id order; q is the caller's
// transaction (nil: the pool).
func (s *Store) Segment(ctx context.Context, q Querier, ballotID int64, wps, brs []string) ([]SegmentMember, error) {
	if wps == nil {
		wps = []string{}
	}
	if brs == nil {
		brs = []string{}
	}
	rows, err := s.or(q).Query(ctx, `SELECT m.id, `+numberCol+`, `+nameCols+`, m.mobile_sealed, re.workplace, m.branch, m.language,
		coalesce(bc.has_mobile, m.mobile_index IS NOT NULL)
		FROM register_entries re JOIN members m ON m.id = re.member_id
		LEFT JOIN ballot_contacts bc ON bc.ballot_id = re.ballot_id AND bc.member_id = re.member_id
		WHERE re.ballot_id = $1 AND (cardinality($2::text[]) = 0 OR re.workplace = ANY($2))
		AND (cardinality($3::text[]) = 0 OR m.branch = ANY($3)) ORDER BY m.id`, ballotID, wps, brs)
	if err != nil {
		return nil, fmt.Errorf("read segment: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (SegmentMember, error) {
		var x SegmentMember
		var num []byte
		var n sealedName
		var mobile []byte
		if err := r.Scan(&x.MemberID, &num, &n.union, &n.index, &n.ct, &mobile, &x.Workplace, &x.Branch, &x.Lang, &x.Textable); err != nil {
			return x, err
		}
		var err error
		if x.Number, err = s.openNumber(n, num); err != nil {
			return x, err
		}
		if x.Name, err = s.openName(n); err != nil {
			return x, err
		}
		x.Mobile, err = s.openContact(FieldMobile, n, mobile)
		return x, err
	})
	if err != nil {
		return nil, fmt.Errorf("read segment: %w", err)
	}
	return out, nil
}

// Segments lists the distinct workplaces (of the register lines) and
// branches of the members on the ballot's register, each sorted: the
// segments a reminder campaign may choose.
func (s *Store) Segments(ctx context.Context, ballotID int64) (workplaces, branches []string, err error) {
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT 'w', re.workplace FROM register_entries re WHERE re.ballot_id = $1 AND re.workplace <> ''
		UNION SELECT DISTINCT 'b', m.branch FROM register_entries re JOIN members m ON m.id = re.member_id
		WHERE re.ballot_id = $1 AND m.branch <> '' ORDER BY 1, 2`, ballotID)
	if err != nil {
		return nil, nil, fmt.Errorf("register segments: %w", err)
	}
	branches, workplaces, err = twoLists(rows, "b")
	return workplaces, branches, err
}

// twoLists splits rows of (kind, value), sorted by kind, into the values
// of kind first and the others.
func twoLists(rows pgx.Rows, first string) (a, b []string, err error) {
	defer rows.Close()
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, nil, err
		}
		if k == first {
			a = append(a, v)
		} else {
			b = append(b, v)
		}
	}
	return a, b, rows.Err()
}

// Addressee is how a member is addressed now: their name, current mobile
// ("" none) and preferred language.
type Addressee struct{ Name, Mobile, Lang string }

// Addressees reads the [Addressee] of the members ids (a member not found
// is absent from the map); q is the caller's transaction (nil: the pool).
func (s *Store) Addressees(ctx context.Context, q Querier, ids []int64) (map[int64]Addressee, error) {
	rows, err := s.or(q).Query(ctx, `SELECT m.id, `+nameCols+`, m.mobile_sealed, m.language FROM members m WHERE m.id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("read members: %w", err)
	}
	defer rows.Close()
	out := make(map[int64]Addressee, len(ids))
	for rows.Next() {
		var id int64
		var a Addressee
		var n sealedName
		var mobile []byte
		if err := rows.Scan(&id, &n.union, &n.index, &n.ct, &mobile, &a.Lang); err != nil {
			return nil, fmt.Errorf("read members: %w", err)
		}
		if a.Name, err = s.openName(n); err != nil {
			return nil, fmt.Errorf("read members: %w", err)
		}
		if a.Mobile, err = s.openContact(FieldMobile, n, mobile); err != nil {
			return nil, fmt.Errorf("read members: %w", err)
		}
		out[id] = a
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read members: %w", err)
	}
	return out, nil
}

// CountByWorkplace counts the members on the ballot's register per
// register-line workplace ("" none).
func (s *Store) CountByWorkplace(ctx context.Context, ballotID int64) (map[string]int, error) {
	rows, err := s.pool.Query(ctx, `SELECT workplace, count(*) FROM register_entries WHERE ballot_id = $1 GROUP BY 1`, ballotID)
	if err != nil {
		return nil, fmt.Errorf("count by workplace: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var wp string
		var n int
		if err := rows.Scan(&wp, &n); err != nil {
			return nil, fmt.Errorf("count by workplace: %w", err)
		}
		out[wp] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count by workplace: %w", err)
	}
	return out, nil
}

// WorkplaceHour is a number of members of one register-line workplace
// whose mark fell in one hour.
type WorkplaceHour struct {
	Workplace string
	Hour      time.Time
	N         int
}

// CountByWorkplaceHour counts the members (memberIDs[i], marked in
// hours[i]: the marked register, which internal/issuance reads) on the
// ballot's register per workplace and hour.
func (s *Store) CountByWorkplaceHour(ctx context.Context, ballotID int64, memberIDs []int64, hours []time.Time) ([]WorkplaceHour, error) {
	rows, err := s.pool.Query(ctx, `SELECT re.workplace, mk.hour, count(*)
		FROM unnest($2::bigint[], $3::timestamptz[]) AS mk(member_id, hour)
		JOIN register_entries re ON re.ballot_id = $1 AND re.member_id = mk.member_id GROUP BY 1, 2`, ballotID, memberIDs, hours)
	if err != nil {
		return nil, fmt.Errorf("count by workplace and hour: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (WorkplaceHour, error) {
		var x WorkplaceHour
		err := r.Scan(&x.Workplace, &x.Hour, &x.N)
		return x, err
	})
	if err != nil {
		return nil, fmt.Errorf("count by workplace and hour: %w", err)
	}
	return out, nil
}
