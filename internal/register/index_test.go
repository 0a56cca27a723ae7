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
