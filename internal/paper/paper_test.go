package paper_test

import (
	"context"
	"errors"
	"testing"

	"github.com/unionvote/eballot/crypto/manifest"
	cpaper "github.com/unionvote/eballot/crypto/paper"
	"github.com/unionvote/eballot/internal/election/electiontest"
	"github.com/unionvote/eballot/internal/issuance"
	"github.com/unionvote/eballot/internal/ledger"
	"github.com/unionvote/eballot/internal/ledger/ledgertest"
	"github.com/unionvote/eballot/internal/paper"
	"github.com/unionvote/eballot/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// yn is a batch's totals for the two yes/no questions of electiontest's
// ballot (the same counts on both).
func yn(yes, no, blank, spoilt int64) cpaper.Totals {
	q := cpaper.QuestionTotals{Options: []int64{yes, no}, Blank: blank, Spoilt: spoilt}
	return cpaper.Totals{Papers: yes + no + blank + spoilt, Questions: []cpaper.QuestionTotals{q, q}}
}

type world struct {
	b   *electiontest.Ballot
	led *ledger.Ledger
	iss *issuance.Service
	svc *paper.Service
	pb  paper.Ballot
}

func newWorld(t *testing.T, id string, members int) *world {
	t.Helper()
	pool := pgtest.NewDB(t)
	led := ledgertest.New(t, pool, electiontest.SecretKey)
	b := electiontest.New(t, pool, electiontest.Options{ElectionID: id, Members: members, Ledger: ledger.HandOver{L: led}, Open: true})
	iss := issuance.New(pool, electiontest.SecretKey)
	return &world{b: b, led: led, iss: iss, svc: paper.New(pool, led, iss), pb: paper.Ballot{ID: b.ID, ElectionID: id}}
}

func (w *world) paperOf(t *testing.T, i int) int {
	var n int
	if err := w.b.Pool.QueryRow(context.Background(), `SELECT paper_number FROM register_entries WHERE member_id = $1`, w.b.MemberIDs[i]).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Two different scrutineer staff must agree before a batch is accepted;
// every bad keying is refused naming its problem and changes nothing
// accepted; the accepted batches and the close are in the ledger, signed,
// and crypto/paper's Counter finds them all valid.
func TestKeyedTwice(t *testing.T) {
	w := newWorld(t, "keyed", 10)
	ctx := context.Background()
	// Members 0, 2, 4 (north depot) and 1, 3 (south) return papers by post.
	for _, i := range []int{0, 1, 2, 3, 4} {
		if err := w.iss.RecordPostal(ctx, "scrutineer:1", "keyed", w.paperOf(t, i)); err != nil {
			t.Fatal(err)
		}
	}
	north := paper.Keying{BatchID: "N-1", Style: 0, Channel: cpaper.ChannelPostal, Totals: yn(1, 1, 0, 0)}
	if _, err := w.svc.Key(ctx, "scrutineer:1", w.pb, "s1", north); !errors.Is(err, paper.ErrNotClosed) {
		t.Fatalf("keying before the close: %v", err)
	}
	if err := w.b.Admin.Close(ctx, "scrutineer:test", w.b.ID, "test: closed early to count"); err != nil {
		t.Fatal(err)
	}
	out, err := w.svc.Key(ctx, "scrutineer:1", w.pb, "s1", north)
	if err != nil || out.Accepted {
		t.Fatalf("first keying: %+v %v", out, err)
	}
	// The same keyer again only replaces their own keying.
	if out, err = w.svc.Key(ctx, "scrutineer:1", w.pb, "s1", north); err != nil || out.Accepted {
		t.Fatalf("first keyer again: %+v %v", out, err)
	}
	differs := north
	differs.Totals = yn(0, 2, 0, 0)
	if _, err := w.svc.Key(ctx, "scrutineer:2", w.pb, "s2", differs); !errors.Is(err, paper.ErrDisagree) {
		t.Fatalf("disagreeing keying: %v", err)
	} else {
		t.Log(err)
	}
	if out, err = w.svc.Key(ctx, "scrutineer:2", w.pb, "s2", north); err != nil || !out.Accepted || out.Seq != 0 {
		t.Fatalf("second keying: %+v %v", out, err)
	}
	if _, err := w.svc.Key(ctx, "scrutineer:3", w.pb, "s3", north); !errors.Is(err, paper.ErrAccepted) {
		t.Fatalf("an accepted batch keyed again: %v", err)
	}
	bad := map[string]paper.Keying{
		"sums":        {BatchID: "S-1", Style: 1, Channel: cpaper.ChannelPostal, Totals: cpaper.Totals{Papers: 3, Questions: yn(1, 1, 0, 0).Questions}},
		"postal box":  {BatchID: "S-1", Style: 1, Channel: cpaper.ChannelPostal, Box: "b", Totals: yn(1, 1, 0, 0)},
		"no box":      {BatchID: "S-1", Style: 1, Channel: cpaper.ChannelWorkplace, Totals: yn(1, 1, 0, 0)},
		"bad id":      {BatchID: "S 1", Style: 1, Channel: cpaper.ChannelPostal, Totals: yn(1, 1, 0, 0)},
		"negative":    {BatchID: "S-1", Style: 1, Channel: cpaper.ChannelPostal, Totals: yn(3, -1, 0, 0)},
		"bad channel": {BatchID: "S-1", Style: 1, Channel: "email", Totals: yn(1, 1, 0, 0)},
	}
	for name, k := range bad {
		if _, err := w.svc.Key(ctx, "scrutineer:1", w.pb, "s1", k); !errors.Is(err, paper.ErrBadBatch) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// North has 3 postal papers logged and 2 counted: a batch of 2 would exceed.
	more := paper.Keying{BatchID: "N-2", Style: 0, Channel: cpaper.ChannelPostal, Totals: yn(1, 0, 0, 1)}
	if _, err := w.svc.Key(ctx, "scrutineer:1", w.pb, "s1", more); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.Key(ctx, "scrutineer:2", w.pb, "s2", more); !errors.Is(err, paper.ErrExceedsReturns) {
		t.Fatalf("more papers than returned: %v", err)
	} else {
		t.Log(err)
	}
	// Its keyer recounts: one paper.
	more.Totals = yn(0, 0, 1, 0)
	for _, k := range []string{"s1", "s2"} {
		if _, err := w.svc.Key(ctx, "scrutineer:x", w.pb, k, more); err != nil {
			t.Fatal(err)
		}
	}
	// South: a batch keyed once stops the count from closing.
	south := paper.Keying{BatchID: "S-1", Style: 1, Channel: cpaper.ChannelPostal, Totals: yn(0, 1, 0, 1)}
	if _, err := w.svc.Key(ctx, "scrutineer:2", w.pb, "s2", south); err != nil {
		t.Fatal(err)
	}
	if err := w.svc.CloseCount(ctx, "scrutineer:1", w.pb); !errors.Is(err, paper.ErrWaiting) {
		t.Fatalf("close with a batch keyed once: %v", err)
	}
	if out, err := w.svc.Key(ctx, "scrutineer:1", w.pb, "s1", south); err != nil || !out.Accepted || out.Seq != 2 {
		t.Fatalf("south: %+v %v", out, err)
	}
	if err := w.svc.CloseCount(ctx, "scrutineer:1", w.pb); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.Key(ctx, "scrutineer:1", w.pb, "s1", paper.Keying{BatchID: "S-2", Style: 1, Channel: cpaper.ChannelPostal, Totals: yn(1, 0, 0, 0)}); !errors.Is(err, paper.ErrCountClosed) {
		t.Fatalf("keying after the count's close: %v", err)
	}
	batches, cl, err := w.led.Paper(ctx, "keyed")
	if err != nil || len(batches) != 3 || cl == nil {
		t.Fatalf("ledger paper section: %d %v %v", len(batches), cl, err)
	}
	mj, _, err := w.led.Manifest(ctx, "keyed")
	if err != nil {
		t.Fatal(err)
	}
	c := counterFor(t, mj)
	for _, b := range batches {
		if fs := c.Batch(b.Body, b.Signed); fs != nil {
			t.Fatal(fs)
		}
	}
	if fs := c.Close(cl.Body, cl.Signed); fs != nil {
		t.Fatal(fs)
	}
	if closed, fs := c.Finish(); !closed || fs != nil {
		t.Fatal(closed, fs)
	}
	if n := c.Sums(0, cpaper.ChannelPostal); n.Papers != 3 || n.Questions[0].Options[0] != 1 || n.Questions[0].Blank != 1 {
		t.Fatalf("north postal: %+v", n)
	}
	if r := c.Returns().Styles; r[0].Postal != 3 || r[1].Postal != 2 {
		t.Fatalf("returns in the close: %+v", r)
	}
}

func counterFor(t *testing.T, manifestJSON []byte) *cpaper.Counter {
	t.Helper()
	m, err := manifest.Parse(manifestJSON)
	if err != nil {
		t.Fatal(err)
	}
	c, err := cpaper.NewCounter(m)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
