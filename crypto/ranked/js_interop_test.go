package ranked

// JS → Go interop: ranked ballots made by the browser implementation
// (crypto/js/src/ranked.mjs, the shipped bundle dist/eballot-ranked.min.js)
// must parse, verify, re-encode byte for byte, open under their Benaloh
// audit and decrypt to the JS ranking with the Go API; the tampered ones
// must fail with the named error. Vectors: crypto/testdata/js_ranked_v1.json,
// written by `node crypto/js/scripts/make-js-ranked-vectors.mjs` for the
// key of ranked_v1.json.

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/cloudflare/circl/group"
	"github.com/unionvote/eballot/crypto/elgamal"
	"github.com/unionvote/eballot/crypto/internal/enc"
	"github.com/unionvote/eballot/crypto/internal/vectortest"
)

type jsRankedVectors struct {
	Description  string `json:"description"`
	ManifestHash string `json:"manifest_hash"`
	ElectionKey  string `json:"election_key"`
	Contests     []struct {
		Index      uint16 `json:"index"`
		Styles     int    `json:"styles"`
		Candidates int    `json:"candidates"`
		MinRanked  int    `json:"min_ranked"`
		MaxRanked  int    `json:"max_ranked"`
		Size       int    `json:"ballot_size"`
		Valid      []struct {
			Name       string   `json:"name"`
			Style      int      `json:"style"`
			Ranking    []int    `json:"ranking"`
			Ballot     string   `json:"ballot"`
			UsedNonces []string `json:"used_nonces"`
			RankNonces []string `json:"rank_nonces"`
		} `json:"valid"`
		Invalid []struct {
			Name   string `json:"name"`
			Ballot string `json:"ballot"`
			Error  string `json:"error"`
		} `json:"invalid"`
	} `json:"contests"`
}

func TestJSInterop(t *testing.T) {
	var v jsRankedVectors
	vectortest.Load(t, "js_ranked_v1.json", &v)
	var g rankedVectors
	vectortest.Load(t, "ranked_v1.json", &g)
	if v.ElectionKey != g.ElectionKey || v.ManifestHash != g.ManifestHash {
		t.Fatal("ranked_v1.json changed: regenerate js_ranked_v1.json with node crypto/js/scripts/make-js-ranked-vectors.mjs")
	}
	key, err := elgamal.ParsePublicKey(vectortest.Unhex(t, v.ElectionKey))
	if err != nil {
		t.Fatal(err)
	}
	sk, err := elgamal.ParseSecretKey(vectortest.Unhex(t, g.SecretKey))
	if err != nil {
		t.Fatal(err)
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
	if len(v.Contests) < 2 {
		t.Fatal("no JS contests")
	}
	for _, vc := range v.Contests {
		c := &Contest{Key: key, Index: vc.Index, Styles: vc.Styles, Candidates: vc.Candidates,
			MinRanked: vc.MinRanked, MaxRanked: vc.MaxRanked}
		copy(c.ManifestHash[:], vectortest.Unhex(t, v.ManifestHash))
		if c.Size() != vc.Size {
			t.Fatalf("contest %d: size %d, JS %d", vc.Index, c.Size(), vc.Size)
		}
		if len(vc.Valid) == 0 || len(vc.Invalid) == 0 {
			t.Fatalf("contest %d: no vectors", vc.Index)
		}
		for _, vb := range vc.Valid {
			bin := vectortest.Unhex(t, vb.Ballot)
			b, err := c.Parse(bin)
			if err != nil {
				t.Fatalf("contest %d, %s: Parse: %v", vc.Index, vb.Name, err)
			}
			if err := c.Verify(b); err != nil || int(b.Style) != vb.Style {
				t.Fatalf("contest %d, %s: Verify: %v (style %d)", vc.Index, vb.Name, err, b.Style)
			}
			if again, _ := b.MarshalBinary(); !bytes.Equal(again, bin) {
				t.Fatalf("contest %d, %s: re-encoding differs", vc.Index, vb.Name)
			}
			op := &Opening{Ranking: vb.Ranking, UsedNonces: scalars(vb.UsedNonces), RankNonces: scalars(vb.RankNonces)}
			if err := c.CheckAudit(b, op); err != nil {
				t.Fatalf("contest %d, %s: CheckAudit: %v", vc.Index, vb.Name, err)
			}
			if len(vb.Ranking) >= 2 {
				swapped := &Opening{Ranking: slices.Clone(vb.Ranking), UsedNonces: op.UsedNonces, RankNonces: op.RankNonces}
				swapped.Ranking[0], swapped.Ranking[1] = swapped.Ranking[1], swapped.Ranking[0]
				if err := c.CheckAudit(b, swapped); !errors.Is(err, ErrAuditMismatch) {
					t.Fatalf("contest %d, %s: another ranking opens the ballot: %v", vc.Index, vb.Name, err)
				}
			}
			want := make([]int, c.Candidates)
			for p, cand := range vb.Ranking {
				want[cand] = p + 1
			}
			if got := decryptRanks(t, sk, b); !slices.Equal(got, want) {
				t.Fatalf("contest %d, %s: ranks %v, want %v", vc.Index, vb.Name, got, want)
			}
		}
		for _, vi := range vc.Invalid {
			b, err := c.Parse(vectortest.Unhex(t, vi.Ballot))
			if err == nil {
				err = c.Verify(b)
			}
			want := map[string]error{"malformed": ErrMalformed, "wrong_manifest": ErrWrongManifest, "invalid_ranking": ErrInvalidRanking}[vi.Error]
			if want == nil || !errors.Is(err, want) {
				t.Errorf("contest %d, %s: %v, want %s", vc.Index, vi.Name, err, vi.Error)
			}
		}
	}
}
