package proof

import (
	"fmt"
	"slices"
	"testing"

	"github.com/gtank/ristretto255"
	"github.com/unionvote/eballot/crypto/elgamal"
	"github.com/unionvote/eballot/crypto/internal/drbg"
	"github.com/unionvote/eballot/crypto/internal/enc"
)

// breakEquation returns a copy of p whose challenge check still passes
// (c_j and the commitments are unchanged) but whose group equation for
// branch j fails: z_j is replaced by z_j + 1. Only the combined
// multi-scalar check (and Verify) can catch it.
func breakEquation(t testing.TB, p *Proof, j int) *Proof {
	t.Helper()
	raw := p.Bytes()
	var z, one ristretto255.Scalar
	if err := z.Decode(raw[j*BranchSize+96 : j*BranchSize+128]); err != nil {
		t.Fatal(err)
	}
	var b [32]byte
	b[0] = 1
	_ = one.Decode(b[:])
	z.Add(&z, &one)
	copy(raw[j*BranchSize+96:], z.Encode(nil))
	q, err := ParseProof(raw, p.Branches())
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func TestBatchBisection(t *testing.T) {
	_, pk := testKey(t, "k")
	_, pk2 := testKey(t, "k2")
	rnd := drbg.New("bisect")
	const n = 700
	var sts []*Statement
	var ps []*Proof
	for i := 0; i < n; i++ {
		key := pk
		if i%5 == 0 {
			key = pk2 // two election keys in one batch
		}
		vals := []uint32{0, 1}
		v := uint32(i & 1)
		if i%11 == 0 {
			vals, v = []uint32{1, 2, 3}, 2 // wider sums
		}
		st, p := makeProof(t, rnd, key, vals, v, uint16(i))
		sts, ps = append(sts, st), append(ps, p)
	}
	if bad := BatchVerify(sts, ps); bad != nil {
		t.Fatal("valid batch:", bad)
	}
	for _, want := range [][]int{{0}, {n - 1}, {5, 6}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 400}, {33, 99, 132, 650, 699}} {
		t.Run(fmt.Sprint(want), func(t *testing.T) {
			ps2 := slices.Clone(ps)
			for k, i := range want {
				ps2[i] = breakEquation(t, ps[i], k%ps[i].Branches())
				if Verify(sts[i], ps2[i]) == nil {
					t.Fatal("tampered proof verifies")
				}
				if !checkChallenge(sts[i], ps2[i]) {
					t.Fatal("tampered proof fails its challenge")
				}
			}
			if got := BatchVerify(sts, ps2); !slices.Equal(got, want) {
				t.Fatalf("bad = %v, want %v", got, want)
			}
		})
	}
	// Every proof bad.
	all := make([]*Proof, n)
	want := make([]int, n)
	for i := range n {
		all[i] = breakEquation(t, ps[i], 0)
		want[i] = i
	}
	if got := BatchVerify(sts, all); !slices.Equal(got, want) {
		t.Fatalf("all bad: got %d bad", len(got))
	}
}

// TestBatchValues covers the v ≥ 2 terms of the combined check.
func TestBatchValues(t *testing.T) {
	_, pk := testKey(t, "k")
	rnd := drbg.New("values")
	var sts []*Statement
	var ps []*Proof
	for i := 0; i < 100; i++ {
		vals := []uint32{5, 6, 7, 8}
		st, p := makeProof(t, rnd, pk, vals, uint32(5+i%4), uint16(i))
		sts, ps = append(sts, st), append(ps, p)
	}
	if bad := BatchVerify(sts, ps); bad != nil {
		t.Fatal(bad)
	}
	ps[42] = breakEquation(t, ps[42], 3)
	if bad := BatchVerify(sts, ps); !slices.Equal(bad, []int{42}) {
		t.Fatal(bad)
	}
}

func TestBatchEmpty(t *testing.T) {
	if bad := BatchVerify(nil, nil); bad != nil {
		t.Fatal(bad)
	}
	_, pk := testKey(t, "k")
	st, p := makeProof(t, drbg.New("e"), pk, []uint32{0, 1}, 1, 0)
	if bad := BatchVerify([]*Statement{nil, st}, []*Proof{p, nil}); !slices.Equal(bad, []int{0, 1}) {
		t.Fatal(bad)
	}
}

// TestBatchFoldParts checks sum proofs whose Parts hint lets the batch
// verifier fold the sum's coefficients into the selections: valid batches
// pass, a bad sum proof or a bad selection is named, and a wrong hint
// changes nothing.
func TestBatchFoldParts(t *testing.T) {
	_, pk := testKey(t, "k")
	rnd := drbg.New("fold")
	var sts []*Statement
	var ps []*Proof
	var sums []int
	for q := 0; q < 60; q++ {
		var cts []*elgamal.Ciphertext
		rsum := enc.G.NewScalar()
		total := uint32(0)
		for o := 0; o < 3; o++ {
			v := uint32((q + o) % 2)
			total += v
			c, r, err := elgamal.EncryptRand(pk, uint64(v), rnd)
			if err != nil {
				t.Fatal(err)
			}
			st := &Statement{ManifestHash: testHash, Key: pk, Question: uint16(q), Option: uint16(o), Values: []uint32{0, 1}, Ciphertext: c}
			p, err := Prove(rnd, st, &Witness{Value: v, Nonce: r})
			if err != nil {
				t.Fatal(err)
			}
			sts, ps = append(sts, st), append(ps, p)
			cts = append(cts, c)
			rsum.Add(rsum, r)
		}
		st := &Statement{ManifestHash: testHash, Key: pk, Question: uint16(q), Option: SumOption, Values: []uint32{0, 1, 2, 3},
			Ciphertext: elgamal.Sum(cts...), Parts: cts}
		p, err := Prove(rnd, st, &Witness{Value: total, Nonce: rsum})
		if err != nil {
			t.Fatal(err)
		}
		sums = append(sums, len(sts))
		sts, ps = append(sts, st), append(ps, p)
	}
	if bad := BatchVerify(sts, ps); bad != nil {
		t.Fatal("valid:", bad)
	}
	// A bad sum proof and a bad selection.
	ps2 := slices.Clone(ps)
	ps2[sums[10]] = breakEquation(t, ps[sums[10]], 2)
	ps2[sums[20]-2] = breakEquation(t, ps[sums[20]-2], 1)
	want := []int{sums[20] - 2, sums[10]}
	slices.Sort(want)
	if bad := BatchVerify(sts, ps2); !slices.Equal(bad, want) {
		t.Fatalf("bad = %v, want %v", bad, want)
	}
	// A wrong hint (the parts of an earlier question) is ignored.
	sts2 := slices.Clone(sts)
	s := *sts[sums[5]]
	s.Parts = nil
	for _, x := range sts[sums[4]-3 : sums[4]] {
		s.Parts = append(s.Parts, x.Ciphertext)
	}
	sts2[sums[5]] = &s
	if bad := BatchVerify(sts2, ps); bad != nil {
		t.Fatal("wrong hint changed the result:", bad)
	}
	s2 := *sts[sums[7]]
	s2.Parts = append([]*elgamal.Ciphertext{nil}, s2.Parts...)
	sts2[sums[7]] = &s2
	if bad := BatchVerify(sts2, ps2); !slices.Equal(bad, want) {
		t.Fatalf("bad = %v, want %v", bad, want)
	}
}
