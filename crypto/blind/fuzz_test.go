package blind

import (
	"bytes"
	"testing"
)

func FuzzParsePublicKey(f *testing.F) {
	v := loadVectors(f)
	f.Add(unhex(f, v.SPKI))
	for _, c := range v.InvalidKeys {
		f.Add(unhex(f, c.SPKI))
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
	pub, err := ParsePublicKey(unhex(f, v.SPKI))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(unhex(f, v.Tracker), unhex(f, v.Authorisation))
	for _, c := range v.Invalid {
		f.Add(unhex(f, c.Tracker), unhex(f, c.Authorisation))
	}
	valid := unhex(f, v.Authorisation)
	tr := unhex(f, v.Tracker)
	f.Fuzz(func(t *testing.T, tracker, auth []byte) {
		if Verify(pub, tracker, auth) == nil && !(bytes.Equal(auth, valid) && bytes.Equal(tracker, tr)) {
			t.Fatal("forged authorisation verifies")
		}
	})
}

func FuzzBlindSign(f *testing.F) {
	v := loadVectors(f)
	sk := vectorKey(f, v)
	f.Add(unhex(f, v.Blinded))
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, blinded []byte) {
		_, _ = BlindSign(sk, blinded) // must not panic
	})
}

func FuzzParseAuthorisation(f *testing.F) {
	v := loadVectors(f)
	f.Add(unhex(f, v.Authorisation))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := ParseAuthorisation(b)
		if err == nil && !bytes.Equal(a[:], b) {
			t.Fatal("authorisation changed")
		}
	})
}
