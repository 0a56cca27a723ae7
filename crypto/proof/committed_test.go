package proof

import (
	"errors"
	"testing"

	"github.com/gtank/ristretto255"

	"github.com/unionvote/eballot/crypto/elgamal"
	"github.com/unionvote/eballot/crypto/internal/drbg"
	"github.com/unionvote/eballot/crypto/internal/enc"
)

// TestProveCommitted: a proof finished from correct commitments verifies
// (alone and in a batch); a wrong commitment, or the wrong true branch,
// yields a proof that fails; a branch out of range is refused.
func TestProveCommitted(t *testing.T) {
	_, pk := testKey(t, "k")
	rnd := drbg.New("committed")
	K := pk.Fast()
	vals := []uint32{0, 1, 2}
	const v = 1
	ct, r, err := elgamal.EncryptRand(pk, v, rnd)
	if err != nil {
		t.Fatal(err)
	}
	nonce := enc.FastScalar(r)
	alpha, beta := ct.Fast()
	st := &Statement{ManifestHash: testHash, Key: pk, Style: 1, Question: 2, Option: 0, Values: vals, Ciphertext: ct}
	random := func() *ristretto255.Scalar {
		var b [64]byte
		rnd.Read(b[:])
		return ristretto255.NewScalar().FromUniformBytes(b[:])
	}
	w := random()
	cs := make([]ristretto255.Scalar, len(vals))
	zs := make([]ristretto255.Scalar, len(vals))
	var commit []byte
	for j, vj := range vals {
		var A, B ristretto255.Element
		if int(vj) == v {
			A.ScalarBaseMult(w)
			B.ScalarMult(w, K)
		} else {
			cs[j], zs[j] = *random(), *random()
			var negC ristretto255.Scalar
			negC.Negate(&cs[j])
			A.VarTimeDoubleScalarBaseMult(&negC, alpha, &zs[j])
			// B = z·K − c·(β − v_j·G)
			bv := ristretto255.NewElement().ScalarBaseMult(scalarU32(vj))
			bv.Subtract(beta, bv)
			B.VarTimeMultiScalarMult([]*ristretto255.Scalar{&zs[j], &negC}, []*ristretto255.Element{K, bv})
		}
		commit = A.Encode(commit)
		commit = B.Encode(commit)
	}
	p, err := ProveCommitted(st, v, nonce, w, commit, cs, zs)
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(st, p); err != nil {
		t.Fatalf("valid: %v", err)
	}
	if bad := BatchVerify([]*Statement{st}, []*Proof{p}); bad != nil {
		t.Fatalf("batch: %v", bad)
	}

	wrong := append([]byte(nil), commit...)
	var G ristretto255.Element
	G.Base()
	var A0 ristretto255.Element
	if err := A0.Decode(wrong[:32]); err != nil {
		t.Fatal(err)
	}
	A0.Add(&A0, &G).Encode(wrong[:0])
	if p, err := ProveCommitted(st, v, nonce, w, wrong, cs, zs); err != nil {
		t.Fatal(err)
	} else if err := Verify(st, p); !errors.Is(err, ErrInvalidProof) {
		t.Fatalf("wrong commitment: %v", err)
	} else if bad := BatchVerify([]*Statement{st}, []*Proof{p}); len(bad) != 1 {
		t.Fatalf("wrong commitment in a batch: %v", bad)
	}
	if p, err := ProveCommitted(st, 2, nonce, w, commit, cs, zs); err != nil {
		t.Fatal(err)
	} else if err := Verify(st, p); !errors.Is(err, ErrInvalidProof) {
		t.Fatalf("wrong branch: %v", err)
	}
	if _, err := ProveCommitted(st, 3, nonce, w, commit, cs, zs); !errors.Is(err, ErrWitness) {
		t.Fatalf("branch out of range: %v", err)
	}
	if _, err := ProveCommitted(st, 1, nonce, w, commit[:64], cs, zs); !errors.Is(err, ErrWitness) {
		t.Fatalf("short commitments: %v", err)
	}
}
