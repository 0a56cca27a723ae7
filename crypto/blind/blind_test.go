package blind

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"testing"

	"github.com/unionvote/eballot/crypto/internal/vectortest"
)

type blindVectors struct {
	Description   string `json:"description"`
	Variant       string `json:"variant"`
	ModulusBits   int    `json:"modulus_bits"`
	PKCS8         string `json:"private_key_pkcs8"`
	SPKI          string `json:"public_key_spki"`
	IssuerKey     string `json:"issuer_key"`
	Tracker       string `json:"tracker"`
	Prefix        string `json:"prefix"`
	Prepared      string `json:"prepared"`
	Blinded       string `json:"blinded"`
	BlindSig      string `json:"blind_signature"`
	Signature     string `json:"signature"`
	Authorisation string `json:"authorisation"`
	Valid         bool   `json:"valid"`
	Invalid       []struct {
		Name          string `json:"name"`
		PublicKey     string `json:"public_key_spki"`
		Tracker       string `json:"tracker"`
		Authorisation string `json:"authorisation"`
	} `json:"invalid"`
	InvalidKeys []struct {
		Name string `json:"name"`
		SPKI string `json:"spki"`
	} `json:"invalid_keys"`
}

func loadVectors(t testing.TB) *blindVectors {
	t.Helper()
	var v blindVectors
	vectortest.Load(t, "blind_v1.json", &v)
	return &v
}

func vectorKey(t testing.TB, v *blindVectors) *rsa.PrivateKey {
	k, err := x509.ParsePKCS8PrivateKey(vectortest.Unhex(t, v.PKCS8))
	if err != nil {
		t.Fatal(err)
	}
	return k.(*rsa.PrivateKey)
}

func TestVectors(t *testing.T) {
	v := loadVectors(t)
	sk := vectorKey(t, v)
	pub, err := ParsePublicKey(vectortest.Unhex(t, v.SPKI))
	if err != nil {
		t.Fatal(err)
	}
	if !pub.Equal(&sk.PublicKey) {
		t.Fatal("SPKI does not match private key")
	}
	if der, _ := MarshalPublicKey(pub); hex.EncodeToString(der) != v.SPKI {
		t.Fatal("SPKI re-encoding differs")
	}
	tr, prep := vectortest.Unhex(t, v.Tracker), vectortest.Unhex(t, v.Prepared)
	if !bytes.Equal(prep, append(vectortest.Unhex(t, v.Prefix), tr...)) {
		t.Fatal("prepared != prefix ‖ T")
	}
	// RSA blind signing is deterministic: BlindSign reproduces the vector.
	bs, err := BlindSign(sk, vectortest.Unhex(t, v.Blinded))
	if err != nil || hex.EncodeToString(bs) != v.BlindSig {
		t.Fatalf("BlindSign mismatch: %v", err)
	}
	auth := vectortest.Unhex(t, v.Authorisation)
	if !bytes.Equal(auth, append(vectortest.Unhex(t, v.Prefix), vectortest.Unhex(t, v.Signature)...)) {
		t.Fatal("authorisation != prefix ‖ signature")
	}
	if err := Verify(pub, tr, auth); (err == nil) != v.Valid {
		t.Fatalf("Verify = %v", err)
	}
	for _, c := range v.Invalid {
		p, err := ParsePublicKey(vectortest.Unhex(t, c.PublicKey))
		if err != nil {
			t.Fatal(err)
		}
		if Verify(p, vectortest.Unhex(t, c.Tracker), vectortest.Unhex(t, c.Authorisation)) == nil {
			t.Errorf("%s: verifies", c.Name)
		}
	}
	for _, c := range v.InvalidKeys {
		if _, err := ParsePublicKey(vectortest.Unhex(t, c.SPKI)); err == nil {
			t.Errorf("%s: key accepted", c.Name)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	sk := vectorKey(t, loadVectors(t))
	tr := sha256.Sum256([]byte("ballot"))
	prep, err := Prepare(rand.Reader, tr[:])
	if err != nil {
		t.Fatal(err)
	}
	blinded, st, err := Blind(rand.Reader, &sk.PublicKey, prep)
	if err != nil {
		t.Fatal(err)
	}
	bs, err := BlindSign(sk, blinded)
	if err != nil {
		t.Fatal(err)
	}
	a, err := st.Finalize(bs)
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(&sk.PublicKey, tr[:], a[:]); err != nil {
		t.Fatal(err)
	}
	a2, err := ParseAuthorisation(a[:])
	if err != nil || a2 != a || !bytes.Equal(a.Prefix(), prep[:32]) {
		t.Fatal("ParseAuthorisation")
	}
	// Wrong blind signature (for another blinded message) is refused.
	blinded2, _, _ := Blind(rand.Reader, &sk.PublicKey, prep)
	bs2, _ := BlindSign(sk, blinded2)
	if _, err := st.Finalize(bs2); err == nil {
		t.Fatal("finalized with a blind signature on another message")
	}
}

func TestStrictLengths(t *testing.T) {
	sk := vectorKey(t, loadVectors(t))
	for _, n := range []int{0, 31, 33} {
		if _, err := Prepare(rand.Reader, make([]byte, n)); err == nil {
			t.Errorf("tracker of %d bytes accepted", n)
		}
	}
	if _, _, err := Blind(rand.Reader, &sk.PublicKey, make([]byte, 63)); err == nil {
		t.Error("short prepared accepted")
	}
	for _, n := range []int{0, 255, 257} {
		if _, err := BlindSign(sk, make([]byte, n)); err == nil {
			t.Errorf("blinded of %d bytes accepted", n)
		}
	}
	if _, err := BlindSign(sk, make([]byte, 256)); err == nil {
		t.Error("blinded 0 accepted")
	}
	nb := make([]byte, 256)
	sk.N.FillBytes(nb)
	if _, err := BlindSign(sk, nb); err == nil {
		t.Error("blinded = N accepted")
	}
	weak := &rsa.PublicKey{N: sk.N, E: 3}
	if _, err := MarshalPublicKey(weak); err == nil {
		t.Error("e = 3 marshalled")
	}
	if err := Verify(weak, make([]byte, 32), make([]byte, 288)); err == nil {
		t.Error("e = 3 verified")
	}
	if _, err := ParseAuthorisation(make([]byte, 287)); err == nil {
		t.Error("short authorisation parsed")
	}
}
