package main

// The shuffle and ranked vectors (protocol §9): shuffle_v1.json and
// ranked_v1.json. Every random value comes from a SHAKE-256 stream of a fixed
// label (seeded), read in the order the code draws it (crypto/shuffle: 8
// bytes per permutation draw, 64 bytes per scalar; crypto/proof and
// crypto/elgamal: 64 bytes per scalar), so the files are reproducible byte
// for byte. Another implementation need not reproduce the bytes: it must
// accept every valid case and reject every invalid one.

import (
	"crypto/sha256"
	"encoding/json"
	"log"
	"slices"

	"github.com/cloudflare/circl/group"
	"github.com/gtank/ristretto255"
	"github.com/unionvote/eballot/crypto/elgamal"
	"github.com/unionvote/eballot/crypto/internal/enc"
	"github.com/unionvote/eballot/crypto/ranked"
	"github.com/unionvote/eballot/crypto/shuffle"
	"github.com/unionvote/eballot/crypto/threshold"
)

// ceremony runs a deterministic 2-of-3 key ceremony.
func mixCeremony(label string) (*threshold.PublicKey, []*threshold.SecretShare, *elgamal.PublicKey) {
	const id, n, k = "test-election-1", 3, 2
	r := seeded(label)
	var dealings []*threshold.Dealing
	received := make([][]*threshold.Share, n+1)
	for i := 1; i <= n; i++ {
		d, shares := must2(threshold.Deal(r, id, n, k, i))
		dealings = append(dealings, d)
		for _, s := range shares {
			received[s.Recipient] = append(received[s.Recipient], s)
		}
	}
	var pub *threshold.PublicKey
	var sks []*threshold.SecretShare
	for j := 1; j <= n; j++ {
		p, sk := must2(threshold.Finalise(id, n, k, dealings, j, received[j]))
		pub = p
		sks = append(sks, sk)
	}
	return pub, sks, get(elgamal.ParsePublicKey(enc.MarshalElement(pub.Key)))
}

func must2[A, B any](a A, b B, err error) (A, B) {
	if err != nil {
		log.Fatal(err)
	}
	return a, b
}

func listHex(l *shuffle.List) string { return hx(get(l.MarshalBinary())) }

// ------------------------------------------------------------------ shuffle

type shuffleCase struct {
	Name        string `json:"name"`
	ElectionKey string `json:"election_key,omitempty"`
	Label       string `json:"label,omitempty"`
	Context     string `json:"context,omitempty"`
	Input       string `json:"input,omitempty"`
	Output      string `json:"output,omitempty"`
	Proof       string `json:"proof,omitempty"`
	Error       string `json:"error"`
}

type decryptionCase struct {
	Name    string   `json:"name"`
	Partial []string `json:"partials"`
	Error   string   `json:"error"`
}

