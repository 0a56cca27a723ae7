package ranked

import (
	"encoding/hex"
	"errors"
	"slices"
	"testing"

	"github.com/cloudflare/circl/group"
	"github.com/unionvote/eballot/crypto/elgamal"
	"github.com/unionvote/eballot/crypto/internal/enc"
	"github.com/unionvote/eballot/crypto/internal/vectortest"
	"github.com/unionvote/eballot/crypto/shuffle"
)

type rankedVectors struct {
	Description  string `json:"description"`
	ManifestHash string `json:"manifest_hash"`
	ElectionKey  string `json:"election_key"`
	SecretKey    string `json:"election_secret_key"`
	Contest      struct {
		Index      uint16 `json:"index"`
		Styles     int    `json:"styles"`
		Candidates int    `json:"candidates"`
		MinRanked  int    `json:"min_ranked"`
		MaxRanked  int    `json:"max_ranked"`
		Digits     int    `json:"digits_per_ciphertext"`
		MixWidth   int    `json:"mix_width"`
		Size       int    `json:"ballot_size"`
	} `json:"contest"`
	Valid []struct {
		Name       string   `json:"name"`
		Style      int      `json:"style"`
		Ranking    []int    `json:"ranking"`
		Ballot     string   `json:"ballot"`
		Ranks      []int    `json:"ranks"`
		UsedNonces []string `json:"used_nonces"`
		RankNonces []string `json:"rank_nonces"`
	} `json:"valid"`
	Invalid []struct {
		Name   string `json:"name"`
		Ballot string `json:"ballot"`
		Error  string `json:"error"`
	} `json:"invalid"`
	MixInput string `json:"mix_input"`
	Decode   []struct {
		Name    string   `json:"name"`
		Points  []string `json:"points"`
		Ranking []int    `json:"ranking"`
		Error   string   `json:"error"`
	} `json:"decode"`
}

// TestVectors checks crypto/testdata/ranked_v1.json: valid ballots parse,
// verify, audit and decrypt to their ranks; invalid ones fail with the
// named error; the mix input is the packing of the valid ballots; the
// decode cases give their ranking or fail.
func TestVectors(t *testing.T) {
	var v rankedVectors
	vectortest.Load(t, "ranked_v1.json", &v)
	key, err := elgamal.ParsePublicKey(vectortest.Unhex(t, v.ElectionKey))
	if err != nil {
		t.Fatal(err)
	}
	sk, err := elgamal.ParseSecretKey(vectortest.Unhex(t, v.SecretKey))
	if err != nil {
		t.Fatal(err)
	}
	c := &Contest{Key: key, Index: v.Contest.Index, Styles: v.Contest.Styles, Candidates: v.Contest.Candidates,
		MinRanked: v.Contest.MinRanked, MaxRanked: v.Contest.MaxRanked}
	copy(c.ManifestHash[:], vectortest.Unhex(t, v.ManifestHash))
	if c.DigitsPerCiphertext() != v.Contest.Digits || c.MixWidth() != v.Contest.MixWidth || c.Size() != v.Contest.Size {
		t.Fatalf("contest shape: %d %d %d", c.DigitsPerCiphertext(), c.MixWidth(), c.Size())
	}
	scalars := func(hs []string) []group.Scalar {
		var out []group.Scalar
		for _, h := range hs {
			s, err := enc.DecodeScalar(vectortest.Unhex(t, h))
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, s)
		}
		return out
	}
	var ballots []*Ballot
	for _, vb := range v.Valid {
		b, err := c.Parse(vectortest.Unhex(t, vb.Ballot))
		if err != nil {
			t.Fatalf("%s: %v", vb.Name, err)
		}
		if err := c.Verify(b); err != nil || int(b.Style) != vb.Style {
			t.Fatalf("%s: %v", vb.Name, err)
		}
		op := &Opening{Ranking: vb.Ranking, UsedNonces: scalars(vb.UsedNonces), RankNonces: scalars(vb.RankNonces)}
		if err := c.CheckAudit(b, op); err != nil {
			t.Fatalf("%s: %v", vb.Name, err)
		}
		if got := decryptRanks(t, sk, b); !slices.Equal(got, vb.Ranks) {
			t.Fatalf("%s: ranks %v, want %v", vb.Name, got, vb.Ranks)
		}
		ballots = append(ballots, b)
	}
	for _, vi := range v.Invalid {
		b, err := c.Parse(vectortest.Unhex(t, vi.Ballot))
		if err == nil {
			err = c.Verify(b)
		}
		want := map[string]error{"malformed": ErrMalformed, "wrong_manifest": ErrWrongManifest, "invalid_ranking": ErrInvalidRanking}[vi.Error]
		if want == nil || !errors.Is(err, want) {
			t.Errorf("%s: %v, want %s", vi.Name, err, vi.Error)
		}
	}
	mix, err := c.MixInput(ballots)
	if err != nil {
		t.Fatal(err)
	}
	mb, _ := mix.MarshalBinary()
	if hex.EncodeToString(mb) != v.MixInput {
		t.Fatal("mix input differs")
	}
	if _, err := shuffle.ParseList(mb); err != nil {
		t.Fatal(err)
	}
	for _, d := range v.Decode {
		var pts [][32]byte
		for _, h := range d.Points {
			pts = append(pts, [32]byte(vectortest.Unhex(t, h)))
		}
		r, err := c.Decode(pts)
		if d.Error != "" {
			if !errors.Is(err, ErrNotARanking) {
				t.Errorf("%s: %v %v", d.Name, r, err)
			}
			continue
		}
		if err != nil || !slices.Equal(r, d.Ranking) {
			t.Errorf("%s: %v %v, want %v", d.Name, r, err, d.Ranking)
		}
	}
}
