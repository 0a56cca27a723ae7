package issuance_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"sync"
	"testing"

	"github.com/unionvote/eballot/crypto/blind"
	"github.com/unionvote/eballot/internal/election/electiontest"
	"github.com/unionvote/eballot/internal/issuance"
	"github.com/unionvote/eballot/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

type styleKey struct {
	ID        string `json:"id"`
	IssuerKey string `json:"issuer_key"`
}

func issuerKeys(t *testing.T, led *electiontest.Ledger) map[string]*rsa.PublicKey {
	var m struct {
		Styles []styleKey `json:"styles"`
	}
	if err := json.Unmarshal(led.Manifests["0"], &m); err != nil {
		t.Fatal(err)
	}
	out := map[string]*rsa.PublicKey{}
	for _, s := range m.Styles {
		der, _ := base64.StdEncoding.DecodeString(s.IssuerKey)
		pk, err := blind.ParsePublicKey(der)
		if err != nil {
			t.Fatal(err)
		}
		out[s.ID] = pk
	}
	return out
}

// blinded returns a blinded message for a random tracker, with the state to
// finalise it.
func blinded(t testing.TB, pk *rsa.PublicKey) ([]byte, []byte, *blind.BlindState) {
	tr := make([]byte, 32)
	rand.Read(tr)
	prep, err := blind.Prepare(rand.Reader, tr)
	if err != nil {
		t.Fatal(err)
	}
	bm, st, err := blind.Blind(rand.Reader, pk, prep)
	if err != nil {
		t.Fatal(err)
	}
	return tr, bm, st
}