func genShuffle() any {
	pub, sks, key := mixCeremony("shuffle_v1/ceremony")
	r := seeded("shuffle_v1")
	mh := sha256.Sum256([]byte("eballot-vectors/shuffle_v1/manifest"))
	const n, w = 5, 2
	values := make([][]uint64, n)
	rows := make([][]*elgamal.Ciphertext, n)
	for i := range rows {
		for k := 0; k < w; k++ {
			v := uint64(10*i + k)
			values[i] = append(values[i], v)
			c, _ := must2(elgamal.EncryptRand(key, v, r))
			rows[i] = append(rows[i], c)
		}
	}
	in := get(shuffle.NewList(rows))
	base := &shuffle.Statement{Key: key, Label: "eballot-v1/mix", Context: append(mh[:], 0, 0)} // manifest_hash ‖ u16 contest 0
	out, proof := must2(shuffle.Shuffle(r, base, in))

	// A cascade of two shuffles.
	m0, p0 := must2(shuffle.Shuffle(r, shuffle.RoundStatement(base, 0), in))
	m1, p1 := must2(shuffle.Shuffle(r, shuffle.RoundStatement(base, 1), m0))

	var invalid []shuffleCase
	add := func(c shuffleCase) { invalid = append(invalid, c) }
	outRows := func() [][]*elgamal.Ciphertext {
		rs := make([][]*elgamal.Ciphertext, out.Len())
		for i := range rs {
			rs[i] = out.Row(i)
		}
		return rs
	}
	z, _ := must2(elgamal.EncryptRand(key, 1, r))
	rs := outRows()
	rs[2][1] = elgamal.Add(rs[2][1], z)
	add(shuffleCase{Name: "output ciphertext changed (plaintext + 1)", Output: listHex(get(shuffle.NewList(rs))), Error: "invalid_proof"})
	rs = outRows()
	rs[0], rs[3] = rs[3], rs[0]
	add(shuffleCase{Name: "two output rows swapped", Output: listHex(get(shuffle.NewList(rs))), Error: "invalid_proof"})
	rs = outRows()
	rs[4] = rs[1]
	add(shuffleCase{Name: "output row duplicated in place of another", Output: listHex(get(shuffle.NewList(rs))), Error: "invalid_proof"})
	add(shuffleCase{Name: "output row dropped", Output: listHex(get(shuffle.NewList(outRows()[:n-1]))), Error: "shape"})
	add(shuffleCase{Name: "output row added", Output: listHex(get(shuffle.NewList(append(outRows(), out.Row(0))))), Error: "shape"})
	add(shuffleCase{Name: "other context", Context: hx([]byte("other")), Error: "invalid_proof"})
	add(shuffleCase{Name: "other generator label", Label: "eballot-v1/other", Error: "invalid_proof"})
	_, _, otherKey := mixCeremony("shuffle_v1/other-ceremony")
	add(shuffleCase{Name: "other election key", ElectionKey: hx(otherKey.Bytes()), Error: "invalid_proof"})
	pb := proof.Bytes()
	fields := []struct {
		name   string
		index  int // in 32-byte units after the 8-byte header
		scalar bool
	}{{"C_1", 1, false}, {"Ĉ_4", n + 4, false}, {"t_1", 2 * n, false}, {"t_2", 2*n + 1, false}, {"t_3", 2*n + 2, false},
		{"t_4α_0", 2*n + 3, false}, {"t_4β_1", 2*n + 3 + w + 1, false}, {"t̂_2", 2*n + 3 + 2*w + 2, false},
		{"s_1", 3*n + 3 + 2*w, true}, {"s_2", 3*n + 4 + 2*w, true}, {"s_3", 3*n + 5 + 2*w, true},
		{"s_4,1", 3*n + 6 + 2*w + 1, true}, {"ŝ_0", 3*n + 6 + 3*w, true}, {"s'_3", 4*n + 6 + 3*w + 3, true}}
	for _, f := range fields {
		b := slices.Clone(pb)
		var x []byte
		if f.scalar {
			x = enc.MarshalScalar(enc.G.HashToScalar([]byte(f.name), []byte("eballot-vectors/tamper")))
		} else {
			x = enc.MarshalElement(enc.G.HashToElement([]byte(f.name), []byte("eballot-vectors/tamper")))
		}
		copy(b[8+32*f.index:], x)
		add(shuffleCase{Name: "proof field " + f.name + " replaced", Proof: hx(b), Error: "invalid_proof"})
	}
	nonCanon := slices.Clone(pb)
	copy(nonCanon[8:], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f})
	add(shuffleCase{Name: "non-canonical C_0", Proof: hx(nonCanon), Error: "malformed"})
	add(shuffleCase{Name: "proof truncated", Proof: hx(pb[:len(pb)-1]), Error: "malformed"})
	add(shuffleCase{Name: "proof of the cascade's first shuffle", Proof: hx(p0.Bytes()), Error: "invalid_proof"})

	// Threshold decryption of the shuffled list by trustees 1 and 3.
	var partials []string
	pds := map[int]*shuffle.PartialDecryption{}
	for _, j := range []int{1, 3} {
		pd := get(shuffle.PartialDecrypt(r, pub, sks[j-1], mh[:], out))
		pds[j] = pd
		partials = append(partials, hx(get(pd.MarshalBinary())))
	}
	pts := get(shuffle.Decrypt(pub, mh[:], out, []*shuffle.PartialDecryption{pds[1], pds[3]}))
	var plain [][]string
	for _, row := range pts {
		var hs []string
		for _, p := range row {
			hs = append(hs, hx(p[:]))
		}
		plain = append(plain, hs)
	}
	bad := *pds[3].Parts[0]
	bad.D = slices.Clone(bad.D)
	bad.D[3] = enc.G.NewElement().Add(bad.D[3], enc.G.Generator())
	badPD := &shuffle.PartialDecryption{Trustee: 3, Parts: []*threshold.Partial{&bad}}
	var decInvalid []decryptionCase
	decInvalid = append(decInvalid,
		decryptionCase{Name: "trustee 3's D for row 1, column 1 changed", Partial: []string{partials[0], hx(get(badPD.MarshalBinary()))}, Error: "trustee 3, row 1, column 1"},
		decryptionCase{Name: "one trustee only (threshold 2)", Partial: partials[:1], Error: "decryption"},
		decryptionCase{Name: "a trustee twice", Partial: []string{partials[0], partials[0]}, Error: "decryption"})
	other := get(shuffle.PartialDecrypt(r, pub, sks[1], mh[:], m1))
	decInvalid = append(decInvalid, decryptionCase{Name: "trustee 2 decrypted another list", Partial: []string{partials[0], hx(get(other.MarshalBinary()))}, Error: "trustee 2, row 0, column 0"})

	return map[string]any{
		"description":         "crypto/shuffle vectors (protocol §9.2–§9.6); see crypto/testdata/README.md",
		"manifest_hash":       hx(mh[:]),
		"election_key":        hx(key.Bytes()),
		"label":               base.Label,
		"context":             hx(base.Context),
		"values":              values,
		"input":               listHex(in),
		"output":              listHex(out),
		"proof":               hx(proof.Bytes()),
		"generators":          []string{hx(shuffle.Generator(base.Label, 0).Encode(nil)), hx(shuffle.Generator(base.Label, 0xffffffff).Encode(nil))},
		"cascade":             []map[string]string{{"output": listHex(m0), "proof": hx(p0.Bytes())}, {"output": listHex(m1), "proof": hx(p1.Bytes())}},
		"invalid":             invalid,
		"threshold_key":       json.RawMessage(get(pub.MarshalJSON())),
		"partials":            partials,
		"plaintexts":          plain,
		"invalid_decryptions": decInvalid,
	}
}

