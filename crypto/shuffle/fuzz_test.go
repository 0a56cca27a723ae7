package shuffle

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"slices"
	"testing"

	"github.com/unionvote/eballot/crypto/elgamal"
	"github.com/unionvote/eballot/crypto/internal/testceremony"
)

// vectorSeeds adds the encodings of crypto/testdata/shuffle_v1.json.
func vectorSeeds(f *testing.F, pick func(v *shuffleVectors) []string) {
	data, err := os.ReadFile("../testdata/shuffle_v1.json")
	if err != nil {
		f.Fatal(err)
	}
	var v shuffleVectors
	if err := json.Unmarshal(data, &v); err != nil {
		f.Fatal(err)
	}
	for _, h := range pick(&v) {
		if h == "" {
			continue
		}
		b, err := hex.DecodeString(h)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

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
	vectorSeeds(f, func(v *shuffleVectors) []string {
		out := []string{v.Input, v.Output}
		for _, c := range v.Invalid {
			out = append(out, c.Output)
		}
		return out
	})
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
	vectorSeeds(f, func(v *shuffleVectors) []string {
		out := []string{v.Proof}
		for _, c := range v.Invalid {
			out = append(out, c.Proof)
		}
		return out
	})
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
	vectorSeeds(f, func(v *shuffleVectors) []string {
		out := slices.Clone(v.Partials)
		for _, c := range v.InvalidDecryptions {
			out = append(out, c.Partials...)
		}
		return out
	})
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
