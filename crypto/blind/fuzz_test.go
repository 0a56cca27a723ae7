package blind

import (
	"bytes"
	"math/big"
	"testing"

	"github.com/unionvote/eballot/crypto/internal/vectortest"
)

func FuzzParsePublicKey(f *testing.F) {
	v := loadVectors(f)
	f.Add(vectortest.Unhex(f, v.SPKI))
	for _, c := range v.InvalidKeys {
		f.Add(vectortest.Unhex(f, c.SPKI))
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		pub, err := ParsePublicKey(der)
		if err != nil {
			return
		}
		if re, err := MarshalPublicKey(pub); err != nil || !bytes.Equal(re, der) {
			t.Fatal("non-canonical key accepted")
		}
	})
}

func FuzzVerify(f *testing.F) {
	v := loadVectors(f)
	pub, err := ParsePublicKey(vectortest.Unhex(f, v.SPKI))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(vectortest.Unhex(f, v.Tracker), vectortest.Unhex(f, v.Authorisation))
	for _, c := range v.Invalid {
		f.Add(vectortest.Unhex(f, c.Tracker), vectortest.Unhex(f, c.Authorisation))
	}
	valid := vectortest.Unhex(f, v.Authorisation)
	tr := vectortest.Unhex(f, v.Tracker)
	f.Fuzz(func(t *testing.T, tracker, auth []byte) {
		if Verify(pub, tracker, auth) == nil && !(bytes.Equal(auth, valid) && bytes.Equal(tracker, tr)) {
			t.Fatal("forged authorisation verifies")
		}
	})
}

// FuzzBlindSign: BlindSign never panics, refuses every input that is not
// 256 bytes in [1, N), and gives circl's bytes for every input that is.
// (Small and special values are covered by TestSignerVector and
// TestSignerMatchesCircl; padding short inputs here made the fuzzer's
// minimisation, which runs every candidate, take its full minute per new
// input because circl needs ≈ 3 ms a signature.)
func FuzzBlindSign(f *testing.F) {
	v := loadVectors(f)
	sk := vectorKey(f, v)
	f.Add(vectortest.Unhex(f, v.Blinded))
	f.Add([]byte{1})
	f.Add(big.NewInt(1).FillBytes(make([]byte, SignatureSize)))
	f.Add(make([]byte, SignatureSize))
	f.Add(sk.N.Bytes())
	f.Add(new(big.Int).Sub(sk.N, big.NewInt(1)).Bytes())
	f.Add(sk.Primes[0].Bytes())
	f.Add(sk.Primes[1].FillBytes(make([]byte, SignatureSize)))
	f.Fuzz(func(t *testing.T, blinded []byte) {
		got, err := BlindSign(sk, blinded)
		m := new(big.Int).SetBytes(blinded)
		if len(blinded) != SignatureSize || m.Sign() == 0 || m.Cmp(sk.N) >= 0 {
			if err == nil || got != nil {
				t.Fatalf("signed an invalid input of %d bytes", len(blinded))
			}
			return
		}
		if err != nil || !bytes.Equal(got, circlSign(t, sk, blinded)) {
			t.Fatalf("differs from circl (err %v)", err)
		}
	})
}

func FuzzParseAuthorisation(f *testing.F) {
	v := loadVectors(f)
	f.Add(vectortest.Unhex(f, v.Authorisation))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := ParseAuthorisation(b)
		if err == nil && !bytes.Equal(a[:], b) {
			t.Fatal("authorisation changed")
		}
	})
}
