package blind

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha512"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"math/big"
	mrand "math/rand/v2"
	"sync"
	"testing"

	"github.com/unionvote/eballot/crypto/internal/vectortest"

	"github.com/cloudflare/circl/blindsign/blindrsa"
)

// circlVerify is the reference: circl's verifier on the prepared message.
func circlVerify(t testing.TB, pub *rsa.PublicKey, prepared, sig []byte) error {
	t.Helper()
	v, err := blindrsa.NewVerifier(variant, pub)
	if err != nil {
		t.Fatal(err)
	}
	return v.Verify(prepared, sig)
}

// same checks that the fast verifier and circl agree on (prepared, sig)
// and returns whether they accepted.
func same(t testing.TB, v *Verifier, prepared, sig []byte, what string) bool {
	t.Helper()
	want := circlVerify(t, v.PublicKey(), prepared, sig)
	got := v.Verify(prepared, sig)
	if (got == nil) != (want == nil) {
		t.Fatalf("%s: Verifier.Verify = %v, circl = %v (prepared %x, sig %x)", what, got, want, prepared, sig)
	}
	if got != nil && !errors.Is(got, rsa.ErrVerification) {
		t.Fatalf("%s: error %v is not rsa.ErrVerification", what, got)
	}
	if len(prepared) == PreparedSize && len(sig) == SignatureSize {
		// The authorisation form must agree with blind.Verify, error text
		// included.
		auth := append(append([]byte(nil), prepared[:PrefixSize]...), sig...)
		w := Verify(v.PublicKey(), prepared[PrefixSize:], auth)
		g := v.VerifyAuthorisation(prepared[PrefixSize:], auth)
		if (g == nil) != (got == nil) || (w == nil) != (got == nil) || (g != nil && g.Error() != w.Error()) {
			t.Fatalf("%s: VerifyAuthorisation = %v, Verify = %v, Verifier.Verify = %v", what, g, w, got)
		}
	}
	return got == nil
}

func vectorVerifier(t testing.TB) (*Verifier, *rsa.PrivateKey, *blindVectors) {
	t.Helper()
	vec := loadVectors(t)
	pub, err := ParsePublicKey(vectortest.Unhex(t, vec.SPKI))
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewVerifier(pub)
	if err != nil {
		t.Fatal(err)
	}
	return v, vectorKey(t, vec), vec
}

func TestVerifierVectors(t *testing.T) {
	v, _, vec := vectorVerifier(t)
	prep, sig := vectortest.Unhex(t, vec.Prepared), vectortest.Unhex(t, vec.Signature)
	if !same(t, v, prep, sig, "vector") || !vec.Valid {
		t.Fatal("vector does not verify")
	}
	if err := v.VerifyAuthorisation(vectortest.Unhex(t, vec.Tracker), vectortest.Unhex(t, vec.Authorisation)); err != nil {
		t.Fatal(err)
	}
	for _, c := range vec.Invalid {
		pub, err := ParsePublicKey(vectortest.Unhex(t, c.PublicKey))
		if err != nil {
			t.Fatal(err)
		}
		cv, err := NewVerifier(pub)
		if err != nil {
			t.Fatal(err)
		}
		tr, auth := vectortest.Unhex(t, c.Tracker), vectortest.Unhex(t, c.Authorisation)
		want := Verify(pub, tr, auth)
		got := cv.VerifyAuthorisation(tr, auth)
		if got == nil || want == nil || got.Error() != want.Error() {
			t.Errorf("%s: VerifyAuthorisation = %v, Verify = %v", c.Name, got, want)
		}
		if len(auth) >= PrefixSize {
			same(t, cv, append(append([]byte(nil), auth[:PrefixSize]...), tr...), auth[PrefixSize:], c.Name)
		}
	}
	for _, c := range vec.InvalidKeys {
		// ParsePublicKey rejects these; a key of another size or exponent
		// given directly is refused too.
		k, err := x509.ParsePKIXPublicKey(vectortest.Unhex(t, c.SPKI))
		if pk, ok := k.(*rsa.PublicKey); err == nil && ok && checkPublicKey(pk) != nil {
			if _, err := NewVerifier(pk); err == nil {
				t.Errorf("%s: NewVerifier accepted", c.Name)
			}
		}
	}
	if _, err := NewVerifier(nil); err == nil {
		t.Error("nil key accepted")
	}
	if _, err := NewVerifier(&rsa.PublicKey{N: v.PublicKey().N, E: 3}); err == nil {
		t.Error("e = 3 accepted")
	}
}