// ------------------------------------------------------------------ ranked

type rankedValid struct {
	Name       string   `json:"name"`
	Style      int      `json:"style"`
	Ranking    []int    `json:"ranking"`
	Ballot     string   `json:"ballot"`
	Ranks      []int    `json:"ranks"`
	UsedNonces []string `json:"used_nonces"`
	RankNonces []string `json:"rank_nonces"`
}

type rankedInvalid struct {
	Name   string `json:"name"`
	Ballot string `json:"ballot"`
	Error  string `json:"error"`
}

type mixDecodeCase struct {
	Name    string   `json:"name"`
	Points  []string `json:"points"`
	Ranking []int    `json:"ranking,omitempty"`
	Error   string   `json:"error,omitempty"`
}

func scalarHexes(ss []group.Scalar) []string {
	var out []string
	for _, s := range ss {
		out = append(out, hx(enc.MarshalScalar(s)))
	}
	return out
}

func digitPoint(v uint64) string {
	var b [32]byte
	for i := 0; i < 8; i++ {
		b[i] = byte(v >> (8 * i))
	}
	s := ristretto255.NewScalar()
	if err := s.Decode(b[:]); err != nil {
		log.Fatal(err)
	}
	return hx(ristretto255.NewElement().ScalarBaseMult(s).Encode(nil))
}

