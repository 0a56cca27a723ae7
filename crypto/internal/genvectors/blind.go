package main

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"log"
	"math/big"
	"os"

	"github.com/unionvote/eballot/crypto/blind"
)

// blind_v1.json: blind RSA authorisations (crypto/blind).

func genBlind(existing string) any {
	var sk *rsa.PrivateKey
	if b, err := os.ReadFile(existing); err == nil {
		var old struct {
			PKCS8 string `json:"private_key_pkcs8"`
		}
		if err := json.Unmarshal(b, &old); err == nil && old.PKCS8 != "" {
			k := get(x509.ParsePKCS8PrivateKey(get(hex.DecodeString(old.PKCS8))))
			sk = k.(*rsa.PrivateKey)
		}
	}
	if sk == nil {
		log.Print("generating a new RSA issuer key for blind_v1.json")
		sk = get(blind.GenerateIssuerKey(rand.Reader))
	}
	pub := &sk.PublicKey
	spki := get(blind.MarshalPublicKey(pub))
	rnd := seeded("blind_v1")
	tracker := sha256.Sum256([]byte("blind_v1 tracker"))
	prepared := get(blind.Prepare(rnd, tracker[:]))
	blinded, st, err := blind.Blind(rnd, pub, prepared)
	if err != nil {
		log.Fatal(err)
	}
	bsig := get(blind.BlindSign(sk, blinded))
	auth := get(st.Finalize(bsig))
	if err := blind.Verify(pub, tracker[:], auth[:]); err != nil {
		log.Fatal(err)
	}

	type inv struct {
		Name          string `json:"name"`
		PublicKey     string `json:"public_key_spki"`
		Tracker       string `json:"tracker"`
		Authorisation string `json:"authorisation"`
	}
	flip := func(b []byte, i int) []byte { c := bytes.Clone(b); c[i] ^= 1; return c }
	other := sha256.Sum256([]byte("blind_v1 other tracker"))
	otherKey := func(e int, bits int) string {
		n := new(big.Int).Set(pub.N)
		switch {
		case bits > 2048:
			n.Lsh(n, uint(bits-2048)).SetBit(n, 0, 1)
		case bits < 2048:
			n.Rsh(n, uint(2048-bits)).SetBit(n, 0, 1)
		}
		return hx(get(x509.MarshalPKIXPublicKey(&rsa.PublicKey{N: n, E: e})))
	}
	sig := auth[blind.PrefixSize:]
	highSig := make([]byte, 256)
	pub.N.FillBytes(highSig) // s = N: out of range
	invalid := []inv{
		{"other tracker", hx(spki), hx(other[:]), hx(auth[:])},
		{"prefix byte flipped", hx(spki), hx(tracker[:]), hx(flip(auth[:], 0))},
		{"signature byte flipped", hx(spki), hx(tracker[:]), hx(flip(auth[:], 100))},
		{"signature last byte flipped", hx(spki), hx(tracker[:]), hx(flip(auth[:], 287))},
		{"signature = N", hx(spki), hx(tracker[:]), hx(append(bytes.Clone(auth[:32]), highSig...))},
		{"authorisation truncated", hx(spki), hx(tracker[:]), hx(auth[:287])},
		{"authorisation with trailing byte", hx(spki), hx(tracker[:]), hx(append(bytes.Clone(auth[:]), 0))},
		{"signature without prefix", hx(spki), hx(tracker[:]), hx(sig)},
		{"tracker 31 bytes", hx(spki), hx(tracker[:31]), hx(auth[:])},
		{"blind signature used as signature", hx(spki), hx(tracker[:]), hx(append(bytes.Clone(auth[:32]), bsig...))},
	}
	type badKey struct {
		Name string `json:"name"`
		SPKI string `json:"spki"`
	}
	badKeys := []badKey{
		{"e = 3", otherKey(3, 2048)},
		{"1024-bit modulus", otherKey(65537, 1024)},
		{"3072-bit modulus", otherKey(65537, 3072)},
		{"trailing byte", hx(append(bytes.Clone(spki), 0))},
		{"truncated", hx(spki[:len(spki)-1])},
	}
	return map[string]any{
		"description":       "eBallot protocol v1 §5: RFC 9474 RSABSSA-SHA384-PSS-Randomized, 2048-bit, e=65537, message = tracker T. See crypto/testdata/README.md.",
		"variant":           "RSABSSA-SHA384-PSS-Randomized",
		"modulus_bits":      2048,
		"private_key_pkcs8": hx(get(x509.MarshalPKCS8PrivateKey(sk))),
		"public_key_spki":   hx(spki),
		"issuer_key":        base64.StdEncoding.EncodeToString(spki),
		"tracker":           hx(tracker[:]),
		"prefix":            hx(prepared[:32]),
		"prepared":          hx(prepared),
		"blinded":           hx(blinded),
		"blind_signature":   hx(bsig),
		"signature":         hx(sig),
		"authorisation":     hx(auth[:]),
		"valid":             true,
		"invalid":           invalid,
		"invalid_keys":      badKeys,
	}
}
