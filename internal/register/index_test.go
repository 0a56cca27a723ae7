package register_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/unionvote/eballot/internal/pgtest"
	"github.com/unionvote/eballot/internal/register"
	"github.com/unionvote/eballot/internal/register/registertest"
	"github.com/unionvote/eballot/internal/sealed"
)

// numberIndex is the blind index of a member number under the tests' key
// (what members.number_index holds).
func numberIndex(number string) []byte {
	return sealed.Index(sealed.DeriveKey(registertest.Key, sealed.PurposeMemberNumber), number)
}

// memberIDs are the ids of the members on the ballot's register by
// number, the numbers opened by the register's store.
func memberIDs(t *testing.T, reg *register.Store, ballotID int64) map[string]int64 {
	t.Helper()
	lines, err := reg.Lines(context.Background(), ballotID, 0)
	must(t, err)
	out := map[string]int64{}
	for _, l := range lines {
		out[l.Number] = l.MemberID
	}
	return out
}

// An import writes each member's blind indexes (member number, mobile,
// email in lower case) with their details and keeps them in step when a
// re-import changes a mobile; a member is found by number through the
// index; rows written without indexes (before migration 0022) get them
// from IndexMembers, which then finds nothing more to do.
func TestImportWritesBlindIndexes(t *testing.T) {
	pool := pgtest.NewDB(t)
	ctx := context.Background()
	f := registertest.New(t, pool, "indexes", false)
	_, err := registertest.Commit(ctx, pool, "organiser:1", f.BallotID, parseGood(t, regFirst))
	must(t, err)
	num, mob, em := sealed.DeriveKey(registertest.Key, sealed.PurposeMemberNumber), sealed.DeriveKey(registertest.Key, sealed.PurposeMobile),
		sealed.DeriveKey(registertest.Key, sealed.PurposeEmail)
	reg := register.NewStore(pool, registertest.Key)
	check := func(number, mobile, email string) {
		t.Helper()
		var id int64
		rows, err := pool.Query(ctx, `SELECT id FROM members WHERE union_id = $1`, f.UnionID)
		must(t, err)
		all, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		must(t, err)
		nums, err := reg.MemberNumbers(ctx, all) // the numbers opened
		must(t, err)
		for i, n := range nums {
			if n == number {
				id = i
			}
		}
		if id == 0 {
			t.Fatalf("%s not in the union", number)
		}
		var ni, mi, ei []byte
		must(t, pool.QueryRow(ctx, `SELECT number_index, mobile_index, email_index FROM members WHERE id = $1`, id).Scan(&ni, &mi, &ei))
		if !bytes.Equal(ni, sealed.Index(num, number)) {
			t.Errorf("%s: number index", number)
		}
		if want := register.MobileIndex(registertest.Key, mobile); !bytes.Equal(mi, want) || (mobile != "") != (mi != nil) ||
			(mobile != "" && !bytes.Equal(mi, sealed.Index(mob, mobile))) {
			t.Errorf("%s: mobile index", number)
		}
		if (email != "") != (ei != nil) || (email != "" && !bytes.Equal(ei, sealed.Index(em, email))) {
			t.Errorf("%s: email index", number)
		}
	}
	check("M1", "+447700900001", "aled@example.org")
	check("M3", "", "ceri@example.org")
	// A new mobile by re-import: its index follows.
	_, err = registertest.Commit(ctx, pool, "organiser:1", f.BallotID, parseGood(t, regHeader+
		"M1,Aled Jones,07700900011,ALED@example.org,Cardiff Depot,South Wales,\n"))
	must(t, err)
	check("M1", "+447700900011", "aled@example.org")

	m1 := memberIDs(t, reg, f.BallotID)["M1"]
	if id, err := reg.MemberByNumber(ctx, f.BallotID, "M1"); err != nil || id != m1 {
		t.Fatalf("MemberByNumber(M1) = %d, %v; want %d", id, err, m1)
	}
	if _, err := reg.MemberByNumber(ctx, f.BallotID, "M2"); !errors.Is(err, register.ErrNotOnRegister) {
		t.Fatalf("MemberByNumber of a member no longer on the register: %v", err)
	}

	// Rows as written before migrations 0022, 0032 and 0034: no indexes,
	// the number, mobile and email in clear.
	rows, err := pool.Query(ctx, `SELECT id FROM members WHERE union_id = $1`, f.UnionID)
	must(t, err)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	must(t, err)
	for _, id := range ids {
		d, err := reg.Details(ctx, id)
		must(t, err)
		_, err = pool.Exec(ctx, `UPDATE members SET number_index = NULL, mobile_index = NULL, email_index = NULL, member_number = $4,
			number_sealed = NULL, mobile = nullif($2, ''), email = nullif($3, ''), mobile_sealed = NULL, email_sealed = NULL WHERE id = $1`,
			id, d.Mobile, d.Email, d.Number)
		must(t, err)
	}
	if n, err := reg.IndexMembers(ctx); err != nil || n != 4 {
		t.Fatalf("IndexMembers = %d, %v; want 4", n, err)
	}
	check("M1", "+447700900011", "aled@example.org")
	check("M3", "", "ceri@example.org")
	if n, err := reg.IndexMembers(ctx); err != nil || n != 0 {
		t.Fatalf("second IndexMembers = %d, %v; want 0", n, err)
	}
}

