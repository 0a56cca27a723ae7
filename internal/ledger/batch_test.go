package ledger

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/unionvote/eballot/crypto/receipt"
)

// fakeClock drives the timers of the batch close rule: a timer fires only
// when the test moves the clock past it, so the tests below assert what
// closed a batch without measuring time.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Duration
	timers []*fakeTimer
	made   chan struct{} // one token per timer made
}

type fakeTimer struct {
	at   time.Duration
	c    chan time.Time // unbuffered: a tick is handed to the pipeline
	done chan struct{}  // closed when the pipeline stops the timer
	once sync.Once
}

func newFakeClock() *fakeClock { return &fakeClock{made: make(chan struct{}, 1024)} }

func (f *fakeClock) newTimer(d time.Duration) (<-chan time.Time, func() bool) {
	f.mu.Lock()
	t := &fakeTimer{at: f.now + d, c: make(chan time.Time), done: make(chan struct{})}
	f.timers = append(f.timers, t)
	f.mu.Unlock()
	f.made <- struct{}{}
	return t.c, func() bool { t.once.Do(func() { close(t.done) }); return true }
}

// advance moves the clock on by d and fires every timer now due, earliest
// first; each tick is taken by the pipeline (or its timer stopped) before
// advance returns.
func (f *fakeClock) advance(d time.Duration) {
	f.mu.Lock()
	f.now += d
	var due []*fakeTimer
	f.timers = slices.DeleteFunc(f.timers, func(t *fakeTimer) bool {
		if t.at <= f.now {
			due = append(due, t)
			return true
		}
		return false
	})
	f.mu.Unlock()
	slices.SortStableFunc(due, func(a, b *fakeTimer) int { return int(a.at - b.at) })
	for _, t := range due {
		select {
		case t.c <- time.Time{}:
		case <-t.done:
		}
	}
}

// awaitBatch waits until the pipeline has opened a batch (made its T and
// T_min timers).
func (f *fakeClock) awaitBatch(t *testing.T) {
	t.Helper()
	for range 2 {
		select {
		case <-f.made:
		case <-time.After(time.Minute): // a hang guard, not a timing assertion
			t.Fatal("no batch was opened")
		}
	}
}

const (
	testMinWait = 150 * time.Millisecond
	testMaxWait = time.Second
)

// newBatchLedger is an open ledger with K, M, T_min = 150ms, T = 1s and
// its batch timers on a fake clock.
func newBatchLedger(t *testing.T, k, m int) (*Ledger, *fixture, *fakeClock) {
	t.Helper()
	l, f, _ := newOpenLedger(t, func(o *Options) {
		o.MaxBatch, o.MinBatch, o.MinWait, o.MaxWait = k, m, testMinWait, testMaxWait
	})
	clk := newFakeClock()
	l.newTimer = clk.newTimer
	return l, f, clk
}

type castResult struct {
	rc  *receipt.Receipt
	err error
}

// castEach casts every c at once, each from its own goroutine.
func castEach(l *Ledger, casts []*testCast) <-chan castResult {
	out := make(chan castResult, len(casts))
	for _, c := range casts {
		go func() {
			rc, existed, err := l.Cast(context.Background(), testElection, c.ballot, c.auth)
			if err == nil && existed {
				err = errExisted
			}
			out <- castResult{rc, err}
		}()
	}
	return out
}

var errExisted = reject(ErrMalformed, "a new cast was answered as already in the ledger")

// receipts collects n results, failing on an error.
func receipts(t *testing.T, res <-chan castResult, n int) []*receipt.Receipt {
	t.Helper()
	var rcs []*receipt.Receipt
	for range n {
		select {
		case r := <-res:
			if r.err != nil {
				t.Fatalf("cast: %v", r.err)
			}
			rcs = append(rcs, r.rc)
		case <-time.After(time.Minute): // a hang guard, not a timing assertion
			t.Fatalf("%d of %d casts answered: the batch did not close", len(rcs), n)
		}
	}
	return rcs
}

// closes returns how many batches closed for each reason.
func closes(t *testing.T, l *Ledger) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, why := range []string{closeFull, closeBusy, closeWait} {
		var m dto.Metric
		if err := l.metrics.batches.WithLabelValues(why).Write(&m); err != nil {
			t.Fatal(err)
		}
		out[why] = m.GetCounter().GetValue()
	}
	return out
}

