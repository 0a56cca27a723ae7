package ledger

import (
	"context"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/unionvote/eballot/crypto/receipt"
	"github.com/unionvote/eballot/internal/pgtest"
)

// castAll casts every c through ledgers[i % len(ledgers)] from workers
// goroutines and returns the receipts by cast.
func castAll(t *testing.T, ledgers []*Ledger, casts []*testCast, workers int) []*receipt.Receipt {
	t.Helper()
	out := make([]*receipt.Receipt, len(casts))
	var wg sync.WaitGroup
	errs := make(chan error, len(casts))
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(casts); i += workers {
				l := ledgers[i%len(ledgers)]
				rc, existed, err := l.Cast(context.Background(), testElection, casts[i].ballot, casts[i].auth)
				if err != nil || existed {
					errs <- err
					return
				}
				out[i] = rc
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("cast: %v", err)
	}
	return out
}

// checkLog checks that the log holds exactly the receipts' entries, once
// each at distinct indexes 0…n-1, that every receipt verifies against the
// final checkpoint, and that the audit is clean.
func checkLog(t *testing.T, l *Ledger, f *fixture, rcs []*receipt.Receipt) {
	t.Helper()
	ctx := context.Background()
	final, err := l.LatestCheckpoint(ctx, testElection)
	if err != nil {
		t.Fatal(err)
	}
	if final.Size != int64(len(rcs)) {
		t.Fatalf("final size %d, want %d", final.Size, len(rcs))
	}
	seen := make([]bool, len(rcs))
	for _, rc := range rcs {
		if rc.Index < 0 || rc.Index >= final.Size || seen[rc.Index] {
			t.Fatalf("index %d duplicated or out of range", rc.Index)
		}
		seen[rc.Index] = true
		checkReceipt(t, l, f, rc, final)
	}
	rep, err := l.Audit(ctx, testElection, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.Err(); err != nil || rep.Size != final.Size {
		t.Fatalf("audit: size %d: %v", rep.Size, err)
	}
}

func TestConcurrentCasts(t *testing.T) {
	l, f, _ := newOpenLedger(t)
	casts := f.castsN(t, 200)
	rcs := castAll(t, []*Ledger{l}, casts, 50)
	checkLog(t, l, f, rcs)
	if n := testutilCount(t, l); n != 200 {
		t.Fatalf("appended metric %v", n)
	}
}

// TestTwoInstances runs two ledgers on separate pools (two server
// processes) appending to one election at once.
func TestTwoInstances(t *testing.T) {
	pool, url := pgtest.NewDBURL(t)
	l1 := newTestLedger(t, pool, func(o *Options) { o.MaxBatch = 16 })
	f := openTestElection(t, l1)
	pool2, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool2.Close)
	l2 := newTestLedger(t, pool2, func(o *Options) { o.MaxBatch = 16 })
	casts := f.castsN(t, 200)
	rcs := castAll(t, []*Ledger{l1, l2}, casts, 40)
	checkLog(t, l1, f, rcs)
	checkLog(t, l2, f, rcs)
	cps, err := l1.Checkpoints(context.Background(), testElection, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d checkpoints for 200 casts", len(cps))
}
