package ledger

import (
	"bytes"
	"context"
	"errors"
	mrand "math/rand/v2"
	"sync/atomic"
	"testing"
	"time"
)

func TestReplayAndRefusals(t *testing.T) {
	var clock atomic.Pointer[time.Time]
	now := time.Date(2027, 5, 1, 10, 17, 3, 0, time.UTC)
	clock.Store(&now)
	l, f, pool := newOpenLedger(t, func(o *Options) { o.Now = func() time.Time { return *clock.Load() } })
	ctx := context.Background()
	casts := f.castsN(t, 4)
	a := casts[0]

	rc1, existed, err := l.Cast(ctx, testElection, a.ballot, a.auth)
	if err != nil || existed {
		t.Fatalf("first cast: %v %v", existed, err)
	}
	castN(t, l, casts[1:3])

	t.Run("idempotent", func(t *testing.T) {
		rc2, existed, err := l.Cast(ctx, testElection, a.ballot, a.auth)
		if err != nil || !existed || rc2.Index != rc1.Index || rc2.Tracker != rc1.Tracker {
			t.Fatalf("resubmission: %v existed=%v index %d", err, existed, rc2.Index)
		}
		final, _ := l.LatestCheckpoint(ctx, testElection)
		checkReceipt(t, l, f, rc2, final)
		if final.Size != 3 {
			t.Fatalf("size %d after a resubmission", final.Size)
		}
	})
	t.Run("same tracker, other authorisation", func(t *testing.T) {
		auth := f.authorise(t, a.style, a.tracker) // a second blind signature on T
		if _, _, err := l.Cast(ctx, testElection, a.ballot, auth); !errors.Is(err, ErrDuplicateTracker) {
			t.Fatalf("got %v, want duplicate_tracker", err)
		}
	})
	t.Run("reused alpha", func(t *testing.T) {
		// Two ballots encrypted with the same randomness share the α of
		// their first selection but differ (other choice): both are valid.
		seed := [32]byte{'a', 'l', 'p', 'h', 'a'}
		b1, t1 := f.encrypt(t, mrand.NewChaCha8(seed), 0, 0)
		b2, t2 := f.encrypt(t, mrand.NewChaCha8(seed), 0, 1)
		if bytes.Equal(b1, b2) || !bytes.Equal(b1[39:71], b2[39:71]) {
			t.Fatal("test ballots do not share their first α")
		}
		if _, _, err := l.Cast(ctx, testElection, b1, f.authorise(t, 0, t1)); err != nil {
			t.Fatal(err)
		}
		if _, _, err := l.Cast(ctx, testElection, b2, f.authorise(t, 0, t2)); !errors.Is(err, ErrDuplicateAlpha) {
			t.Fatalf("got %v, want duplicate_alpha", err)
		}
	})
	t.Run("authorisation for another tracker", func(t *testing.T) {
		c := casts[3]
		if _, _, err := l.Cast(ctx, testElection, c.ballot, casts[1].auth); !errors.Is(err, ErrBadSignature) {
			t.Fatalf("got %v, want bad_signature", err)
		}
	})
	t.Run("authorisation of another style", func(t *testing.T) {
		c := casts[3] // style 1
		if _, _, err := l.Cast(ctx, testElection, c.ballot, f.authorise(t, 0, c.tracker)); !errors.Is(err, ErrBadSignature) {
			t.Fatalf("got %v, want bad_signature", err)
		}
	})
	t.Run("bad proof", func(t *testing.T) {
		b := append([]byte(nil), casts[3].ballot...)
		b[len(b)-32] ^= 1 // low byte of the last response scalar: still canonical
		tr := trackerOf(f, b)
		_, _, err := l.Cast(ctx, testElection, b, f.authorise(t, 1, tr))
		if !errors.Is(err, ErrBadProof) {
			t.Fatalf("got %v, want bad_proof", err)
		}
	})
	t.Run("malformed", func(t *testing.T) {
		c := casts[3]
		for name, b := range map[string][]byte{
			"truncated": c.ballot[:len(c.ballot)-1],
			"trailing":  append(append([]byte(nil), c.ballot...), 0),
			"version":   append([]byte{2}, c.ballot[1:]...),
			"empty":     {},
		} {
			if _, _, err := l.Cast(ctx, testElection, b, c.auth); !errors.Is(err, ErrMalformed) {
				t.Errorf("%s: got %v, want malformed", name, err)
			}
		}
		if _, _, err := l.Cast(ctx, testElection, c.ballot, c.auth[:100]); !errors.Is(err, ErrMalformed) {
			t.Errorf("short authorisation: %v", err)
		}
		if _, _, err := l.Cast(ctx, testElection, make([]byte, 70<<10), c.auth); !errors.Is(err, ErrTooLarge) {
			t.Errorf("huge ballot: %v", err)
		}
	})
	t.Run("unknown election", func(t *testing.T) {
		c := casts[3]
		for _, id := range []string{"no-such", "Bad_ID", ""} {
			if _, _, err := l.Cast(ctx, id, c.ballot, c.auth); !errors.Is(err, ErrUnknownElection) {
				t.Errorf("%q: %v", id, err)
			}
		}
	})
	t.Run("window", func(t *testing.T) {
		c := casts[3]
		early := time.Date(2025, 12, 31, 23, 59, 59, 0, time.UTC)
		clock.Store(&early)
		if _, _, err := l.Cast(ctx, testElection, c.ballot, c.auth); !errors.Is(err, ErrNotOpen) {
			t.Errorf("before opening: %v", err)
		}
		late := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
		clock.Store(&late)
		if _, _, err := l.Cast(ctx, testElection, c.ballot, c.auth); !errors.Is(err, ErrNotOpen) {
			t.Errorf("at closing: %v", err)
		}
		clock.Store(&now)
	})
	t.Run("closed", func(t *testing.T) {
		cp, err := l.Close(ctx, testElection)
		if err != nil {
			t.Fatal(err)
		}
		c := casts[3]
		if _, _, err := l.Cast(ctx, testElection, c.ballot, c.auth); !errors.Is(err, ErrNotOpen) {
			t.Fatalf("after close: %v", err)
		}
		// A second instance (another process) refuses too.
		l2 := newTestLedger(t, pool)
		if _, _, err := l2.Cast(ctx, testElection, c.ballot, c.auth); !errors.Is(err, ErrNotOpen) {
			t.Fatalf("after close, other instance: %v", err)
		}
		cp2, err := l.Close(ctx, testElection)
		if err != nil || cp2.Size != cp.Size || !bytes.Equal(cp.Signed, cp2.Signed) {
			t.Fatalf("second close: %v", err)
		}
	})
	// Nothing about the time beyond the hour is stored.
	var hour time.Time
	if err := pool.QueryRow(ctx, `SELECT max(hour) FROM ledger_entries`).Scan(&hour); err != nil {
		t.Fatal(err)
	}
	if !hour.Equal(now.Truncate(time.Hour)) {
		t.Fatalf("stored hour %v", hour)
	}
}

func trackerOf(f *fixture, b []byte) [32]byte {
	d, err := f.el.Parse(b)
	if err != nil {
		panic(err)
	}
	tr, err := d.Tracker()
	if err != nil {
		panic(err)
	}
	return tr
}
