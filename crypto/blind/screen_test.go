package blind

// Issue #23 asked for "screening" (Bellare–Garay–Rabin 1998) of the
// authorisations under RSABSSA-SHA384-PSSZERO-Randomized: accept a batch
// when (∏ s_i)^e ≡ ∏ EM_i (mod N), one exponentiation a batch instead of
// one a ballot. These tests record why the protocol does not adopt it
// (docs/protocol.md §8.2, docs/benchmarks.md "Screening the blind-RSA
// checks"): screening is sound for a signer that only signs hashed
// messages, but a blind issuer signs any value it is sent, so one
// issuance can be made to cover the product of many messages, and every
// one of them then passes screening while none has a signature of its
// own. The benchmark measures what screening would have saved.

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha512"
	"math/big"
	"testing"

	"filippo.io/bigmod"
	"github.com/cloudflare/circl/blindsign/blindrsa"

	"github.com/unionvote/eballot/crypto/internal/vectortest"
)

// pssZeroEM is EMSA-PSS-ENCODE with salt length 0 of a prepared message:
// the EM that RSABSSA-SHA384-PSSZERO-Randomized signs, a function of the
// message alone.
func pssZeroEM(prepared []byte) []byte {
	h := sha512.Sum384(prepared)
	return encodeEM(h[:], nil, nil, nil)
}

// screen is the unweighted screening test of a batch: (∏ s_i)^e = ∏ EM_i
// mod N, products reduced as they go (bigmod, public values).
func screen(v *Verifier, ems, sigs [][]byte) bool {
	ps := bigmod.NewNat().SetUint(1).ExpandFor(v.mod)
	pm := bigmod.NewNat().SetUint(1).ExpandFor(v.mod)
	for i := range sigs {
		s, err := bigmod.NewNat().SetBytes(sigs[i], v.mod)
		if err != nil {
			return false
		}
		m, err := bigmod.NewNat().SetBytes(ems[i], v.mod)
		if err != nil {
			return false
		}
		ps.Mul(s, v.mod)
		pm.Mul(m, v.mod)
	}
	return bigmod.NewNat().ExpShortVarTime(ps, v.e, v.mod).Equal(pm) == 1
}

func pssZeroVerify(t testing.TB, pub *rsa.PublicKey, prepared, sig []byte) error {
	t.Helper()
	cv, err := blindrsa.NewVerifier(blindrsa.SHA384PSSZeroRandomized, pub)
	if err != nil {
		t.Fatal(err)
	}
	return cv.Verify(prepared, sig)
}