// signMany makes n valid signatures on random prepared messages: a quarter
// through circl's full blind protocol, the rest with crypto/rsa.SignPSS
// (the same RSASSA-PSS signature, faster to make).
func signMany(t testing.TB, sk *rsa.PrivateKey, n int) (preps, sigs [][]byte) {
	t.Helper()
	preps, sigs = make([][]byte, n), make([][]byte, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client, err := blindrsa.NewClient(variant, &sk.PublicKey)
			if err != nil {
				errs <- err
				return
			}
			signer := blindrsa.NewSigner(sk)
			for i := w; i < n; i += 2 {
				var tr [TrackerSize]byte
				rand.Read(tr[:])
				if i%4 == 0 {
					prep, err := client.Prepare(rand.Reader, tr[:])
					if err != nil {
						errs <- err
						return
					}
					blinded, st, err := client.Blind(rand.Reader, prep)
					if err != nil {
						errs <- err
						return
					}
					bs, err := signer.BlindSign(blinded)
					if err != nil {
						errs <- err
						return
					}
					sig, err := client.Finalize(st, bs)
					if err != nil {
						errs <- err
						return
					}
					preps[i], sigs[i] = prep, sig
					continue
				}
				prep, _ := Prepare(rand.Reader, tr[:])
				h := sha512.Sum384(prep)
				sig, err := rsa.SignPSS(rand.Reader, sk, crypto.SHA384, h[:], &rsa.PSSOptions{SaltLength: sLen})
				if err != nil {
					errs <- err
					return
				}
				preps[i], sigs[i] = prep, sig
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return preps, sigs
}

func flipBit(b []byte, r *mrand.Rand) []byte {
	c := append([]byte(nil), b...)
	i := r.IntN(8 * len(c))
	c[i/8] ^= 1 << (i % 8)
	return c
}

func TestVerifierRandom(t *testing.T) {
	n := 1000
	if testing.Short() {
		n = 40
	}
	v, sk, _ := vectorVerifier(t)
	other, err := rsa.GenerateKey(rand.Reader, ModulusBits)
	if err != nil {
		t.Fatal(err)
	}
	ov, err := NewVerifier(&other.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	preps, sigs := signMany(t, sk, n)
	r := mrand.New(mrand.NewPCG(1, 2))
	nBig := sk.N
	for i := range n {
		prep, sig := preps[i], sigs[i]
		if !same(t, v, prep, sig, "valid") {
			t.Fatal("valid signature rejected")
		}
		tampered := []struct {
			what      string
			prep, sig []byte
		}{
			{"sig bit", prep, flipBit(sig, r)},
			{"tracker bit", append(append([]byte(nil), prep[:PrefixSize]...), flipBit(prep[PrefixSize:], r)...), sig},
			{"prefix bit", append(flipBit(prep[:PrefixSize], r), prep[PrefixSize:]...), sig},
			{"no prefix", prep[PrefixSize:], sig},
			{"sig + N", prep, addN(sig, nBig)},
			{"sig short", prep, sig[1:]},
			{"sig long", prep, append([]byte{0}, sig...)},
			{"sig truncated", prep, sig[:SignatureSize-1]},
			{"sig = 0", prep, make([]byte, SignatureSize)},
		}
		for _, c := range tampered {
			if same(t, v, c.prep, c.sig, c.what) {
				t.Fatalf("%s: accepted", c.what)
			}
		}
		if same(t, ov, prep, sig, "other key") {
			t.Fatal("other key: accepted")
		}
	}
	// Other salt lengths: valid RSASSA-PSS signatures, wrong parameters.
	m := 8
	if testing.Short() {
		m = 2
	}
	for _, sl := range []int{0, 1, 32, 47, 49, 64, rsa.PSSSaltLengthAuto} {
		for range m {
			var tr [TrackerSize]byte
			rand.Read(tr[:])
			prep, _ := Prepare(rand.Reader, tr[:])
			h := sha512.Sum384(prep)
			sig, err := rsa.SignPSS(rand.Reader, sk, crypto.SHA384, h[:], &rsa.PSSOptions{SaltLength: sl})
			if err != nil {
				t.Fatal(err)
			}
			if same(t, v, prep, sig, "salt length") {
				t.Fatalf("salt length %d accepted", sl)
			}
		}
	}
}

// addN returns sig + N as 256 bytes if it fits, else N itself.
func addN(sig []byte, n *big.Int) []byte {
	s := new(big.Int).SetBytes(sig)
	s.Add(s, n)
	if s.BitLen() > ModulusBits {
		s.Set(n)
	}
	return s.FillBytes(make([]byte, SignatureSize))
}

func TestVerifierEdgeSignatures(t *testing.T) {
	v, sk, vec := vectorVerifier(t)
	prep := vectortest.Unhex(t, vec.Prepared)
	one := big.NewInt(1)
	r := new(big.Int).Lsh(one, ModulusBits)
	for _, s := range []*big.Int{
		big.NewInt(0), one, big.NewInt(2), new(big.Int).Sub(sk.N, one), sk.N,
		new(big.Int).Add(sk.N, one), new(big.Int).Sub(r, one),
	} {
		if same(t, v, prep, s.FillBytes(make([]byte, SignatureSize)), "edge signature") {
			t.Fatalf("s = %x accepted", s)
		}
	}
}

// encodeEM is EMSA-PSS-ENCODE (RFC 8017 §9.1.1) for SHA-384 and emBits =
// 2047, with defects for the tests applied before masking (to DB) or after
// (to EM).
func encodeEM(mHash, salt []byte, db func(db []byte), em func(em []byte)) []byte {
	out := make([]byte, emLen)
	d := out[:dbLen]
	mp := append(append(make([]byte, 8), mHash...), salt...)
	h := sha512.Sum384(mp)
	copy(out[dbLen:], h[:])
	out[emLen-1] = 0xbc
	ps := dbLen - len(salt) - 1
	d[ps] = 0x01
	copy(d[ps+1:], salt)
	if db != nil {
		db(d)
	}
	var in [hLen + 4]byte
	copy(in[:], h[:])
	for ctr, off := uint32(0), 0; off < dbLen; ctr, off = ctr+1, off+hLen {
		binary.BigEndian.PutUint32(in[hLen:], ctr)
		mask := sha512.Sum384(in[:])
		for j := 0; j < hLen && off+j < dbLen; j++ {
			d[off+j] ^= mask[j]
		}
	}
	d[0] &= emMask
	if em != nil {
		em(out)
	}
	return out
}

// rawSign returns em^d mod N (CRT), or nil if em ≥ N.
func rawSign(sk *rsa.PrivateKey, em []byte) []byte {
	m := new(big.Int).SetBytes(em)
	if m.Cmp(sk.N) >= 0 {
		return nil
	}
	p, q := sk.Primes[0], sk.Primes[1]
	m1 := new(big.Int).Exp(m, sk.Precomputed.Dp, p)
	m2 := new(big.Int).Exp(m, sk.Precomputed.Dq, q)
	h := m1.Sub(m1, m2)
	h.Mul(h, sk.Precomputed.Qinv).Mod(h, p)
	s := h.Mul(h, q).Add(h, m2)
	return s.FillBytes(make([]byte, SignatureSize))
}

type emCase struct {
	name  string
	salt  int
	db    func([]byte)
	em    func([]byte)
	valid bool
}

var emCases = []emCase{
	{name: "valid", salt: sLen, valid: true},
	{name: "DB top bit set (cleared by step 9)", salt: sLen, db: func(d []byte) { d[0] |= 0x80 }, valid: true},
	{name: "trailer 0xbd", salt: sLen, em: func(e []byte) { e[emLen-1] = 0xbd }},
	{name: "trailer 0x00", salt: sLen, em: func(e []byte) { e[emLen-1] = 0 }},
	{name: "EM top bit set", salt: sLen, em: func(e []byte) { e[0] = 0x80 }},
	{name: "PS first byte", salt: sLen, db: func(d []byte) { d[0] = 0x01 }},
	{name: "PS first byte low bit", salt: sLen, db: func(d []byte) { d[0] ^= 0x40 }},
	{name: "PS middle byte", salt: sLen, db: func(d []byte) { d[100] = 0xff }},
	{name: "PS last byte", salt: sLen, db: func(d []byte) { d[psLen-1] = 0x01 }},
	{name: "separator 0x02", salt: sLen, db: func(d []byte) { d[psLen] = 0x02 }},
	{name: "separator 0x00", salt: sLen, db: func(d []byte) { d[psLen] = 0x00 }},
	{name: "salt 47", salt: 47},
	{name: "salt 49", salt: 49},
	{name: "salt 0", salt: 0},
	{name: "salt 32", salt: 32},
	{name: "salt 64", salt: 64},
	{name: "salt max", salt: dbLen - 1},
	{name: "salt bit", salt: sLen, db: func(d []byte) { d[dbLen-1] ^= 1 }},
	{name: "H bit", salt: sLen, em: func(e []byte) { e[emLen-2] ^= 1 }},
	{name: "maskedDB bit", salt: sLen, em: func(e []byte) { e[10] ^= 4 }},
}

func TestVerifierCraftedEM(t *testing.T) {
	v, sk, vec := vectorVerifier(t)
	prep := vectortest.Unhex(t, vec.Prepared)
	mh := sha512.Sum384(prep)
	for _, c := range emCases {
		salt := make([]byte, c.salt)
		rand.Read(salt)
		em := encodeEM(mh[:], salt, c.db, c.em)
		sig := rawSign(sk, em)
		if sig == nil {
			t.Logf("%s: EM ≥ N, skipped", c.name)
			continue
		}
		if got := same(t, v, prep, sig, c.name); got != c.valid {
			t.Errorf("%s: accepted = %v", c.name, got)
		}
		// The same EM on another message never verifies.
		if same(t, v, append([]byte{1}, prep...), sig, c.name+" other message") {
			t.Errorf("%s: verifies for another message", c.name)
		}
	}
}

func FuzzVerifier(f *testing.F) {
	v, sk, vec := vectorVerifier(f)
	prep, sig := vectortest.Unhex(f, vec.Prepared), vectortest.Unhex(f, vec.Signature)
	f.Add(prep, sig, false)
	for _, c := range vec.Invalid {
		a := vectortest.Unhex(f, c.Authorisation)
		if len(a) >= PrefixSize {
			f.Add(append(a[:PrefixSize:PrefixSize], vectortest.Unhex(f, c.Tracker)...), a[PrefixSize:], false)
		}
	}
	// raw = true: the fuzzer controls EM, which is signed with the private
	// key, so every EMSA-PSS-VERIFY step is reached.
	mh := sha512.Sum384(prep)
	for _, c := range emCases {
		salt := make([]byte, c.salt)
		f.Add(prep, encodeEM(mh[:], salt, c.db, c.em), true)
	}
	f.Fuzz(func(t *testing.T, prepared, s []byte, raw bool) {
		if raw {
			if len(s) != SignatureSize {
				return
			}
			if s = rawSign(sk, s); s == nil {
				return
			}
		}
		same(t, v, prepared, s, "fuzz")
	})
}

func TestVerifierConcurrent(t *testing.T) {
	v, _, vec := vectorVerifier(t)
	tr, auth := vectortest.Unhex(t, vec.Tracker), vectortest.Unhex(t, vec.Authorisation)
	bad := bytes.Clone(auth)
	bad[100] ^= 1
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				if v.VerifyAuthorisation(tr, auth) != nil || v.VerifyAuthorisation(tr, bad) == nil {
					t.Error("concurrent verification")
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestVerifierAllocs(t *testing.T) {
	v, _, vec := vectorVerifier(t)
	tr, auth := vectortest.Unhex(t, vec.Tracker), vectortest.Unhex(t, vec.Authorisation)
	// One allocation: bigmod's working Nat (the scrutineer verifies a
	// million authorisations; the garbage must stay small).
	if n := testing.AllocsPerRun(20, func() { _ = v.VerifyAuthorisation(tr, auth) }); n > 1 {
		t.Errorf("%v allocations per valid verification, want at most 1", n)
	}
}
