package ballot_test

// JS → Go interop: ballots made by the browser implementation (crypto/js,
// the shipped bundle dist/eballot.min.js) must parse, verify, re-encode
// byte for byte and open under their Benaloh audit with the Go API.
// Vectors: crypto/testdata/js_ballots_v1.json, written by
// `node crypto/js/scripts/make-js-vectors.mjs`.

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"testing"

	"github.com/unionvote/eballot/crypto/internal/vectortest"

	"github.com/unionvote/eballot/crypto/ballot"
	"github.com/unionvote/eballot/crypto/elgamal"
	"github.com/unionvote/eballot/crypto/internal/enc"
	"github.com/unionvote/eballot/crypto/manifest"
)

const jsVectors = "../testdata/js_ballots_v1.json"

type jsBallotFile struct {
	Manifest          json.RawMessage `json:"manifest"`
	ManifestCanonical string          `json:"manifest_canonical"`
	ManifestHash      string          `json:"manifest_hash"`
	Valid             []struct {
		Name      string        `json:"name"`
		Style     int           `json:"style"`
		Choices   [][]int       `json:"choices"`
		Audit     *ballot.Audit `json:"audit"`
		Binary    string        `json:"binary"`
		JSON      string        `json:"json"`
		Tracker   string        `json:"tracker"`
		ShortCode string        `json:"short_code"`
	} `json:"valid"`
	Invalid []struct {
		Name   string `json:"name"`
		Error  string `json:"error"`
		Binary string `json:"binary"`
	} `json:"invalid"`
}

func loadJSVectors(t *testing.T) (*jsBallotFile, *manifest.Manifest, *ballot.Election) {
	t.Helper()
	data, err := os.ReadFile(jsVectors)
	if err != nil {
		t.Fatalf("read %s (regenerate with node crypto/js/scripts/make-js-vectors.mjs): %v", jsVectors, err)
	}
	var f jsBallotFile
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("decode %s: %v", jsVectors, err)
	}
	m, err := manifest.Parse(f.Manifest)
	if err != nil {
		t.Fatalf("manifest of the JS vectors: %v", err)
	}
	canon, err := m.Canonical()
	if err != nil {
		t.Fatal(err)
	}
	if string(canon) != f.ManifestCanonical {
		t.Fatalf("canonical manifest differs between JS and Go:\n js %s\n go %s", f.ManifestCanonical, canon)
	}
	h, err := m.Hash()
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(h[:]) != f.ManifestHash {
		t.Fatalf("manifest hash: JS %s, Go %x", f.ManifestHash, h)
	}
	e, err := ballot.NewElection(m)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Valid) == 0 || len(f.Invalid) == 0 {
		t.Fatal("no JS vectors")
	}
	return &f, m, e
}

// decryptByNonce recovers the mark m ∈ {0,1} of ct from its nonce r alone:
// β − r·K must be m·G.
func decryptByNonce(t *testing.T, key *elgamal.PublicKey, ct *elgamal.Ciphertext, nonceHex string) int {
	t.Helper()
	r, err := enc.DecodeScalar(vectortest.Unhex(t, nonceHex))
	if err != nil {
		t.Fatalf("nonce: %v", err)
	}
	found := -1
	for m := 0; m <= 1; m++ {
		if elgamal.CheckEncryption(key, ct, uint64(m), r) == nil {
			found = m
		}
	}
	return found
}