func randomPrepared(t testing.TB) []byte {
	t.Helper()
	p := make([]byte, PreparedSize)
	if _, err := rand.Read(p); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestScreeningIsNotVerification: the encoder is PSSZERO's (circl accepts
// the issuer's signature on it, and every honest batch passes screening),
// but one blind signature, issued once on the blinded product of many
// messages, makes a batch of that many ballots pass screening although not
// one of its signatures verifies. With per-ballot verification (what the
// ledger and every verifier do) none of them is accepted.
func TestScreeningIsNotVerification(t *testing.T) {
	v, sk, _ := vectorVerifier(t)
	pub := &sk.PublicKey
	n := sk.N

	// Honest batch: the issuer signed each EM; screening and circl agree.
	const k = 64
	preps, ems, sigs := make([][]byte, k), make([][]byte, k), make([][]byte, k)
	for i := range k {
		preps[i] = randomPrepared(t)
		ems[i] = pssZeroEM(preps[i])
		sigs[i] = rawSign(sk, ems[i])
		if err := pssZeroVerify(t, pub, preps[i], sigs[i]); err != nil {
			t.Fatalf("honest PSSZERO signature %d: %v", i, err)
		}
	}
	if !screen(v, ems, sigs) {
		t.Fatal("an honest batch fails screening")
	}

	// One tampered signature fails the batch.
	bad := append([][]byte(nil), sigs...)
	bad[17] = append([]byte(nil), sigs[17]...)
	bad[17][100] ^= 1
	if screen(v, ems, bad) {
		t.Fatal("a batch with a tampered signature passes screening")
	}

	// s_1·r and s_2·r⁻¹: both messages were signed, neither signature is
	// the issuer's, the batch passes.
	r, _ := rand.Int(rand.Reader, n)
	ri := new(big.Int).ModInverse(r, n)
	mul := func(s []byte, x *big.Int) []byte {
		y := new(big.Int).Mul(new(big.Int).SetBytes(s), x)
		return y.Mod(y, n).FillBytes(make([]byte, SignatureSize))
	}
	swapped := append([][]byte(nil), sigs...)
	swapped[0], swapped[1] = mul(sigs[0], r), mul(sigs[1], ri)
	if !screen(v, ems, swapped) {
		t.Fatal("s·r, s'·r⁻¹ fails screening")
	}

	// The forgery: a member blinds the product of the EMs of k messages,
	// the issuer signs that one blinded message (one issuance, as the
	// marked register records it), and the member splits the unblinded
	// root among k signatures.
	fpreps, fems := make([][]byte, k), make([][]byte, k)
	prod := big.NewInt(1)
	for i := range k {
		fpreps[i] = randomPrepared(t)
		fems[i] = pssZeroEM(fpreps[i])
		prod.Mul(prod, new(big.Int).SetBytes(fems[i])).Mod(prod, n)
	}
	b, _ := rand.Int(rand.Reader, n)
	blinded := new(big.Int).Exp(b, big.NewInt(PublicExponent), n)
	blinded.Mul(blinded, prod).Mod(blinded, n)
	bsig, err := BlindSign(sk, blinded.FillBytes(make([]byte, SignatureSize))) // the one issuance
	if err != nil {
		t.Fatal(err)
	}
	root := new(big.Int).SetBytes(bsig)
	root.Mul(root, new(big.Int).ModInverse(b, n)).Mod(root, n) // = (∏ EM_i)^d
	fsigs := make([][]byte, k)
	rest := root
	for i := range k - 1 {
		ti, _ := rand.Int(rand.Reader, n)
		fsigs[i] = ti.FillBytes(make([]byte, SignatureSize))
		rest.Mul(rest, new(big.Int).ModInverse(ti, n)).Mod(rest, n)
	}
	fsigs[k-1] = rest.FillBytes(make([]byte, SignatureSize))
	for i := range k {
		if err := pssZeroVerify(t, pub, fpreps[i], fsigs[i]); err == nil {
			t.Fatalf("forged signature %d verifies on its own", i)
		}
	}
	if !screen(v, fems, fsigs) {
		t.Fatal("expected: one issuance on the product of 64 messages passes screening for all 64")
	}
	// Mixed into an honest batch it passes too: screening cannot say which
	// ballots were authorised.
	if !screen(v, append(ems, fems...), append(sigs, fsigs...)) {
		t.Fatal("expected: the forged ballots pass screening among honest ones")
	}
}

// BenchmarkScreen measures what screening would have saved: per ballot,
// the PSSZERO encoding and two modular multiplications (bigmod Mul, two
// Montgomery multiplications each) plus 1/2048 of one exponentiation
// (screen-2048 is a batch of 2048: divide by 2048), against the per-key
// Verifier's full check of one authorisation (verify-one).
func BenchmarkScreen(b *testing.B) {
	v, sk, _ := vectorVerifier(b)
	const k = 2048
	preps, ems, sigs := make([][]byte, k), make([][]byte, k), make([][]byte, k)
	for i := range k {
		preps[i] = randomPrepared(b)
		ems[i] = pssZeroEM(preps[i])
		sigs[i] = rawSign(sk, ems[i])
	}
	// The PSS-Randomized check of today, per authorisation.
	auth := make([]byte, AuthorisationSize)
	vec := loadVectors(b)
	pub, _ := ParsePublicKey(vectortest.Unhex(b, vec.SPKI))
	tr, a := vectortest.Unhex(b, vec.Tracker), vectortest.Unhex(b, vec.Authorisation)
	copy(auth, a)
	if err := v.VerifyAuthorisation(tr, auth); err != nil || pub.N.Cmp(sk.N) != 0 {
		b.Fatal("vector authorisation", err)
	}
	b.Run("verify-one", func(b *testing.B) {
		cpuLoop(b, func() {
			if err := v.VerifyAuthorisation(tr, auth); err != nil {
				b.Fatal(err)
			}
		})
	})
	// Its parts: the PSSZERO encoding of one message, one bigmod Mul (two
	// Montgomery multiplications).
	b.Run("encode", func(b *testing.B) {
		cpuLoop(b, func() { _ = pssZeroEM(preps[0]) })
	})
	b.Run("mul", func(b *testing.B) {
		x, _ := bigmod.NewNat().SetBytes(sigs[0], v.mod)
		y, _ := bigmod.NewNat().SetBytes(sigs[1], v.mod)
		cpuLoop(b, func() { x.Mul(y, v.mod) })
	})
	b.Run("screen-2048", func(b *testing.B) {
		cpuLoop(b, func() {
			es := make([][]byte, k)
			for i := range k {
				es[i] = pssZeroEM(preps[i])
			}
			if !screen(v, es, sigs) {
				b.Fatal("honest batch fails")
			}
		})
	})
}
