package blind

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/big"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/unionvote/eballot/crypto/internal/vectortest"

	"filippo.io/bigmod"
	"github.com/cloudflare/circl/blindsign/blindrsa"
)

// circlSign is the reference: circl's blindrsa Signer.BlindSign (math/big,
// m^d mod N without CRT, RSA blinding, fault check).
func circlSign(t testing.TB, sk *rsa.PrivateKey, blinded []byte) []byte {
	t.Helper()
	sig, err := blindrsa.NewSigner(sk).BlindSign(blinded)
	if err != nil {
		t.Fatalf("circl BlindSign: %v", err)
	}
	return sig
}

// signBoth signs with a Signer and with BlindSign (cached Signer) and
// checks both against circl.
func signBoth(t *testing.T, s *Signer, sk *rsa.PrivateKey, blinded []byte, name string) {
	t.Helper()
	want := circlSign(t, sk, blinded)
	got, err := s.BlindSign(blinded)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("%s: Signer.BlindSign differs from circl (err %v)", name, err)
	}
	got, err = BlindSign(sk, blinded)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("%s: BlindSign differs from circl (err %v)", name, err)
	}
}

func fixed(x *big.Int) []byte { return x.FillBytes(make([]byte, SignatureSize)) }

// edgeInputs are in-range messages where the arithmetic has corner cases:
// 1, N−1, multiples of one prime (m mod p = 0 or m mod q = 0), q mod p.
func edgeInputs(sk *rsa.PrivateKey) map[string][]byte {
	p, q, n := sk.Primes[0], sk.Primes[1], sk.N
	one := big.NewInt(1)
	return map[string][]byte{
		"1":       fixed(one),
		"2":       fixed(big.NewInt(2)),
		"N-1":     fixed(new(big.Int).Sub(n, one)),
		"p":       fixed(p),
		"q":       fixed(q),
		"N-p":     fixed(new(big.Int).Sub(n, p)),
		"2q":      fixed(new(big.Int).Lsh(q, 1)),
		"p+1":     fixed(new(big.Int).Add(p, one)),
		"q-1":     fixed(new(big.Int).Sub(q, one)),
		"2^2040":  fixed(new(big.Int).Lsh(one, 2040)),
		"q mod p": fixed(new(big.Int).Mod(q, p)),
	}
}

func TestSignerVector(t *testing.T) {
	v := loadVectors(t)
	sk := vectorKey(t, v)
	s, err := NewSigner(sk)
	if err != nil {
		t.Fatal(err)
	}
	if !s.PublicKey().Equal(&sk.PublicKey) {
		t.Fatal("PublicKey")
	}
	blinded := vectortest.Unhex(t, v.Blinded)
	got, err := s.BlindSign(blinded)
	if err != nil || hex.EncodeToString(got) != v.BlindSig {
		t.Fatalf("vector blind signature differs: %v", err)
	}
	signBoth(t, s, sk, blinded, "vector")
	for name, m := range edgeInputs(sk) {
		signBoth(t, s, sk, m, name)
	}
}

// TestSignerMatchesCircl: 200 random in-range inputs (and the edge cases)
// on each of two freshly generated keys give circl's bytes.
func TestSignerMatchesCircl(t *testing.T) {
	n := 200
	if testing.Short() {
		n = 20
	}
	for k := range 2 {
		sk, err := GenerateIssuerKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		s, err := NewSigner(sk)
		if err != nil {
			t.Fatal(err)
		}
		for name, m := range edgeInputs(sk) {
			signBoth(t, s, sk, m, name)
		}
		nm1 := new(big.Int).Sub(sk.N, big.NewInt(1))
		for i := range n {
			r, err := rand.Int(rand.Reader, nm1) // [0, N−1)
			if err != nil {
				t.Fatal(err)
			}
			m := fixed(r.Add(r, big.NewInt(1))) // [1, N)
			want := circlSign(t, sk, m)
			got, err := s.BlindSign(m)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("key %d input %d (%x): differs from circl (err %v)", k, i, m, err)
			}
		}
	}
}

type rfc9474Vectors struct {
	Description   string `json:"description"`
	N, E, D, P, Q string
	Vectors       []struct {
		Name       string `json:"name"`
		BlindedMsg string `json:"blinded_msg"`
		BlindSig   string `json:"blind_sig"`
	} `json:"vectors"`
}

