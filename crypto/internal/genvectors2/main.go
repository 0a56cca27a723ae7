// Command genvectors2 writes the deterministic test vectors
// crypto/testdata/dkg_v1.json, blind_v1.json and receipt_v1.json.
//
// Run from the module root: go run ./crypto/internal/genvectors2
//
// Everything is derived from fixed seeds (SHAKE-256 streams), except the RSA
// issuer key: crypto/rsa key generation is not reproducible from a reader,
// so the key is generated once and then read back from the existing
// blind_v1.json on every later run (delete the file to make a new key).
package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha3"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"math/big"
	"os"
	"path/filepath"
	"strings"

	"github.com/cloudflare/circl/group"
	"github.com/unionvote/eballot/crypto/blind"
	"github.com/unionvote/eballot/crypto/receipt"
	"github.com/unionvote/eballot/crypto/threshold"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// seeded returns a deterministic reader: SHAKE-256("eballot-vectors/" ‖ label).
func seeded(label string) io.Reader {
	h := sha3.NewSHAKE256()
	h.Write([]byte("eballot-vectors/" + label))
	return h
}

func hx(b []byte) string { return hex.EncodeToString(b) }

func must[T any](v T, err error) T {
	if err != nil {
		log.Fatal(err)
	}
	return v
}

func raw(v any) json.RawMessage { return must(json.Marshal(v)) }

func elemHex(e group.Element) string { return hx(must(e.MarshalBinary())) }

func write(dir, name string, v any) {
	b := must(json.MarshalIndent(v, "", "  "))
	b = append(b, '\n')
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Println("wrote", filepath.Join(dir, name))
}

func main() {
	dir := flag.String("out", "crypto/testdata", "output directory")
	flag.Parse()
	write(*dir, "dkg_v1.json", genDKG())
	write(*dir, "blind_v1.json", genBlind(filepath.Join(*dir, "blind_v1.json")))
	write(*dir, "receipt_v1.json", genReceipt())
}

