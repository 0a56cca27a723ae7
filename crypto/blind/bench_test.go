package blind

import (
	"crypto/rand"
	"testing"

	"github.com/unionvote/eballot/crypto/internal/vectortest"

	"github.com/cloudflare/circl/blindsign/blindrsa"
)

// BenchmarkBlindSign is the issuer's signing cost through the public API
// (cached [Signer]); scripts/bench-system.sh runs it (name and ns/op
// column) for the blind-signing limit. cpu-ns/op is the benchmark
// thread's CPU time.
func BenchmarkBlindSign(b *testing.B) {
	v := loadVectors(b)
	sk := vectorKey(b, v)
	blinded := vectortest.Unhex(b, v.Blinded)
	cpuLoop(b, func() {
		if _, err := BlindSign(sk, blinded); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkBlindSignImpl compares, in one run, the RSA-2048 private
// operation on the vector input: circl's Signer.BlindSign (math/big,
// m^d mod N without CRT, RSA blinding, fault check; what BlindSign used
// before), a plain math/big CRT (rawSign: no blinding, no check), our
// bigmod Signer (CRT, constant-time, fault check), BlindSign (the same
// plus the cache look-up), and the one-off NewSigner.
func BenchmarkBlindSignImpl(b *testing.B) {
	v := loadVectors(b)
	sk := vectorKey(b, v)
	blinded := vectortest.Unhex(b, v.Blinded)
	s, err := NewSigner(sk)
	if err != nil {
		b.Fatal(err)
	}
	circl := blindrsa.NewSigner(sk)
	for _, c := range []struct {
		name string
		f    func() error
	}{
		{"circl-mathbig", func() error { _, err := circl.BlindSign(blinded); return err }},
		{"mathbig-crt", func() error { _ = rawSign(sk, blinded); return nil }},
		{"bigmod-Signer", func() error { _, err := s.BlindSign(blinded); return err }},
		{"BlindSign", func() error { _, err := BlindSign(sk, blinded); return err }},
		{"NewSigner", func() error { _, err := NewSigner(sk); return err }},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			cpuLoop(b, func() {
				if err := c.f(); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

func BenchmarkVerify(b *testing.B) {
	v := loadVectors(b)
	pub, _ := ParsePublicKey(vectortest.Unhex(b, v.SPKI))
	tr, auth := vectortest.Unhex(b, v.Tracker), vectortest.Unhex(b, v.Authorisation)
	for b.Loop() {
		if err := Verify(pub, tr, auth); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkClient(b *testing.B) {
	v := loadVectors(b)
	pub, _ := ParsePublicKey(vectortest.Unhex(b, v.SPKI))
	tr := vectortest.Unhex(b, v.Tracker)
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
	pub, _ := ParsePublicKey(vectortest.Unhex(b, v.SPKI))
	tr, auth := vectortest.Unhex(b, v.Tracker), vectortest.Unhex(b, v.Authorisation)
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
