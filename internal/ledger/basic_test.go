package ledger

import (
	"context"
	"errors"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"github.com/unionvote/eballot/crypto/receipt"
)

func TestCastReceiptAudit(t *testing.T) {
	l, f, _ := newOpenLedger(t)
	ctx := context.Background()
	casts := f.castsN(t, 10)
	var rcs []*receipt.Receipt
	for i, c := range casts {
		rc, existed, err := l.Cast(ctx, testElection, c.ballot, c.auth)
		if err != nil {
			t.Fatalf("cast %d: %v", i, err)
		}
		if existed || rc.Index != int64(i) || rc.Tracker != c.tracker {
			t.Fatalf("cast %d: existed=%v index=%d", i, existed, rc.Index)
		}
		rcs = append(rcs, rc)
	}
	final, err := l.LatestCheckpoint(ctx, testElection)
	if err != nil || final.Size != 10 {
		t.Fatalf("latest checkpoint: %v %v", final, err)
	}
	for _, rc := range rcs {
		checkReceipt(t, l, f, rc, final)
	}
	rep, err := l.Audit(ctx, testElection, true)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Err() != nil || rep.Size != 10 || rep.Checkpoints < 2 {
		t.Fatalf("audit: %+v", rep)
	}
	if _, err := l.Close(ctx, testElection); err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.Cast(ctx, testElection, casts[0].ballot, casts[0].auth); !errors.Is(err, ErrNotOpen) {
		t.Fatalf("cast after close: %v", err)
	}
}

func testutilCount(t *testing.T, l *Ledger) float64 {
	t.Helper()
	var m dto.Metric
	if err := l.metrics.appended.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}