// TestSignerRFC9474 runs the RFC 9474 Appendix A BlindSign vectors (a
// 4096-bit key, so through newSigner, which skips the 2048-bit policy).
func TestSignerRFC9474(t *testing.T) {
	b, err := os.ReadFile("testdata/rfc9474_blindsign.json")
	if err != nil {
		t.Fatal(err)
	}
	var v rfc9474Vectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	num := func(s string) *big.Int {
		x, ok := new(big.Int).SetString(strings.TrimPrefix(s, "0x"), 16)
		if !ok {
			t.Fatalf("bad number %q", s)
		}
		return x
	}
	sk := &rsa.PrivateKey{
		PublicKey: rsa.PublicKey{N: num(v.N), E: int(num(v.E).Int64())},
		D:         num(v.D),
		Primes:    []*big.Int{num(v.P), num(v.Q)},
	}
	sk.Precompute()
	if err := sk.Validate(); err != nil {
		t.Fatal(err)
	}
	if _, err := NewSigner(sk); err == nil {
		t.Fatal("NewSigner accepted a 4096-bit key")
	}
	s, err := newSigner(sk)
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Vectors) != 4 {
		t.Fatalf("%d vectors", len(v.Vectors))
	}
	for _, c := range v.Vectors {
		blinded := vectortest.Unhex(t, c.BlindedMsg)
		got, err := s.BlindSign(blinded)
		if err != nil || hex.EncodeToString(got) != c.BlindSig {
			t.Errorf("%s: blind signature differs (err %v)", c.Name, err)
		}
		if !bytes.Equal(circlSign(t, sk, blinded), got) {
			t.Errorf("%s: circl differs", c.Name)
		}
	}
}

func TestSignerRejectsInputs(t *testing.T) {
	sk := vectorKey(t, loadVectors(t))
	s, err := NewSigner(sk)
	if err != nil {
		t.Fatal(err)
	}
	n := sk.N
	bad := map[string][]byte{
		"nil":      nil,
		"0 bytes":  {},
		"255":      make([]byte, 255),
		"257":      make([]byte, 257),
		"257 (1)":  append(make([]byte, 256), 1),
		"0":        make([]byte, 256),
		"N":        fixed(n),
		"N+1":      fixed(new(big.Int).Add(n, big.NewInt(1))),
		"2^2048-1": bytes.Repeat([]byte{0xff}, 256),
	}
	for name, m := range bad {
		if sig, err := s.BlindSign(m); err == nil || sig != nil || !errors.Is(err, ErrBlindedMessage) {
			t.Errorf("Signer.BlindSign(%s): %v, want ErrBlindedMessage", name, err)
		}
		if sig, err := BlindSign(sk, m); err == nil || sig != nil || !errors.Is(err, ErrBlindedMessage) {
			t.Errorf("BlindSign(%s): %v, want ErrBlindedMessage", name, err)
		}
	}
}

// flip returns a copy of x with bit i flipped.
func flip(x *big.Int, i int) *big.Int {
	return new(big.Int).SetBit(x, i, x.Bit(i)^1)
}

func TestSignerRejectsKeys(t *testing.T) {
	v := loadVectors(t)
	sk := vectorKey(t, v)
	blinded := vectortest.Unhex(t, v.Blinded)
	bad := map[string]func(k *rsa.PrivateKey){
		"Dp bit":   func(k *rsa.PrivateKey) { k.Precomputed.Dp = flip(k.Precomputed.Dp, 7) },
		"Dq bit":   func(k *rsa.PrivateKey) { k.Precomputed.Dq = flip(k.Precomputed.Dq, 300) },
		"Qinv bit": func(k *rsa.PrivateKey) { k.Precomputed.Qinv = flip(k.Precomputed.Qinv, 0) },
		"D bit":    func(k *rsa.PrivateKey) { k.D = flip(k.D, 1) },
		"p bit": func(k *rsa.PrivateKey) {
			k.Primes = []*big.Int{flip(k.Primes[0], 1), k.Primes[1]}
		},
		"primes swapped": func(k *rsa.PrivateKey) {
			k.Primes = []*big.Int{k.Primes[1], k.Primes[0]}
		},
		"three primes": func(k *rsa.PrivateKey) {
			k.Primes = []*big.Int{k.Primes[0], k.Primes[1], big.NewInt(3)}
		},
		"one prime": func(k *rsa.PrivateKey) { k.Primes = k.Primes[:1] },
		"no CRT values": func(k *rsa.PrivateKey) {
			k.Precomputed = rsa.PrecomputedValues{}
		},
		// A key crypto/rsa never precomputed: Validate checks it in full.
		"hand-built, Dp bit": func(k *rsa.PrivateKey) {
			*k = rsa.PrivateKey{PublicKey: k.PublicKey, D: k.D, Primes: k.Primes,
				Precomputed: rsa.PrecomputedValues{Dp: flip(k.Precomputed.Dp, 7), Dq: k.Precomputed.Dq, Qinv: k.Precomputed.Qinv}}
		},
		"e = 3": func(k *rsa.PrivateKey) { k.E = 3 },
	}
	for name, corrupt := range bad {
		k := *sk // a copy: sk itself stays intact
		corrupt(&k)
		if _, err := NewSigner(&k); err == nil {
			t.Errorf("%s: NewSigner accepted", name)
		}
		if sig, err := BlindSign(&k, blinded); err == nil || sig != nil {
			t.Errorf("%s: BlindSign signed", name)
		}
	}
	if _, err := NewSigner(nil); err == nil {
		t.Error("nil key")
	}
	// The original key still signs (nothing above changed it).
	if got, err := BlindSign(sk, blinded); err != nil || hex.EncodeToString(got) != v.BlindSig {
		t.Fatalf("vector key after the corrupted copies: %v", err)
	}
	// A hand-built key with correct CRT values is fine.
	k := rsa.PrivateKey{PublicKey: sk.PublicKey, D: sk.D, Primes: sk.Primes, Precomputed: rsa.PrecomputedValues{
		Dp: sk.Precomputed.Dp, Dq: sk.Precomputed.Dq, Qinv: sk.Precomputed.Qinv}}
	if got, err := BlindSign(&k, blinded); err != nil || hex.EncodeToString(got) != v.BlindSig {
		t.Fatalf("hand-built key: %v", err)
	}
}

