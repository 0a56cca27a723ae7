package gotv

import (
	"context"
	"testing"

	"github.com/unionvote/eballot/internal/election/electiontest"
	"github.com/unionvote/eballot/internal/pgtest"
	"github.com/unionvote/eballot/internal/sealed"
)

// An opt-out recorded by number before migration 0022 is replaced, on
// startup, by the blind index of its number: the number is gone from the
// table, the member still counts as opted out (looked up by index), an
// opt-out already recorded by index is kept once, and a second run finds
// nothing. An opt-out recorded under the mobile's key (before the
// purposes were separated) is re-keyed when a member has its number, and
// one whose number no member has still counts; afterwards no opt-out
// joins members.mobile_index (who replied STOP is not in a dump).
func TestIndexOptOutsOfOldRows(t *testing.T) {
	pool := pgtest.NewDB(t)
	ctx := context.Background()
	b := electiontest.New(t, pool, electiontest.Options{ElectionID: "gotv-optout-index", Members: 4, Open: true})
	clk := &clock{t: londonNoon()}
	s := newTestService(t, pool, svcOpts{sender: newFakeSender(clk.Now), clock: clk.Now})
	m0, m1, m2 := mobileOf(t, pool, b.MemberIDs[0]), mobileOf(t, pool, b.MemberIDs[1]), mobileOf(t, pool, b.MemberIDs[2])
	// As written before the migration: by number, one of them twice over
	// (once by number, once already by index).
	_, err := pool.Exec(ctx, `INSERT INTO gotv_optouts (number, keyword, opted_out_at) VALUES ($1, 'STOP', now()), ($2, 'STOP', now())`, m0, m1)
	must(t, err)
	_, err = pool.Exec(ctx, `INSERT INTO gotv_optouts (number_index, keyword, opted_out_at) VALUES ($1, 'provider', now())`, s.numberIndex(m1))
	must(t, err)
	// Under the mobile's key: member 2's (joins members.mobile_index) and a
	// number no member has.
	const stranger = "+447700900555"
	_, err = pool.Exec(ctx, `INSERT INTO gotv_optouts (number_index, keyword, opted_out_at)
		SELECT mobile_index, 'STOP', now() FROM members WHERE id = $1`, b.MemberIDs[2])
	must(t, err)
	_, err = pool.Exec(ctx, `INSERT INTO gotv_optouts (number_index, keyword, opted_out_at) VALUES ($1, 'STOP', now())`,
		sealed.Index(sealed.DeriveKey(electiontest.SecretKey, sealed.PurposeMobile), stranger))
	must(t, err)
	joined := func() int {
		t.Helper()
		var n int
		must(t, pool.QueryRow(ctx, `SELECT count(*) FROM gotv_optouts o JOIN members m ON m.mobile_index = o.number_index`).Scan(&n))
		return n
	}
	if joined() != 1 {
		t.Fatal("the opt-out under the mobile's key does not join its member")
	}
	opted, err := s.optedOut(ctx, nil, []string{m2, stranger})
	must(t, err)
	if !opted[m2] || !opted[stranger] {
		t.Fatalf("opt-outs under the mobile's key not counted before re-keying: %v", opted)
	}
	n, err := s.IndexOptOuts(ctx)
	must(t, err)
	if n != 3 {
		t.Fatalf("indexed %d rows, want 3 (two numbers, one re-keyed)", n)
	}
	var clear, rows int
	must(t, pool.QueryRow(ctx, `SELECT count(number), count(*) FROM gotv_optouts`).Scan(&clear, &rows))
	if clear != 0 || rows != 4 {
		t.Fatalf("after indexing: %d numbers in clear, %d rows (want 0, 4)", clear, rows)
	}
	if n := joined(); n != 0 {
		t.Fatalf("%d opt-outs join members.mobile_index after indexing", n)
	}
	var keyed int
	must(t, pool.QueryRow(ctx, `SELECT count(*) FROM gotv_optouts WHERE number_index = ANY($1)`,
		[][]byte{s.numberIndex(m0), s.numberIndex(m1), s.numberIndex(m2)}).Scan(&keyed))
	if keyed != 3 {
		t.Fatalf("%d opt-outs under the opt-outs' key, want 3", keyed)
	}
	opted, err = s.optedOut(ctx, nil, []string{m0, m1, m2, mobileOf(t, pool, b.MemberIDs[3]), stranger})
	must(t, err)
	if !opted[m0] || !opted[m1] || !opted[m2] || !opted[stranger] || len(opted) != 4 {
		t.Fatalf("opted out: %v", opted)
	}
	if n, err := s.IndexOptOuts(ctx); err != nil || n != 0 {
		t.Fatalf("second run: %d, %v", n, err)
	}
}
