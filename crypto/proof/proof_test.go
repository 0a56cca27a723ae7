package proof

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/unionvote/eballot/crypto/elgamal"
	"github.com/unionvote/eballot/crypto/internal/drbg"
)

var testHash = bytes.Repeat([]byte{7}, 32)

func testKey(t testing.TB, seed string) (*elgamal.SecretKey, *elgamal.PublicKey) {
	sk, err := elgamal.GenerateKey(drbg.New(seed))
	if err != nil {
		t.Fatal(err)
	}
	return sk, sk.PublicKey()
}

func makeProof(t testing.TB, rnd *drbg.Reader, pk *elgamal.PublicKey, vals []uint32, v uint32, opt uint16) (*Statement, *Proof) {
	t.Helper()
	c, r, err := elgamal.EncryptRand(pk, uint64(v), rnd)
	if err != nil {
		t.Fatal(err)
	}
	st := &Statement{ManifestHash: testHash, Key: pk, Style: 1, Question: 2, Option: opt, Values: vals, Ciphertext: c}
	p, err := Prove(rnd, st, &Witness{Value: v, Nonce: r})
	if err != nil {
		t.Fatal(err)
	}
	return st, p
}

func TestProveVerify(t *testing.T) {
	_, pk := testKey(t, "k")
	rnd := drbg.New("p")
	for _, tc := range []struct {
		vals []uint32
		v    uint32
	}{{[]uint32{0, 1}, 0}, {[]uint32{0, 1}, 1}, {[]uint32{1}, 1}, {[]uint32{0, 1, 2, 3}, 2}, {[]uint32{2, 3, 4}, 4}} {
		st, p := makeProof(t, rnd, pk, tc.vals, tc.v, 3)
		if err := Verify(st, p); err != nil {
			t.Fatalf("%v %d: %v", tc.vals, tc.v, err)
		}
		if bad := BatchVerify([]*Statement{st}, []*Proof{p}); bad != nil {
			t.Fatalf("batch: %v", bad)
		}
		q, err := ParseProof(p.Bytes(), len(tc.vals))
		if err != nil || !bytes.Equal(q.Bytes(), p.Bytes()) {
			t.Fatal("round trip", err)
		}
	}
}

func mustParse(t *testing.T, b []byte, n int) *Proof {
	t.Helper()
	p, err := ParseProof(b, n)
	if err != nil {
		return nil
	}
	return p
}

// TestTamper: every modification of the proof or the statement fails.
func TestTamper(t *testing.T) {
	_, pk := testKey(t, "k")
	_, pk2 := testKey(t, "k2")
	rnd := drbg.New("tamper")
	for _, tc := range []struct {
		vals []uint32
		v    uint32
		opt  uint16
	}{{[]uint32{0, 1}, 1, 0}, {[]uint32{0, 1}, 0, 1}, {[]uint32{1, 2, 3}, 2, SumOption}} {
		st, p := makeProof(t, rnd, pk, tc.vals, tc.v, tc.opt)
		_, other := makeProof(t, rnd, pk, tc.vals, tc.v, tc.opt)
		n := len(tc.vals)
		fails := func(name string, st *Statement, p *Proof) {
			t.Helper()
			if p == nil {
				return // rejected by the decoder
			}
			if err := Verify(st, p); err == nil {
				t.Errorf("%v: %s: accepted", tc.vals, name)
			}
			if bad := BatchVerify([]*Statement{st}, []*Proof{p}); len(bad) != 1 {
				t.Errorf("%v: %s: batch accepted", tc.vals, name)
			}
		}
		for j := 0; j < n; j++ {
			for f, name := range []string{"A", "B", "c", "z"} {
				for _, bytePos := range []int{0, 17, 31} {
					b := p.Bytes()
					b[j*BranchSize+32*f+bytePos] ^= 0x04
					fails(name, st, mustParse(t, b, n))
				}
			}
			// Replace A_j / B_j by another valid point.
			for f := 0; f < 2; f++ {
				b := p.Bytes()
				copy(b[j*BranchSize+32*f:], pk2.Bytes())
				fails("replaced point", st, mustParse(t, b, n))
			}
			// Reuse challenge share from another proof.
			b := p.Bytes()
			copy(b[j*BranchSize+64:j*BranchSize+96], other.raw[j*BranchSize+64:])
			fails("reused c", st, mustParse(t, b, n))
			// Swap branches.
			if n > 1 {
				b := p.Bytes()
				k := (j + 1) % n
				copy(b[j*BranchSize:], p.raw[k*BranchSize:(k+1)*BranchSize])
				copy(b[k*BranchSize:], p.raw[j*BranchSize:(j+1)*BranchSize])
				fails("swapped branches", st, mustParse(t, b, n))
			}
		}
		mod := func(name string, f func(s *Statement)) {
			s := *st
			f(&s)
			fails(name, &s, p)
		}
		ab := st.Ciphertext.Bytes()
		swapped, err := elgamal.ParseCiphertext(append(ab[32:64:64], ab[:32]...))
		if err != nil {
			t.Fatal(err)
		}
		mod("swapped α/β", func(s *Statement) { s.Ciphertext = swapped })
		mod("other manifest hash", func(s *Statement) { s.ManifestHash = bytes.Repeat([]byte{8}, 32) })
		mod("other key", func(s *Statement) { s.Key = pk2 })
		mod("other style", func(s *Statement) { s.Style++ })
		mod("other question", func(s *Statement) { s.Question++ })
		mod("other option", func(s *Statement) { s.Option-- })
		mod("other values", func(s *Statement) {
			s.Values = append([]uint32(nil), s.Values...)
			s.Values[0] += 5
		})
		mod("fewer values", func(s *Statement) { s.Values = s.Values[:n-1] })
		mod("proof of another ciphertext", func(s *Statement) {
			c, _, _ := elgamal.EncryptRand(pk, uint64(tc.v), rnd)
			s.Ciphertext = c
		})
	}
}