func genRanked() any {
	r := seeded("ranked_v1")
	x := get(elgamal.GenerateKey(seeded("ranked_v1/key")))
	key := x.PublicKey()
	mh := sha256.Sum256([]byte("eballot-vectors/ranked_v1/manifest"))
	c := &ranked.Contest{ManifestHash: mh, Key: key, Index: 1, Styles: 2, Candidates: 4, MinRanked: 1, MaxRanked: 3}
	var valid []rankedValid
	var ballots []*ranked.Ballot
	for _, v := range []struct {
		name    string
		style   int
		ranking []int
	}{{"one preference", 0, []int{2}}, {"three preferences (the most allowed)", 1, []int{3, 0, 1}}, {"two preferences", 0, []int{1, 3}}} {
		b, op := must2(c.Encrypt(r, v.style, v.ranking))
		ballots = append(ballots, b)
		ranks := make([]int, c.Candidates)
		for p, cand := range v.ranking {
			ranks[cand] = p + 1
		}
		valid = append(valid, rankedValid{Name: v.name, Style: v.style, Ranking: v.ranking, Ballot: hx(get(b.MarshalBinary())),
			Ranks: ranks, UsedNonces: scalarHexes(op.UsedNonces), RankNonces: scalarHexes(op.RankNonces)})
	}
	good := get(ballots[1].MarshalBinary())
	other := get(ballots[2].MarshalBinary())
	var invalid []rankedInvalid
	add := func(name, err string, b []byte) { invalid = append(invalid, rankedInvalid{name, hx(b), err}) }
	mod := func(off int, x []byte) []byte { b := slices.Clone(good); copy(b[off:], x); return b }
	const hdr, ct = 39, 64
	n := c.Candidates
	add("version 2", "malformed", mod(0, []byte{2}))
	add("other manifest hash", "wrong_manifest", mod(1, []byte{0}))
	add("style out of range", "malformed", mod(33, []byte{0, 2}))
	add("other contest index", "malformed", mod(35, []byte{0, 0}))
	add("other candidate count", "malformed", mod(37, []byte{0, 5}))
	add("truncated", "malformed", good[:len(good)-1])
	add("trailing byte", "malformed", append(slices.Clone(good), 0))
	add("identity α in B_0", "malformed", mod(hdr, make([]byte, 32)))
	add("non-canonical β in R_2", "malformed", mod(hdr+n*ct+2*ct+32, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}))
	// Well-formed ballots whose proofs fail.
	swapR := slices.Clone(good)
	copy(swapR[hdr+n*ct:], good[hdr+n*ct+ct:hdr+n*ct+2*ct])
	copy(swapR[hdr+n*ct+ct:], good[hdr+n*ct:hdr+n*ct+ct])
	add("ranks of candidates 0 and 1 swapped after proving (another valid ranking, unproved)", "invalid_ranking", swapR)
	dupR := slices.Clone(good)
	copy(dupR[hdr+n*ct+2*ct:], good[hdr+n*ct:hdr+n*ct+ct]) // candidate 2 gets candidate 0's rank
	add("two candidates with the same rank", "invalid_ranking", dupR)
	add("R of another ballot", "invalid_ranking", append(append(slices.Clone(good[:hdr+n*ct]), other[hdr+n*ct:hdr+2*n*ct]...), good[hdr+2*n*ct:]...))
	add("B of another ballot", "invalid_ranking", append(append(slices.Clone(good[:hdr]), other[hdr:hdr+n*ct]...), good[hdr+n*ct:]...))
	styleB := mod(33, []byte{0, 0})
	add("style relabelled (proofs bound to style 1)", "invalid_ranking", styleB)
	sh := shuffle.ProofSize(n, 1)
	add("ranking proof of another ballot", "invalid_ranking", append(slices.Clone(good[:len(good)-sh]), other[len(other)-sh:]...))

	mix := get(c.MixInput(ballots))
	d := c.DigitsPerCiphertext()
	packed := func(ranks ...int) string {
		v, p := uint64(0), uint64(1)
		for _, x := range ranks {
			v += uint64(x) * p
			p *= uint64(n + 1)
		}
		return digitPoint(v)
	}
	decode := []mixDecodeCase{
		{Name: "3, 0, 1 first", Points: []string{packed(2, 3, 0, 1)}, Ranking: []int{3, 0, 1}},
		{Name: "one preference", Points: []string{packed(0, 0, 1, 0)}, Ranking: []int{2}},
		{Name: "no preference (min 1)", Points: []string{packed(0, 0, 0, 0)}, Error: "not_a_ranking"},
		{Name: "four preferences (max 3)", Points: []string{packed(1, 2, 3, 4)}, Error: "not_a_ranking"},
		{Name: "rank 1 twice", Points: []string{packed(1, 1, 0, 0)}, Error: "not_a_ranking"},
		{Name: "rank 2 without rank 1", Points: []string{packed(0, 2, 0, 0)}, Error: "not_a_ranking"},
		{Name: "a digit for a fifth candidate", Points: []string{digitPoint(uint64(pow(n+1, n)))}, Error: "not_a_ranking"},
		{Name: "a value above the packing bound", Points: []string{digitPoint(ranked.PackBound)}, Error: "not_a_ranking"},
	}
	return map[string]any{
		"description":         "crypto/ranked vectors (protocol §9.1, §9.5); see crypto/testdata/README.md",
		"manifest_hash":       hx(mh[:]),
		"election_key":        hx(key.Bytes()),
		"election_secret_key": hx(x.Bytes()),
		"contest": map[string]int{"index": int(c.Index), "styles": c.Styles, "candidates": n,
			"min_ranked": c.MinRanked, "max_ranked": c.MaxRanked, "digits_per_ciphertext": d, "mix_width": c.MixWidth(), "ballot_size": c.Size()},
		"valid":     valid,
		"invalid":   invalid,
		"mix_input": listHex(mix),
		"decode":    decode,
	}
}

func pow(b, e int) int {
	v := 1
	for range e {
		v *= b
	}
	return v
}