// checkOneBatch checks that the n casts were appended as one batch: one
// checkpoint after the empty tree's, of size n, and one batch of n.
func checkOneBatch(t *testing.T, l *Ledger, n int) {
	t.Helper()
	cps, err := l.Checkpoints(context.Background(), testElection, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int64
	for _, c := range cps {
		sizes = append(sizes, c.Size)
	}
	if !slices.Equal(sizes, []int64{0, int64(n)}) {
		t.Fatalf("checkpoint sizes %v, want [0 %d]: not one batch", sizes, n)
	}
	var m dto.Metric
	if err := l.metrics.batchSize.Write(&m); err != nil {
		t.Fatal(err)
	}
	if h := m.GetHistogram(); h.GetSampleCount() != 1 || h.GetSampleSum() != float64(n) {
		t.Fatalf("batch size metric: %d batches, %v ballots", h.GetSampleCount(), h.GetSampleSum())
	}
}

// A batch that holds M casts closes once it is T_min old, without waiting
// for T (issue 23: busy hours).
func TestBatchClosesBusyAtMinWait(t *testing.T) {
	const k, m = 16, 8
	l, f, clk := newBatchLedger(t, k, m)
	res := castEach(l, f.castsN(t, m))
	clk.awaitBatch(t)
	clk.advance(testMinWait) // T_min passes; T never does
	rcs := receipts(t, res, m)
	if got := closes(t, l); got[closeBusy] != 1 || got[closeFull] != 0 || got[closeWait] != 0 {
		t.Fatalf("batches closed %v, want one busy", got)
	}
	checkOneBatch(t, l, m)
	checkLog(t, l, f, rcs)
}

// A batch with fewer than M casts is not closed at T_min: it waits for T
// (issue 21's crowd in quiet hours).
func TestBatchUnderMinWaitsForMaxWait(t *testing.T) {
	const k, m, n = 16, 8, 7
	l, f, clk := newBatchLedger(t, k, m)
	res := castEach(l, f.castsN(t, n))
	var rcs []*receipt.Receipt
	batches := 0
	for len(rcs) < n {
		select {
		case r := <-res:
			if r.err != nil {
				t.Fatalf("cast: %v", r.err)
			}
			rcs = append(rcs, r.rc)
		case <-clk.made: // a batch opened: its T timer, then its T_min timer
			<-clk.made
			batches++
			clk.advance(testMinWait)
			select {
			case r := <-res:
				t.Fatalf("a cast was answered at T_min in a batch under M (%v)", r.err)
			default:
			}
			clk.advance(testMaxWait - testMinWait)
		case <-time.After(time.Minute): // a hang guard, not a timing assertion
			t.Fatalf("%d of %d casts answered", len(rcs), n)
		}
	}
	got := closes(t, l)
	if got[closeBusy] != 0 || got[closeFull] != 0 || got[closeWait] != float64(batches) {
		t.Fatalf("batches closed %v, want %d at T and none busy", got, batches)
	}
	t.Logf("%d casts in %d batches", n, batches)
	checkLog(t, l, f, rcs)
}

// A batch closes at once when it holds K casts, before T_min.
func TestBatchClosesFullAtMaxBatch(t *testing.T) {
	const k, m = 8, 4
	l, f, clk := newBatchLedger(t, k, m)
	res := castEach(l, f.castsN(t, k))
	clk.awaitBatch(t) // and no time passes
	rcs := receipts(t, res, k)
	if got := closes(t, l); got[closeFull] != 1 || got[closeBusy] != 0 || got[closeWait] != 0 {
		t.Fatalf("batches closed %v, want one full", got)
	}
	checkOneBatch(t, l, k)
	checkLog(t, l, f, rcs)
}

// The batch bounds are checked when the ledger is made.
func TestBatchBoundsChecked(t *testing.T) {
	l, _, _ := newBatchLedger(t, 16, 8)
	for name, o := range map[string]Options{
		"M over K":           {MaxBatch: 16, MinBatch: 17, MinWait: testMinWait, MaxWait: testMaxWait},
		"T_min over T":       {MaxBatch: 16, MinBatch: 8, MinWait: 2 * testMaxWait, MaxWait: testMaxWait},
		"no T_min":           {MaxBatch: 16, MinBatch: 8, MaxWait: testMaxWait},
		"negative M":         {MaxBatch: 16, MinBatch: -1},
		"M over default K":   {MinBatch: 300, MinWait: time.Millisecond, MaxWait: testMaxWait},
		"T_min over default": {MinBatch: 8, MinWait: 3 * time.Millisecond},
	} {
		o.Pool, o.SecretKey = l.pool, testSecret
		if _, err := New(o); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// The ledger's order within a batch is a uniformly random permutation:
// over many shuffles every cast lands in every place (a cast that never
// left its place in 4,000 shuffles of 8 has probability 8·8·(7/8)^4000).
func TestShuffleReachesEveryPlace(t *testing.T) {
	const n = 8
	reqs := make([]*castReq, n)
	place := map[*castReq]int{}
	for i := range reqs {
		reqs[i] = &castReq{}
		place[reqs[i]] = i
	}
	var seen [n][n]bool
	for range 4000 {
		b := slices.Clone(reqs)
		shuffle(b)
		for at, r := range b {
			seen[place[r]][at] = true
		}
	}
	for i := range n {
		for at := range n {
			if !seen[i][at] {
				t.Fatalf("cast %d never at place %d", i, at)
			}
		}
	}
}
