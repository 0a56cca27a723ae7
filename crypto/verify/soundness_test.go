package verify_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"math/big"
	"slices"
	"strings"
	"testing"

	"github.com/gtank/ristretto255"

	"github.com/unionvote/eballot/crypto/receipt"
	"github.com/unionvote/eballot/crypto/tally"
	"github.com/unionvote/eballot/crypto/threshold"
	"github.com/unionvote/eballot/crypto/verify"
	"github.com/unionvote/eballot/crypto/verify/fixture"
)

// order is ℓ, the order of ristretto255.
var order, _ = new(big.Int).SetString("7237005577332262213973186563042994240857116359379907606001950938285454250989", 10)

// nonces is a reader that gives chosen 64-byte blocks (block i = 64 bytes
// read from offset 64·i) and crypto/rand otherwise. crypto/ballot draws,
// per selection, the nonce r (one block) and then c, z, w for each of the
// proof's two branches (six blocks): the nonce of selection o is block 7·o.
type nonces struct {
	blocks map[int]*big.Int
	off    int
}

func (n *nonces) Read(p []byte) (int, error) {
	for i := range p {
		blk, at := (n.off+i)/64, (n.off+i)%64
		if v, ok := n.blocks[blk]; ok {
			// 64 little-endian bytes of v (< ℓ): enc.RandomScalar reduces
			// them mod ℓ to v itself.
			be := v.FillBytes(make([]byte, 64))
			p[i] = be[63-at]
			continue
		}
		if _, err := io.ReadFull(rand.Reader, p[i:i+1]); err != nil {
			return i, err
		}
	}
	n.off += len(p)
	return len(p), nil
}

func negate(v *big.Int) *big.Int { return new(big.Int).Sub(order, v) }

