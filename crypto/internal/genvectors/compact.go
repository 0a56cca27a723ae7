package main

// ballot_v3.json: the compact yes/no ballot of protocol 7 (docs/protocol.md
// §4.2 version 3).

import (
	"encoding/hex"
	"encoding/json"
	"log"

	"github.com/unionvote/eballot/crypto/ballot"
	"github.com/unionvote/eballot/crypto/elgamal"
	"github.com/unionvote/eballot/crypto/internal/drbg"
	"github.com/unionvote/eballot/crypto/manifest"
	"github.com/unionvote/eballot/crypto/proof"
)

type compactTally struct {
	Ciphertext string `json:"ciphertext"`
	Value      uint64 `json:"value"`
	Yes        int    `json:"yes"`
	No         int    `json:"no"`
}

type compactFile struct {
	Description  string                   `json:"description"`
	Manifest     json.RawMessage          `json:"manifest"`
	ManifestHash string                   `json:"manifest_hash"`
	ElectionKey  string                   `json:"election_key"`
	Shape        []manifest.QuestionShape `json:"shape"`
	BallotSize   int                      `json:"ballot_size"`
	CompactBase  int                      `json:"compact_base"`
	Valid        []ballotValid            `json:"valid"`
	Invalid      []ballotInvalid          `json:"invalid"`
	Tally        [][]compactTally         `json:"tally"`
}

// compactManifest is the fixture manifest m (questions "strike", min 1, and
// "asos", min 0) as a version-2 manifest whose questions are compact.
func compactManifest(m *manifest.Manifest) *manifest.Manifest {
	c := *m
	c.Version = manifest.Version2
	c.Questions = append([]manifest.Question(nil), m.Questions...)
	for i := range c.Questions {
		c.Questions[i].Method = manifest.MethodCompact
	}
	must(c.Validate())
	return &c
}

