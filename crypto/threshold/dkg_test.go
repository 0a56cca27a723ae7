package threshold

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha3"
	"encoding/json"
	"io"
	"testing"

	"github.com/cloudflare/circl/group"
)

func testRand(label string) io.Reader {
	h := sha3.NewSHAKE256()
	h.Write([]byte(label))
	return h
}

type ceremonyResult struct {
	dealings []*Dealing
	shares   [][]*Share // shares[i][j-1]: dealer i+1 to trustee j
	pub      *PublicKey
	secrets  []*SecretShare
}

// runCeremony runs a DKG among n trustees where dealer badDealer (0: none)
// sends a wrong share to trustee badRecipient and, when answer is true,
// answers the complaint with the correct share.
func runCeremony(t testing.TB, n, k, badDealer, badRecipient int, answer bool) *ceremonyResult {
	t.Helper()
	const cer = "round-trip"
	rnd := testRand("ceremony")
	r := &ceremonyResult{}
	for i := 1; i <= n; i++ {
		d, sh, err := Deal(rnd, cer, n, k, i)
		if err != nil {
			t.Fatal(err)
		}
		// Round trip through the wire encodings as a CLI would.
		db, _ := d.MarshalBinary()
		if d, err = ParseDealing(db); err != nil {
			t.Fatal(err)
		}
		for j := range sh {
			sb, _ := sh[j].MarshalBinary()
			if sh[j], err = ParseShare(sb); err != nil {
				t.Fatal(err)
			}
		}
		r.dealings = append(r.dealings, d)
		r.shares = append(r.shares, sh)
	}
	var sent *Share
	if badDealer > 0 {
		sent = r.shares[badDealer-1][badRecipient-1]
		r.shares[badDealer-1][badRecipient-1] = &Share{Ceremony: cer, Dealer: badDealer, Recipient: badRecipient, Value: g.NewScalar().Add(sent.Value, scalarOf(7))}
	}
	// Round 2: everyone checks everything it received; complaints.
	disq := map[int]bool{}
	for i, d := range r.dealings {
		if err := d.Verify(cer, n, k); err != nil {
			t.Fatal(err)
		}
		for j := 1; j <= n; j++ {
			s := r.shares[i][j-1]
			if err := VerifyShare(d, s); err != nil {
				if i+1 != badDealer || j != badRecipient {
					t.Fatalf("honest share rejected: %v", err)
				}
				c := NewComplaint(s)
				cb, _ := c.MarshalBinary()
				c, err := ParseComplaint(cb)
				if err != nil {
					t.Fatal(err)
				}
				var ans *Share
				if answer {
					ans = sent
				}
				bad, err := Adjudicate(d, c, ans)
				if err != nil {
					t.Fatal(err)
				}
				if bad {
					disq[d.Dealer] = true
				} else {
					r.shares[i][j-1] = ans
				}
			}
		}
	}
	var qual []*Dealing
	for _, d := range r.dealings {
		if !disq[d.Dealer] {
			qual = append(qual, d)
		}
	}
	for j := 1; j <= n; j++ {
		var mine []*Share
		for _, d := range qual {
			mine = append(mine, r.shares[d.Dealer-1][j-1])
		}
		pub, sk, err := Finalise(cer, n, k, qual, j, mine)
		if err != nil {
			t.Fatal(err)
		}
		if r.pub != nil && !r.pub.Equal(pub) {
			t.Fatal("trustees disagree on the public key")
		}
		r.pub = pub
		r.secrets = append(r.secrets, sk)
	}
	return r
}

var testMH = sha256.Sum256([]byte("manifest"))

func testAlphas(m int) []group.Element {
	var out []group.Element
	for i := range m {
		out = append(out, g.HashToElement([]byte{byte(i)}, []byte("test-alpha")))
	}
	return out
}

