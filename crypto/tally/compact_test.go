package tally

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"

	"github.com/unionvote/eballot/crypto/ballot"
	"github.com/unionvote/eballot/crypto/manifest"
	"github.com/unionvote/eballot/crypto/threshold"
)

// compactElection is the shared fixture manifest (crypto/testdata) made a
// protocol-7 manifest of compact questions, on the trustees of
// dkg_v1.json, with two of their secret shares.
func compactElection(t *testing.T) (*ballot.Election, *threshold.PublicKey, []*threshold.SecretShare) {
	t.Helper()
	var mf struct {
		Manifest json.RawMessage `json:"manifest"`
	}
	var dk struct {
		PublicKey    manifest.Trustees `json:"public_key"`
		SecretShares []string          `json:"secret_shares"`
	}
	for name, v := range map[string]any{"manifest_v1.json": &mf, "dkg_v1.json": &dk} {
		b, err := os.ReadFile("../testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatal(err)
		}
	}
	m, err := manifest.Parse(mf.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	m.Version = manifest.Version2
	m.Trustees = dk.PublicKey
	for i := range m.Questions {
		m.Questions[i].Method = manifest.MethodCompact
	}
	e, err := ballot.NewElection(m)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := TrusteeKey(m)
	if err != nil {
		t.Fatal(err)
	}
	var shares []*threshold.SecretShare
	for _, h := range dk.SecretShares[:2] {
		b, _ := hex.DecodeString(h)
		s, err := threshold.ParseSecretShare(b)
		if err != nil {
			t.Fatal(err)
		}
		shares = append(shares, s)
	}
	return e, pub, shares
}

// Compact ballots are summed one ciphertext a question, decrypted by the
// trustees and counted as yes, no (and so blank) per style, exactly as
// the same marks on version-1 ballots would be.
func TestCompactTally(t *testing.T) {
	e, pub, shares := compactElection(t)
	marks := []struct {
		style   int
		choices [][]int
	}{
		{0, [][]int{{1, 0}, {1, 0}}}, {0, [][]int{{0, 1}, {0, 0}}}, {0, [][]int{{1, 0}, {0, 1}}},
		{0, [][]int{{1, 0}, {0, 0}}}, {1, [][]int{{0, 1}, {0, 1}}},
	}
	s := NewSums(e)
	want := map[Position]uint64{}
	for _, mk := range marks {
		b, _, err := e.Encrypt(rand.Reader, mk.style, mk.choices)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Verify(b); err != nil {
			t.Fatal(err)
		}
		s.Add(b)
		for q, os := range mk.choices {
			for o, x := range os {
				want[Position{mk.style, q, o}] += uint64(x)
			}
		}
	}
	// One sum per style and question, not per option.
	if got := len(s.Positions()); got != 2*2 {
		t.Fatalf("%d sums, want 4", got)
	}
	mh := e.ManifestHash()
	var partials []*threshold.Partial
	for _, sh := range shares {
		p, err := threshold.PartialDecrypt(rand.Reader, pub, sh, mh[:], s.Alphas())
		if err != nil {
			t.Fatal(err)
		}
		partials = append(partials, p)
	}
	c, bad, err := Decrypt(pub, s, partials)
	if err != nil || len(bad) != 0 {
		t.Fatal(err, bad)
	}
	if len(c.Positions) != 2*2*2 {
		t.Fatalf("%d counts, want 8", len(c.Positions))
	}
	for st := range 2 {
		for q := range 2 {
			for o := range 2 {
				p := Position{st, q, o}
				if got := c.Count(st, q, o); got != want[p] {
					t.Errorf("%v: %d, want %d", p, got, want[p])
				}
			}
		}
	}
	// The state file round-trips the one sum a question.
	f := s.File()
	if len(f.Sums[0]) != 2 {
		t.Fatalf("state file: %d sums for style 0", len(f.Sums[0]))
	}
	s2, err := ParseSumsFile(e, f)
	if err != nil {
		t.Fatal(err)
	}
	if c2, _, err := Decrypt(pub, s2, partials); err != nil || c2.Count(0, 0, 0) != want[Position{0, 0, 0}] {
		t.Fatal(err)
	}
}
