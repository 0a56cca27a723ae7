package shuffle

import (
	"bytes"
	"crypto/rand"
	"testing"

	"github.com/unionvote/eballot/crypto/elgamal"
	"github.com/unionvote/eballot/crypto/internal/testceremony"
)

// fuzzSeeds returns the encodings of a small valid shuffle.
func fuzzSeeds(f *testing.F) (list, proof, decryption []byte) {
	sk, _ := elgamal.GenerateKey(rand.Reader)
	c, _, _ := elgamal.EncryptRand(sk.PublicKey(), 1, rand.Reader)
	in, _ := NewList([][]*elgamal.Ciphertext{{c, c}, {c, c}})
	st := &Statement{Key: sk.PublicKey(), Label: "fuzz"}
	out, p, err := Shuffle(rand.Reader, st, in)
	if err != nil {
		f.Fatal(err)
	}
	list, _ = out.MarshalBinary()
	keys, err := testceremony.Run("fuzz", 1, 1)
	if err != nil {
		f.Fatal(err)
	}
	pd, err := PartialDecrypt(rand.Reader, keys.Public, keys.Shares[0], make([]byte, 32), out)
	if err != nil {
		f.Fatal(err)
	}
	decryption, _ = pd.MarshalBinary()
	return list, p.Bytes(), decryption
}

// FuzzParseList: the decoder never panics and accepts only canonical
// encodings (what it accepts re-encodes to the same bytes).
func FuzzParseList(f *testing.F) {
	l, _, _ := fuzzSeeds(f)
	f.Add(l)
	f.Add(l[:8])
	f.Fuzz(func(t *testing.T, b []byte) {
		x, err := ParseList(b)
		if err != nil {
			return
		}
		e, _ := x.MarshalBinary()
		if !bytes.Equal(e, b) {
			t.Fatal("accepted a non-canonical list")
		}
	})
}

// FuzzParseProof: as FuzzParseList for proofs.
func FuzzParseProof(f *testing.F) {
	_, p, _ := fuzzSeeds(f)
	f.Add(p)
	f.Add(p[:8])
	f.Fuzz(func(t *testing.T, b []byte) {
		x, err := ParseProof(b)
		if err != nil {
			return
		}
		if !bytes.Equal(x.Bytes(), b) {
			t.Fatal("accepted a non-canonical proof")
		}
	})
}

// FuzzParsePartialDecryption: as FuzzParseList for partial decryptions.
func FuzzParsePartialDecryption(f *testing.F) {
	_, _, d := fuzzSeeds(f)
	f.Add(d)
	f.Fuzz(func(t *testing.T, b []byte) {
		x, err := ParsePartialDecryption(b)
		if err != nil {
			return
		}
		e, err := x.MarshalBinary()
		if err != nil || !bytes.Equal(e, b) {
			t.Fatalf("accepted a non-canonical partial decryption: %v", err)
		}
	})
}