// decryptAll encrypts known plaintexts m_i·G under K and checks that every
// k-subset of trustees recovers them, and that no (k−1)-subset does.
func TestAnyKDecrypt(t *testing.T) {
	const n, k = 5, 3
	r := runCeremony(t, n, k, 0, 0, false)
	rnd := testRand("any-k")
	// Ciphertexts (α, β) = (s·G, m·G + s·K).
	ms := []uint64{0, 1, 42}
	var alphas, betas []group.Element
	for _, m := range ms {
		s, _ := randomScalar(rnd)
		alphas = append(alphas, g.NewElement().MulGen(s))
		b := g.NewElement().Mul(r.pub.Key, s)
		betas = append(betas, b.Add(b, g.NewElement().MulGen(g.NewScalar().SetUint64(m))))
	}
	partials := make([]*Partial, n)
	for j := range n {
		p, err := PartialDecrypt(rnd, r.pub, r.secrets[j], testMH[:], alphas)
		if err != nil {
			t.Fatal(err)
		}
		partials[j] = p
	}
	for mask := 0; mask < 1<<n; mask++ {
		var set []*Partial
		for j := range n {
			if mask>>j&1 == 1 {
				set = append(set, partials[j])
			}
		}
		switch {
		case len(set) >= k:
			xa, err := Combine(r.pub, testMH[:], alphas, set)
			if err != nil {
				t.Fatal(err)
			}
			for i, m := range ms {
				mG := g.NewElement().Add(betas[i], g.NewElement().Neg(xa[i]))
				if !mG.IsEqual(g.NewElement().MulGen(g.NewScalar().SetUint64(m))) {
					t.Fatalf("subset %05b: wrong plaintext for %d", mask, m)
				}
			}
		case len(set) > 0:
			if _, err := Combine(r.pub, testMH[:], alphas, set); err == nil {
				t.Fatalf("subset %05b of %d trustees combined", mask, len(set))
			}
			if len(set) == k-1 {
				xa := interpolate(set)
				for i, m := range ms {
					mG := g.NewElement().Add(betas[i], g.NewElement().Neg(xa[i]))
					if mG.IsEqual(g.NewElement().MulGen(g.NewScalar().SetUint64(m))) {
						t.Fatalf("k-1 trustees decrypted")
					}
				}
			}
		}
	}
	// Duplicates do not count twice.
	if _, err := Combine(r.pub, testMH[:], alphas, []*Partial{partials[0], partials[0], partials[1]}); err == nil {
		t.Fatal("duplicate partial accepted")
	}
}

func TestCeremonyWithComplaint(t *testing.T) {
	// Dealer 2 cheats trustee 4 and does not answer: disqualified, the other
	// four dealings form the key.
	r := runCeremony(t, 5, 3, 2, 4, false)
	want, err := PublicFromDealings("round-trip", 5, 3, []*Dealing{r.dealings[0], r.dealings[2], r.dealings[3], r.dealings[4]})
	if err != nil || !want.Equal(r.pub) {
		t.Fatal("disqualified dealer still in the key")
	}
	// Dealer 2 cheats trustee 4 but answers with the right share: kept.
	r = runCeremony(t, 5, 3, 2, 4, true)
	want, err = PublicFromDealings("round-trip", 5, 3, r.dealings)
	if err != nil || !want.Equal(r.pub) {
		t.Fatal("answered complaint disqualified the dealer")
	}
}

func TestFinaliseRejects(t *testing.T) {
	r := runCeremony(t, 3, 2, 0, 0, false)
	mine := []*Share{r.shares[0][0], r.shares[1][0], r.shares[2][0]}
	if _, _, err := Finalise("round-trip", 3, 2, r.dealings, 2, mine); err == nil {
		t.Error("shares for trustee 1 accepted by trustee 2")
	}
	if _, _, err := Finalise("round-trip", 3, 2, r.dealings[:1], 1, mine[:1]); err == nil {
		t.Error("fewer than k qualified dealings accepted")
	}
	if _, _, err := Finalise("round-trip", 3, 2, []*Dealing{r.dealings[0], r.dealings[0]}, 1, mine[:2]); err == nil {
		t.Error("duplicate dealer accepted")
	}
	if _, _, err := Finalise("other", 3, 2, r.dealings, 1, mine); err == nil {
		t.Error("other ceremony accepted")
	}
	if _, _, err := Deal(testRand("x"), "c", 33, 2, 1); err == nil {
		t.Error("n = 33 accepted")
	}
}

