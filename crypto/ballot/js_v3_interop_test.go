package ballot

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"

	"github.com/unionvote/eballot/crypto/elgamal"
	"github.com/unionvote/eballot/crypto/manifest"
)

// JS → Go: compact ballots made by crypto/js (crypto/testdata/
// js_ballot3_v1.json) decode, verify, open by their audit, have their
// tracker, and decrypt to the value of their marks.
func TestJSInteropV3(t *testing.T) {
	raw, err := os.ReadFile("../testdata/js_ballot3_v1.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		ManifestHash string `json:"manifest_hash"`
		Valid        []struct {
			Name    string  `json:"name"`
			Style   int     `json:"style"`
			Choices [][]int `json:"choices"`
			Audit   *Audit  `json:"audit"`
			Binary  string  `json:"binary"`
			JSON    string  `json:"json"`
			Tracker string  `json:"tracker"`
		} `json:"valid"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	e := loadV3(t)
	if h := e.ManifestHash(); hex.EncodeToString(h[:]) != f.ManifestHash {
		t.Fatal("manifest hash differs from the compact fixture")
	}
	if len(f.Valid) < 6 {
		t.Fatalf("%d ballots", len(f.Valid))
	}
	sk := load(t).sk
	tab, _ := elgamal.NewPairTable(1, manifest.CompactBase)
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
			t.Fatalf("%s: %v", v.Name, err)
		}
		if js, _ := b.MarshalJSON(); string(js) != v.JSON {
			t.Fatalf("%s: JSON differs", v.Name)
		}
		if tr, _ := b.Tracker(); hex.EncodeToString(tr[:]) != v.Tracker || int(b.Style) != v.Style {
			t.Fatalf("%s: tracker or style", v.Name)
		}
		for qi, q := range b.Questions {
			want, _ := CompactValue(v.Choices[qi])
			if got, err := tab.Solve(sk.Decrypt(q.Compact.Ciphertext)); err != nil || got != uint64(want) {
				t.Fatalf("%s question %d: %d %v, want %d", v.Name, qi, got, err, want)
			}
		}
	}
}
