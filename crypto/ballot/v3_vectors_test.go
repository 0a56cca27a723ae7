package ballot

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"

	"github.com/unionvote/eballot/crypto/elgamal"
	"github.com/unionvote/eballot/crypto/manifest"
)

type v3File struct {
	Manifest     json.RawMessage `json:"manifest"`
	ManifestHash string          `json:"manifest_hash"`
	BallotSize   int             `json:"ballot_size"`
	CompactBase  uint64          `json:"compact_base"`
	Valid        []struct {
		Name    string          `json:"name"`
		Style   int             `json:"style"`
		Choices [][]int         `json:"choices"`
		Audit   *Audit          `json:"audit"`
		Binary  string          `json:"binary"`
		JSON    json.RawMessage `json:"json"`
		Tracker string          `json:"tracker"`
		Short   string          `json:"short_code"`
		Hints   string          `json:"hints"`
	} `json:"valid"`
	Invalid []struct {
		Name   string          `json:"name"`
		Format string          `json:"format"`
		Binary string          `json:"binary"`
		JSON   json.RawMessage `json:"json"`
		Error  string          `json:"error"`
	} `json:"invalid"`
	Tally [][]struct {
		Ciphertext string `json:"ciphertext"`
		Value      uint64 `json:"value"`
		Yes, No    int
	} `json:"tally"`
}

// The shared version-3 vectors (crypto/testdata/ballot_v3.json, also read
// by crypto/js/test): valid ballots decode, verify, open and re-encode
// byte for byte; invalid ones fail with their kind; the sums decrypt to
// yes + B·no.
func TestV3Vectors(t *testing.T) {
	raw, err := os.ReadFile("../testdata/ballot_v3.json")
	if err != nil {
		t.Fatal(err)
	}
	var f v3File
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	m, err := manifest.Parse(f.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewElection(m)
	if err != nil {
		t.Fatal(err)
	}
	if h := e.ManifestHash(); hex.EncodeToString(h[:]) != f.ManifestHash || e.BallotSize() != f.BallotSize || f.CompactBase != manifest.CompactBase {
		t.Fatal("manifest hash, ballot size or base differ")
	}
	if len(f.Valid) == 0 || len(f.Invalid) == 0 {
		t.Fatal("no vectors")
	}
	sk := load(t).sk
	for _, v := range f.Valid {
		bin, _ := hex.DecodeString(v.Binary)
		b, err := e.Parse(bin)
		if err != nil {
			t.Fatalf("%s: %v", v.Name, err)
		}
		if err := e.Verify(b); err != nil {
			t.Fatalf("%s: %v", v.Name, err)
		}
		if err := e.CheckAudit(b, v.Audit); err != nil {
			t.Fatalf("%s: audit: %v", v.Name, err)
		}
		js, _ := b.MarshalJSON()
		if want, err := manifest.Canonicalize(v.JSON); err != nil || !bytes.Equal(js, want) {
			t.Fatalf("%s: JSON differs", v.Name)
		}
		bj, err := e.ParseJSON(v.JSON)
		if err != nil {
			t.Fatalf("%s: %v", v.Name, err)
		}
		again, _ := bj.MarshalBinary()
		if !bytes.Equal(again, bin) {
			t.Fatalf("%s: JSON and binary differ", v.Name)
		}
		tr, _ := b.Tracker()
		if hex.EncodeToString(tr[:]) != v.Tracker || ShortCode(tr) != v.Short {
			t.Fatalf("%s: tracker", v.Name)
		}
		h, _ := e.Hints(bin)
		if hex.EncodeToString(h) != v.Hints {
			t.Fatalf("%s: hints", v.Name)
		}
	}
	for _, v := range f.Invalid {
		var err error
		var b *Ballot
		if v.Format == "json" {
			b, err = e.ParseJSON(v.JSON)
		} else {
			bin, _ := hex.DecodeString(v.Binary)
			b, err = e.Parse(bin)
		}
		if err == nil {
			err = e.Verify(b)
		}
		if got := errKind(err); got != v.Error {
			t.Errorf("%s: %s (%v), want %s", v.Name, got, err, v.Error)
		}
	}
	tab, _ := elgamal.NewPairTable(uint64(len(f.Valid)), manifest.CompactBase)
	for s, row := range f.Tally {
		for q, c := range row {
			raw, _ := hex.DecodeString(c.Ciphertext)
			ct, err := elgamal.ParseCiphertext(raw)
			if err != nil {
				t.Fatal(err)
			}
			v, err := tab.Solve(sk.Decrypt(ct))
			if err != nil || v != c.Value || v != uint64(c.Yes)+manifest.CompactBase*uint64(c.No) {
				t.Fatalf("style %d question %d: %d %v", s, q, v, err)
			}
		}
	}
}