func compactVectors(m1 *manifest.Manifest, sk *elgamal.SecretKey) compactFile {
	m := compactManifest(m1)
	e, err := ballot.NewElection(m)
	must(err)
	h := e.ManifestHash()
	canon, err := m.Canonical()
	must(err)
	f := compactFile{
		Description: "docs/protocol.md §4.2 version 3 (protocol 7): compact yes/no questions. manifest: manifest_v1.json's manifest as version 2 with method \"compact\" on both questions (its election_secret_key applies). A compact question carries one ciphertext of 0 (no mark), 1 (option 0) or compact_base (option 1) and one proof with V = [0, 1, compact_base] (min 0) or [1, compact_base] (min 1), option 0xfffe in the transcript. valid: as in ballot_v1.json (audit nonces: one per compact question). invalid: MUST be rejected by decode+verify with the error kind. tally: per style and question, the homomorphic sum of the valid ballots' ciphertexts, its decrypted value yes + compact_base·no, and the counts.",
		Manifest:    canon, ManifestHash: hex.EncodeToString(h[:]), ElectionKey: m.Trustees.ElectionKey,
		Shape: m.Shape(), BallotSize: m.BallotSize(), CompactBase: manifest.CompactBase,
	}
	specs := []struct {
		name    string
		style   int
		choices [][]int
	}{
		{"north yes yes", 0, [][]int{{1, 0}, {1, 0}}},
		{"north no no", 0, [][]int{{0, 1}, {0, 1}}},
		{"north yes blank", 0, [][]int{{1, 0}, {0, 0}}},
		{"south no yes", 1, [][]int{{0, 1}, {1, 0}}},
		{"south no blank", 1, [][]int{{0, 1}, {0, 0}}},
	}
	sums := make([][]*elgamal.Ciphertext, len(m.Styles))
	counts := make([][][2]int, len(m.Styles))
	for s := range sums {
		sums[s] = make([]*elgamal.Ciphertext, len(m.Questions))
		counts[s] = make([][2]int, len(m.Questions))
	}
	var bins [][]byte
	for _, sp := range specs {
		seed := "eballot-v3 test vectors / ballot / " + sp.name
		b, a, err := e.Encrypt(drbg.New(seed), sp.style, sp.choices)
		must(err)
		bin := get(b.MarshalBinary())
		js := get(b.MarshalJSON())
		t := get(b.Tracker())
		must(e.Verify(b))
		must(e.CheckAudit(b, a))
		hints := get(e.Hints(bin))
		f.Valid = append(f.Valid, ballotValid{sp.name, seed, sp.style, sp.choices, a, hx(bin), js, hx(t[:]), ballot.ShortCode(t), hx(hints)})
		bins = append(bins, bin)
		for qi, q := range b.Questions {
			ct := q.Compact.Ciphertext
			if sums[sp.style][qi] == nil {
				sums[sp.style][qi] = ct
			} else {
				sums[sp.style][qi] = elgamal.Add(sums[sp.style][qi], ct)
			}
			counts[sp.style][qi][0] += sp.choices[qi][0]
			counts[sp.style][qi][1] += sp.choices[qi][1]
		}
	}
	tab := get(elgamal.NewPairTable(uint64(len(specs)), manifest.CompactBase))
	for s := range sums {
		var row []compactTally
		for qi, c := range sums[s] {
			v := get(tab.Solve(sk.Decrypt(c)))
			yes, no := counts[s][qi][0], counts[s][qi][1]
			if v != uint64(yes)+manifest.CompactBase*uint64(no) {
				log.Fatal("compact tally mismatch")
			}
			row = append(row, compactTally{hx(c.Bytes()), v, yes, no})
		}
		f.Tally = append(f.Tally, row)
	}

	// Offsets: question 0 (min 1) at 37: α β, 2 branches; question 1 at
	// 37+320: α β, 3 branches.
	const q0, q1 = 37, 37 + 64 + 2*128
	base := bins[2] // north yes blank
	binInvalid := func(name, want, reason string, fn func(b []byte) []byte) {
		b := fn(append([]byte(nil), base...))
		_, err := decodeVerify(e, b)
		if got := errKind(err); got != want {
			log.Fatalf("invalid v3 ballot %q: got %s (%v), want %s", name, got, err, want)
		}
		f.Invalid = append(f.Invalid, ballotInvalid{Name: name, Format: "binary", Binary: hx(b), Error: want, Reason: reason})
	}
	flip := func(off int) func([]byte) []byte {
		return func(b []byte) []byte { b[off] ^= 1; return b }
	}
	binInvalid("version 1", "malformed", "version byte must be 3 for a manifest with a compact question", func(b []byte) []byte { b[0] = 1; return b })
	binInvalid("trailing byte", "malformed", "trailing bytes", func(b []byte) []byte { return append(b, 0) })
	binInvalid("truncated", "malformed", "one byte short", func(b []byte) []byte { return b[:len(b)-1] })
	binInvalid("other manifest hash in header", "wrong_manifest", "manifest_hash differs", flip(1))
	binInvalid("identity alpha", "malformed", "α of question 1 is the identity", func(b []byte) []byte {
		copy(b[q1:q1+32], make([]byte, 32))
		return b
	})
	binInvalid("tampered alpha", "bad_proof", "α of question 0 replaced by another valid point", func(b []byte) []byte {
		copy(b[q0:], mustHex(point("other point")))
		return b
	})
	binInvalid("tampered beta", "bad_proof", "β of question 1 replaced by another valid point", func(b []byte) []byte {
		copy(b[q1+32:], mustHex(point("other point")))
		return b
	})
	binInvalid("tampered A_2", "bad_proof", "A_2 of question 1 replaced by another valid point", func(b []byte) []byte {
		copy(b[q1+64+2*128:], mustHex(point("other point")))
		return b
	})
	binInvalid("tampered c_0", "bad_proof", "lowest bit of c_0 of question 0 flipped", flip(q0+64+64))
	binInvalid("tampered z_1", "bad_proof", "lowest bit of z_1 of question 1 flipped", flip(q1+64+128+96))
	binInvalid("style changed", "bad_proof", "relabelled as style 1 (style is in the transcript)", func(b []byte) []byte { b[34] = 1; return b })
	binInvalid("questions swapped", "malformed", "question 1's part first: its proof has 3 branches where 2 are due, so the layout breaks", func(b []byte) []byte {
		return append(append(append([]byte(nil), b[:q0]...), b[q1:]...), b[q0:q1]...)
	})
	binInvalid("ciphertext from another ballot", "bad_proof", "question 1's ciphertext replaced by that of another ballot", func(b []byte) []byte {
		copy(b[q1:q1+64], bins[0][q1:q1+64])
		return b
	})
	// Values outside {0, 1, B}: a ciphertext of 2 (and of B+1) with a
	// proof made for V = [0, 1, v] under the same position.
	for _, v := range []uint32{2, manifest.CompactBase + 1} {
		b, err := e.Parse(base)
		must(err)
		ct, r, err := elgamal.EncryptRand(e.Key(), uint64(v), drbg.New("eballot-v3 test vectors / value "+itoa(v)))
		must(err)
		st := &proof.Statement{ManifestHash: h[:], Key: e.Key(), Style: b.Style, Question: 1, Option: ballot.CompactOption,
			Values: []uint32{0, 1, v}, Ciphertext: ct}
		p, err := proof.Prove(drbg.New("eballot-v3 test vectors / forged"), st, &proof.Witness{Value: v, Nonce: r})
		must(err)
		b.Questions[1] = ballot.Question{Compact: &ballot.Selection{Ciphertext: ct, Proof: p}}
		bin := get(b.MarshalBinary())
		if _, err := decodeVerify(e, bin); errKind(err) != "bad_proof" {
			log.Fatalf("forged %d: %v", v, err)
		}
		f.Invalid = append(f.Invalid, ballotInvalid{Name: "value " + itoa(v) + " outside {0,1,B}", Format: "binary", Binary: hx(bin), Error: "bad_proof",
			Reason: "question 1 encrypts " + itoa(v) + " with a proof made for V = [0, 1, " + itoa(v) + "]"})
	}
	// JSON.
	js := f.Valid[2].JSON
	jsInvalid := func(name, want, reason string, fn func(o map[string]any)) {
		var o map[string]any
		must(json.Unmarshal(js, &o))
		fn(o)
		b := get(json.Marshal(o))
		var err error
		if bb, err2 := e.ParseJSON(b); err2 != nil {
			err = err2
		} else {
			err = e.Verify(bb)
		}
		if got := errKind(err); got != want {
			log.Fatalf("invalid v3 JSON %q: got %s (%v)", name, got, err)
		}
		f.Invalid = append(f.Invalid, ballotInvalid{Name: name, Format: "json", JSON: b, Error: want, Reason: reason})
	}
	cq := func(o map[string]any, i int) map[string]any {
		return o["questions"].([]any)[i].(map[string]any)["compact"].(map[string]any)
	}
	jsInvalid("json version 1", "malformed", "version must be 3", func(o map[string]any) { o["version"] = 1 })
	jsInvalid("json selections", "malformed", "a compact question has compact, not selections", func(o map[string]any) {
		q := o["questions"].([]any)[0].(map[string]any)
		q["selections"] = []any{q["compact"]}
		delete(q, "compact")
	})
	jsInvalid("json unknown field", "malformed", "unknown fields are rejected", func(o map[string]any) { cq(o, 0)["value"] = 1 })
	jsInvalid("json swapped proofs", "malformed", "question 0's proof (2 branches) given to question 1 (3 branches)", func(o map[string]any) {
		cq(o, 0)["proof"], cq(o, 1)["proof"] = cq(o, 1)["proof"], cq(o, 0)["proof"]
	})
	jsInvalid("json swapped alpha beta", "bad_proof", "α and β of question 1 swapped", func(o map[string]any) {
		cq(o, 1)["alpha"], cq(o, 1)["beta"] = cq(o, 1)["beta"], cq(o, 1)["alpha"]
	})
	return f
}

func itoa(v uint32) string { return string(get(json.Marshal(v))) }