// TestColludingVoters: two voters who encrypt with opposite nonces make the
// homomorphic sums of their workplace ballot the identity in α, and a voter
// whose two selections have opposite nonces makes the sum of the question
// in their own ballot the identity. Every ballot is valid, and the count
// completes with the right result (docs/protocol.md §7).
func TestColludingVoters(t *testing.T) {
	el, err := fixture.New(fixture.Options{}, []int64{10, 10})
	if err != nil {
		t.Fatal(err)
	}
	v, w, u := big.NewInt(123456789), big.NewInt(987654321), big.NewInt(555)
	entry := func(style int, marks []int, blocks map[int]*big.Int) fixture.Made {
		e, err := el.EntryWith(&nonces{blocks: blocks}, style, [][]int{marks})
		if err != nil {
			t.Fatal(err)
		}
		return fixture.Made{Style: style, Entry: e}
	}
	entries := []fixture.Made{
		// Workplace 1 holds only the colluding pair: A votes Yes with
		// nonces (v, w), B votes No with (−v, −w).
		entry(0, []int{1, 0}, map[int]*big.Int{0: v, 7: w}),
		entry(0, []int{0, 1}, map[int]*big.Int{0: negate(v), 7: negate(w)}),
		// Workplace 2: C votes Yes with nonces (u, −u): its question sum
		// has the identity as α; D and E vote normally.
		entry(1, []int{1, 0}, map[int]*big.Int{0: u, 7: negate(u)}),
		entry(1, []int{0, 1}, nil),
		entry(1, []int{1, 0}, nil),
	}
	exp, err := el.Export(entries, fixture.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	res := run(t, exp)
	if !res.OK() {
		t.Fatalf("valid ballots fail: %v", res.Failures)
	}
	if !slices.Equal(res.Valid, []int64{2, 3}) {
		t.Fatalf("valid ballots %v", res.Valid)
	}
	// The attack worked: workplace 1's sums have the identity as α.
	dec := res.Sums.Decrypted()
	if !slices.Equal(dec, []bool{false, false, true, true}) {
		t.Fatalf("decrypted positions %v, want workplace 1's two sums in the clear", dec)
	}
	id := ristretto255.NewElement()
	for _, c := range res.Sums.Ciphertexts()[:2] {
		if a, _ := c.Fast(); a.Equal(id) != 1 {
			t.Fatal("the colluding pair's α does not cancel (nonce layout of crypto/ballot changed?)")
		}
	}
	alphas := res.Sums.Alphas()
	if len(alphas) != 2 {
		t.Fatalf("%d α's for the trustees, want 2", len(alphas))
	}
	mh := res.Election.ManifestHash()
	pub, _ := tally.TrusteeKey(res.Manifest)
	var partials []*threshold.Partial
	for _, j := range []int{1, 3} {
		p, err := threshold.PartialDecrypt(rand.Reader, pub, el.Shares[j-1], mh[:], alphas)
		if err != nil {
			t.Fatal(err)
		}
		partials = append(partials, p)
	}
	counts, bad, err := tally.Decrypt(pub, res.Sums, partials)
	if err != nil || len(bad) > 0 {
		t.Fatalf("the count is blocked: %v %v", err, bad)
	}
	want := map[[3]int]uint64{{0, 0, 0}: 1, {0, 0, 1}: 1, {1, 0, 0}: 2, {1, 0, 1}: 1}
	for p, n := range want {
		if got := counts.Count(p[0], p[1], p[2]); got != n {
			t.Errorf("count %v = %d, want %d", p, got, n)
		}
	}
	r, err := tally.Compute(res.Manifest, counts)
	if err != nil {
		t.Fatal(err)
	}
	if q := r.Aggregate.Questions[0]; q.Yes != 3 || q.No != 2 || r.Aggregate.VotesCast != 5 {
		t.Fatalf("result %+v", r.Aggregate)
	}
}

// TestNothingToDecrypt: when every sum is in the clear, the tally needs no
// partial decryption at all.
func TestNothingToDecrypt(t *testing.T) {
	el, err := fixture.New(fixture.Options{Styles: 1}, []int64{10})
	if err != nil {
		t.Fatal(err)
	}
	v, w := big.NewInt(42), big.NewInt(43)
	a, _ := el.EntryWith(&nonces{blocks: map[int]*big.Int{0: v, 7: w}}, 0, [][]int{{1, 0}})
	b, _ := el.EntryWith(&nonces{blocks: map[int]*big.Int{0: negate(v), 7: negate(w)}}, 0, [][]int{{1, 0}})
	exp, err := el.Export([]fixture.Made{{Style: 0, Entry: a}, {Style: 0, Entry: b}}, fixture.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	res := run(t, exp)
	if !res.OK() || len(res.Sums.Alphas()) != 0 {
		t.Fatalf("%v %d", res.Failures, len(res.Sums.Alphas()))
	}
	pub, _ := tally.TrusteeKey(res.Manifest)
	counts, bad, err := tally.Decrypt(pub, res.Sums, nil)
	if err != nil || len(bad) > 0 || counts.Count(0, 0, 0) != 2 || counts.Count(0, 0, 1) != 0 || len(counts.Trustees) != 0 {
		t.Fatalf("%v %v %+v", err, bad, counts)
	}
}

// TestTruncation: an export cut back to an earlier tree. With the expected
// final checkpoint (from the scrutineer's report) it fails naming the
// difference; without it, the verification says that it cannot prove
// completeness.
func TestTruncation(t *testing.T) {
	el, err := fixture.New(fixture.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var entries []fixture.Made
	for i := range 20 {
		s, e, err := el.Entry(i)
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, fixture.Made{Style: s, Entry: e})
	}
	full, err := el.Export(entries, fixture.WriteOptions{CheckpointEvery: 5})
	if err != nil {
		t.Fatal(err)
	}
	res := run(t, full)
	if !res.OK() || res.Close == nil {
		t.Fatal(res.Failures)
	}
	final := &receipt.Checkpoint{Size: res.Close.Size, Root: res.Close.Root}
	limits := func(r *verify.Result) string {
		var s []string
		for _, l := range r.Limits {
			s = append(s, l.Name+": "+l.Reason)
		}
		return strings.Join(s, "\n")
	}

	// The ledger key signs a close of the first 10 entries.
	cut, _ := el.Export(entries[:10], fixture.WriteOptions{CheckpointEvery: 5})
	// An honest-looking snapshot of the first 10 entries, not closed.
	open, _ := el.Export(entries[:10], fixture.WriteOptions{CheckpointEvery: 5, Open: true})
	// The full file cut after checkpoint 10, still saying closed.
	ls := lines(full)
	at := slices.IndexFunc(ls, func(l []byte) bool { return bytes.HasSuffix(l, []byte(`"size":10,"type":"checkpoint"}`+"\n")) })
	cutFile := join(ls[:at+1])

	for _, c := range []struct {
		name  string
		exp   []byte
		check string // the failure with the expected final checkpoint
		limit string // what is said without it
	}{
		{"close signed at 10", cut, verify.CheckFinalExpected, verify.LimitFinal},
		{"open snapshot of 10", open, verify.CheckFinalExpected, verify.LimitOpen},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := run(t, c.exp)
			if !res.OK() || !slices.ContainsFunc(res.Limits, func(l verify.Limit) bool { return l.Name == c.limit }) ||
				!strings.Contains(limits(res), "cannot prove") {
				t.Fatalf("without the expected final checkpoint: %v\n%s", res.Failures, limits(res))
			}
			res, _ = verify.Verify(context.Background(), bytes.NewReader(c.exp), verify.Options{Expected: verify.Expected{Final: final}})
			if res.OK() || !slices.Equal(res.Failed(), []string{c.check}) {
				t.Fatalf("with the expected final checkpoint: %v", res.Failures)
			}
			if s := res.Failures[0].Reason; c.name == "close signed at 10" && (!strings.Contains(s, "10 entries") || !strings.Contains(s, "20 entries")) {
				t.Fatalf("the mismatch is not named: %s", s)
			}
		})
	}
	t.Run("cut file still saying closed", func(t *testing.T) {
		res := run(t, cutFile)
		if res.OK() || !slices.Contains(res.Failed(), verify.CheckFileEnd) {
			t.Fatalf("%v", res.Failures)
		}
	})
	t.Run("the full export matches", func(t *testing.T) {
		mh := res.Header.ManifestHash
		res, _ := verify.Verify(context.Background(), bytes.NewReader(full), verify.Options{Expected: verify.Expected{Final: final, ManifestHash: &mh}})
		if !res.OK() || len(res.Limits) != 1 || res.Limits[0].Name != verify.LimitIssued {
			t.Fatalf("%v %v", res.Failures, res.Limits)
		}
	})
}
