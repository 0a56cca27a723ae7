package issuance_test

import (
	"context"
	"errors"
	"testing"

	"github.com/unionvote/eballot/crypto/paper"
	"github.com/unionvote/eballot/internal/election/electiontest"
	"github.com/unionvote/eballot/internal/issuance"
	"github.com/unionvote/eballot/internal/pgtest"
)

// First recorded wins, whatever the channels (docs/paper.md): every paper
// is logged with its outcome, a refused one changes nothing already
// recorded, returns after the close are late and excluded, and the counts
// the close of the paper count publishes say so per workplace ballot.
func TestReturnsFirstRecordedWins(t *testing.T) {
	pool := pgtest.NewDB(t)
	led := electiontest.NewLedger()
	b := electiontest.New(t, pool, electiontest.Options{ElectionID: "returns", Members: 8, Ledger: led, Open: true})
	svc := issuance.New(pool, electiontest.SecretKey)
	ctx := context.Background()
	keys := issuerKeys(t, led)
	paperOf := func(i int) int {
		var n int
		if err := pool.QueryRow(ctx, `SELECT paper_number FROM register_entries WHERE member_id = $1`, b.MemberIDs[i]).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	style := func(i int) string { return []string{"north-depot", "south-depot"}[i%2] }
	// Member 0 online then by post and at a box: the paper is refused as
	// "voted online" each time.
	_, m0, _ := blinded(t, keys[style(0)])
	if _, err := svc.Authorise(ctx, "returns", b.MemberIDs[0], m0); err != nil {
		t.Fatal(err)
	}
	for _, ch := range []string{"postal", "workplace"} {
		if err := svc.RecordReturn(ctx, "scrutineer:1", "returns", ch, paperOf(0)); !errors.Is(err, issuance.ErrAlreadyAuthorised) {
			t.Fatalf("%s after online: %v", ch, err)
		}
	}
	// Member 2 by post then at a box then online: refused as a second
	// return, then online refused (logged).
	if err := svc.RecordReturn(ctx, "scrutineer:1", "returns", "postal", paperOf(2)); err != nil {
		t.Fatal(err)
	}
	if err := svc.RecordReturn(ctx, "scrutineer:1", "returns", "workplace", paperOf(2)); !errors.Is(err, issuance.ErrPostalRecorded) {
		t.Fatalf("box after post: %v", err)
	}
	_, m2, _ := blinded(t, keys[style(2)])
	if _, err := svc.Authorise(ctx, "returns", b.MemberIDs[2], m2); !errors.Is(err, issuance.ErrPostalRecorded) {
		t.Fatalf("online after post: %v", err)
	}
	// Member 1 at a box, then by post.
	if err := svc.RecordReturn(ctx, "scrutineer:1", "returns", "workplace", paperOf(1)); err != nil {
		t.Fatal(err)
	}
	if err := svc.RecordPostal(ctx, "scrutineer:1", "returns", paperOf(1)); !errors.Is(err, issuance.ErrPostalRecorded) {
		t.Fatalf("post after box: %v", err)
	}
	// A number not in the register is refused and names the problem.
	if err := svc.RecordPostal(ctx, "scrutineer:1", "returns", 9999); !errors.Is(err, issuance.ErrNotEntitled) {
		t.Fatalf("unknown paper: %v", err)
	}
	if err := b.Admin.Close(ctx, "scrutineer:test", b.ID, "test: closed early to count"); err != nil {
		t.Fatal(err)
	}
	// Member 4's paper arrives after the close: late, excluded.
	if err := svc.RecordPostal(ctx, "scrutineer:1", "returns", paperOf(4)); !errors.Is(err, issuance.ErrLate) {
		t.Fatalf("late return: %v", err)
	}
	var marks map[int64]bool
	marks, err := svc.Marked(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(marks) != 3 || !marks[b.MemberIDs[0]] || !marks[b.MemberIDs[1]] || !marks[b.MemberIDs[2]] {
		t.Fatalf("marked register: %v", marks)
	}
	got, err := svc.ReturnCounts(ctx, "returns")
	if err != nil {
		t.Fatal(err)
	}
	want := []paper.StyleReturns{
		{Style: "north-depot", Postal: 1, VotedOnline: 2, Late: 1, SecondReturn: 1},
		{Style: "south-depot", Workplace: 1, SecondReturn: 1},
	}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("return counts\n got %+v\nwant %+v", got, want)
	}
	var online int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM mark_log WHERE channel = 'online' AND outcome = 'paper_recorded'`).Scan(&online); err != nil || online != 1 {
		t.Fatalf("online refusals logged: %d %v", online, err)
	}
}
