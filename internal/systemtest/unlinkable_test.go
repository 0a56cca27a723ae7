package systemtest

import (
	"context"
	"encoding/hex"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/unionvote/eballot/crypto/receipt"
	"github.com/unionvote/eballot/internal/config"
)

// TestOperatorCannotLink plays the operator (issue 21): after n members
// each authorise and at once cast (many at the same time, as at a busy
// hour), it takes what an operator has — a dump of the marked register
// and the ledger with PostgreSQL's transaction ids (xmin) and physical row
// order (ctid), and the service's logs — and tries every linking strategy
// of the kind the review found: pair the authorisations and the ballots by
// order of transaction id, by physical row order, and by order within
// each batch. None may do better than guessing within a batch: a batch of
// b ballots gives on average one right guess (a random permutation has
// one fixed point on average), so over B batches the right pairs stay
// within chance (B plus four standard deviations); appending in arrival
// order would give every pair. The ledger runs with the early close of
// busy times on (issue 23). The logs hold no line of either request and
// no tracker.
func TestOperatorCannotLink(t *testing.T) {
	const n = 128
	// K = 16, T = 300ms, and the early close of busy times (issue 23): a
	// batch of 8 closes at 100ms.
	s := newSystemWith(t, n, func(c *config.Config) {
		c.BatchMax, c.BatchWait, c.BatchMin, c.BatchMinWait = 16, 300*time.Millisecond, 8, 100*time.Millisecond
	})
	e := s.ballot.ElectionID
	phones := make([]*phone, n)
	members := make([]*client, n)
	for i := range n {
		phones[i] = s.newPhone(i, i%2)
		members[i] = s.member(i)
		members[i].signedInPage("member")
	}
	s.logs.Reset()
	trackerOf := map[string]int64{} // ground truth: tracker → member
	var mu sync.Mutex
	var wg sync.WaitGroup
	work := make(chan int)
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				rc, err := vote(s, members[i], phones[i], time.Now().Add(60*time.Second), func(string, resp) {})
				if err != nil {
					t.Error(err)
					continue
				}
				mu.Lock()
				trackerOf[hex.EncodeToString(rc.Tracker[:])] = s.ballot.MemberIDs[i]
				mu.Unlock()
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	if len(trackerOf) != n {
		t.Fatalf("%d of %d votes cast", len(trackerOf), n)
	}

	// The dump.
	ctx := context.Background()
	type auth struct {
		member int64
		xmin   int64
	}
	var auths []auth // in physical order
	rows, err := s.pool.Query(ctx, `SELECT m.member_id, m.xmin::text::bigint FROM marked_register m
		JOIN ballots b ON b.id = m.ballot_id WHERE b.election_id = $1 AND m.channel = 'online' ORDER BY m.ctid`, e)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var a auth
		if err := rows.Scan(&a.member, &a.xmin); err != nil {
			t.Fatal(err)
		}
		auths = append(auths, a)
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	type entry struct {
		tracker    string
		idx, xmin  int64
		hourExact  bool
		physicalAt int
	}
	var entries []entry // in physical order
	rows, err = s.pool.Query(ctx, `SELECT tracker, idx, xmin::text::bigint, hour = date_trunc('hour', hour) FROM ledger_entries WHERE election_id = $1 ORDER BY ctid`, e)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var x entry
		var tr []byte
		if err := rows.Scan(&tr, &x.idx, &x.xmin, &x.hourExact); err != nil {
			t.Fatal(err)
		}
		x.tracker, x.physicalAt = hex.EncodeToString(tr), len(entries)
		if !x.hourExact {
			t.Errorf("entry %d has a time finer than the hour", x.idx)
		}
		entries = append(entries, x)
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	if len(auths) != n || len(entries) != n {
		t.Fatalf("dump: %d authorisations, %d entries", len(auths), len(entries))
	}

	// The batches, as the operator sees them: one transaction id each.
	batches := map[int64]int{}
	for _, x := range entries {
		batches[x.xmin]++
	}
	B := len(batches)
	if B > n/3 {
		t.Fatalf("%d batches for %d ballots: too few ballots a batch for the test to mean anything", B, n)
	}
	chance := float64(B) + 4*math.Sqrt(float64(B)) + 2

	pair := func(name string, as []auth, xs []entry) {
		t.Helper()
		right := 0
		for i := range as {
			if trackerOf[xs[i].tracker] == as[i].member {
				right++
			}
		}
		t.Logf("%s: %d of %d pairs right (chance within %d batches: about %d, bound %.0f)", name, right, n, B, B, chance)
		if float64(right) > chance {
			t.Errorf("%s links %d of %d pairs: better than guessing within the %d batches (bound %.0f)", name, right, n, B, chance)
		}
	}
	byXmin := func(as []auth) []auth {
		out := append([]auth(nil), as...)
		sortBy(out, func(a auth) int64 { return a.xmin })
		return out
	}
	ledgerBy := func(key func(entry) int64) []entry {
		out := append([]entry(nil), entries...)
		sortBy(out, key)
		return out
	}
	pair("authorisation order ↔ ledger index", byXmin(auths), ledgerBy(func(x entry) int64 { return x.idx }))
	pair("authorisation rows ↔ ledger rows (physical order)", auths, entries)
	pair("transaction ids, then row order within the batch", byXmin(auths), ledgerBy(func(x entry) int64 { return x.xmin*1_000_000 + int64(x.physicalAt) }))
	rev := ledgerBy(func(x entry) int64 { return x.xmin*1_000_000 - x.idx })
	pair("transaction ids, then reversed index within the batch", byXmin(auths), rev)

	// The logs: no line of either half of a vote, no tracker or code.
	logs := s.logs.String()
	for _, bad := range []string{"/vote/{election}/authorise", "/ledger/v1/{election}/cast"} {
		if strings.Contains(logs, bad) {
			t.Errorf("the logs have a line of %s", bad)
		}
	}
	for tr := range trackerOf {
		b, _ := hex.DecodeString(tr)
		if strings.Contains(logs, tr) || strings.Contains(logs, receipt.ShortCode([32]byte(b))) {
			t.Fatalf("a tracker or its code is in the logs")
		}
	}
}

// sortBy sorts xs by key (insertion sort: small n, stable).
func sortBy[T any](xs []T, key func(T) int64) {
	for i := 1; i < len(xs); i++ {
		for j := i; j > 0 && key(xs[j]) < key(xs[j-1]); j-- {
			xs[j], xs[j-1] = xs[j-1], xs[j]
		}
	}
}
