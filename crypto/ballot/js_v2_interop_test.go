package ballot

// JS → Go interop for version-2 ballots (docs/protocol.md §4.2): ballots made
// by the browser implementation (crypto/js/src/ballot2.mjs, the shipped
// bundle dist/eballot-ranked.min.js) for the version-2 manifest of
// manifest_v2.json must parse, verify, re-encode byte for byte, have the
// JS tracker and open under their Benaloh audit with the Go API; the
// tampered ones must fail with the named error. Vectors:
// crypto/testdata/js_ballot2_v1.json, written by
// `node crypto/js/scripts/make-js-ballot2-vectors.mjs`.

import (
	"bytes"
	"encoding/hex"
	"errors"
	"slices"
	"testing"

	"github.com/cloudflare/circl/group"
	"github.com/unionvote/eballot/crypto/internal/enc"
	"github.com/unionvote/eballot/crypto/internal/vectortest"
	"github.com/unionvote/eballot/crypto/ranked"
)

type jsV2Vectors struct {
	Description  string `json:"description"`
	ManifestHash string `json:"manifest_hash"`
	Size         int    `json:"ballot_size"`
	Valid        []struct {
		Name     string     `json:"name"`
		Style    int        `json:"style"`
		Choices  [][]int    `json:"choices"`
		Ballot   string     `json:"ballot"`
		Tracker  string     `json:"tracker"`
		Nonces   [][]string `json:"nonces"`
		Rankings []*struct {
			UsedNonces []string `json:"used_nonces"`
			RankNonces []string `json:"rank_nonces"`
		} `json:"rankings"`
	} `json:"valid"`
	Invalid []struct {
		Name   string `json:"name"`
		Ballot string `json:"ballot"`
		Error  string `json:"error"`
	} `json:"invalid"`
}

func TestJSInteropV2(t *testing.T) {
	var v jsV2Vectors
	vectortest.Load(t, "js_ballot2_v1.json", &v)
	e := loadV2(t)
	mh := e.ManifestHash()
	if v.ManifestHash != hex.EncodeToString(mh[:]) {
		t.Fatal("manifest_v2.json changed: regenerate js_ballot2_v1.json with node crypto/js/scripts/make-js-ballot2-vectors.mjs")
	}
	if v.Size != e.BallotSize() {
		t.Fatalf("ballot size %d, JS %d", e.BallotSize(), v.Size)
	}
	if len(v.Valid) < 2 || len(v.Invalid) < 2 {
		t.Fatal("no JS vectors")
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
	for _, vb := range v.Valid {
		bin := vectortest.Unhex(t, vb.Ballot)
		if bin[0] != Version2 {
			t.Fatalf("%s: version %d", vb.Name, bin[0])
		}
		b, err := e.Parse(bin)
		if err != nil {
			t.Fatalf("%s: Parse: %v", vb.Name, err)
		}
		if err := e.Verify(b); err != nil || int(b.Style) != vb.Style {
			t.Fatalf("%s: Verify: %v (style %d)", vb.Name, err, b.Style)
		}
		if again, _ := b.MarshalBinary(); !bytes.Equal(again, bin) {
			t.Fatalf("%s: re-encoding differs", vb.Name)
		}
		tr, err := b.Tracker()
		if err != nil || hex.EncodeToString(tr[:]) != vb.Tracker {
			t.Fatalf("%s: tracker %x, JS %s (%v)", vb.Name, tr, vb.Tracker, err)
		}
		a := &Audit{Choices: vb.Choices, Nonces: vb.Nonces, Rankings: make([]*ranked.Opening, len(vb.Choices))}
		for q, op := range vb.Rankings {
			if op != nil {
				a.Rankings[q] = &ranked.Opening{Ranking: vb.Choices[q], UsedNonces: scalars(op.UsedNonces), RankNonces: scalars(op.RankNonces)}
			}
		}
		if a.Rankings[1] == nil {
			t.Fatalf("%s: no opening of the ranked question", vb.Name)
		}
		if err := e.CheckAudit(b, a); err != nil {
			t.Fatalf("%s: CheckAudit: %v", vb.Name, err)
		}
		if r := a.Rankings[1].Ranking; len(r) >= 2 {
			swapped := *a.Rankings[1]
			swapped.Ranking = slices.Clone(r)
			swapped.Ranking[0], swapped.Ranking[1] = swapped.Ranking[1], swapped.Ranking[0]
			a.Rankings[1] = &swapped
			if err := e.CheckAudit(b, a); !errors.Is(err, ErrAuditMismatch) {
				t.Fatalf("%s: another ranking opens the ballot: %v", vb.Name, err)
			}
		}
	}
	for _, vi := range v.Invalid {
		b, err := e.Parse(vectortest.Unhex(t, vi.Ballot))
		if err == nil {
			err = e.Verify(b)
		}
		want := map[string]error{"malformed": ErrMalformed, "bad_proof": ErrBadProof, "invalid_ranking": ErrInvalidRanking}[vi.Error]
		if want == nil || !errors.Is(err, want) {
			t.Errorf("%s: %v, want %s", vi.Name, err, vi.Error)
		}
	}
}
