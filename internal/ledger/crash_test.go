package ledger

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/unionvote/eballot/crypto/receipt"
	"github.com/unionvote/eballot/internal/pgtest"
)

// castRetrying casts every c from workers goroutines, retrying a cast that
// failed with ErrUnavailable (or any transient error) as a phone would,
// through whichever ledger cur holds. onReceipt is called with the number of
// receipts so far. It returns the receipts by cast.
func castRetrying(t *testing.T, cur *atomic.Pointer[Ledger], casts []*testCast, workers int, onReceipt func(int64)) ([]*receipt.Receipt, int64) {
	t.Helper()
	out := make([]*receipt.Receipt, len(casts))
	var got, retries atomic.Int64
	var wg sync.WaitGroup
	deadline := time.Now().Add(45 * time.Second)
	errc := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(casts); i += workers {
				for {
					ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
					rc, _, err := cur.Load().Cast(ctx, testElection, casts[i].ballot, casts[i].auth)
					cancel()
					if err == nil {
						out[i] = rc
						onReceipt(got.Add(1))
						break
					}
					var le *Error
					if errors.As(err, &le) && le.Code != ErrUnavailable.Code {
						errc <- err // a permanent refusal is a bug here
						return
					}
					if time.Now().After(deadline) {
						errc <- err
						return
					}
					retries.Add(1)
					time.Sleep(20 * time.Millisecond)
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatalf("cast: %v", err)
	}
	return out, retries.Load()
}

// TestCrashPostgres kills PostgreSQL (SIGKILL) in the middle of a load:
// every receipt returned verifies afterwards against the final checkpoint,
// no entry is duplicated or lost, and every published checkpoint is
// consistent with the entries.
func TestCrashPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("kills the shared PostgreSQL cluster")
	}
	const n = 2000
	l, f, _ := newOpenLedger(t)
	casts := f.castsN(t, n)
	var cur atomic.Pointer[Ledger]
	cur.Store(l)
	cluster := pgtest.Shared(t)
	var once sync.Once
	crashed := make(chan struct{})
	start := time.Now()
	rcs, retries := castRetrying(t, &cur, casts, 64, func(got int64) {
		if got == n/4 {
			once.Do(func() {
				go func() {
					defer close(crashed)
					if err := cluster.Kill(); err != nil {
						t.Errorf("kill: %v", err)
						return
					}
					time.Sleep(300 * time.Millisecond)
					if err := cluster.Restart(); err != nil {
						t.Errorf("restart: %v", err)
					}
				}()
			})
		}
	})
	<-crashed
	t.Logf("%d casts with a PostgreSQL crash in %v, %d retried casts", n, time.Since(start), retries)
	if retries == 0 {
		t.Fatal("the crash did not interrupt any cast")
	}
	checkLog(t, l, f, rcs)
}

// TestRestartLedger drops the ledger instance in the middle of a load (as a
// restarted ballotd would) and carries on with a new one on the same
// database.
func TestRestartLedger(t *testing.T) {
	const n = 600
	l, f, pool := newOpenLedger(t)
	casts := f.castsN(t, n)
	var cur atomic.Pointer[Ledger]
	cur.Store(l)
	var once sync.Once
	rcs, _ := castRetrying(t, &cur, casts, 32, func(got int64) {
		if got == n/3 {
			once.Do(func() {
				l2 := newTestLedger(t, pool)
				old := cur.Swap(l2)
				go old.Stop()
			})
		}
	})
	checkLog(t, cur.Load(), f, rcs)
}
