package gotv

import (
	"bytes"
	"context"
	"testing"

	"github.com/unionvote/eballot/internal/election/electiontest"
	"github.com/unionvote/eballot/internal/pgtest"
)

// An opt-out recorded by number before migration 0022 is replaced, on
// startup, by the blind index of its number: the number is gone from the
// table, the member still counts as opted out (looked up by index, and
// the index joins members.mobile_index), an opt-out already recorded by
// index is kept once, and a second run finds nothing.
func TestIndexOptOutsOfOldRows(t *testing.T) {
	pool := pgtest.NewDB(t)
	ctx := context.Background()
	b := electiontest.New(t, pool, electiontest.Options{ElectionID: "gotv-optout-index", Members: 4, Open: true})
	clk := &clock{t: londonNoon()}
	s := newTestService(t, pool, svcOpts{sender: newFakeSender(clk.Now), clock: clk.Now})
	m0, m1 := mobileOf(t, pool, b.MemberIDs[0]), mobileOf(t, pool, b.MemberIDs[1])
	// As written before the migration: by number, one of them twice over
	// (once by number, once already by index).
	_, err := pool.Exec(ctx, `INSERT INTO gotv_optouts (number, keyword, opted_out_at) VALUES ($1, 'STOP', now()), ($2, 'STOP', now())`, m0, m1)
	must(t, err)
	_, err = pool.Exec(ctx, `INSERT INTO gotv_optouts (number_index, keyword, opted_out_at) VALUES ($1, 'provider', now())`, s.numberIndex(m1))
	must(t, err)
	n, err := s.IndexOptOuts(ctx)
	must(t, err)
	if n != 2 {
		t.Fatalf("indexed %d rows, want 2", n)
	}
	var clear, rows int
	must(t, pool.QueryRow(ctx, `SELECT count(number), count(*) FROM gotv_optouts`).Scan(&clear, &rows))
	if clear != 0 || rows != 2 {
		t.Fatalf("after indexing: %d numbers in clear, %d rows (want 0, 2)", clear, rows)
	}
	var idx []byte
	must(t, pool.QueryRow(ctx, `SELECT o.number_index FROM gotv_optouts o JOIN members m ON m.mobile_index = o.number_index WHERE m.id = $1`,
		b.MemberIDs[0]).Scan(&idx))
	if !bytes.Equal(idx, s.numberIndex(m0)) {
		t.Fatal("the old opt-out does not join its member")
	}
	opted, err := s.optedOut(ctx, nil, []string{m0, m1, mobileOf(t, pool, b.MemberIDs[2])})
	must(t, err)
	if !opted[m0] || !opted[m1] || len(opted) != 2 {
		t.Fatalf("opted out: %v", opted)
	}
	if n, err := s.IndexOptOuts(ctx); err != nil || n != 0 {
		t.Fatalf("second run: %d, %v", n, err)
	}
}