// TestSignerFaultCheck corrupts a Signer after its key checks (as a fault
// in memory or in the computation would): BlindSign must return an error,
// never the faulty signature (which would give gcd(s^e − m, N) = a prime).
func TestSignerFaultCheck(t *testing.T) {
	v := loadVectors(t)
	sk := vectorKey(t, v)
	good, err := NewSigner(sk)
	if err != nil {
		t.Fatal(err)
	}
	blinded := vectortest.Unhex(t, v.Blinded)
	flipByte := func(b []byte, i int) []byte {
		c := bytes.Clone(b)
		c[i] ^= 0x10
		return c
	}
	qInv := func(x *big.Int) *bigmod.Nat {
		n, err := bigmod.NewNat().SetBytes(x.Bytes(), good.p)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	faults := map[string]func(s *Signer){
		"dP":    func(s *Signer) { s.dP = flipByte(s.dP, 100) },
		"dQ":    func(s *Signer) { s.dQ = flipByte(s.dQ, len(s.dQ)-1) },
		"dP+1":  func(s *Signer) { s.dP = fixedLen(new(big.Int).Add(sk.Precomputed.Dp, big.NewInt(1)), len(s.dP)) },
		"qInv":  func(s *Signer) { s.qInv = qInv(flip(sk.Precomputed.Qinv, 3)) },
		"qModN": func(s *Signer) { s.qModN = bigmod.NewNat().SetUint(12345).ExpandFor(s.n) },
		"dP=dQ": func(s *Signer) { s.dP = fixedLen(sk.Precomputed.Dq, len(s.dP)) },
	}
	for name, fault := range faults {
		s := *good
		fault(&s)
		if sig, err := s.BlindSign(blinded); err == nil || sig != nil || errors.Is(err, ErrBlindedMessage) {
			t.Errorf("%s: faulty signature returned", name)
		}
	}
	if got, err := good.BlindSign(blinded); err != nil || hex.EncodeToString(got) != v.BlindSig {
		t.Fatalf("intact signer: %v", err)
	}
}

func fixedLen(x *big.Int, n int) []byte { return x.FillBytes(make([]byte, n)) }

// TestBlindSignCache: BlindSign follows a key changed in place (another
// key's values copied into the same *rsa.PrivateKey), so a cached Signer
// never signs under a stale key.
func TestBlindSignCache(t *testing.T) {
	v := loadVectors(t)
	a := vectorKey(t, v)
	b, err := GenerateIssuerKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	m := vectortest.Unhex(t, v.Blinded)
	if new(big.Int).SetBytes(m).Cmp(b.N) >= 0 {
		m[0] = 0 // keep it in range for both keys
	}
	k := new(rsa.PrivateKey)
	*k = *a
	sa, err := BlindSign(k, m)
	if err != nil || !bytes.Equal(sa, circlSign(t, a, m)) {
		t.Fatal("key a")
	}
	*k = *b
	sb, err := BlindSign(k, m)
	if err != nil || !bytes.Equal(sb, circlSign(t, b, m)) {
		t.Fatal("key b through the same pointer: stale cached signer")
	}
	// Many keys: the cache stays bounded and keeps working.
	for range signerCacheSize + 3 {
		c := *a
		if _, err := BlindSign(&c, m); err != nil {
			t.Fatal(err)
		}
	}
	signerCache.Lock()
	n := len(signerCache.m)
	signerCache.Unlock()
	if n > signerCacheSize {
		t.Fatalf("cache holds %d keys", n)
	}
}

func TestSignerConcurrent(t *testing.T) {
	v := loadVectors(t)
	sk := vectorKey(t, v)
	blinded := vectortest.Unhex(t, v.Blinded)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				if got, err := BlindSign(sk, blinded); err != nil || hex.EncodeToString(got) != v.BlindSig {
					t.Error("concurrent BlindSign")
					return
				}
			}
		}()
	}
	wg.Wait()
}
