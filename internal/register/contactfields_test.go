package register_test

import (
	"context"
	"testing"
	"time"

	"github.com/unionvote/eballot/internal/election/electiontest"
	"github.com/unionvote/eballot/internal/pgtest"
	"github.com/unionvote/eballot/internal/register"
)

// TestContactFields drives the per-field contacts: a member's change
// (verified, source member) after the ballot opened does not change the
// contacts that ballot's credentials go to (frozen at opening); the union
// file's import keeps a newer member-verified value and takes an older
// one; the changes since a date are exported; the coverage trend is
// replayed exactly from the events.
func TestContactFields(t *testing.T) {
	pool := pgtest.NewDB(t)
	ctx := context.Background()
	b := electiontest.New(t, pool, electiontest.Options{ElectionID: "contact-fields", Members: 12, Open: true})
	st := register.NewStore(pool, electiontest.SecretKey)
	m := b.MemberIDs[0]
	before, err := st.Contact(ctx, b.ID, m)
	must(t, err)
	if before.Mobile == "" {
		t.Fatal("fixture member has no mobile")
	}
	policy := register.ContactPolicy{AllowFictionalNumbers: true}
	newMobile, _, ok := register.CheckMobile("07700 900 777", policy)
	if !ok || newMobile != "+447700900777" {
		t.Fatalf("CheckMobile = %q %v", newMobile, ok)
	}
	if _, _, ok := register.CheckMobile("020 7946 0000", policy); ok {
		t.Fatal("a landline accepted as a mobile")
	}
	if _, _, ok := register.CheckEmail("not an address", policy); ok {
		t.Fatal("malformed email accepted")
	}
	if pc, ok := register.CheckPostcode(" sw1a1aa "); !ok || pc != "SW1A 1AA" {
		t.Fatalf("postcode %q %v", pc, ok)
	}
	if _, ok := register.CheckPostcode("12345"); ok {
		t.Fatal("bad postcode accepted")
	}

	t0 := time.Now().Add(-time.Hour).Truncate(time.Second)
	t1 := t0.Add(10 * time.Minute)
	must(t, st.UpdateContacts(ctx, m, register.SourceMember, "member:test", []register.Change{{Field: register.FieldMobile, Value: newMobile}}, nil, t1))
	must(t, st.UpdateContacts(ctx, b.MemberIDs[1], register.SourceMember, "member:test", nil, []string{register.FieldMobile}, t1))

	// Frozen at opening: the open ballot's credentials still go to the old number.
	after, err := st.Contact(ctx, b.ID, m)
	must(t, err)
	if after.Mobile != before.Mobile {
		t.Fatalf("a change after opening redirected the ballot's credentials to %q", after.Mobile)
	}
	d, err := st.Details(ctx, m)
	must(t, err)
	if d.Mobile != newMobile || !d.Verified(register.FieldMobile) || d.Fields[register.FieldMobile].Source != register.SourceMember {
		t.Fatalf("details after change: %+v", d)
	}

	// The union's file: older than the member's change → kept; newer for
	// member 2 (confirmed at t1, record updated later) → taken.
	rep, err := st.ImportUnionFile(ctx, b.UnionID, "staff:test", []register.UnionRow{
		{MemberNumber: d.Number, Mobile: "+447700900111", UpdatedAt: t0},
		{MemberNumber: mustNumber(t, st, b.MemberIDs[1]), Mobile: "+447700900222", UpdatedAt: t1.Add(time.Minute)},
		{MemberNumber: "nobody", Mobile: "+447700900333", UpdatedAt: t1},
	}, t1.Add(2*time.Minute))
	must(t, err)
	if rep.Kept != 1 || rep.Updated != 1 || rep.Unknown != 1 {
		t.Fatalf("import report %+v", rep)
	}
	d, err = st.Details(ctx, m)
	must(t, err)
	if d.Mobile != newMobile {
		t.Fatal("the import overwrote a newer member-verified value")
	}
	d2, err := st.Details(ctx, b.MemberIDs[1])
	must(t, err)
	if d2.Mobile != "+447700900222" || d2.Verified(register.FieldMobile) {
		t.Fatalf("imported value: %q verified=%v", d2.Mobile, d2.Verified(register.FieldMobile))
	}

	// Export: member-made changes since t0 (the import's is not one).
	rows, err := st.ChangesSince(ctx, b.UnionID, t0)
	must(t, err)
	if len(rows) != 1 || rows[0].MemberNumber != d.Number || rows[0].Value != newMobile || rows[0].Field != register.FieldMobile {
		t.Fatalf("export: %+v", rows)
	}

	// Trend: 0 before, 2 verified mobiles after t1, 1 after the import
	// replaced member 2's confirmed number with an unverified one.
	pts, err := st.CoverageTrend(ctx, b.UnionID, []time.Time{t0, t1, t1.Add(3 * time.Minute)})
	must(t, err)
	if pts[0].Mobile != 0 || pts[1].Mobile != 2 || pts[2].Mobile != 1 {
		t.Fatalf("trend: %+v", pts)
	}
	reach, err := st.Reachability(ctx, b.UnionID)
	must(t, err)
	var mob int
	for _, r := range reach {
		if r.Mobile {
			mob++
		}
	}
	if len(reach) != 12 || mob != 1 {
		t.Fatalf("reachability: %d members, %d verified mobiles", len(reach), mob)
	}
}

func mustNumber(t *testing.T, st *register.Store, id int64) string {
	t.Helper()
	d, err := st.Details(context.Background(), id)
	must(t, err)
	return d.Number
}
