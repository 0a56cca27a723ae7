package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"log"
	"strings"

	"github.com/cloudflare/circl/group"
	"github.com/unionvote/eballot/crypto/threshold"
)

// dkg_v1.json: threshold key ceremony and tally decryption (crypto/threshold).

const ceremony = "test-election-1"

type namedJSON struct {
	Name string          `json:"name"`
	Obj  json.RawMessage `json:"dealing"`
}

type partialCase struct {
	Name         string          `json:"name"`
	ManifestHash string          `json:"manifest_hash"`
	PublicKey    json.RawMessage `json:"public_key"`
	Alphas       []string        `json:"alphas"`
	Partial      json.RawMessage `json:"partial"`
}

type decodeCase struct {
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	Format string `json:"format"` // "binary" (hex) or "json"
	Data   string `json:"data"`
}

func genDKG() any {
	const n, k = 3, 2
	rnd := seeded("dkg_v1")
	dealings := make([]*threshold.Dealing, n)
	shares := make([][]*threshold.Share, n) // shares[i][j-1]: dealer i+1 → j
	for i := range n {
		dealings[i], shares[i] = get2(threshold.Deal(rnd, ceremony, n, k, i+1))
	}
	var pub *threshold.PublicKey
	secrets := make([]*threshold.SecretShare, n)
	for j := 1; j <= n; j++ {
		var mine []*threshold.Share
		for i := range n {
			mine = append(mine, shares[i][j-1])
		}
		p, s, err := threshold.Finalise(ceremony, n, k, dealings, j, mine)
		if err != nil {
			log.Fatal(err)
		}
		pub, secrets[j-1] = p, s
	}
	mh := sha256.Sum256([]byte("dkg_v1 manifest"))
	g := group.Ristretto255
	var alphas []group.Element
	for i := range 3 {
		alphas = append(alphas, g.HashToElement([]byte{byte(i)}, []byte("eballot-vectors/alpha")))
	}
	partials := make([]*threshold.Partial, n)
	for j := range n {
		partials[j] = get(threshold.PartialDecrypt(rnd, pub, secrets[j], mh[:], alphas))
	}
	type combo struct {
		Trustees []int    `json:"trustees"`
		XAlpha   []string `json:"x_alpha"`
	}
	var combos []combo
	for a := 0; a < n; a++ {
		for b := a + 1; b < n; b++ {
			out := get(threshold.Combine(pub, mh[:], alphas, []*threshold.Partial{partials[a], partials[b]}))
			c := combo{Trustees: []int{a + 1, b + 1}}
			for _, e := range out {
				c.XAlpha = append(c.XAlpha, elemHex(e))
			}
			combos = append(combos, c)
		}
	}

	// Bad share: dealer 3 sends trustee 1 f_3(1)+1.
	good := shares[2][0]
	bad := &threshold.Share{Ceremony: ceremony, Dealer: 3, Recipient: 1, Value: g.NewScalar().Add(good.Value, g.NewScalar().SetUint64(1))}
	complaint := threshold.NewComplaint(bad)
	unjustified := threshold.NewComplaint(shares[0][1])
	wrongAnswer := &threshold.Share{Ceremony: ceremony, Dealer: 3, Recipient: 1, Value: g.NewScalar().Add(good.Value, g.NewScalar().SetUint64(2))}

	// Tampered dealings (all must fail Dealing.Verify).
	var badDealings []namedJSON
	tamperDealing := func(name string, f func(d *threshold.Dealing)) {
		d := get(threshold.ParseDealing(get(dealings[0].MarshalBinary())))
		f(d)
		badDealings = append(badDealings, namedJSON{name, raw(d)})
	}
	one := g.NewScalar().SetUint64(1)
	tamperDealing("proof z + 1", func(d *threshold.Dealing) { d.Proof.Z = g.NewScalar().Add(d.Proof.Z, one) })
	tamperDealing("proof A replaced", func(d *threshold.Dealing) { d.Proof.A = g.NewElement().Add(d.Proof.A, g.Generator()) })
	tamperDealing("C_0 replaced", func(d *threshold.Dealing) { d.Commitments[0] = g.NewElement().Add(d.Commitments[0], g.Generator()) })
	tamperDealing("other dealer index", func(d *threshold.Dealing) { d.Dealer = 2 })
	tamperDealing("proof of dealer 2", func(d *threshold.Dealing) { d.Proof = dealings[1].Proof })
	tamperDealing("other ceremony", func(d *threshold.Dealing) { d.Ceremony = "other-election" })

	// Tampered partials (all must fail VerifyPartial).
	pubJSON := raw(pub)
	ah := func(as []group.Element) []string {
		var s []string
		for _, a := range as {
			s = append(s, elemHex(a))
		}
		return s
	}
	var badPartials []partialCase
	tamperPartial := func(name string, mhv []byte, pk json.RawMessage, as []group.Element, f func(p *threshold.Partial)) {
		p := get(threshold.ParsePartial(get(partials[0].MarshalBinary())))
		if f != nil {
			f(p)
		}
		badPartials = append(badPartials, partialCase{name, hx(mhv), pk, ah(as), raw(p)})
	}
	otherMH := sha256.Sum256([]byte("other manifest"))
	otherPub := *pub
	otherPub.Key = g.NewElement().Add(pub.Key, g.Generator())
	swapped := []group.Element{alphas[1], alphas[0], alphas[2]}
	tamperPartial("proof z + 1", mh[:], pubJSON, alphas, func(p *threshold.Partial) { p.Proofs[0].Z = g.NewScalar().Add(p.Proofs[0].Z, one) })
	tamperPartial("proof A replaced", mh[:], pubJSON, alphas, func(p *threshold.Partial) { p.Proofs[1].A = g.NewElement().Add(p.Proofs[1].A, g.Generator()) })
	tamperPartial("proof B replaced", mh[:], pubJSON, alphas, func(p *threshold.Partial) { p.Proofs[2].B = g.NewElement().Add(p.Proofs[2].B, g.Generator()) })
	tamperPartial("D replaced", mh[:], pubJSON, alphas, func(p *threshold.Partial) { p.D[0] = g.NewElement().Add(p.D[0], g.Generator()) })
	tamperPartial("other manifest hash", otherMH[:], pubJSON, alphas, func(p *threshold.Partial) { p.ManifestHash = otherMH })
	tamperPartial("other election key K", mh[:], raw(&otherPub), alphas, nil)
	tamperPartial("other trustee index", mh[:], pubJSON, alphas, func(p *threshold.Partial) { p.Trustee = 2 })
	tamperPartial("swapped alphas", mh[:], pubJSON, swapped, nil)
	tamperPartial("proofs swapped", mh[:], pubJSON, alphas, func(p *threshold.Partial) { p.Proofs[0], p.Proofs[1] = p.Proofs[1], p.Proofs[0] })

	// Undecodable objects.
	db := get(dealings[0].MarshalBinary())
	pb := get(partials[0].MarshalBinary())
	sb := get(shares[0][1].MarshalBinary())
	cb := get(complaint.MarshalBinary())
	identity := make([]byte, 32)
	nonCanon := bytes.Repeat([]byte{0xff}, 32)
	withAt := func(b []byte, off int, v []byte) []byte {
		c := bytes.Clone(b)
		copy(c[off:], v)
		return c
	}
	cerLen := 4 + len(ceremony)
	dealOff := 2 + cerLen + 6 // first commitment
	dj := string(raw(dealings[0]))
	decodes := []decodeCase{
		{"dealing: truncated", "dealing", "binary", hx(db[:len(db)-1])},
		{"dealing: trailing byte", "dealing", "binary", hx(append(bytes.Clone(db), 0))},
		{"dealing: wrong version", "dealing", "binary", hx(withAt(db, 0, []byte{2}))},
		{"dealing: wrong kind", "dealing", "binary", hx(withAt(db, 1, []byte{4}))},
		{"dealing: identity commitment", "dealing", "binary", hx(withAt(db, dealOff, identity))},
		{"dealing: non-canonical commitment", "dealing", "binary", hx(withAt(db, dealOff, nonCanon))},
		{"dealing: non-canonical z", "dealing", "binary", hx(withAt(db, len(db)-32, nonCanon))},
		{"dealing: n = 33", "dealing", "binary", hx(withAt(db, 2+cerLen, []byte{0, 33}))},
		{"dealing: k = 0", "dealing", "binary", hx(withAt(db, 2+cerLen+2, []byte{0, 0}))},
		{"dealing: unknown JSON field", "dealing", "json", strings.Replace(dj, `{"version":1`, `{"extra":1,"version":1`, 1)},
		{"dealing: uppercase hex", "dealing", "json", strings.Replace(dj, hx(db[len(db)-64:]), strings.ToUpper(hx(db[len(db)-64:])), 1)},
		{"share: non-canonical value", "share", "binary", hx(withAt(sb, len(sb)-32, nonCanon))},
		{"share: bad ceremony id", "share", "binary", hx(withAt(sb, 6, []byte("T")))},
		{"complaint: share kind byte", "complaint", "binary", hx(withAt(cb, 1, []byte{2}))},
		{"partial: identity D", "partial", "binary", hx(withAt(pb, 40, identity))},
		{"partial: count too large", "partial", "binary", hx(withAt(pb, 36, []byte{0, 0, 0, 4}))},
		{"partial: zero count", "partial", "binary", hx(pb[:40][:36:36])},
		{"partial: non-canonical z", "partial", "binary", hx(withAt(pb, 40+32+64, nonCanon))},
	}
	decodes[len(decodes)-2].Data = hx(append(bytes.Clone(pb[:36]), 0, 0, 0, 0))

	var secretHex, dealingBin, shareJSON, shareBin, partialBin, contexts []string
	var partialJSON []json.RawMessage
	for j, s := range secrets {
		secretHex = append(secretHex, hx(get(s.MarshalBinary())))
		partialBin = append(partialBin, hx(get(partials[j].MarshalBinary())))
		partialJSON = append(partialJSON, raw(partials[j]))
	}
	var dealingJSON, sharesJSON []json.RawMessage
	for i, d := range dealings {
		dealingJSON = append(dealingJSON, raw(d))
		dealingBin = append(dealingBin, hx(get(d.MarshalBinary())))
		contexts = append(contexts, hx(threshold.DealingContext(ceremony, n, k, i+1)))
		for _, s := range shares[i] {
			sharesJSON = append(sharesJSON, raw(s))
			shareBin = append(shareBin, hx(get(s.MarshalBinary())))
		}
	}
	_ = shareJSON
	return map[string]any{
		"description":      "eBallot protocol v1 §7: Pedersen/Feldman DKG (n=3, k=2) over ristretto255, partial decryptions with DLEQ proofs, Lagrange combination. See crypto/testdata/README.md.",
		"ceremony":         ceremony,
		"n":                n,
		"threshold":        k,
		"schnorr_contexts": contexts,
		"dealings":         dealingJSON,
		"dealings_binary":  dealingBin,
		"shares":           sharesJSON,
		"shares_binary":    shareBin,
		"public_key":       pub,
		"secret_shares":    secretHex,
		"manifest_hash":    hx(mh[:]),
		"alphas":           ah(alphas),
		"partials":         partialJSON,
		"partials_binary":  partialBin,
		"combinations":     combos,
		"complaint": map[string]any{
			"bad_share":                    raw(bad),
			"complaint":                    raw(complaint),
			"complaint_binary":             hx(cb),
			"disqualify_without_answer":    true,
			"valid_answer":                 raw(good),
			"disqualify_with_valid_answer": false,
			"wrong_answer":                 raw(wrongAnswer),
			"disqualify_with_wrong_answer": true,
			"unjustified_complaint":        raw(unjustified),
			"disqualify_unjustified":       false,
		},
		"invalid_dealings":  badDealings,
		"invalid_partials":  badPartials,
		"invalid_encodings": decodes,
	}
}

func get2[A, B any](a A, b B, err error) (A, B) {
	if err != nil {
		log.Fatal(err)
	}
	return a, b
}