func TestJSInteropValid(t *testing.T) {
	f, _, e := loadJSVectors(t)
	var all []*ballot.Ballot
	for _, v := range f.Valid {
		t.Run(v.Name, func(t *testing.T) {
			bin := vectortest.Unhex(t, v.Binary)
			b, err := e.Parse(bin)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if err := e.Verify(b); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if int(b.Style) != v.Style {
				t.Fatalf("style %d, want %d", b.Style, v.Style)
			}
			again, err := b.MarshalBinary()
			if err != nil || !bytes.Equal(again, bin) {
				t.Fatalf("binary re-encoding differs (err %v)", err)
			}
			js, err := b.MarshalJSON()
			if err != nil || string(js) != v.JSON {
				t.Fatalf("JSON form differs (err %v):\n js %s\n go %s", err, v.JSON, js)
			}
			bj, err := e.ParseJSON([]byte(v.JSON))
			if err != nil {
				t.Fatalf("ParseJSON: %v", err)
			}
			if again, _ := bj.MarshalBinary(); !bytes.Equal(again, bin) {
				t.Fatal("JSON form decodes to another ballot")
			}
			T, err := b.Tracker()
			if err != nil || hex.EncodeToString(T[:]) != v.Tracker {
				t.Fatalf("tracker: JS %s, Go %x (err %v)", v.Tracker, T, err)
			}
			if T != ballot.TrackerOf(e.ManifestHash(), bin) {
				t.Fatal("TrackerOf differs from Tracker")
			}
			if sc := ballot.ShortCode(T); sc != v.ShortCode {
				t.Fatalf("short code: JS %s, Go %s", v.ShortCode, sc)
			}
			if err := e.CheckAudit(b, v.Audit); err != nil {
				t.Fatalf("CheckAudit: %v", err)
			}
			// Decrypt every selection with its nonce alone and compare with the choices.
			if len(v.Choices) != len(b.Questions) {
				t.Fatal("choices shape")
			}
			for qi, q := range b.Questions {
				if len(v.Choices[qi]) != len(q.Selections) {
					t.Fatal("choices shape")
				}
				for oi, s := range q.Selections {
					if m := decryptByNonce(t, e.Key(), s.Ciphertext, v.Audit.Nonces[qi][oi]); m != v.Choices[qi][oi] {
						t.Fatalf("question %d option %d: nonce decrypts to %d, choice is %d", qi, oi, m, v.Choices[qi][oi])
					}
				}
			}
			// Another opening must not pass.
			wrong := &ballot.Audit{Choices: make([][]int, len(v.Choices)), Nonces: v.Audit.Nonces}
			for qi, c := range v.Choices {
				for _, x := range c {
					wrong.Choices[qi] = append(wrong.Choices[qi], 1-x)
				}
			}
			if err := e.CheckAudit(b, wrong); !errors.Is(err, ballot.ErrAuditMismatch) {
				t.Fatalf("CheckAudit of flipped choices: %v", err)
			}
			all = append(all, b)
		})
	}
	if bad := e.BatchVerify(all); bad != nil {
		t.Fatalf("BatchVerify flags JS ballots %v", bad)
	}
}

func TestJSInteropInvalid(t *testing.T) {
	f, _, e := loadJSVectors(t)
	for _, v := range f.Invalid {
		t.Run(v.Name, func(t *testing.T) {
			b, err := e.Parse(vectortest.Unhex(t, v.Binary))
			if err == nil {
				err = e.Verify(b)
				if bad := e.BatchVerify([]*ballot.Ballot{b}); (err == nil) != (bad == nil) {
					t.Fatalf("Verify (%v) and BatchVerify (%v) disagree", err, bad)
				}
			}
			var kind string
			switch {
			case err == nil:
				kind = "ok"
			case errors.Is(err, ballot.ErrWrongManifest):
				kind = "wrong_manifest"
			case errors.Is(err, ballot.ErrMalformed):
				kind = "malformed"
			case errors.Is(err, ballot.ErrBadProof):
				kind = "bad_proof"
			default:
				kind = "other: " + err.Error()
			}
			if kind != v.Error {
				t.Fatalf("got %s (%v), want %s", kind, err, v.Error)
			}
		})
	}
}

// The manifest of the JS vectors is the one of manifest_v1.json: decrypt
// the JS ballots with its test-only secret key as an independent check.
func TestJSInteropDecrypt(t *testing.T) {
	f, _, e := loadJSVectors(t)
	data, err := os.ReadFile("../testdata/manifest_v1.json")
	if err != nil {
		t.Skipf("manifest_v1.json: %v", err)
	}
	var mv struct {
		Hash              string `json:"hash"`
		ElectionSecretKey string `json:"election_secret_key"`
	}
	if err := json.Unmarshal(data, &mv); err != nil {
		t.Fatal(err)
	}
	if mv.Hash != f.ManifestHash {
		t.Fatalf("manifest_v1.json changed (hash %s, JS vectors %s): regenerate with node crypto/js/scripts/make-js-vectors.mjs", mv.Hash, f.ManifestHash)
	}
	sk, err := elgamal.ParseSecretKey(vectortest.Unhex(t, mv.ElectionSecretKey))
	if err != nil {
		t.Fatal(err)
	}
	G := enc.G.Generator()
	for _, v := range f.Valid {
		b, err := e.Parse(vectortest.Unhex(t, v.Binary))
		if err != nil {
			t.Fatalf("%s: %v", v.Name, err)
		}
		for qi, q := range b.Questions {
			for oi, s := range q.Selections {
				M := sk.Decrypt(s.Ciphertext)
				want := enc.G.Identity()
				if v.Choices[qi][oi] == 1 {
					want = G
				}
				if !M.IsEqual(want) {
					t.Fatalf("%s: question %d option %d does not decrypt to %d", v.Name, qi, oi, v.Choices[qi][oi])
				}
			}
		}
	}
}