// 100 concurrent issuance requests for one member, half with the same
// blinded message and half with different ones: exactly one authorisation,
// the same signature for every repeat of the winning message, a clear
// refusal for every other.
func TestConcurrentIssuanceOneAuthorisation(t *testing.T) {
	pool := pgtest.NewDB(t)
	led := electiontest.NewLedger()
	b := electiontest.New(t, pool, electiontest.Options{ElectionID: "conc", Members: 2, Ledger: led, Open: true})
	svc := issuance.New(pool, electiontest.SecretKey)
	pk := issuerKeys(t, led)["north-depot"] // member 0 is at North Depot
	tr, same, st := blinded(t, pk)
	others := make([][]byte, 50)
	for i := range others {
		_, others[i], _ = blinded(t, pk)
	}
	type res struct {
		msg []byte
		a   *issuance.Authorisation
		err error
	}
	results := make(chan res, 100)
	var wg sync.WaitGroup
	for i := 0; i < 100; i++ {
		msg := same
		if i%2 == 1 {
			msg = others[i/2]
		}
		wg.Add(1)
		go func(msg []byte) {
			defer wg.Done()
			a, err := svc.Authorise(context.Background(), "conc", b.MemberIDs[0], msg)
			results <- res{msg, a, err}
		}(msg)
	}
	wg.Wait()
	close(results)
	var sigs = map[string]bool{}
	winners := map[string]bool{}
	for r := range results {
		if r.err != nil {
			if !errors.Is(r.err, issuance.ErrAlreadyAuthorised) {
				t.Fatalf("unexpected error: %v", r.err)
			}
			continue
		}
		winners[string(r.msg)] = true
		sigs[string(r.a.BlindSignature)] = true
	}
	if len(winners) != 1 || len(sigs) != 1 {
		t.Fatalf("%d different blinded messages were signed, %d different signatures", len(winners), len(sigs))
	}
	var rows int
	pool.QueryRow(context.Background(), `SELECT count(*) FROM marked_register`).Scan(&rows)
	if rows != 1 {
		t.Fatalf("marked register has %d rows", rows)
	}
	// If the winner was the repeated message, the signature finalises into
	// an authorisation that verifies on the tracker.
	if winners[string(same)] {
		for s := range sigs {
			auth, err := st.Finalize([]byte(s))
			if err != nil {
				t.Fatal(err)
			}
			if err := blind.Verify(pk, tr, auth[:]); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestIssuanceRules(t *testing.T) {
	pool := pgtest.NewDB(t)
	ctx := context.Background()
	led := electiontest.NewLedger()
	b := electiontest.New(t, pool, electiontest.Options{ElectionID: "rules", Members: 3, Ledger: led, Open: true})
	svc := issuance.New(pool, electiontest.SecretKey)
	keys := issuerKeys(t, led)
	_, msg, _ := blinded(t, keys["north-depot"])

	if _, err := svc.Authorise(ctx, "nope", b.MemberIDs[0], msg); !errors.Is(err, issuance.ErrUnknownBallot) {
		t.Errorf("unknown ballot: %v", err)
	}
	if _, err := svc.Authorise(ctx, "rules", b.MemberIDs[0], msg[:10]); !errors.Is(err, issuance.ErrBadBlinded) {
		t.Errorf("short blinded message: %v", err)
	}
	// Someone not on this ballot's register.
	other := electiontest.New(t, pool, electiontest.Options{ElectionID: "other", Members: 1})
	if _, err := svc.Authorise(ctx, "rules", other.MemberIDs[0], msg); !errors.Is(err, issuance.ErrNotEntitled) {
		t.Errorf("member of another ballot: %v", err)
	}
	// Not before open: the draft ballot "other".
	if _, err := svc.Authorise(ctx, "other", other.MemberIDs[0], msg); !errors.Is(err, issuance.ErrNotOpen) {
		t.Errorf("draft ballot: %v", err)
	}
	a, err := svc.Authorise(ctx, "rules", b.MemberIDs[0], msg)
	if err != nil || a.Style != "north-depot" || a.Repeated {
		t.Fatalf("authorise: %+v %v", a, err)
	}
	again, err := svc.Authorise(ctx, "rules", b.MemberIDs[0], msg)
	if err != nil || !again.Repeated || !bytes.Equal(again.BlindSignature, a.BlindSignature) {
		t.Fatalf("safe retry: %+v %v", again, err)
	}
	mark, err := svc.MarkFor(ctx, "rules", b.MemberIDs[0])
	if err != nil || !mark.Recorded || mark.Channel != "online" || mark.Hour.Minute() != 0 || mark.Hour.Second() != 0 {
		t.Fatalf("mark: %+v %v", mark, err)
	}
	// Postal return for member 1 blocks their online authorisation; member
	// 0's online authorisation blocks a postal record for them.
	var paper1, paper0 int
	pool.QueryRow(ctx, `SELECT paper_number FROM register_entries WHERE member_id = $1`, b.MemberIDs[1]).Scan(&paper1)
	pool.QueryRow(ctx, `SELECT paper_number FROM register_entries WHERE member_id = $1`, b.MemberIDs[0]).Scan(&paper0)
	if err := svc.RecordPostal(ctx, "scrutineer:1", "rules", paper1); err != nil {
		t.Fatal(err)
	}
	_, msg1, _ := blinded(t, keys["south-depot"])
	if _, err := svc.Authorise(ctx, "rules", b.MemberIDs[1], msg1); !errors.Is(err, issuance.ErrPostalRecorded) {
		t.Errorf("online after postal: %v", err)
	}
	if err := svc.RecordPostal(ctx, "scrutineer:1", "rules", paper0); !errors.Is(err, issuance.ErrAlreadyAuthorised) {
		t.Errorf("postal after online: %v", err)
	}
	counts, err := svc.CountsFor(ctx, "rules")
	if err != nil || len(counts) != 2 {
		t.Fatalf("counts: %+v %v", counts, err)
	}
	// Replacement: organiser asks, the same person cannot approve, the
	// scrutineer approves, the member may be authorised again, and the old
	// authorisation still counts.
	id, err := svc.RequestReplacement(ctx, "staff:7", "rules", b.MemberIDs[0], "Phone lost before casting")
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.DecideReplacement(ctx, "staff:7", id, true); err == nil {
		t.Fatal("requester approved their own request")
	}
	if err := svc.DecideReplacement(ctx, "scrutineer:1", id, true); err != nil {
		t.Fatal(err)
	}
	_, msg2, _ := blinded(t, keys["north-depot"])
	if _, err := svc.Authorise(ctx, "rules", b.MemberIDs[0], msg2); err != nil {
		t.Fatalf("authorise after replacement: %v", err)
	}
	counts, _ = svc.CountsFor(ctx, "rules")
	for _, c := range counts {
		if c.Style == "north-depot" && (c.Online != 1 || c.Replaced != 1) {
			t.Errorf("north counts: %+v", c)
		}
	}
	// Not after close.
	if err := b.Admin.Close(ctx, "s", b.ID, "test: closed early to count"); err != nil {
		t.Fatal(err)
	}
	_, msg3, _ := blinded(t, keys["north-depot"])
	if _, err := svc.Authorise(ctx, "rules", b.MemberIDs[2], msg3); !errors.Is(err, issuance.ErrNotOpen) {
		t.Errorf("after close: %v", err)
	}
	if err := svc.ReportNotMe(ctx, "rules", b.MemberIDs[0], "I did not vote"); err != nil {
		t.Fatal(err)
	}
}

// Authorise reads the ballot, the member's entry and their mark in one
// batch once it knows the election's ballot id; when the id it knows is
// not the election's ballot (stale: another ballot's id), the batch's
// reads are dropped and made again, so the election's members are still
// authorised, with its key, and its own marks are found.
func TestAuthoriseWithAStaleBallotID(t *testing.T) {
	pool := pgtest.NewDB(t)
	ctx := context.Background()
	led := electiontest.NewLedger()
	b := electiontest.New(t, pool, electiontest.Options{ElectionID: "stale", Members: 3, Ledger: led, Open: true})
	other := electiontest.New(t, pool, electiontest.Options{ElectionID: "stale-other", Members: 3, Open: true})
	svc := issuance.New(pool, electiontest.SecretKey)
	keys := issuerKeys(t, led)
	_, msg, st := blinded(t, keys["north-depot"])
	a, err := svc.Authorise(ctx, "stale", b.MemberIDs[0], msg) // first use: one read at a time
	if err != nil || a.Repeated {
		t.Fatalf("authorise: %+v %v", a, err)
	}
	if _, err := st.Finalize(a.BlindSignature); err != nil {
		t.Fatal(err)
	}
	for _, id := range []int64{other.ID, other.ID + 1000} {
		svc.SetBallotID("stale", id)
		again, err := svc.Authorise(ctx, "stale", b.MemberIDs[0], msg)
		if err != nil || !again.Repeated || !bytes.Equal(again.BlindSignature, a.BlindSignature) {
			t.Fatalf("safe retry with ballot id %d known: %+v %v", id, again, err)
		}
		// Batched again, with the id corrected: the other member's mark.
		_, msg2, _ := blinded(t, keys["north-depot"])
		if _, err := svc.Authorise(ctx, "stale", b.MemberIDs[0], msg2); !errors.Is(err, issuance.ErrAlreadyAuthorised) {
			t.Fatalf("another message after the id was corrected: %v", err)
		}
	}
	svc.SetBallotID("stale", other.ID)
	_, msg3, st3 := blinded(t, keys["south-depot"])
	c, err := svc.Authorise(ctx, "stale", b.MemberIDs[1], msg3)
	if err != nil || c.Repeated || c.Style != "south-depot" {
		t.Fatalf("authorise with a stale id: %+v %v", c, err)
	}
	if _, err := st3.Finalize(c.BlindSignature); err != nil {
		t.Fatalf("not signed with the style's key: %v", err)
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM marked_register WHERE ballot_id = $1`, other.ID).Scan(&n); err != nil || n != 0 {
		t.Fatalf("marked register of the other ballot: %d rows, %v", n, err)
	}
}