// Names are sealed at rest (issue 21, migration 0030): an import writes
// no name in clear, a new name by re-import is sealed anew, a name bound
// to one member does not open as another's, and a name written in clear
// (a row from before the migration) is sealed and cleared on startup.
func TestImportSealsNames(t *testing.T) {
	pool := pgtest.NewDB(t)
	ctx := context.Background()
	f := registertest.New(t, pool, "names", false)
	_, err := registertest.Commit(ctx, pool, "organiser:1", f.BallotID, parseGood(t, regFirst))
	must(t, err)
	reg := register.NewStore(pool, registertest.Key)
	inClear := func() int {
		t.Helper()
		var n int
		must(t, pool.QueryRow(ctx, `SELECT count(*) FROM members WHERE name IS NOT NULL OR name_sealed IS NULL
			OR position(convert_to('Jones', 'UTF8') IN name_sealed) > 0 OR position(convert_to('Legacy', 'UTF8') IN name_sealed) > 0`).Scan(&n))
		return n
	}
	names := func() map[string]string {
		t.Helper()
		lines, err := reg.Lines(ctx, f.BallotID, 0)
		must(t, err)
		out := map[string]string{}
		for _, l := range lines {
			out[l.Number] = l.Name
		}
		return out
	}
	if n := inClear(); n != 0 {
		t.Fatalf("%d members with a name in clear after an import", n)
	}
	if got := names(); got["M1"] != "Aled Jones" || got["M3"] != "Ceri Evans" || len(got) != 4 {
		t.Fatalf("names read back: %v", got)
	}
	_, err = registertest.Commit(ctx, pool, "organiser:1", f.BallotID, parseGood(t, regHeader+
		"M1,Aled Jones-Evans,07700900001,aled@example.org,Cardiff Depot,South Wales,\n"+
		"M3,Ceri Evans,,ceri@example.org,Newport Office,Gwent,Gwent Buses Ltd\n"))
	must(t, err)
	if got := names(); got["M1"] != "Aled Jones-Evans" || got["M3"] != "Ceri Evans" || len(got) != 2 {
		t.Fatalf("names after a re-import: %v", got)
	}
	// M3's sealed name copied onto M1 does not open.
	_, err = pool.Exec(ctx, `UPDATE members SET name_sealed = (SELECT name_sealed FROM members WHERE union_id = $1 AND number_index = $2)
		WHERE union_id = $1 AND number_index = $3`, f.UnionID, numberIndex("M3"), numberIndex("M1"))
	must(t, err)
	if _, err := reg.Lines(ctx, f.BallotID, 0); !errors.Is(err, sealed.ErrOpen) {
		t.Fatalf("a name moved to another member: %v, want sealed.ErrOpen", err)
	}
	// Written in clear, as before the migration: sealed on startup.
	_, err = pool.Exec(ctx, `UPDATE members SET name = 'Legacy Name', name_sealed = NULL WHERE union_id = $1 AND number_index = $2`, f.UnionID, numberIndex("M1"))
	must(t, err)
	if n, err := reg.IndexMembers(ctx); err != nil || n != 1 {
		t.Fatalf("IndexMembers = %d, %v; want 1", n, err)
	}
	if n := inClear(); n != 0 {
		t.Fatalf("%d members with a name in clear after IndexMembers", n)
	}
	if got := names(); got["M1"] != "Legacy Name" {
		t.Fatalf("legacy name read back as %q", got["M1"])
	}
}

