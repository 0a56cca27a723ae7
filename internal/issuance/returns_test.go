package issuance_test

import (
	"context"
	"errors"
	"testing"

	"github.com/unionvote/eballot/crypto/paper"
	"github.com/unionvote/eballot/internal/election/electiontest"
	"github.com/unionvote/eballot/internal/issuance"
	"github.com/unionvote/eballot/internal/issuance/issuancetest"
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
	boxes := []issuance.Box{issuancetest.OpenBox(t, pool, svc, "returns", "north-1", "north-depot"),
		issuancetest.OpenBox(t, pool, svc, "returns", "south-1", "south-depot")}
	// record is a paper by post, or issued at the box of its member's
	// workplace ballot.
	record := func(ch string, i int) error {
		if ch == "workplace" {
			return svc.IssueAtBox(ctx, "presiding_officer:1", boxes[i%2], paperOf(i))
		}
		return svc.RecordReturn(ctx, "scrutineer:1", "returns", ch, paperOf(i))
	}
	// Member 0 online then by post and at a box: the paper is refused as
	// "voted online" each time.
	_, m0, _ := blinded(t, keys[style(0)])
	if _, err := svc.Authorise(ctx, "returns", b.MemberIDs[0], m0); err != nil {
		t.Fatal(err)
	}
	for _, ch := range []string{"postal", "workplace"} {
		if err := record(ch, 0); !errors.Is(err, issuance.ErrAlreadyAuthorised) {
			t.Fatalf("%s after online: %v", ch, err)
		}
	}
	// Member 2 by post then at a box then online: refused as a second
	// return, then online refused (logged).
	if err := svc.RecordReturn(ctx, "scrutineer:1", "returns", "postal", paperOf(2)); err != nil {
		t.Fatal(err)
	}
	if err := record("workplace", 2); !errors.Is(err, issuance.ErrPostalRecorded) {
		t.Fatalf("box after post: %v", err)
	}
	_, m2, _ := blinded(t, keys[style(2)])
	if _, err := svc.Authorise(ctx, "returns", b.MemberIDs[2], m2); !errors.Is(err, issuance.ErrPostalRecorded) {
		t.Fatalf("online after post: %v", err)
	}
	// Member 1 at a box, then by post.
	if err := record("workplace", 1); err != nil {
		t.Fatal(err)
	}
	// A workplace paper goes through its box: not the return log's
	// postal route, not a box of another workplace ballot, not a closed
	// box; none of these is logged (they name no attempt to vote twice).
	if err := svc.RecordReturn(ctx, "scrutineer:1", "returns", "workplace", paperOf(3)); err == nil {
		t.Fatal("a workplace paper recorded without its box")
	}
	if err := svc.IssueAtBox(ctx, "presiding_officer:1", boxes[0], paperOf(3)); !errors.Is(err, issuance.ErrOtherWorkplace) {
		t.Fatalf("member of the south at the north box: %v", err)
	}
	if err := svc.CloseBox(ctx, "presiding_officer:1", boxes[1]); err != nil {
		t.Fatal(err)
	}
	if err := svc.CloseBox(ctx, "presiding_officer:1", boxes[1]); !errors.Is(err, issuance.ErrBoxClosed) {
		t.Fatalf("box closed twice: %v", err)
	}
	if err := svc.IssueAtBox(ctx, "presiding_officer:1", boxes[1], paperOf(3)); !errors.Is(err, issuance.ErrBoxClosed) {
		t.Fatalf("paper issued in a closed box: %v", err)
	}
	if n, err := svc.IssueToMember(ctx, "presiding_officer:1", boxes[0], "no-such-member"); n != 0 || err == nil {
		t.Fatalf("member lookup of an unknown number: %d %v", n, err)
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
	// Per box: member 1's paper issued at the south box; at the north box
	// member 0's (voted online) and member 2's (by post) refused.
	for i, want := range [][2]int{{0, 2}, {1, 0}} {
		bx, err := svc.OfficerBox(ctx, 0, boxes[i].ID)
		if err != nil || bx.Issued != want[0] || bx.Refused != want[1] {
			t.Fatalf("box %s: issued %d refused %d (%v), want %v", bx.Box, bx.Issued, bx.Refused, err, want)
		}
	}
}