// TestOutOfRange: an honest prover cannot prove a value outside V, and a
// proof made with a false witness does not verify.
func TestOutOfRange(t *testing.T) {
	_, pk := testKey(t, "k")
	rnd := drbg.New("range")
	c, r, _ := elgamal.EncryptRand(pk, 2, rnd)
	st := &Statement{ManifestHash: testHash, Key: pk, Values: []uint32{0, 1}, Ciphertext: c}
	if _, err := Prove(rnd, st, &Witness{Value: 2, Nonce: r}); !errors.Is(err, ErrWitness) {
		t.Fatal(err)
	}
	for _, v := range []uint32{0, 1} {
		p, err := Prove(rnd, st, &Witness{Value: v, Nonce: r})
		if err != nil {
			t.Fatal(err)
		}
		if err := Verify(st, p); !errors.Is(err, ErrInvalidProof) {
			t.Fatal("forged proof accepted", err)
		}
		// The challenge is right, only a group equation fails: the batch
		// (MSM) path must catch it among good proofs.
		sts, ps := []*Statement{}, []*Proof{}
		for i := 0; i < 5; i++ {
			s, q := makeProof(t, rnd, pk, []uint32{0, 1}, 1, uint16(i))
			sts, ps = append(sts, s), append(ps, q)
		}
		sts[2], ps[2] = st, p
		if !checkChallenge(st, p) {
			t.Fatal("forged proof should pass the challenge check")
		}
		if bad := BatchVerify(sts, ps); len(bad) != 1 || bad[0] != 2 {
			t.Fatal("batch:", bad)
		}
	}
}

func TestParseStrict(t *testing.T) {
	_, pk := testKey(t, "k")
	_, p := makeProof(t, drbg.New("s"), pk, []uint32{0, 1}, 1, 0)
	b := p.Bytes()
	for name, bad := range map[string][]byte{
		"short":    b[:len(b)-1],
		"long":     append(append([]byte(nil), b...), 0),
		"scalar ℓ": append(append([]byte(nil), b[:64]...), append(elleBytes(), b[96:]...)...),
		"point p":  append(pBytes(), b[32:]...),
	} {
		if _, err := ParseProof(bad, 2); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := ParseProof(b, 3); !errors.Is(err, ErrMalformed) {
		t.Error("branch count")
	}
}

func elleBytes() []byte {
	b, _ := hex.DecodeString("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010")
	return b
}

func pBytes() []byte {
	b, _ := hex.DecodeString("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")
	return b
}

func TestBatchManyBad(t *testing.T) {
	_, pk := testKey(t, "k")
	rnd := drbg.New("batch")
	var sts []*Statement
	var ps []*Proof
	for i := 0; i < 300; i++ {
		st, p := makeProof(t, rnd, pk, []uint32{0, 1}, uint32(i%2), uint16(i))
		sts, ps = append(sts, st), append(ps, p)
	}
	if bad := BatchVerify(sts, ps); bad != nil {
		t.Fatal(bad)
	}
	want := []int{3, 128, 200, 299}
	for _, i := range want {
		s := *sts[i]
		s.Option++ // wrong binding: group equations hold, challenge fails
		sts[i] = &s
	}
	// A proof whose challenge is right but a group equation is wrong
	// cannot be made without breaking the hash; check the MSM path with a
	// proof whose A_0 is valid but for another statement's transcript: use
	// a fresh proof of another ciphertext under the same binding.
	st, _ := makeProof(t, rnd, pk, []uint32{0, 1}, 1, 7)
	sts[7] = st // proof 7 is for another ciphertext
	want = []int{3, 7, 128, 200, 299}
	bad := BatchVerify(sts, ps)
	if len(bad) != len(want) {
		t.Fatalf("bad = %v", bad)
	}
	for k := range want {
		if bad[k] != want[k] {
			t.Fatalf("bad = %v", bad)
		}
	}
	if bad := BatchVerify(sts[:2], ps[:3]); len(bad) != 1 || bad[0] != 2 {
		t.Fatal("length mismatch", bad)
	}
}