// Mobiles and emails are sealed at rest (issue 21, migration 0032): an
// import writes none in clear, a changed one (by re-import, by the member)
// is sealed anew and read back, a mobile bound to one member does not open
// as another's nor as an email, and one written in clear (a row from
// before the migration) is sealed, indexed and cleared on startup.
func TestImportSealsContacts(t *testing.T) {
	pool := pgtest.NewDB(t)
	ctx := context.Background()
	f := registertest.New(t, pool, "contacts", false)
	_, err := registertest.Commit(ctx, pool, "organiser:1", f.BallotID, parseGood(t, regFirst))
	must(t, err)
	reg := register.NewStore(pool, registertest.Key)
	inClear := func() int {
		t.Helper()
		var n int
		must(t, pool.QueryRow(ctx, `SELECT count(*) FROM members WHERE mobile IS NOT NULL OR email IS NOT NULL
			OR (mobile_sealed IS NULL) <> (mobile_index IS NULL) OR (email_sealed IS NULL) <> (email_index IS NULL)
			OR position(convert_to('7700900', 'UTF8') IN mobile_sealed) > 0 OR position(convert_to('example', 'UTF8') IN email_sealed) > 0`).Scan(&n))
		return n
	}
	contacts := func() map[string][2]string {
		t.Helper()
		lines, err := reg.Lines(ctx, f.BallotID, 0)
		must(t, err)
		out := map[string][2]string{}
		for _, l := range lines {
			out[l.Number] = [2]string{l.Mobile, l.Email}
		}
		return out
	}
	if n := inClear(); n != 0 {
		t.Fatalf("%d members with a mobile or email in clear (or unsealed) after an import", n)
	}
	if got := contacts(); got["M1"] != [2]string{"+447700900001", "aled@example.org"} || got["M2"] != [2]string{"+447700900002", ""} ||
		got["M3"] != [2]string{"", "ceri@example.org"} || len(got) != 4 {
		t.Fatalf("contacts read back: %v", got)
	}
	// A re-import changes M1's mobile and M3's email, and gives M2 an email.
	_, err = registertest.Commit(ctx, pool, "organiser:1", f.BallotID, parseGood(t, regHeader+
		"M1,Aled Jones,07700900011,aled@example.org,Cardiff Depot,South Wales,\n"+
		"M2,Bethan Price,07700900002,bethan@example.org,Swansea Depot,West Wales,\n"+
		"M3,Ceri Evans,,ceri.evans@example.org,Newport Office,Gwent,Gwent Buses Ltd\n"))
	must(t, err)
	if got := contacts(); got["M1"] != [2]string{"+447700900011", "aled@example.org"} || got["M2"] != [2]string{"+447700900002", "bethan@example.org"} ||
		got["M3"] != [2]string{"", "ceri.evans@example.org"} || len(got) != 3 {
		t.Fatalf("contacts after a re-import: %v", got)
	}
	ids := memberIDs(t, reg, f.BallotID)
	m1, m2 := ids["M1"], ids["M2"]
	// The member's own change.
	must(t, reg.UpdateContacts(ctx, m2, register.SourceMember, "member", []register.Change{{Field: register.FieldEmail, Value: "b.price@example.org"}}, nil, time.Now()))
	if d, err := reg.Details(ctx, m2); err != nil || d.Email != "b.price@example.org" || d.Mobile != "+447700900002" {
		t.Fatalf("details after the member's change: %+v, %v", d, err)
	}
	if n := inClear(); n != 0 {
		t.Fatalf("%d members with a mobile or email in clear after changes", n)
	}
	// M2's sealed mobile copied onto M1 does not open; nor does M1's
	// mobile moved to its email.
	_, err = pool.Exec(ctx, `UPDATE members SET mobile_sealed = (SELECT mobile_sealed FROM members WHERE id = $2) WHERE id = $1`, m1, m2)
	must(t, err)
	if _, err := reg.Details(ctx, m1); !errors.Is(err, sealed.ErrOpen) {
		t.Fatalf("a mobile moved to another member: %v, want sealed.ErrOpen", err)
	}
	_, err = pool.Exec(ctx, `UPDATE members SET email_sealed = mobile_sealed WHERE id = $1`, m2)
	must(t, err)
	if _, err := reg.Details(ctx, m2); !errors.Is(err, sealed.ErrOpen) {
		t.Fatalf("a mobile moved to the email: %v, want sealed.ErrOpen", err)
	}
	// Written in clear, as before the migration: sealed on startup.
	_, err = pool.Exec(ctx, `UPDATE members SET mobile = '+447700900099', email = 'Legacy@Example.org', mobile_sealed = NULL, email_sealed = NULL,
		mobile_index = NULL, email_index = NULL WHERE id = ANY($1)`, []int64{m1, m2})
	must(t, err)
	if n, err := reg.IndexMembers(ctx); err != nil || n != 2 {
		t.Fatalf("IndexMembers = %d, %v; want 2", n, err)
	}
	if n := inClear(); n != 0 {
		t.Fatalf("%d members with a mobile or email in clear after IndexMembers", n)
	}
	if got := contacts(); got["M1"] != [2]string{"+447700900099", "Legacy@Example.org"} {
		t.Fatalf("legacy contacts read back as %v", got["M1"])
	}
	var mi, ei []byte
	must(t, pool.QueryRow(ctx, `SELECT mobile_index, email_index FROM members WHERE id = $1`, m1).Scan(&mi, &ei))
	if !bytes.Equal(mi, register.MobileIndex(registertest.Key, "+447700900099")) ||
		!bytes.Equal(ei, sealed.Index(sealed.DeriveKey(registertest.Key, sealed.PurposeEmail), "legacy@example.org")) {
		t.Fatal("legacy contacts not indexed")
	}
}

