package blind

import (
	"crypto/rand"
	"testing"
)

func BenchmarkBlindSign(b *testing.B) {
	v := loadVectors(b)
	sk := vectorKey(b, v)
	blinded := unhex(b, v.Blinded)
	for b.Loop() {
		if _, err := BlindSign(sk, blinded); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	v := loadVectors(b)
	pub, _ := ParsePublicKey(unhex(b, v.SPKI))
	tr, auth := unhex(b, v.Tracker), unhex(b, v.Authorisation)
	for b.Loop() {
		if err := Verify(pub, tr, auth); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkClient(b *testing.B) {
	v := loadVectors(b)
	pub, _ := ParsePublicKey(unhex(b, v.SPKI))
	tr := unhex(b, v.Tracker)
	for b.Loop() {
		p, _ := Prepare(rand.Reader, tr)
		if _, _, err := Blind(rand.Reader, pub, p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifier compares the precomputed-key verifier with the circl
// path ([Verify]) on the vector authorisation; cpu-ns/op is the CPU time of
// the benchmark thread (comparable on a busy machine).
func BenchmarkVerifier(b *testing.B) {
	v := loadVectors(b)
	pub, _ := ParsePublicKey(unhex(b, v.SPKI))
	tr, auth := unhex(b, v.Tracker), unhex(b, v.Authorisation)
	fast, err := NewVerifier(pub)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("fast", func(b *testing.B) {
		cpuLoop(b, func() {
			if err := fast.VerifyAuthorisation(tr, auth); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("circl", func(b *testing.B) {
		cpuLoop(b, func() {
			if err := Verify(pub, tr, auth); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("NewVerifier", func(b *testing.B) {
		cpuLoop(b, func() {
			if _, err := NewVerifier(pub); err != nil {
				b.Fatal(err)
			}
		})
	})
}
