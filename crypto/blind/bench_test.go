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