// Member numbers are sealed at rest (issue 21, migration 0034): an import
// writes none in clear and they read back; a number bound to one member
// does not open as another's; the opening gives the voting-paper numbers
// in style, then member number order (s.229(1A)(c)) exactly as the
// database's collation ordered the numbers in clear, and the register
// hash is over the numbers opened; a number written in clear (a row from
// before the migration) is sealed and cleared on startup.
func TestImportSealsNumbers(t *testing.T) {
	pool := pgtest.NewDB(t)
	ctx := context.Background()
	f := registertest.New(t, pool, "numbers", false)
	// Numbers whose order is neither natural nor blind to case or accents.
	numbers := []string{"M10", "M9", "m1", "M1", "É7", "E8", "0042", "M1-A", "Z", "M1 B"}
	var file strings.Builder
	file.WriteString(regHeader)
	for i, n := range numbers {
		fmt.Fprintf(&file, "%s,Member %d,077009001%02d,,%s,,\n", n, i, i, []string{"Cardiff Depot", "Swansea Depot"}[i%2])
	}
	_, err := registertest.Commit(ctx, pool, "organiser:1", f.BallotID, parseGood(t, file.String()))
	must(t, err)
	reg := register.NewStore(pool, registertest.Key)
	inClear := func() int {
		t.Helper()
		var n int
		must(t, pool.QueryRow(ctx, `SELECT count(*) FROM members WHERE member_number IS NOT NULL OR number_sealed IS NULL OR number_index IS NULL
			OR position(convert_to('M1-A', 'UTF8') IN number_sealed) > 0 OR position(convert_to('0042', 'UTF8') IN number_sealed) > 0`).Scan(&n))
		return n
	}
	if n := inClear(); n != 0 {
		t.Fatalf("%d members with a number in clear (or unsealed) after an import", n)
	}

	// The opening's freeze.
	tx, err := pool.Begin(ctx)
	must(t, err)
	hash, err := reg.Freeze(ctx, tx, f.BallotID)
	if err != nil {
		_ = tx.Rollback(ctx)
		t.Fatal(err)
	}
	must(t, tx.Commit(ctx))
	got := registerOf(t, pool, f.BallotID) // the numbers opened
	if len(got) != len(numbers) {
		t.Fatalf("%d numbers read back, want %d: %v", len(got), len(numbers), got)
	}
	styles := make([]string, len(numbers))
	for i, n := range numbers {
		e, ok := got[n]
		if !ok {
			t.Fatalf("number %q not read back: %v", n, got)
		}
		styles[i] = e.Style
	}
	// The order SQL gives the numbers in clear (Freeze's ORDER BY style,
	// member_number before the numbers were sealed).
	rows, err := pool.Query(ctx, `SELECT s, n FROM unnest($1::text[], $2::text[]) AS x(s, n) ORDER BY s, n`, styles, numbers)
	must(t, err)
	type line struct{ style, number string }
	want, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (line, error) {
		var l line
		err := r.Scan(&l.style, &l.number)
		return l, err
	})
	must(t, err)
	h := sha256.New()
	h.Write([]byte("eballot-register-v1"))
	for i, l := range want {
		if p := got[l.number].Paper; p == nil || int(*p) != i+1 {
			t.Errorf("member %q (style %s): paper %v, want %d", l.number, l.style, p, i+1)
		}
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], uint32(i+1))
		h.Write(b[:])
		for _, s := range []string{l.number, l.style} {
			binary.BigEndian.PutUint32(b[:], uint32(len(s)))
			h.Write(b[:])
			h.Write([]byte(s))
		}
	}
	if !bytes.Equal(hash, h.Sum(nil)) {
		t.Errorf("register hash %x, want %x (over the papers in order)", hash, h.Sum(nil))
	}
	for _, n := range []string{"m1", "É7", "M1 B"} {
		ids := memberIDs(t, reg, f.BallotID)
		if num, err := reg.NumberOn(ctx, f.BallotID, ids[n]); err != nil || num != n {
			t.Errorf("NumberOn(%q) = %q, %v", n, num, err)
		}
		if id, err := reg.UnionMember(ctx, f.UnionID, n); err != nil || id != ids[n] {
			t.Errorf("UnionMember(%q) = %d, %v; want %d", n, id, err, ids[n])
		}
	}

	// M9's sealed number copied onto M10 does not open.
	ids := memberIDs(t, reg, f.BallotID)
	_, err = pool.Exec(ctx, `UPDATE members SET number_sealed = (SELECT number_sealed FROM members WHERE id = $2) WHERE id = $1`, ids["M10"], ids["M9"])
	must(t, err)
	if _, err := reg.NumberOn(ctx, f.BallotID, ids["M10"]); !errors.Is(err, sealed.ErrOpen) {
		t.Fatalf("a number moved to another member: %v, want sealed.ErrOpen", err)
	}
	// Written in clear, as before the migration: sealed on startup.
	_, err = pool.Exec(ctx, `UPDATE members SET member_number = 'M10', number_sealed = NULL WHERE id = $1`, ids["M10"])
	must(t, err)
	if n, err := reg.IndexMembers(ctx); err != nil || n != 1 {
		t.Fatalf("IndexMembers = %d, %v; want 1", n, err)
	}
	if n := inClear(); n != 0 {
		t.Fatalf("%d members with a number in clear after IndexMembers", n)
	}
	if num, err := reg.NumberOn(ctx, f.BallotID, ids["M10"]); err != nil || num != "M10" {
		t.Fatalf("legacy number read back as %q, %v", num, err)
	}
	// The database keeps a number to one member of a union: a row in
	// clear with another member's number is refused when it is indexed.
	_, err = pool.Exec(ctx, `INSERT INTO members (union_id, member_number, name) VALUES ($1, 'M9', 'Twin')`, f.UnionID)
	must(t, err)
	if _, err := reg.IndexMembers(ctx); err == nil {
		t.Fatal("a second member numbered M9 in one union was indexed")
	}
}
