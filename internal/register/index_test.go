package register_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/unionvote/eballot/internal/pgtest"
	"github.com/unionvote/eballot/internal/register"
	"github.com/unionvote/eballot/internal/register/registertest"
	"github.com/unionvote/eballot/internal/sealed"
)

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
	check := func(number, mobile, email string) {
		t.Helper()
		var ni, mi, ei []byte
		must(t, pool.QueryRow(ctx, `SELECT number_index, mobile_index, email_index FROM members WHERE union_id = $1 AND member_number = $2`,
			f.UnionID, number).Scan(&ni, &mi, &ei))
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

	reg := register.NewStore(pool, registertest.Key)
	var m1 int64
	must(t, pool.QueryRow(ctx, `SELECT id FROM members WHERE union_id = $1 AND member_number = 'M1'`, f.UnionID).Scan(&m1))
	if id, err := reg.MemberByNumber(ctx, f.BallotID, "M1"); err != nil || id != m1 {
		t.Fatalf("MemberByNumber(M1) = %d, %v; want %d", id, err, m1)
	}
	if _, err := reg.MemberByNumber(ctx, f.BallotID, "M2"); !errors.Is(err, register.ErrNotOnRegister) {
		t.Fatalf("MemberByNumber of a member no longer on the register: %v", err)
	}

	// Rows as written before the migration.
	_, err = pool.Exec(ctx, `UPDATE members SET number_index = NULL, mobile_index = NULL, email_index = NULL WHERE union_id = $1`, f.UnionID)
	must(t, err)
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
	_, err = pool.Exec(ctx, `UPDATE members SET name_sealed = (SELECT name_sealed FROM members WHERE union_id = $1 AND member_number = 'M3')
		WHERE union_id = $1 AND member_number = 'M1'`, f.UnionID)
	must(t, err)
	if _, err := reg.Lines(ctx, f.BallotID, 0); !errors.Is(err, sealed.ErrOpen) {
		t.Fatalf("a name moved to another member: %v, want sealed.ErrOpen", err)
	}
	// Written in clear, as before the migration: sealed on startup.
	_, err = pool.Exec(ctx, `UPDATE members SET name = 'Legacy Name', name_sealed = NULL WHERE union_id = $1 AND member_number = 'M1'`, f.UnionID)
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