// ---------------------------------------------------------------- DKG

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
		dealings[i], shares[i] = must2(threshold.Deal(rnd, ceremony, n, k, i+1))
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
		partials[j] = must(threshold.PartialDecrypt(rnd, pub, secrets[j], mh[:], alphas))
	}
	type combo struct {
		Trustees []int    `json:"trustees"`
		XAlpha   []string `json:"x_alpha"`
	}
	var combos []combo
	for a := 0; a < n; a++ {
		for b := a + 1; b < n; b++ {
			out := must(threshold.Combine(pub, mh[:], alphas, []*threshold.Partial{partials[a], partials[b]}))
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
		d := must(threshold.ParseDealing(must(dealings[0].MarshalBinary())))
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
		p := must(threshold.ParsePartial(must(partials[0].MarshalBinary())))
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
	db := must(dealings[0].MarshalBinary())
	pb := must(partials[0].MarshalBinary())
	sb := must(shares[0][1].MarshalBinary())
	cb := must(complaint.MarshalBinary())
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
		secretHex = append(secretHex, hx(must(s.MarshalBinary())))
		partialBin = append(partialBin, hx(must(partials[j].MarshalBinary())))
		partialJSON = append(partialJSON, raw(partials[j]))
	}
	var dealingJSON, sharesJSON []json.RawMessage
	for i, d := range dealings {
		dealingJSON = append(dealingJSON, raw(d))
		dealingBin = append(dealingBin, hx(must(d.MarshalBinary())))
		contexts = append(contexts, hx(threshold.DealingContext(ceremony, n, k, i+1)))
		for _, s := range shares[i] {
			sharesJSON = append(sharesJSON, raw(s))
			shareBin = append(shareBin, hx(must(s.MarshalBinary())))
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

func must2[A, B any](a A, b B, err error) (A, B) {
	if err != nil {
		log.Fatal(err)
	}
	return a, b
}

// ---------------------------------------------------------------- blind

func genBlind(existing string) any {
	var sk *rsa.PrivateKey
	if b, err := os.ReadFile(existing); err == nil {
		var old struct {
			PKCS8 string `json:"private_key_pkcs8"`
		}
		if err := json.Unmarshal(b, &old); err == nil && old.PKCS8 != "" {
			k := must(x509.ParsePKCS8PrivateKey(must(hex.DecodeString(old.PKCS8))))
			sk = k.(*rsa.PrivateKey)
		}
	}
	if sk == nil {
		log.Print("generating a new RSA issuer key for blind_v1.json")
		sk = must(blind.GenerateIssuerKey(rand.Reader))
	}
	pub := &sk.PublicKey
	spki := must(blind.MarshalPublicKey(pub))
	rnd := seeded("blind_v1")
	tracker := sha256.Sum256([]byte("blind_v1 tracker"))
	prepared := must(blind.Prepare(rnd, tracker[:]))
	blinded, st, err := blind.Blind(rnd, pub, prepared)
	if err != nil {
		log.Fatal(err)
	}
	bsig := must(blind.BlindSign(sk, blinded))
	auth := must(st.Finalize(bsig))
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
		return hx(must(x509.MarshalPKIXPublicKey(&rsa.PublicKey{N: n, E: e})))
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
		"private_key_pkcs8": hx(must(x509.MarshalPKCS8PrivateKey(sk))),
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

// ---------------------------------------------------------------- receipt

const electionID = "test-election-1"

func noteKeys(seed []byte, name string) (skey, vkey string) {
	priv := ed25519.NewKeyFromSeed(seed)
	vkey = must(note.NewEd25519VerifierKey(name, priv.Public().(ed25519.PublicKey)))
	parts := strings.Split(vkey, "+")
	skey = "PRIVATE+KEY+" + name + "+" + parts[1] + "+" + base64.StdEncoding.EncodeToString(append([]byte{1}, seed...))
	return
}

func hashesHex(hs []tlog.Hash) []string {
	out := []string{}
	for _, h := range hs {
		out = append(out, hx(h[:]))
	}
	return out
}

func genReceipt() any {
	origin := receipt.Origin(electionID)
	seed := sha256.Sum256([]byte("receipt_v1 ledger key seed"))
	skey, vkey := noteKeys(seed[:], "ledger.eballot.test")
	signer := must(note.NewSigner(skey))
	otherSeed := sha256.Sum256([]byte("receipt_v1 other key seed"))
	otherSkey, otherVkey := noteKeys(otherSeed[:], "ledger.eballot.test")
	otherSigner := must(note.NewSigner(otherSkey))

	rnd := seeded("receipt_v1")
	mh := sha256.Sum256([]byte("receipt_v1 manifest"))
	const size = 7
	var log receipt.MemoryLog
	var entries, leaves []string
	var trackers [][32]byte
	var entryBytes [][]byte
	for i := range size {
		// Synthetic ballot bytes: version 1 ‖ manifest_hash ‖ style 0 ‖ nq 1 ‖
		// 64 filler bytes (not a decodable ballot; receipts only hash it).
		ballot := append([]byte{1}, mh[:]...)
		ballot = append(ballot, 0, 0, 0, 1)
		filler := make([]byte, 64)
		io.ReadFull(rnd, filler)
		ballot = append(ballot, filler...)
		t := must(receipt.Tracker(ballot))
		auth := make([]byte, 288)
		io.ReadFull(rnd, auth)
		e := must(receipt.EntryBytes(t[:], auth, ballot))
		must(log.Append(e))
		entries = append(entries, hx(e))
		l := receipt.LeafHash(e)
		leaves = append(leaves, hx(l[:]))
		trackers = append(trackers, t)
		entryBytes = append(entryBytes, e)
		_ = i
	}
	type rootV struct {
		Size int64  `json:"size"`
		Root string `json:"root"`
	}
	var roots []rootV
	cps := map[int64]receipt.Checkpoint{}
	for s := int64(0); s <= size; s++ {
		c := must(log.Checkpoint(origin, s))
		cps[s] = c
		roots = append(roots, rootV{s, hx(c.Root[:])})
	}
	type cpV struct {
		Size   int64  `json:"size"`
		Text   string `json:"text"`
		Signed string `json:"signed"`
	}
	signed := map[int64][]byte{}
	var checkpoints []cpV
	for _, s := range []int64{3, 5, 7} {
		signed[s] = must(receipt.SignCheckpoint(cps[s], signer))
		checkpoints = append(checkpoints, cpV{s, string(must(cps[s].Format())), string(signed[s])})
	}
	type inclV struct {
		Index int64    `json:"index"`
		Size  int64    `json:"size"`
		Proof []string `json:"proof"`
	}
	var incl []inclV
	for _, s := range []int64{5, 7} {
		for i := int64(0); i < s; i++ {
			incl = append(incl, inclV{i, s, hashesHex(must(log.ProveInclusion(s, i)))})
		}
	}
	type consV struct {
		Old   int64    `json:"old"`
		New   int64    `json:"new"`
		Proof []string `json:"proof"`
	}
	var cons []consV
	for _, pr := range [][2]int64{{1, 7}, {3, 5}, {3, 7}, {4, 7}, {5, 7}, {6, 7}, {2, 3}} {
		cons = append(cons, consV{pr[0], pr[1], hashesHex(must(log.ProveConsistency(pr[1], pr[0])))})
	}

	// A receipt for entry 2 at size 5, checked against the size-7 checkpoint.
	const ri, rs = 2, 5
	rc := receipt.NewReceipt(electionID, trackers[ri], ri, must(log.ProveInclusion(rs, ri)), signed[rs])
	rcJSON := raw(rc)
	consistency := must(log.ProveConsistency(7, rs))

	mod := func(f func(m map[string]any)) json.RawMessage {
		var m map[string]any
		json.Unmarshal(rcJSON, &m)
		f(m)
		return raw(m)
	}
	type invR struct {
		Name        string          `json:"name"`
		Stage       string          `json:"stage"` // "parse" or "verify"
		Receipt     json.RawMessage `json:"receipt"`
		Entry       string          `json:"entry"`
		Later       string          `json:"later_checkpoint,omitempty"`
		Consistency []string        `json:"consistency_proof,omitempty"`
	}
	entry := hx(entryBytes[ri])
	var invalid []invR
	add := func(name, stage string, r json.RawMessage, e string) {
		invalid = append(invalid, invR{Name: name, Stage: stage, Receipt: r, Entry: e})
	}
	for h := range rc.InclusionProof {
		add(fmt.Sprintf("inclusion proof hash %d flipped", h), "verify", mod(func(m map[string]any) {
			p := m["inclusion_proof"].([]any)
			b := must(hex.DecodeString(p[h].(string)))
			b[0] ^= 1
			p[h] = hx(b)
		}), entry)
	}
	add("inclusion proof hash dropped", "verify", mod(func(m map[string]any) {
		p := m["inclusion_proof"].([]any)
		m["inclusion_proof"] = p[:len(p)-1]
	}), entry)
	add("inclusion proof hash added", "verify", mod(func(m map[string]any) {
		m["inclusion_proof"] = append(m["inclusion_proof"].([]any), leaves[0])
	}), entry)
	add("index + 1", "verify", mod(func(m map[string]any) { m["index"] = ri + 1 }), entry)
	add("index = size", "verify", mod(func(m map[string]any) { m["index"] = rs }), entry)
	add("index negative", "parse", mod(func(m map[string]any) { m["index"] = -1 }), entry)
	text := string(must(cps[rs].Format()))
	sig := string(signed[rs][len(text):])
	add("checkpoint size changed in signed text", "verify", mod(func(m map[string]any) {
		m["checkpoint"] = strings.Replace(text, "\n5\n", "\n6\n", 1) + sig
	}), entry)
	add("checkpoint root changed in signed text", "verify", mod(func(m map[string]any) {
		r := cps[4].Root
		_ = r
		m["checkpoint"] = fmt.Sprintf("%s\n5\n%s\n", origin, base64.StdEncoding.EncodeToString(r[:])) + sig
	}), entry)
	add("checkpoint of size 6 (validly signed)", "verify", mod(func(m map[string]any) {
		m["checkpoint"] = string(must(receipt.SignCheckpoint(cps[6], signer)))
	}), entry)
	add("checkpoint signature flipped", "verify", mod(func(m map[string]any) {
		s := must(base64.StdEncoding.DecodeString(strings.TrimSuffix(strings.Fields(sig)[2], "\n")))
		s[len(s)-1] ^= 1
		m["checkpoint"] = text + "\n— ledger.eballot.test " + base64.StdEncoding.EncodeToString(s) + "\n"
	}), entry)
	add("checkpoint signed by another key", "verify", mod(func(m map[string]any) {
		m["checkpoint"] = string(must(receipt.SignCheckpoint(cps[rs], otherSigner)))
	}), entry)
	add("checkpoint origin of another election (validly signed)", "verify", mod(func(m map[string]any) {
		c := cps[rs]
		c.Origin = receipt.Origin("other-election")
		m["checkpoint"] = string(must(receipt.SignCheckpoint(c, signer)))
	}), entry)
	add("checkpoint with extra line (validly signed)", "verify", mod(func(m map[string]any) {
		m["checkpoint"] = string(must(note.Sign(&note.Note{Text: text + "extension\n"}, signer)))
	}), entry)
	add("election id changed", "verify", mod(func(m map[string]any) { m["election_id"] = "other-election" }), entry)
	add("tracker of another entry (short code updated)", "verify", mod(func(m map[string]any) {
		m["tracker"] = hx(trackers[3][:])
		m["short_code"] = receipt.ShortCode(trackers[3])
	}), entry)
	add("short code changed", "parse", mod(func(m map[string]any) { m["short_code"] = receipt.ShortCode(trackers[3]) }), entry)
	add("tracker uppercase hex", "parse", mod(func(m map[string]any) { m["tracker"] = strings.ToUpper(m["tracker"].(string)) }), entry)
	add("unknown field", "parse", mod(func(m map[string]any) { m["extra"] = 1 }), entry)
	add("version 2", "parse", mod(func(m map[string]any) { m["version"] = 2 }), entry)
	flipped := bytes.Clone(entryBytes[ri])
	flipped[len(flipped)-1] ^= 1
	add("entry ballot byte flipped", "verify", rcJSON, hx(flipped))
	flipped = bytes.Clone(entryBytes[ri])
	flipped[40] ^= 1
	add("entry authorisation byte flipped", "verify", rcJSON, hx(flipped))
	add("entry of another ballot", "verify", rcJSON, entries[3])

	laterBad := func(name string, later []byte, p tlog.TreeProof) {
		invalid = append(invalid, invR{Name: name, Stage: "against", Receipt: rcJSON, Entry: entry, Later: string(later), Consistency: hashesHex(p)})
	}
	for h := range consistency {
		p := append(tlog.TreeProof(nil), consistency...)
		p[h][5] ^= 1
		laterBad(fmt.Sprintf("consistency hash %d flipped", h), signed[7], p)
	}
	laterBad("consistency proof truncated", signed[7], consistency[:len(consistency)-1])
	laterBad("later checkpoint smaller", signed[3], must(log.ProveConsistency(5, 3)))
	laterBad("later checkpoint from another key", must(receipt.SignCheckpoint(cps[7], otherSigner)), consistency)
	c7o := cps[7]
	c7o.Origin = receipt.Origin("other-election")
	laterBad("later checkpoint other origin", must(receipt.SignCheckpoint(c7o, signer)), consistency)
	c7r := cps[7]
	c7r.Root[0] ^= 1
	laterBad("later checkpoint with forked root", must(receipt.SignCheckpoint(c7r, signer)), consistency)

	badCP := []map[string]string{}
	addCP := func(name, s string) { badCP = append(badCP, map[string]string{"name": name, "signed": s}) }
	signText := func(t string) string { return string(must(note.Sign(&note.Note{Text: t}, signer))) }
	root5 := cps[5].Root
	r5 := base64.StdEncoding.EncodeToString(root5[:])
	addCP("extra line", signText(text+"x\n"))
	addCP("size with leading zero", signText(origin+"\n05\n"+r5+"\n"))
	addCP("size with plus sign", signText(origin+"\n+5\n"+r5+"\n"))
	addCP("size too large", signText(origin+"\n1099511627777\n"+r5+"\n"))
	addCP("root unpadded base64", signText(origin+"\n5\n"+strings.TrimRight(r5, "=")+"\n"))
	addCP("root url-safe / bad base64", signText(origin+"\n5\n"+strings.ReplaceAll(strings.ReplaceAll(r5, "+", "-"), "/", "_")+"!\n"))
	addCP("root 31 bytes", signText(origin+"\n5\n"+base64.StdEncoding.EncodeToString(root5[:31])+"\n"))
	addCP("empty origin", signText("\n5\n"+r5+"\n"))
	addCP("size 0 with non-empty root", signText(origin+"\n0\n"+r5+"\n"))
	addCP("signature by another key", string(must(receipt.SignCheckpoint(cps[5], otherSigner))))
	addCP("unsigned", text+"\n")

	return map[string]any{
		"description":        "eBallot protocol v1 §6: RFC 6962 ledger over entry_bytes = T ‖ authorisation ‖ ballot_bytes, C2SP checkpoints as sumdb notes, receipts. Entries are synthetic (ballot bytes are not decodable ballots). See crypto/testdata/README.md.",
		"election_id":        electionID,
		"origin":             origin,
		"ledger_key_seed":    hx(seed[:]),
		"signer_key":         skey,
		"verifier_key":       vkey,
		"other_verifier_key": otherVkey,
		"manifest_hash":      hx(mh[:]),
		"entries":            entries,
		"leaves":             leaves,
		"roots":              roots,
		"checkpoints":        checkpoints,
		"inclusion_proofs":   incl,
		"consistency_proofs": cons,
		"receipt": map[string]any{
			"receipt":           rcJSON,
			"entry":             entry,
			"later_checkpoint":  string(signed[7]),
			"consistency_proof": hashesHex(consistency),
		},
		"invalid_receipts":    invalid,
		"invalid_checkpoints": badCP,
	}
}