func TestSchnorrTamper(t *testing.T) {
	ctx := DealingContext("c", 3, 2, 1)
	a, _ := randomScalar(testRand("schnorr"))
	P := g.NewElement().MulGen(a)
	pf, err := ProveSchnorr(testRand("nonce"), ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifySchnorr(ctx, P, pf); err != nil {
		t.Fatal(err)
	}
	enc, _ := pf.MarshalBinary()
	for i := range enc {
		for _, bit := range []byte{1, 0x80} {
			b := bytes.Clone(enc)
			b[i] ^= bit
			if q, err := ParseSchnorrProof(b); err == nil && VerifySchnorr(ctx, P, q) == nil {
				t.Fatalf("flipped byte %d verifies", i)
			}
		}
	}
	for _, c := range [][]byte{DealingContext("c", 3, 2, 2), DealingContext("d", 3, 2, 1), DealingContext("c", 4, 2, 1), DealingContext("c", 3, 3, 1)} {
		if VerifySchnorr(c, P, pf) == nil {
			t.Fatal("other context verifies")
		}
	}
	if VerifySchnorr(ctx, g.NewElement().Add(P, g.Generator()), pf) == nil {
		t.Fatal("other key verifies")
	}
	if VerifySchnorr(ctx, g.Identity(), pf) == nil {
		t.Fatal("identity key verifies")
	}
}

func TestDLEQTamper(t *testing.T) {
	r := runCeremony(t, 3, 2, 0, 0, false)
	alphas := testAlphas(2)
	p, err := PartialDecrypt(testRand("dleq"), r.pub, r.secrets[1], testMH[:], alphas)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyPartial(r.pub, testMH[:], alphas, p); err != nil {
		t.Fatal(err)
	}
	enc, _ := p.MarshalBinary()
	for i := range enc {
		b := bytes.Clone(enc)
		b[i] ^= 1
		if q, err := ParsePartial(b); err == nil && VerifyPartial(r.pub, testMH[:], alphas, q) == nil {
			t.Fatalf("flipped byte %d verifies", i)
		}
	}
	other := sha256.Sum256([]byte("other"))
	if VerifyPartial(r.pub, other[:], alphas, p) == nil {
		t.Error("other manifest hash verifies")
	}
	q := *p
	q.ManifestHash = other
	if VerifyPartial(r.pub, other[:], alphas, &q) == nil {
		t.Error("relabelled manifest hash verifies")
	}
	otherK := *r.pub
	otherK.Key = g.NewElement().Add(r.pub.Key, g.Generator())
	if VerifyPartial(&otherK, testMH[:], alphas, p) == nil {
		t.Error("other K verifies")
	}
	q = *p
	q.Trustee = 3
	if VerifyPartial(r.pub, testMH[:], alphas, &q) == nil {
		t.Error("other trustee index verifies")
	}
	if VerifyPartial(r.pub, testMH[:], []group.Element{alphas[1], alphas[0]}, p) == nil {
		t.Error("swapped α verifies")
	}
	if VerifyPartial(r.pub, testMH[:], alphas[:1], p) == nil {
		t.Error("fewer α verifies")
	}
	if _, err := PartialDecrypt(testRand("x"), r.pub, r.secrets[0], testMH[:], []group.Element{g.Identity()}); err == nil {
		t.Error("identity α accepted")
	}
	if _, err := PartialDecrypt(testRand("x"), &otherK, r.secrets[0], testMH[:], alphas); err != nil {
		// the key K is only in the transcript; X_j must match
		t.Log(err)
	}
}

func TestJSONStrict(t *testing.T) {
	r := runCeremony(t, 3, 2, 0, 0, false)
	dj, _ := json.Marshal(r.dealings[0])
	var d Dealing
	if err := json.Unmarshal(dj, &d); err != nil {
		t.Fatal(err)
	}
	bad := [][]byte{
		append(bytes.Clone(dj), []byte(" {}")...),
		bytes.Replace(dj, []byte(`"version":1`), []byte(`"version":2`), 1),
		bytes.Replace(dj, []byte(`"version":1`), []byte(`"version":1,"x":0`), 1),
		bytes.Replace(dj, []byte(`"threshold":2`), []byte(`"threshold":3`), 1),
	}
	for i, b := range bad {
		if err := json.Unmarshal(b, new(Dealing)); err == nil {
			t.Errorf("bad dealing JSON %d accepted", i)
		}
	}
}
